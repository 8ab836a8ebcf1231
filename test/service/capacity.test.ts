/**
 * sending_queue bounds what a pipeline holds for its exporters: past it the logplex receiver
 * answers 503 (Logplex sends the batch again), and takes the batch once the backend caught up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';

const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const body = (from: number, n: number) => Array.from({ length: n }, (_, i) => frame(`<190>1 2024-05-01T12:00:00.${String(from + i).padStart(6, '0')}+00:00 host app web.1 - line ${from + i}`)).join('');

let service: Service | undefined;
let backend: OtlpTestServer | undefined;
afterEach(async () => {
  await service?.shutdown(5000);
  await backend?.stop();
  service = backend = undefined;
});

function build(exporter: string, processors = '') {
  const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
${processors}
exporters:
  ${exporter}
  debug: {}
service:
  pipelines:
    logs: { receivers: [logplex], ${processors ? 'processors: [batch], ' : ''}exporters: [${exporter.split(':')[0]}] }
    logs/debug: { receivers: [logplex], exporters: [debug] }
`;
  const { config, problems } = validateConfig(parseYaml(yaml), {});
  expect(problems).toEqual([]);
  return new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
}

describe('sending_queue', () => {
  it('sizes the pipeline in batches (requests) or items; other exporters leave the default', () => {
    const requests = build('otlphttp: { endpoint: "http://127.0.0.1:9", sending_queue: { queue_size: 3 } }', 'processors:\n  batch: { send_batch_size: 100 }');
    // The debug exporter's queue: 20 requests of 1024 items (no batch processor in its pipeline).
    expect(requests.pipelines.map((p) => p.capacity)).toEqual([300, 20 * 1024]);
    const items = build('otlphttp: { endpoint: "http://127.0.0.1:9", sending_queue: { queue_size: 7, sizer: items } }');
    expect(items.pipelines[0]!.capacity).toBe(7);
    // Without a queue_size, each sizer has its own default: 20 batches, or 20480 items.
    expect(build('otlphttp: { endpoint: "http://127.0.0.1:9", sending_queue: { sizer: items } }').pipelines[0]!.capacity).toBe(20_480);
    expect(build('otlphttp: { endpoint: "http://127.0.0.1:9" }', 'processors:\n  batch: {}').pipelines[0]!.capacity).toBe(20 * 1024);
    const off = build('otlphttp: { endpoint: "http://127.0.0.1:9", sending_queue: { enabled: false } }', 'processors:\n  batch: { send_batch_size: 50 }');
    expect(off.pipelines[0]!.capacity).toBe(50);
  });

  it('answers 503 past the queue while the backend is slow, then takes the batch again, losing nothing', async () => {
    backend = new OtlpTestServer();
    const endpoint = await backend.start();
    backend.script = [{ status: 200, delayMs: 800 }];
    service = build(`otlphttp: { endpoint: "${endpoint}", compression: none, sending_queue: { queue_size: 5, sizer: items } }`);
    await service.start();
    const url = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`;
    const post = (b: string) => fetch(url, { method: 'POST', body: b, headers: { 'content-type': 'application/logplex-1' } });
    expect((await post(body(0, 3))).status).toBe(200);
    const refused = await post(body(3, 3));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Once the slow request is answered, the same batch is taken.
    let status = 503;
    for (let i = 0; i < 50 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await post(body(3, 3))).status;
    }
    expect(status).toBe(200);
    await service.shutdown(5000);
    expect(backend.logRecords().map((r: any) => r.body.stringValue)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });
});
