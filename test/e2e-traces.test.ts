/**
 * Traces end to end: the real sidecar process, Logplex POSTs of router and app lines, otlphttp to
 * a local OTLP backend that decodes /v1/traces with opentelemetry-proto's generated code; and the
 * shipped captures replayed through a traces pipeline: one span per router request line.
 *
 * Runs once otlphttp takes traces (branch traces-export); until then validate refuses otlphttp
 * in a traces pipeline (test/config/traces.test.ts) and this file is skipped.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceIdsOfRequest } from '../src/translate/trace-context.ts';
import { syslogTime } from './support/heroku-time.ts';
import { OtlpTestServer } from './support/otlp-server.ts';
import { BIN, startSidecar, type RunningSidecar } from './support/sidecar.ts';
import { until } from './support/wait.ts';

const TOKEN = 'd.5b2c3d4e-1111-4222-8333-444455556666';
/** OTLP's Span.SpanKind SERVER and Status.StatusCode ERROR, as the generated code decodes them (enums as numbers). */
const KIND_SERVER = 2;
const STATUS_ERROR = 2;

const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const attrs = (list: any[]) => Object.fromEntries((list ?? []).map((a: any) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue ?? a.value.arrayValue]));

/** Every span the backend decoded from /v1/traces, each with its resource's attributes as `resource`. */
function receivedSpans(server: OtlpTestServer): any[] {
  return server.requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => (ss.spans ?? []).map((span: any) => ({ ...span, resource: rs.resource?.attributes ?? [] })))));
}

let backend: OtlpTestServer | undefined;
let sidecar: RunningSidecar | undefined;
afterEach(async () => {
  if (sidecar !== undefined && sidecar.proc.exitCode === null) {
    sidecar.proc.kill('SIGTERM');
    await sidecar.exited;
  }
  sidecar = undefined;
  await backend?.stop();
  backend = undefined;
});

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hod-traces-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('traces from a running sidecar', () => {
  it('exports a SERVER span per router request, linked to its record, under its dyno, secrets masked', async () => {
    backend = new OtlpTestServer();
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ] }
processors:
  redact: {}
  batch: { timeout: 50ms }
exporters:
  otlphttp: { endpoint: "${await backend.start()}" }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
    traces: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
`);
    sidecar = await startSidecar(['start', '--config', config], {});
    const now = Date.now();
    const t = syslogTime(now);
    const lines = [
      `<190>1 ${t} host app web.1 - request_id=0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f handling GET /orders`,
      `<158>1 ${t} host heroku router - at=info method=GET path="/orders?api_key=s3cr3tvalue1234" host=shop.example.com request_id=0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f fwd="203.0.113.9" dyno=web.1 connect=1ms service=41ms status=200 bytes=30 protocol=https`,
      `<158>1 ${t} host heroku router - at=error code=H12 desc="Request timeout" method=POST path="/pay" host=shop.example.com request_id=7a1b2c3d-0000-4000-8000-000000000001 fwd="203.0.113.9" dyno=web.2 connect=1ms service=30000ms status=503 bytes=0 protocol=https`,
    ];
    const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body: lines.map(frame).join(''), headers: { 'logplex-drain-token': TOKEN } });
    expect(res.status).toBe(200);
    const spans = await until(() => (receivedSpans(backend!).length >= 2 ? receivedSpans(backend!) : undefined), { timeoutMs: 10_000, what: 'two spans at the backend' });
    expect(spans).toHaveLength(2);
    const ok = spans.find((s) => attrs(s.attributes)['heroku.router.request_id'] === '0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f')!;
    const slow = spans.find((s) => attrs(s.attributes)['heroku.router.request_id'] === '7a1b2c3d-0000-4000-8000-000000000001')!;
    expect(ok).toMatchObject({ name: 'GET /orders', kind: KIND_SERVER, traceId: traceIdsOfRequest('0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f').traceId, spanId: traceIdsOfRequest('0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f').spanId });
    expect(BigInt(ok.endTimeUnixNano) - BigInt(ok.startTimeUnixNano)).toBe(42_000_000n);
    expect(attrs(ok.attributes)['url.query']).not.toContain('s3cr3tvalue1234');
    expect(attrs(ok.resource)).toMatchObject({ 'service.name': 'shop-web', 'service.instance.id': 'web.1' });
    expect(slow).toMatchObject({ name: 'POST /pay', status: { code: STATUS_ERROR, message: 'H12 Request timeout' } });
    expect(attrs(slow.resource)['service.instance.id']).toBe('web.2');
    // The router's record carries the span's ids: a backend links them.
    const records = await until(() => (backend!.logRecords().length >= lines.length ? backend!.logRecords() : undefined), { timeoutMs: 10_000, what: 'the records' });
    const routerRecord = records.find((r: any) => attrs(r.attributes)['heroku.router.request_id'] === '0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f');
    expect({ traceId: routerRecord.traceId, spanId: routerRecord.spanId }).toEqual({ traceId: ok.traceId, spanId: ok.spanId });
    // So does the app line that logged the request id (trace_correlation, on by default).
    const appRecord = records.find((r: any) => r.eventName === 'heroku.app.log');
    expect({ traceId: appRecord.traceId, spanId: appRecord.spanId }).toEqual({ traceId: ok.traceId, spanId: ok.spanId });
    expect(attrs(ok.attributes)['url.template']).toBe('/orders');
  });
});

function replay(config: string, capture: string): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, 'replay', '--config', config, capture], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
}

/** Router request lines of a capture, counted from its text: `router` lines with a method or a status. */
function routerRequestLines(text: string): string[] {
  return text.split('\n').filter((l) => /heroku\[router\]: | heroku router - /.test(l) && /\b(method|status)=/.test(l));
}

describe('the shipped captures replayed through a traces pipeline', () => {
  // App lines that log their request's id (rails-requests.txt: Rails tags, JSON and logfmt request_id) join its span.
  it.each([
    ['mixed.logplex', 0],
    ['heroku-logs.txt', 0],
    ['syslog-drain.log', 0],
    ['rails-requests.txt', 6],
  ])('%s: one span per router request line, decoded by opentelemetry-proto; %i app lines carry their request span\'s ids', async (name, linkedAppLines) => {
    backend = new OtlpTestServer();
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0" }
processors:
  redact: {}
  batch: {}
exporters:
  otlphttp: { endpoint: "${await backend.start()}" }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
    traces: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
`);
    const capture = new URL(`../examples/captures/${name}`, import.meta.url).pathname;
    const expected = routerRequestLines(readFileSync(capture, 'utf8'));
    expect(expected.length).toBeGreaterThan(0);
    const r = await replay(config, capture);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`and ${expected.length} spans exported`);
    const spans = receivedSpans(backend);
    expect(spans).toHaveLength(expected.length);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(expected.length);
    for (const s of spans) {
      expect(s.kind).toBe(KIND_SERVER);
      const rid = attrs(s.attributes)['heroku.router.request_id'];
      if (rid !== undefined) expect(s.traceId).toBe(traceIdsOfRequest(rid).traceId);
    }
    // Every router record links to a span.
    const spanIds = new Set(spans.map((s) => s.spanId));
    const routerRecords = backend.logRecords().filter((rec: any) => rec.eventName === 'heroku.router.request');
    expect(routerRecords).toHaveLength(expected.length);
    for (const rec of routerRecords) expect(spanIds.has(rec.spanId)).toBe(true);
    const spanOfTrace = new Map(spans.map((sp) => [sp.traceId, sp.spanId]));
    const linked = backend.logRecords().filter((rec: any) => rec.eventName === 'heroku.app.log' && spanOfTrace.has(rec.traceId));
    for (const rec of linked) expect(rec.spanId).toBe(spanOfTrace.get(rec.traceId));
    expect(linked).toHaveLength(linkedAppLines);
  });
});
