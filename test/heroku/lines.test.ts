/**
 * Every case of the shared table, end to end: text to HerokuLine (`parseAnyLine`), to typed event
 * (`interpretLine`), to OpenTelemetry (`translateEvent`).
 */
import { describe, expect, it } from 'vitest';
import { parseAnyLine, readCapture } from '../../src/heroku/input.ts';
import { interpretLine } from '../../src/heroku/classify.ts';
import type { HerokuLine } from '../../src/heroku/line.ts';
import { HTTP_DURATION_BUCKETS, translateEvent } from '../../src/translate/translate.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../../src/translate/telemetry.ts';
import { herokuLineCases, type HerokuLineCase } from '../cases/heroku-lines.ts';

const OBSERVED = 1_800_000_000_000_000;

const SEVERITY_NUMBERS: Record<string, number> = {
  '': 0,
  TRACE: 1,
  DEBUG: 5,
  INFO: 9,
  NOTICE: 10,
  WARN: 13,
  ERROR: 17,
  CRITICAL: 18,
  ALERT: 19,
  FATAL: 21,
  EMERGENCY: 24,
};

/** The line's timestamp in microseconds, computed independently of src/heroku/time.ts. */
function expectedMicros(line: string): number {
  const m = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)/.exec(line.slice(0, 60));
  if (!m) return 0;
  const frac = (m[2] ?? '.').slice(1).padEnd(6, '0').slice(0, 6);
  return Date.parse(m[1]! + m[3]!) * 1000 + Number(frac);
}

/** Lines ending in a newline go through the capture reader, which is what sees real line endings. */
function toLine(text: string): HerokuLine {
  if (!text.endsWith('\n')) return parseAnyLine(text);
  const lines: HerokuLine[] = [];
  readCapture(Buffer.from(text, 'utf8'), (l) => lines.push(l));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

function run(c: HerokuLineCase): { batch: TelemetryBatch; event: ReturnType<typeof interpretLine>; line: HerokuLine } {
  const line = toLine(c.line);
  const event = interpretLine(line);
  const batch = newTelemetryBatch(true);
  translateEvent(line, event, OBSERVED, batch);
  return { batch, event, line };
}

describe('Heroku line cases', () => {
  it('has unique names', () => {
    const names = herokuLineCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  describe.each(herokuLineCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { batch, event } = run(c);
    const record = batch.logs[0]!;

    it('parses into the expected typed event', () => {
      expect(event).toMatchObject(c.expect.event);
    });

    it('yields exactly one log record with event name, severity and body', () => {
      expect(batch.logs).toHaveLength(1);
      expect(record.eventName).toBe(c.expect.eventName);
      // The EventName field alone: not repeated as an attribute.
      expect(record.attributes).not.toHaveProperty(['event.name']);
      expect(record.severityText).toBe(c.expect.severityText);
      expect(record.severityNumber).toBe(SEVERITY_NUMBERS[c.expect.severityText]);
      expect(record.body).toBe(c.expect.body);
      expect(record.observedUnixMicros).toBe(OBSERVED);
      expect(record.timeUnixMicros).toBe(expectedMicros(c.line));
    });

    it('carries every expected attribute with its exact value', () => {
      expect(record.attributes).toMatchObject(c.expect.attributes);
      for (const key of c.expect.absent ?? []) expect(record.attributes, key).not.toHaveProperty([key]);
      // Where a case lists the envelope, a dyno is named exactly when it lists one (none for
      // `router`, `api`, `logplex`, add-ons and Postgres, whose PROCID is no dyno's name).
      if ('heroku.syslog.proc_id' in c.expect.attributes) {
        expect(record.attributes['heroku.dyno.name'], 'heroku.dyno.name').toBe(c.expect.attributes['heroku.dyno.name']);
        expect(record.attributes['heroku.dyno.type'], 'heroku.dyno.type').toBe(c.expect.attributes['heroku.dyno.type']);
      }
      for (const [key, value] of Object.entries(record.attributes)) {
        if (typeof value === 'number') expect(Number.isFinite(value), key).toBe(true);
      }
    });

    it("carries the trace context only when the line has one, a router request's its span's", () => {
      // A router request makes one span (src/translate/spans.ts, tested there): its record links to it.
      const span = batch.spans![0];
      expect(batch.spans!.length).toBe(event.kind === 'router' && (event.method !== undefined || Number.isFinite(event.status)) ? 1 : 0);
      const trace = c.expect.trace ?? (span === undefined ? undefined : { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags });
      expect(record.traceId).toBe(trace?.traceId);
      expect(record.spanId).toBe(trace?.spanId);
      expect(record.traceFlags).toBe(trace?.traceFlags ?? 0);
    });

    it('never emits a drain token', () => {
      const token = /d\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(c.line)?.[0];
      if (token !== undefined) expect(JSON.stringify(record.attributes)).not.toContain(token);
    });

    it('yields the expected metric points, at the line time', () => {
      const expected = c.expect.metrics ?? [];
      expect(batch.metrics.map((m) => m.name)).toEqual(expected.map((m) => m.name));
      batch.metrics.forEach((m, i) => {
        const e = expected[i]!;
        expect({ name: m.name, unit: m.unit, type: m.type, attributes: m.attributes }).toEqual({ name: e.name, unit: e.unit, type: e.type, attributes: e.attributes });
        expect(m.value).toBeCloseTo(e.value, 9);
        expect(m.timeUnixMicros).toBe(record.timeUnixMicros || OBSERVED);
        if (m.name === 'http.server.request.duration') expect(m.bounds).toEqual(HTTP_DURATION_BUCKETS);
        // Metric series never carry unbounded or restart-scoped values.
        for (const key of ['heroku.dyno.id', 'url.path', 'url.query', 'heroku.router.request_id', 'client.address']) {
          expect(m.attributes, key).not.toHaveProperty([key]);
        }
        // No series per dyno on the request histogram.
        if (m.name === 'http.server.request.duration') expect(m.attributes).not.toHaveProperty(['heroku.dyno.name']);
      });
    });
  });

  it('reads each line the same from a capture with a trailing newline as from parseAnyLine', () => {
    for (const c of herokuLineCases) {
      if (c.line.endsWith('\n') || /^\d+ </.test(c.line)) continue; // octet-counted: framing differs
      const direct = parseAnyLine(c.line);
      const lines: HerokuLine[] = [];
      readCapture(Buffer.from(`${c.line}\n`, 'utf8'), (l) => lines.push(l));
      expect(lines, c.name).toHaveLength(1);
      expect(lines[0], c.name).toEqual(direct);
    }
  });
});
