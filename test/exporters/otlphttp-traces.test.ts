/**
 * A traces pipeline's spans through the otlphttp exporter and its sending queue, to a local
 * OTLP/HTTP backend that decodes /v1/traces with opentelemetry-proto's generated code: protobuf
 * with gzip and JSON, `traces_endpoint` as the Collector's, 503 retried, a partial success counted
 * as failed spans, a 413 split, and a queue on disk (file_storage) whose spans survive a restart
 * and reach the backend exactly as they were queued.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SCOPE } from '../../src/exporters/exporter.ts';
import { sendingQueueSchema } from '../../src/exporters/exporterhelper/config.ts';
import { SendingQueue, type QueueSource } from '../../src/exporters/exporterhelper/queue.ts';
import { otlphttpConfigSchema, otlphttpSignalProblems } from '../../src/exporters/otlphttp/config.ts';
import { OtlphttpExporter } from '../../src/exporters/otlphttp/exporter.ts';
import { OtlpProtoEncoder } from '../../src/exporters/otlphttp/proto.ts';
import { fileStorageConfigSchema } from '../../src/extensions/file_storage/config.ts';
import { FileStorage } from '../../src/extensions/file_storage/storage.ts';
import type { RetrySettings } from '../../src/service/retry.ts';
import type { SpanData } from '../../src/translate/telemetry.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { routerSpans } from '../support/spans.ts';
import { until } from '../support/wait.ts';

const RESOURCE = { 'service.name': 'shop-web', 'cloud.provider': 'heroku' };
const QUICK_RETRY: RetrySettings = { enabled: true, initialIntervalMs: 20, multiplier: 1.5, randomizationFactor: 0, maxIntervalMs: 50, maxElapsedMs: 0 };

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function backend(): Promise<OtlpTestServer> {
  const server = new OtlpTestServer();
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function exporterFor(settings: Record<string, unknown>): OtlphttpExporter {
  const exporter = new OtlphttpExporter('otlphttp', otlphttpConfigSchema.parse(settings));
  cleanups.push(() => exporter.shutdown());
  return exporter;
}

function source(id = 'traces'): QueueSource {
  return { id, batch: undefined, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
}

/** A received span as our SpanData, read field by field from what the backend decoded (protobuf or JSON). */
function asSpanData(s: any): SpanData {
  const attributes: Record<string, unknown> = {};
  for (const a of s.attributes ?? []) {
    const v = a.value;
    attributes[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue ?? v.boolValue ?? v.arrayValue.values.map((x: any) => x.stringValue));
  }
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    traceState: s.traceState ?? '',
    traceFlags: s.flags ?? 0,
    name: s.name,
    kind: s.kind,
    startUnixMicros: Number(BigInt(s.startTimeUnixNano) / 1000n),
    endUnixMicros: Number(BigInt(s.endTimeUnixNano) / 1000n),
    attributes: attributes as SpanData['attributes'],
    statusCode: s.status?.code ?? 0,
    statusMessage: s.status?.message ?? '',
  };
}

describe('otlphttp exporter: traces', () => {
  it.each([
    ['protobuf, gzip', { encoding: 'proto', compression: 'gzip' }, 'application/x-protobuf', 'gzip'],
    ['JSON, uncompressed', { encoding: 'json', compression: 'none' }, 'application/json', undefined],
  ])('sends spans to endpoint + /v1/traces as OTLP (%s), every field as it was', async (_name, settings, contentType, encoding) => {
    const server = await backend();
    const exporter = exporterFor({ endpoint: server.url, ...settings });
    expect(exporter.endpoints.traces).toBe(`${server.url}/v1/traces`);
    const spans = routerSpans(0, 25);
    expect(await exporter.export({ resource: RESOURCE, logs: [], metrics: [], spans })).toEqual({ ok: true, bytes: expect.any(Number), status: 200 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/traces']);
    expect(server.requests[0]!.headers['content-type']).toContain(contentType);
    expect(server.requests[0]!.headers['content-encoding']).toBe(encoding);
    expect(server.requests[0]!.body.resourceSpans[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    expect(server.spans().map(asSpanData)).toEqual(spans);
  });

  it('sends to traces_endpoint as given, the Collector key, and names it for log lines', async () => {
    const server = await backend();
    const exporter = exporterFor({ endpoint: 'http://127.0.0.1:1', traces_endpoint: `${server.url}/v1/traces`, encoding: 'json' });
    expect(exporter.endpoints).toEqual({ logs: 'http://127.0.0.1:1/v1/logs', metrics: 'http://127.0.0.1:1/v1/metrics', traces: `${server.url}/v1/traces` });
    expect(await exporter.export({ resource: RESOURCE, logs: [], metrics: [], spans: routerSpans(0, 2) })).toMatchObject({ ok: true });
    expect(server.spans()).toHaveLength(2);
  });

  it('without endpoint or traces_endpoint: a traces pipeline is refused by name, and an export fails for good', async () => {
    const config = otlphttpConfigSchema.parse({ logs_endpoint: 'http://127.0.0.1:1/v1/logs', metrics_endpoint: 'http://127.0.0.1:1/v1/metrics' });
    expect(otlphttpSignalProblems(config, 'traces')).toEqual(['traces_endpoint: either endpoint or traces_endpoint must be specified']);
    expect(otlphttpSignalProblems(config, 'logs')).toEqual([]);
    expect(otlphttpSignalProblems(otlphttpConfigSchema.parse({ endpoint: 'http://127.0.0.1:1' }), 'traces')).toEqual([]);
    const exporter = exporterFor(config);
    expect(exporter.endpoints).not.toHaveProperty('traces');
    expect(await exporter.export({ resource: RESOURCE, logs: [], metrics: [], spans: routerSpans(0, 1) })).toMatchObject({
      ok: false,
      retryable: false,
      error: 'traces_endpoint: either endpoint or traces_endpoint must be specified',
    });
  });

  it('sends spans a backend finds too large (413) again in halves, losing none', async () => {
    const server = await backend();
    server.maxSpans = 4;
    const exporter = exporterFor({ endpoint: server.url });
    const spans = routerSpans(0, 19);
    expect(await exporter.export({ resource: RESOURCE, logs: [], metrics: [], spans })).toMatchObject({ ok: true, status: 200 });
    expect(server.spans().map((s) => s.spanId)).toEqual(spans.map((s) => s.spanId));
    expect(server.requests.every((r) => r.body.resourceSpans[0].scopeSpans[0].spans.length <= 4)).toBe(true);
  });

  it('through its sending queue: retries a 503 until the backend takes the spans, and counts a partial success as failed spans', async () => {
    const server = await backend();
    const exporter = exporterFor({ endpoint: server.url, encoding: 'json', compression: 'none' });
    const lines: string[] = [];
    const queue = new SendingQueue({ exporter, signal: 'traces', queue: sendingQueueSchema.parse({ num_consumers: 1 }), retry: QUICK_RETRY, log: (_level, message) => void lines.push(message) });
    cleanups.push(() => queue.shutdown(500));
    const pipeline = source();
    server.script = [{ status: 503 }, { status: 503 }, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"partialSuccess":{"rejectedSpans":"2","errorMessage":"span too old"}}' }];
    expect(queue.enqueue(pipeline, RESOURCE, 'drain', routerSpans(0, 10))).toBe(true);
    await until(() => queue.counters.sent + queue.counters.sendFailed === 10);
    expect(queue.counters).toMatchObject({ sent: 8, sendFailed: 2 });
    expect(pipeline.counters).toMatchObject({ exported: { otlphttp: 8 }, failed: { otlphttp: 2 } });
    // Two 503s were answered without taking anything; the third request delivered all ten.
    expect(server.spans()).toHaveLength(10);
    expect(lines).toContainEqual(expect.stringContaining('otlphttp: 200 partial success: 2 rejected: span too old'));
    expect(lines).toContainEqual(expect.stringContaining('export to ' + `${server.url}/v1/traces failed: 503`));
  });

  it('sizer: bytes holds spans by their size, and a full queue that does not block drops spans, counted and said in spans', async () => {
    const server = await backend();
    server.script = Array.from({ length: 10_000 }, () => ({ status: 503 }));
    const lines: string[] = [];
    const queue = new SendingQueue({
      exporter: exporterFor({ endpoint: server.url }),
      signal: 'traces',
      queue: sendingQueueSchema.parse({ sizer: 'bytes', queue_size: 30_000, block_on_overflow: false, num_consumers: 1 }),
      retry: QUICK_RETRY,
      log: (_level, message) => void lines.push(message),
    });
    cleanups.push(() => queue.shutdown(50));
    const pipeline = source();
    for (let i = 0; i < 10; i++) expect(queue.enqueue(pipeline, RESOURCE, 'drain', routerSpans(i * 10, 10))).toBe(true);
    // Held as protobuf (what the Collector's bytes sizer counts too): a router span of a dozen attributes, about half a kilobyte.
    const perSpan = queue.size / queue.items;
    expect(perSpan).toBeGreaterThan(300);
    expect(perSpan).toBeLessThan(1000);
    expect(queue.size).toBe(new OtlpProtoEncoder(SCOPE).spanFragments(routerSpans(0, queue.items)).length);
    expect(queue.size).toBeLessThanOrEqual(30_000);
    expect(queue.counters.enqueueFailed).toBe(100 - queue.items);
    expect(pipeline.counters.queueFull).toEqual({ otlphttp: 100 - queue.items });
    expect(lines).toContainEqual(expect.stringContaining('the sending queue is full (block_on_overflow is off): 10 spans dropped for this exporter'));
  });

  it('with file_storage: spans queued while the backend is down are on disk, and after a restart reach it exactly as queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'traces-queue-'));
    const storageConfig = fileStorageConfigSchema.parse({ directory: dir });
    const spans = [...routerSpans(0, 30), ...routerSpans(1000, 7)];
    const lines: string[] = [];
    const log = (_level: string, message: string) => void lines.push(message);

    // First run: a backend that answers only 503.
    const down = await backend();
    down.script = Array.from({ length: 10_000 }, () => ({ status: 503 }));
    const firstStorage = new FileStorage('file_storage', storageConfig, log);
    await firstStorage.start();
    const first = new SendingQueue({ exporter: exporterFor({ endpoint: down.url }), signal: 'traces', queue: sendingQueueSchema.parse({ storage: 'file_storage' }), retry: QUICK_RETRY, storage: firstStorage.queueLog('exporter_otlphttp_traces'), log });
    first.start(new Map());
    expect(await first.enqueue(source(), RESOURCE, 'drain', spans.slice(0, 30))).toBe(true);
    expect(await first.enqueue(source(), RESOURCE, 'drain', spans.slice(30))).toBe(true);
    await until(() => lines.some((l) => l.includes('failed: 503')));
    await first.shutdown(100);
    expect(first.counters).toMatchObject({ sent: 0, sendFailed: 0, leftInStorage: 37 });
    expect(lines).toContainEqual(expect.stringContaining('37 spans stay in storage'));
    await firstStorage.shutdown();

    // Second run on the same directory, the backend back.
    const up = await backend();
    const secondStorage = new FileStorage('file_storage', storageConfig, log);
    await secondStorage.start();
    cleanups.push(() => secondStorage.shutdown());
    const second = new SendingQueue({ exporter: exporterFor({ endpoint: up.url }), signal: 'traces', queue: sendingQueueSchema.parse({ storage: 'file_storage' }), retry: QUICK_RETRY, storage: secondStorage.queueLog('exporter_otlphttp_traces'), log });
    cleanups.push(() => second.shutdown(500));
    second.start(new Map([['traces', source()]]));
    expect(second.counters.recovered).toBe(37);
    expect(lines).toContainEqual(expect.stringContaining('37 spans left unsent by an earlier run found in storage'));
    await until(() => second.counters.sent === 37);
    // Each stored entry is a request of its own, sent side by side: compare in one order.
    const bySpanId = (a: SpanData, b: SpanData) => a.spanId.localeCompare(b.spanId);
    expect(up.spans().map(asSpanData).sort(bySpanId)).toEqual([...spans].sort(bySpanId));
  });
});
