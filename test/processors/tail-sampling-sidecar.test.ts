/**
 * Count, then sample, on the real sidecar: Logplex POSTs into the logplex receiver, a logs
 * pipeline with alerts then tail_sampling, a metrics pipeline beside it, and a local OTLP
 * backend decoding what arrives with opentelemetry-proto. Every failed request is kept with its
 * app lines, a request's app lines (sent before its router line, as Logplex does) are kept or
 * dropped with it, kept items carry their adjusted count, and the duration histogram still counts
 * every request. Its decisions are counted on the Prometheus endpoint under the Collector's names.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tailSamplingConfigSchema } from '../../src/processors/tail_sampling/config.ts';
import { compilePolicy } from '../../src/processors/tail_sampling/policies.ts';
import { traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { parseExposition, valueOf } from '../support/prometheus-text.ts';
import { sidecarsWithSink } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';

const SOME = { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } };

const CONFIG = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  redact: {}
  alerts: {}
  tail_sampling:
    decision_wait: 1s
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
      - { name: slow, type: latency, latency: { threshold_ms: 1000 } }
      - ${JSON.stringify(SOME)}
  batch: { timeout: 50ms }
exporters:
  otlphttp: { endpoint: "\${env:SINK}", compression: none }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    logs: { receivers: [logplex], processors: [redact, alerts, tail_sampling, batch], exporters: [otlphttp] }
    metrics: { receivers: [logplex], processors: [alerts], exporters: [otlphttp] }
`;

const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const at = (ms: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, 0, ms)).toISOString().replace('Z', '000+00:00');

function routerLine(i: number, rid: string, kind: 'ok' | 'error' | 'slow'): string {
  const text =
    kind === 'error'
      ? `at=error code=H12 desc="Request timeout" method=POST path="/checkout" host=shop.example.com request_id=${rid} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`
      : `at=info method=GET path="/products/${i}" host=shop.example.com request_id=${rid} fwd="203.0.113.9" dyno=web.1 connect=1ms service=${kind === 'slow' ? 1500 : 20}ms status=200 bytes=512 protocol=https`;
  return `<158>1 ${at(i * 10 + 5)} host heroku router - ${text}`;
}

/** An app line of the request, logging the trace id its request id gives (as an instrumented app, or the request-id correlation, does). */
function appLine(i: number, rid: string, text: string): string {
  const ids = traceIdsOfRequest(rid);
  return `<190>1 ${at(i * 10)} host app web.1 - at=info msg="${text}" request_id=${rid} trace_id=${ids.traceId} span_id=${ids.spanId}`;
}

const attribute = (r: any, key: string) => {
  const a = r.attributes.find((x: any) => x.key === key);
  return a === undefined ? undefined : Object.values(a.value)[0];
};

const lab = sidecarsWithSink();

describe('tail_sampling in the sidecar', () => {
  it('keeps every error, keeps or drops app lines with their router line, marks adjusted counts, leaves metrics whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-sampling-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, CONFIG);
    const sidecar = await lab.start(['start', '--config', file], { SINK: lab.sink.url });
    const post = async (lines: string[]) => {
      const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, {
        method: 'POST',
        body: lines.map(frame).join(''),
        headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(lines.length) },
      });
      expect(res.status).toBe(200);
    };

    const some = compilePolicy(tailSamplingConfigSchema.parse({ policies: [SOME] }).policies[0]!);
    const lucky = (rid: string) => some.evaluate([], {}, { traceId: traceIdsOfRequest(rid).traceId, text: '', micros: 0 }) === 1;
    const N = 300;
    const kinds = Array.from({ length: N }, (_, i) => (i % 15 === 0 ? 'error' : i % 25 === 1 ? 'slow' : 'ok') as 'ok' | 'error' | 'slow');
    const rids = kinds.map((_, i) => `7b3f9a52-${String(i).padStart(4, '0')}-4e1c-9d2a-5b6c7d8e9f01`);
    // App lines for some requests of each outcome: the first POST, before any router line.
    const withApp = rids.map((rid, i) => kinds[i] !== 'ok' || i % 10 === 2);
    const apps = rids.flatMap((rid, i) => (withApp[i] ? [appLine(i, rid, `handling ${i}`), appLine(i, rid, `done ${i}`)] : []));
    await post(apps);
    await post(rids.map((rid, i) => routerLine(i, rid, kinds[i]!)));
    // A request whose router line never comes: decided on its own after decision_wait (an error line keeps it).
    await post([`<190>1 ${at(9000)} host app web.1 - at=error msg="orphan failed" trace_id=${'ab'.repeat(16)} span_id=${'cd'.repeat(8)}`]);

    const routerKept = (rid: string) => lab.sink.logRecords().find((r) => attribute(r, 'heroku.router.request_id') === rid);
    // The orphan waits decision_wait (1 s), then goes out through batch and the exporter.
    await until(() => lab.sink.logRecords().some((r) => r.body.stringValue === 'orphan failed'), { timeoutMs: 10_000 });
    await until(() => rids.every((rid, i) => kinds[i] === 'ok' || routerKept(rid)), { timeoutMs: 10_000 });

    // The Collector's decision counter, per policy; ours for what waited.
    const scrapePort = Number(/own metrics for Prometheus on http:\/\/[^:]+:(\d+)\/metrics/.exec(sidecar.stderr())![1]);
    const scrape = parseExposition(await (await fetch(`http://127.0.0.1:${scrapePort}/metrics`)).text());
    const decisions = (policy: string, sampled: string) => valueOf(scrape, 'otelcol_processor_tail_sampling_count_traces_sampled_total', { processor: 'tail_sampling', policy, sampled });
    const errorsTotal = kinds.filter((k) => k === 'error').length;
    // The failed requests and the orphan, decided on its own; held app lines go with their request's decision uncounted.
    expect(decisions('errors', 'true')).toBe(errorsTotal + 1);
    // The slow requests, and the H12s' 30 s.
    expect(decisions('slow', 'true')).toBe(kinds.filter((k) => k !== 'ok').length);
    expect(valueOf(scrape, 'otelcol_processor_tail_sampling_held_log_records_total', { processor: 'tail_sampling' })).toBe(apps.length + 1);
    expect(valueOf(scrape, 'otelcol_processor_tail_sampling_expired_traces_total', { processor: 'tail_sampling' })).toBe(1);
    expect(valueOf(scrape, 'otelcol_processor_tail_sampling_sampling_traces_on_memory', { processor: 'tail_sampling' })).toBe(0);

    sidecar.proc.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);

    const records = lab.sink.logRecords();
    const appBodies = new Set(records.filter((r) => attribute(r, 'heroku.log.kind') === 'app').map((r) => r.body.stringValue));
    let droppedWithApps = 0;
    let keptWithApps = 0;
    let okKept = 0;
    rids.forEach((rid, i) => {
      const router = routerKept(rid);
      const expected = kinds[i] !== 'ok' || lucky(rid);
      expect(router !== undefined, `request ${i} (${kinds[i]})`).toBe(expected);
      if (router !== undefined) {
        // An int: 1 for an error or a slow request, 100 / 10 for one the probabilistic policy alone kept.
        expect(attribute(router, 'SampleRate')).toBe(kinds[i] === 'ok' ? '10' : '1');
        if (kinds[i] === 'ok') okKept++;
      }
      if (withApp[i]) {
        expect(appBodies.has(`handling ${i}`), `app lines of request ${i}`).toBe(router !== undefined);
        expect(appBodies.has(`done ${i}`)).toBe(router !== undefined);
        if (router === undefined) droppedWithApps++;
        else keptWithApps++;
      }
    });
    expect(droppedWithApps).toBeGreaterThan(5);
    expect(keptWithApps).toBeGreaterThan(5);
    const okTotal = kinds.filter((k) => k === 'ok').length;
    expect(okKept / okTotal).toBeGreaterThan(0.03);
    expect(okKept / okTotal).toBeLessThan(0.2);
    expect(records.find((r) => r.body.stringValue === 'orphan failed')).toBeDefined();

    // Counted before sampling: the duration histogram holds every request.
    const histogram = lab.sink.metrics().filter((m) => m.name === 'http.server.request.duration');
    const counted = histogram.flatMap((m) => m.histogram.dataPoints).reduce((n: number, p: any) => n + Number(p.count), 0);
    expect(counted).toBe(N);
    // Its decisions in the log.
    expect(sidecar.stderr()).toMatch(/tail_sampling: \d+ kept, \d+ dropped/);
  }, 30_000);
});
