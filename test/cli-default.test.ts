/**
 * The embedded default as the Deploy button runs it (no config file, environment only), on the
 * real process, exporting to a local OTLP/HTTP sink that records each request's path, headers
 * and body: per-signal OTLP variables, OTEL_EXPORTER_OTLP_PROTOCOL=http/json, OTEL_LOG_LEVEL,
 * OTEL_TRACES_EXPORTER.
 */
import { describe, expect, it } from 'vitest';
import { sidecarsWithSink } from './support/sidecar.ts';
import { HttpsOtlpServer, makeTlsFixture } from './support/tls-fixture.ts';
import { until } from './support/wait.ts';

const TOKEN = 'd.7e6d5c4b-1111-4222-8333-444455556666';
const TEAM_KEY = 'hc-team-key-3c9a1f';

function frame(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`;
}

/** An app line and a router line (which makes http.server.request.duration), stamped now. */
function logplexBody(): string {
  const now = new Date().toISOString();
  return [
    frame(`<190>1 ${now} host app web.1 - checkout done`),
    frame(`<158>1 ${now} host heroku router - at=info method=GET path="/" host=shop.example.com request_id=r1 fwd="81.2.69.142" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https`),
  ].join('');
}

const lab = sidecarsWithSink();

/** The embedded default on port 0, draining `TOKEN`, its queue in memory, exporting to the lab.sink. */
async function start(env: NodeJS.ProcessEnv, body = logplexBody()) {
  const sidecar = await lab.start([], { PORT: '0', DRAIN_TOKENS: `${TOKEN}=shop`, DRAIN_QUEUE_MAX_SIZE_MIB: '0', OTEL_METRIC_EXPORT_INTERVAL: '300', OTEL_EXPORTER_OTLP_ENDPOINT: lab.sink.url, ...env });
  const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-msg-count': '2' } });
  expect(res.status).toBe(200);
  return sidecar;
}

/** The data's metrics requests (the sidecar's own, on the same path, carry no router metric). */
const routerMetricsRequests = () =>
  lab.sink.requests.filter((r) => r.path === '/v1/metrics' && JSON.stringify(r.body).includes('http.server.request.duration'));

describe('the embedded default, OTLP variables per signal', () => {
  it("sends Honeycomb's team key with both signals and the metrics dataset header with the metrics only", async () => {
    const sidecar = await start({ OTEL_EXPORTER_OTLP_HEADERS: `x-honeycomb-team=${TEAM_KEY}`, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-honeycomb-dataset=heroku-metrics' });
    await until(() => lab.sink.requests.some((r) => r.path === '/v1/logs') && routerMetricsRequests().length > 0, { timeoutMs: 10_000, what: 'a logs and a metrics request' });
    const logs = lab.sink.requests.filter((r) => r.path === '/v1/logs');
    for (const r of logs) {
      expect(r.headers['x-honeycomb-team']).toBe(TEAM_KEY);
      expect(r.headers['x-honeycomb-dataset']).toBeUndefined();
    }
    // Every metrics request, the data's and the sidecar's own (same endpoint, same headers).
    for (const r of lab.sink.requests.filter((x) => x.path === '/v1/metrics')) {
      expect(r.headers['x-honeycomb-team']).toBe(TEAM_KEY);
      expect(r.headers['x-honeycomb-dataset']).toBe('heroku-metrics');
    }
    expect(lab.sink.logRecords().map((r) => r.body.stringValue)).toContain('checkout done');
    expect(sidecar.stderr()).not.toContain(TEAM_KEY);
    // No OTEL_TRACES_EXPORTER: no spans (the logs and metrics, batched alike, are in already).
    expect(lab.sink.requests.filter((r) => r.path === '/v1/traces')).toEqual([]);
  });

  it('sends JSON bodies with OTEL_EXPORTER_OTLP_PROTOCOL=http/json, protobuf for the signal that says so', async () => {
    await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' });
    await until(() => lab.sink.requests.some((r) => r.path === '/v1/logs') && routerMetricsRequests().length > 0, { timeoutMs: 10_000, what: 'a logs and a metrics request' });
    const logs = lab.sink.requests.find((r) => r.path === '/v1/logs')!;
    expect(logs.headers['content-type']).toBe('application/json');
    expect(logs.headers['content-encoding']).toBeUndefined();
    expect(logs.body.resourceLogs[0].scopeLogs[0].logRecords.map((r: any) => r.body.stringValue)).toContain('checkout done');
    expect(routerMetricsRequests()[0]!.headers['content-type']).toBe('application/x-protobuf');
  });

  it('sends to a per-signal endpoint as given, the other signal to the general endpoint with /v1/logs appended', async () => {
    // (The sink reads /v1/logs as logs and any other path as metrics.)
    await start({ OTEL_EXPORTER_OTLP_ENDPOINT: `${lab.sink.url}/`, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${lab.sink.url}/custom/metrics` });
    await until(() => lab.sink.requests.some((r) => r.path === '/v1/logs') && lab.sink.requests.some((r) => r.path === '/custom/metrics' && JSON.stringify(r.body).includes('http.server.request.duration')), {
      timeoutMs: 10_000,
      what: 'requests on /v1/logs and /custom/metrics',
    });
    expect(lab.sink.requests.filter((r) => r.path === '/v1/metrics')).toEqual([]);
  });
});

describe('the embedded default, OTEL_TRACES_EXPORTER', () => {
  /** A router-made request id (a UUID): its hex digits are the trace id a backend finds the request by. */
  const REQUEST_ID = '5f2a9c1e-7b3d-4e8f-a061-9d4c2b7e1f30';
  const SECRET = 'TOKENtraces0042';
  function routerRequestBody(): string {
    const now = new Date().toISOString();
    return [
      frame(`<190>1 ${now} host app web.1 - request_id=${REQUEST_ID} checkout done`),
      frame(`<158>1 ${now} host heroku router - at=info method=POST path="/checkout?access_token=${SECRET}" host=shop.example.com request_id=${REQUEST_ID} fwd="81.2.69.142" dyno=web.1 connect=1ms service=5ms status=201 bytes=10 protocol=https`),
    ].join('');
  }

  it('sends a SERVER span per router line to /v1/traces, redacted, with the traces headers on the traces requests only', async () => {
    const sidecar = await start(
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: `x-honeycomb-team=${TEAM_KEY}`, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-honeycomb-dataset=heroku-traces' },
      routerRequestBody(),
    );
    await until(() => lab.sink.requests.some((r) => r.path === '/v1/traces') && lab.sink.requests.some((r) => r.path === '/v1/logs') && routerMetricsRequests().length > 0, {
      timeoutMs: 10_000,
      what: 'a traces, a logs and a metrics request',
    });
    const spans = lab.sink.spans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span.traceId).toBe(REQUEST_ID.replace(/-/g, ''));
    expect(span.kind).toBe(2); // SPAN_KIND_SERVER
    // `{method} {url.template}`: never the query.
    expect(span.name).toMatch(/^POST( \/checkout)?$/);
    expect(span.parentSpanId ?? '').toBe('');
    const attributes = Object.fromEntries(span.attributes.map((a: any) => [a.key, a.value]));
    expect(attributes['http.response.status_code']).toEqual({ intValue: '201' });
    // redact runs in the traces pipeline as in the logs one.
    expect(attributes['url.query'].stringValue).toBe('access_token=***');
    const resource = Object.fromEntries(lab.sink.requests.find((r) => r.path === '/v1/traces')!.body.resourceSpans[0].resource.attributes.map((a: any) => [a.key, a.value.stringValue]));
    expect(resource).toMatchObject({ 'service.name': 'shop', 'service.instance.id': 'web.1' });
    // The router record and the app line of the same request carry the span's ids: the backend links them.
    const linked = lab.sink.logRecords().filter((r) => r.traceId === span.traceId);
    expect(linked.map((r) => r.spanId)).toEqual([span.spanId, span.spanId]);
    for (const r of lab.sink.requests) {
      expect(r.headers['x-honeycomb-team'], r.path).toBe(TEAM_KEY);
      expect(r.headers['x-honeycomb-dataset'], r.path).toBe(r.path === '/v1/traces' ? 'heroku-traces' : undefined);
    }
    expect(JSON.stringify(lab.sink.requests.map((r) => r.body))).not.toContain(SECRET);
    expect(sidecar.stderr()).not.toContain(SECRET);
  });

  it('prints spans on stdout with console, the logs still going to the OTLP endpoint', async () => {
    const sidecar = await start({ OTEL_TRACES_EXPORTER: 'console' }, routerRequestBody());
    await until(() => /debug: shop: 1 spans/.test(sidecar.stdout()) && lab.sink.requests.some((r) => r.path === '/v1/logs'), { timeoutMs: 10_000, what: 'a span on stdout and a logs request' });
    expect(lab.sink.requests.filter((r) => r.path === '/v1/traces')).toEqual([]);
  });
});

describe('the embedded default, certificate variables', () => {
  it('exports over mutual TLS to a backend whose CA no public list has, from OTEL_EXPORTER_OTLP_CERTIFICATE / _CLIENT_CERTIFICATE / _CLIENT_KEY', async () => {
    const tls = await makeTlsFixture();
    const backend = new HttpsOtlpServer({ cert: tls.serverCert, key: tls.serverKey, clientCa: tls.caFile });
    const port = await backend.start();
    try {
      const sidecar = await lab.start([], {
        PORT: '0',
        DRAIN_TOKENS: `${TOKEN}=shop`,
        DRAIN_QUEUE_MAX_SIZE_MIB: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${port}`,
        OTEL_EXPORTER_OTLP_CERTIFICATE: tls.caFile,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: tls.clientCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: tls.clientKey,
      });
      const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body: logplexBody(), headers: { 'logplex-drain-token': TOKEN, 'logplex-msg-count': '2' } });
      expect(res.status).toBe(200);
      const request = await until(() => backend.requests.find((r) => r.path === '/v1/logs'), { timeoutMs: 10_000, what: 'a logs request over mutual TLS' });
      expect(request.clientCn).toBe('exporter-one');
      expect(backend.logRecords().map((r) => r.body.stringValue)).toContain('checkout done');
    } finally {
      await backend.stop();
    }
  }, 60_000);
});

describe('the embedded default, OTEL_LOG_LEVEL', () => {
  it('warns about a value that is no level and goes on at info', async () => {
    const sidecar = await start({ OTEL_LOG_LEVEL: 'loud' });
    const lines = sidecar.logLines();
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'OTEL_LOG_LEVEL: "loud" is not a log level (none, error, warn, info, debug, verbose, all); logging at info' });
    expect(lines.some((l) => l.level === 'info' && /listening on/.test(String(l.msg)))).toBe(true);
  });
});
