/** The otlphttp exporter against a local OTLP backend that decodes with opentelemetry-proto's code. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { otlphttpConfigSchema } from '../../src/exporters/otlphttp/config.ts';
import { OtlphttpExporter, retryAfterMs } from '../../src/exporters/otlphttp/exporter.ts';
import { bodyToTelemetry } from '../../src/receivers/logplex/body.ts';
import { drainResource } from '../../src/translate/resource.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';

const CAPTURE = readFileSync(new URL('../../examples/captures/mixed.logplex', import.meta.url));
const { telemetry } = bodyToTelemetry(CAPTURE, 1_714_564_800_000_000);
const batch = { resource: drainResource({ 'service.name': 'shop-web' }), logs: telemetry.logs, metrics: telemetry.metrics };

let server: OtlpTestServer | undefined;
let exporter: OtlphttpExporter | undefined;
afterEach(async () => {
  await exporter?.shutdown();
  await server?.stop();
  exporter = undefined;
  server = undefined;
});

async function setup(settings: Record<string, unknown>) {
  server = new OtlpTestServer();
  const endpoint = await server.start();
  exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse({ endpoint, ...settings }));
  return server;
}

describe('otlphttp exporter', () => {
  it.each([
    ['protobuf, gzip', { encoding: 'proto', compression: 'gzip' }, 'application/x-protobuf', 'gzip'],
    ['JSON, uncompressed', { encoding: 'json', compression: 'none' }, 'application/json', undefined],
  ])('sends logs and metrics as OTLP (%s) with the configured headers', async (_name, settings, contentType, encoding) => {
    const backend = await setup({ ...settings, headers: { authorization: 'Bearer t0k3n' } });
    expect(await exporter!.export(batch)).toEqual({ ok: true, bytes: expect.any(Number), status: 200 });
    const logsRequest = backend.requests.find((r) => r.path === '/v1/logs')!;
    expect(logsRequest.headers['content-type']).toContain(contentType);
    expect(logsRequest.headers['content-encoding']).toBe(encoding);
    expect(logsRequest.headers.authorization).toBe('Bearer t0k3n');
    const records = backend.logRecords();
    expect(records).toHaveLength(telemetry.logs.length);
    const router = records[0];
    expect(router.eventName).toBe('heroku.router.request');
    expect(router.timeUnixNano).toBe('1714564800104521000');
    expect(router.body.stringValue).toContain('at=info method=GET');
    const attrs = Object.fromEntries(router.attributes.map((a: any) => [a.key, a.value]));
    expect(attrs['http.request.method']).toEqual({ stringValue: 'GET' });
    expect(String(attrs['http.response.status_code'].intValue)).toBe('200');
    const resource = logsRequest.body.resourceLogs[0].resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    const traced = records.find((r: any) => r.traceId && r.eventName === 'heroku.app.log');
    expect(traced.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    // The router record links to its request's span, in hex as well.
    expect(router.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(router.spanId).toMatch(/^[0-9a-f]{16}$/);
    const metrics = backend.metrics();
    const duration = metrics.find((m: any) => m.name === 'http.server.request.duration');
    expect(duration.unit).toBe('s');
    expect(duration.histogram.dataPoints).toHaveLength(3);
    const rss = metrics.find((m: any) => m.name === 'heroku.dyno.memory_rss');
    expect(rss.unit).toBe('By');
    // 470.22 MB, binary, in whole bytes.
    expect(rss.gauge.dataPoints[0].asDouble).toBe(493061407);
  });

  it('calls 503 retryable and 400 a permanent refusal with the backend message', async () => {
    const backend = await setup({ encoding: 'json', compression: 'none' });
    backend.script = [
      { status: 503 },
      { status: 503 },
      { status: 503 },
      { status: 503 },
      { status: 503 },
      { status: 503 },
    ];
    const busy = await exporter!.export({ ...batch, metrics: [] });
    expect(busy).toMatchObject({ ok: false, retryable: true });
    backend.script = [{ status: 400, body: 'invalid resource' }];
    const refused = await exporter!.export({ ...batch, metrics: [] });
    expect(refused).toMatchObject({ ok: false, retryable: false });
    expect((refused as { error: string }).error).toContain('400');
  });

  it("honours a 429's Retry-After, in seconds or as a date", async () => {
    const backend = await setup({ encoding: 'proto' });
    backend.script = [{ status: 429, headers: { 'retry-after': '7' } }];
    expect(await exporter!.export({ ...batch, metrics: [] })).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    backend.script = [{ status: 503 }];
    const plain = await exporter!.export({ ...batch, metrics: [] });
    expect(plain).toMatchObject({ ok: false, retryable: true });
    expect(plain).not.toHaveProperty('retryAfterMs');
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(30_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it("reads the message of a google.rpc.Status error body, and of a JSON one", async () => {
    const backend = await setup({ encoding: 'proto' });
    // google.rpc.Status { code: 3, message: "resource is missing service.name" }
    const message = Buffer.from('resource is missing service.name');
    const status = Buffer.concat([Buffer.from([0x08, 0x03, 0x12, message.length]), message]);
    backend.script = [{ status: 400, headers: { 'content-type': 'application/x-protobuf' }, body: status }];
    expect(await exporter!.export({ ...batch, metrics: [] })).toEqual({ ok: false, retryable: false, error: '400 resource is missing service.name', bytes: expect.any(Number), status: 400 });
    backend.script = [{ status: 401, headers: { 'content-type': 'application/json' }, body: '{"code":16,"message":"bad API key"}' }];
    expect(await exporter!.export({ ...batch, metrics: [] })).toEqual({ ok: false, retryable: false, error: '401 bad API key', bytes: expect.any(Number), status: 401 });
  });

  it('reports an OTLP partial success: what the backend rejected, and why', async () => {
    const backend = await setup({ encoding: 'proto' });
    // ExportLogsServiceResponse { partial_success { rejected_log_records: 2, error_message: "too old" } }
    const inner = Buffer.concat([Buffer.from([0x08, 0x02, 0x12, 7]), Buffer.from('too old')]);
    backend.script = [{ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.concat([Buffer.from([0x0a, inner.length]), inner]) }];
    expect(await exporter!.export({ ...batch, metrics: [] })).toMatchObject({ ok: true, rejected: 2, warning: '200 partial success: 2 rejected: too old' });
    backend.script = [{ status: 200, headers: { 'content-type': 'application/json' }, body: '{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"bad unit"}}' }];
    await exporter!.shutdown();
    exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse({ endpoint: backend.url, encoding: 'json' }));
    expect(await exporter.export({ ...batch, logs: [] })).toMatchObject({ ok: true, rejected: 3, warning: '200 partial success: 3 rejected: bad unit' });
  });

  it('sends a batch the backend finds too large (413) again in halves, losing nothing', async () => {
    const backend = await setup({ encoding: 'proto' });
    backend.maxLogRecords = 3;
    const split = await exporter!.export({ ...batch, metrics: [] });
    expect(split).toMatchObject({ ok: true, status: 200 });
    expect(split).not.toHaveProperty('warning');
    expect(backend.logRecords().map((r: any) => r.body.stringValue)).toEqual(telemetry.logs.map((r) => r.body));
    expect(backend.requests.every((r) => r.body.resourceLogs[0].scopeLogs[0].logRecords.length <= 3)).toBe(true);
    // A single record over the limit is a permanent refusal.
    backend.maxLogRecords = 0;
    expect(await exporter!.export({ ...batch, logs: batch.logs.slice(0, 2), metrics: [] })).toMatchObject({ ok: false, retryable: false, error: '413 request entity too large' });
  });

  it('gives up on a backend that does not answer within the timeout, as retryable', async () => {
    const backend = await setup({ encoding: 'proto', timeout: '300ms' });
    backend.script = [{ status: 200, delayMs: 2000 }];
    expect(await exporter!.export({ ...batch, metrics: [] })).toEqual({ ok: false, retryable: true, error: 'timed out after 300ms (timeout)', bytes: expect.any(Number) });
  });

  it("sends an endpoint's userinfo as Basic authorization, as the Collector (Go) does, and not in the URL", async () => {
    const backend = new OtlpTestServer();
    server = backend;
    const base = await backend.start();
    exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse({ endpoint: base.replace('http://', 'http://instance-42:p%40ss@'), encoding: 'json' }));
    expect(exporter.endpoints).toEqual({ logs: `${base}/v1/logs`, metrics: `${base}/v1/metrics`, traces: `${base}/v1/traces` });
    expect(await exporter.export({ ...batch, metrics: [] })).toMatchObject({ ok: true });
    expect(backend.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('instance-42:p@ss').toString('base64')}`);
  });

  it('calls an unreachable backend retryable', async () => {
    exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse({ endpoint: 'http://127.0.0.1:1', timeout: '2s' }));
    expect(await exporter.export({ ...batch, metrics: [] })).toMatchObject({ ok: false, retryable: true });
  });
});
