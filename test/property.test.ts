/**
 * Properties over generated input: nothing makes the parsers throw, and every line gets exactly
 * one log record.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../src/heroku/classify.ts';
import { parseAnyLine, readCapture } from '../src/heroku/input.ts';
import { rawLine, type HerokuLine } from '../src/heroku/line.ts';
import { OctetFrameReader } from '../src/heroku/octet-frames.ts';
import { MAX_JSON_CHARS } from '../src/heroku/app.ts';
import { bodyToTelemetry } from '../src/receivers/logplex/body.ts';
import { parseRouterLine } from '../src/heroku/router.ts';
import { logsRequest, metricsRequest } from '../src/translate/otlp-json.ts';
import { newTelemetryBatch } from '../src/translate/telemetry.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { decodeLogsRequest, decodeMetricsRequest, withoutEmptyArrays } from './support/otlp.ts';

const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) };

function translateAll(buf: Buffer): { lines: number; records: number } {
  const batch = newTelemetryBatch();
  const stats = readCapture(buf, (line, status) => translateEvent(line, interpretLine(line), 1, batch, status));
  return { lines: stats.lines, records: batch.logs.length };
}

/** Text that starts like each kind of Heroku line, then anything. */
const lineTexts = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.tuple(
    fc.constantFrom('at=info ', 'at=error code=H12 ', 'source=web.1 sample#', 'Error R14 (', 'Error L10 (', 'State changed from ', 'Process running mem=', 'Release v', 'Set ', 'Scaled to ', 'Starting process with command `', '{"level":', '[DATABASE] [9-1] sql_error_code = ', 'count#', 'measure#x=', ''),
    fc.string({ unit: 'binary', maxLength: 200 }),
  ).map(([a, b]) => a + b),
);
const appNames = fc.constantFrom('heroku', 'app', 'other', '');
const procIds = fc.constantFrom('router', 'web.1', 'api', 'heroku-postgres', 'heroku-redis', 'postgres.1234', 'logplex', 'log-shuttle', 'run.12', 'scheduler.9', '');

describe('properties', () => {
  it('readCapture never throws on arbitrary bytes, and gives one record per line it reads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const { lines, records } = translateAll(Buffer.from(bytes));
        expect(records).toBe(lines);
      }),
      RUNS,
    );
  });

  it('writes valid OTLP for any input: the JSON survives a protobuf round trip unchanged', () => {
    const scope = { name: 'heroku-otel-drain', version: 'test' };
    const numbers = fc.constantFrom('1e999', '-0', '99999999999999999999999', '0.1', 'NaN', '');
    const structured = fc
      .tuple(numbers, lineTexts)
      .map(([n, t]) => [
        `<158>1 2024-05-01T12:00:00Z host heroku router - at=info status=${n} bytes=${n} connect=${n}ms service=1ms ${t}`,
        `<45>1 2024-05-01T12:00:00Z host heroku web.1 - source=web.1 sample#memory_rss=${n}MB sample#load_avg_1m=${n}`,
        `<190>1 2024-05-01T12:00:00Z host app web.1 - {"level":"warn","n":${n || 0},"big":1e300,"arr":[1,{"a":null}]}`,
        `<190>1 2024-05-01T12:00:00Z host app web.1 - count#c=${n} measure#m=${n}ms sample#s=${n}`,
        t,
      ].join('\n'));
    fc.assert(
      fc.property(fc.oneof(structured, fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1'))), (input) => {
        const batch = newTelemetryBatch();
        readCapture(Buffer.from(input), (line, status) => translateEvent(line, interpretLine(line), 1, batch, status));
        const logs = JSON.parse(JSON.stringify(logsRequest({ 'service.name': 'x' }, scope, batch.logs)));
        expect(decodeLogsRequest(logs)).toEqual(withoutEmptyArrays(logs));
        const metrics = JSON.parse(JSON.stringify(metricsRequest({}, scope, batch.metrics)));
        expect(decodeMetricsRequest(metrics)).toEqual(withoutEmptyArrays(metrics));
      }),
      { numRuns: Math.min(RUNS.numRuns, 300) },
    );
  });

  it('gives exactly one record per non-blank line of line-oriented input', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 120 }), { maxLength: 30 }), (texts) => {
        // Each text is one line: no newlines inside, and not starting like an octet frame.
        const lines = texts.map((t) => 'x' + t.replace(/[\r\n]/g, ' '));
        const { lines: read, records } = translateAll(Buffer.from(lines.join('\n')));
        expect(read).toBe(lines.length);
        expect(records).toBe(lines.length);
      }),
      RUNS,
    );
  });

  it('interprets and translates any text under any envelope without throwing, one record each', () => {
    fc.assert(
      fc.property(appNames, procIds, lineTexts, (appName, procId, text) => {
        const line: HerokuLine = { ...rawLine(text), shape: 'logplex', appName, procId, facility: 1, severity: 6, timeUnixMicros: 1 };
        const batch = newTelemetryBatch();
        translateEvent(line, interpretLine(line), 1, batch);
        expect(batch.logs).toHaveLength(1);
        for (const p of batch.metrics) expect(Number.isFinite(p.value)).toBe(true);
      }),
      RUNS,
    );
  });

  it('parses any line in any envelope shape without throwing', () => {
    const prefixes = fc.constantFrom('<158>1 2024-05-01T12:00:00+00:00 host heroku router - ', '<190>1 - d.x app web.1 - - ', '2024-05-01T12:00:00Z app[web.1]: ', '12 <1>', '<999>', '');
    fc.assert(
      fc.property(prefixes, lineTexts, (prefix, text) => {
        const line = parseAnyLine(prefix + text);
        expect(line.original).toBe((prefix + text).replace(/\r$/, ''));
      }),
      RUNS,
    );
  });

  it('splits correctly framed messages back exactly, whatever their text', () => {
    const message = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 200 })
      .map((t) => `<190>1 2024-05-01T12:00:00+00:00 host app web.1 - ${t.replace(/\n/g, ' ').trim() || 'x'}`);
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), (messages) => {
        const body = Buffer.from(messages.map((m) => `${Buffer.byteLength(m) + 1} ${m}\n`).join(''));
        const reader = new OctetFrameReader(body);
        const got: string[] = [];
        while (reader.next()) {
          expect(reader.status).toBe('ok');
          got.push(body.toString('utf8', reader.msgStart, reader.msgEnd));
        }
        expect(got).toEqual(messages);
      }),
      RUNS,
    );
  });

  it('recovers every message when lengths are off by one either way (a newline missing or not counted)', () => {
    const text = fc.stringMatching(/^[a-zA-Z =",.:/_-]{1,80}$/).map((t) => t.trim() || 'x');
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.constantFrom('ok', 'no-newline', 'newline-not-counted')), { minLength: 1, maxLength: 15 }), (items) => {
        const messages = items.map(([t], i) => `<190>1 2024-05-01T12:00:0${i % 10}+00:00 host app web.1 - ${t}`);
        const body = items
          .map(([, kind], i) => {
            const m = messages[i]!;
            const n = Buffer.byteLength(m);
            if (kind === 'no-newline') return `${n + 1} ${m}`;
            if (kind === 'newline-not-counted') return `${n} ${m}\n`;
            return `${n + 1} ${m}\n`;
          })
          .join('');
        const buf = Buffer.from(body);
        const reader = new OctetFrameReader(buf);
        const got: string[] = [];
        while (reader.next()) got.push(buf.toString('utf8', reader.msgStart, reader.msgEnd));
        expect(got).toEqual(messages);
      }),
      RUNS,
    );
  });

  it('reads back any quoted router path, with spaces, quotes escaped and =', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }), (p) => {
        const path = '/' + p.replace(/[\r\n]/g, '');
        const quoted = path.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
        const ev = parseRouterLine(`at=info method=GET path="${quoted}" host=a.example.com status=200`);
        const [expectedPath, ...rest] = path.split('?');
        expect(ev.path).toBe(expectedPath);
        expect(ev.query).toBe(rest.length ? rest.join('?') : undefined);
        expect(ev.status).toBe(200);
        expect(ev.host).toBe('a.example.com');
      }),
      RUNS,
    );
  });
});

/** An app message in a Logplex frame, as bodyToTelemetry reads it. */
function logplexBody(texts: readonly string[]): Buffer {
  return Buffer.from(
    texts
      .map((t) => {
        const m = `<190>1 2024-05-01T12:00:00.000001+00:00 host app web.1 - ${t}`;
        return `${Buffer.byteLength(m) + 1} ${m}\n`;
      })
      .join(''),
  );
}

/** Whatever the texts hold, each frame gives exactly one record and nothing throws or fails. */
function expectOneRecordEach(texts: readonly string[]): void {
  const parsed = bodyToTelemetry(logplexBody(texts), 1);
  expect(parsed.lines).toBe(texts.length);
  expect(parsed.telemetry.logs).toHaveLength(texts.length);
  expect(parsed.lineErrors).toBe(0);
}

/** One line per text: newlines inside would make two frames' worth of text in one, which is fine but not this property. */
const oneLine = (t: string) => t.replace(/[\r\n]/g, ' ');

// JSON as apps log it and as attackers write it: any value, deep (thousands of levels, `[` and
// `{"a":`, balanced or not), wide, with huge strings, any unicode and lone surrogates.
const loneSurrogate = fc.constantFrom('\\ud800', '\\udfff', '\\udbff\\u0041', '\\ud83d', '\\u0000', '\\"', '\\\\');
const anyJson = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify({ level: 'info', v }));
const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom('[', '{"a":', '{"a":[', '[{"b":'), fc.boolean(), fc.constantFrom('1', '"x"', '{}', '[]', 'null'))
  .map(([depth, open, balanced, inner]) => {
    const close = open === '[' ? ']' : open === '{"a":' ? '}' : open === '{"a":[' ? ']}' : '}]';
    const body = open.repeat(depth) + inner + (balanced ? close.repeat(depth) : close.repeat(depth >> 1));
    return open === '[' || open === '[{"b":' ? `{"deep":${body}}` : body;
  });
const wideJson = fc
  .dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.double(), fc.boolean(), fc.constant(null)), { maxKeys: 400 })
  .map((o) => JSON.stringify(o));
const hugeJson = fc
  .tuple(fc.integer({ min: MAX_JSON_CHARS - 64, max: MAX_JSON_CHARS + 64 }), fc.constantFrom('x', '[', '"', 'é', '\\n'))
  .map(([n, c]) => JSON.stringify({ msg: 'big', data: c.repeat(Math.ceil(n / c.length)) }));
const escapedJson = fc
  .array(fc.tuple(fc.string({ maxLength: 8 }), loneSurrogate, fc.string({ unit: 'binary', maxLength: 8 })), { minLength: 1, maxLength: 20 })
  .map((parts) => '{' + parts.map(([k, esc, v], i) => `${JSON.stringify(k + i)}:"${esc}${JSON.stringify(v).slice(1, -1)}","${esc}${i}":${i}`).join(',') + '}');
const jsonText = fc.oneof(anyJson, deepJson, wideJson, hugeJson, escapedJson, fc.string({ unit: 'binary', maxLength: 200 }).map((t) => `{${t}}`));

// logfmt as apps write it, and broken: keys of any characters, l2met prefixes, quotes left open,
// escapes at the end, values with `=`.
const logfmtPair = fc.tuple(
  fc.oneof(fc.constantFrom('at', 'level', 'msg', 'count#', 'measure#db.', 'sample#', 'unique#', 'source', 'trace_id', 'dd.trace_id', ''), fc.string({ maxLength: 10 })),
  fc.string({ maxLength: 10 }),
  fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('"unterminated', '"a\\"b"', '\\', '"x\\', '12.5ms', '1e999', '-', '==', '""')),
);
const logfmtText = fc.array(logfmtPair, { minLength: 1, maxLength: 30 }).map((pairs) => pairs.map(([prefix, key, value]) => `${prefix}${key}=${value}`).join(' '));

describe('properties of app lines through a Logplex body', () => {
  it('JSON of any shape, depth and size: never throws, one record per line, none failed', () => {
    fc.assert(
      fc.property(fc.array(jsonText, { minLength: 1, maxLength: 5 }), (texts) => expectOneRecordEach(texts.map(oneLine))),
      { numRuns: Math.min(RUNS.numRuns, 200) },
    );
  });

  it('writes valid OTLP for JSON app lines of any shape: the JSON survives a protobuf round trip unchanged', () => {
    const scope = { name: 'heroku-otel-drain', version: 'test' };
    fc.assert(
      fc.property(fc.oneof(anyJson, deepJson, wideJson, escapedJson), (text) => {
        const parsed = bodyToTelemetry(logplexBody([oneLine(text)]), 1);
        const logs = JSON.parse(JSON.stringify(logsRequest({ 'service.name': 'x' }, scope, parsed.telemetry.logs)));
        expect(decodeLogsRequest(logs)).toEqual(withoutEmptyArrays(logs));
      }),
      { numRuns: Math.min(RUNS.numRuns, 200) },
    );
  });

  it('logfmt-ish text: never throws, one record per line, none failed', () => {
    fc.assert(
      fc.property(fc.array(logfmtText, { minLength: 1, maxLength: 10 }), (texts) => expectOneRecordEach(texts.map(oneLine))),
      RUNS,
    );
  });

  it('arbitrary bytes as a body: never throws, one record per line read, none failed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (bytes, framed) => {
        const body = framed ? Buffer.concat([Buffer.from(`${bytes.length} `), Buffer.from(bytes)]) : Buffer.from(bytes);
        const parsed = bodyToTelemetry(body, 1);
        expect(parsed.telemetry.logs).toHaveLength(parsed.lines);
        expect(parsed.lineErrors).toBe(0);
      }),
      RUNS,
    );
  });
});
