/** The otlphttp exporter against a local OTLP backend that decodes with opentelemetry-proto's code. */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { otlphttpConfigSchema } from '../../src/exporters/otlphttp/config.ts';
import { OtlphttpExporter } from '../../src/exporters/otlphttp/exporter.ts';
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
    expect(await exporter!.export(batch)).toEqual({ ok: true });
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
    const traced = records.find((r: any) => r.traceId);
    expect(traced.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
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

  it('calls an unreachable backend retryable', async () => {
    exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse({ endpoint: 'http://127.0.0.1:1', timeout: '2s' }));
    expect(await exporter.export({ ...batch, metrics: [] })).toMatchObject({ ok: false, retryable: true });
  });
});
