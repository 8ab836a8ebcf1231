/**
 * A pipeline and its exporter's sending queue (src/exporters/exporterhelper/queue.ts): what a
 * receiver offers is batched per drain, sent, retried, counted and logged; what does not fit is
 * refused (the receiver answers 503); shutdown sends what is batching and ends at its deadline.
 */
import { describe, expect, it } from 'vitest';
import type { ExportBatch, ExportResult, Exporter } from '../../src/exporters/exporter.ts';
import { sendingQueueSchema } from '../../src/exporters/exporterhelper/config.ts';
import { SendingQueue, type QueueBatching } from '../../src/exporters/exporterhelper/queue.ts';
import { Pipeline } from '../../src/service/pipeline.ts';
import type { Logger } from '../../src/service/log.ts';
import { NO_RETRY, type RetrySettings } from '../../src/service/retry.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';
import { capturedLog } from '../support/log.ts';
import { settle, until } from '../support/wait.ts';

function record(n: number): LogRecordData {
  return { timeUnixMicros: n, observedUnixMicros: n, severityNumber: 9, severityText: 'INFO', body: `line ${n}`, eventName: 'heroku.app.log', attributes: {}, traceId: undefined, spanId: undefined, traceFlags: 0 };
}
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => record(from + i));

/** An exporter that answers from a script of results, then ok; it keeps what it was sent. */
class ScriptedExporter implements Exporter {
  readonly batches: ExportBatch[] = [];
  calls = 0;
  readonly id: string;
  private readonly script: ExportResult[];
  private readonly hold: Promise<void> | undefined;
  constructor(id: string, script: ExportResult[] = [], hold?: Promise<void>) {
    this.id = id;
    this.script = script;
    this.hold = hold;
  }
  async export(batch: ExportBatch): Promise<ExportResult> {
    this.calls++;
    if (this.hold) await this.hold;
    const result = this.script.shift() ?? { ok: true };
    if (result.ok) this.batches.push(batch);
    return result;
  }
  async shutdown(): Promise<void> {}
}

interface Options {
  batch?: QueueBatching | undefined;
  /** Items the exporter's queue holds (`sizer: items`). Default 1000. */
  capacity?: number;
  retry?: RetrySettings;
}

const QUICK_RETRY: RetrySettings = { enabled: true, initialIntervalMs: 5, maxIntervalMs: 20, maxElapsedMs: 5000 };

/** A pipeline with one exporter and its sending queue, as the service wires them; `shutdown` as the service does it. */
function pipeline(exporter: Exporter, options: Options = {}, log: Logger = () => {}) {
  const queue = new SendingQueue({
    exporter,
    signal: 'logs',
    queue: sendingQueueSchema.parse({ sizer: 'items', queue_size: options.capacity ?? 1000 }),
    retry: options.retry ?? QUICK_RETRY,
    log,
  });
  const batch = 'batch' in options ? options.batch : { timeoutMs: 20, sendBatchSize: 100, sendBatchMaxSize: 0 };
  const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch });
  return Object.assign(p, {
    queue,
    shutdown: async (deadlineMs: number) => {
      p.stop();
      await queue.shutdown(deadlineMs);
    },
  });
}

describe('pipeline', () => {
  it('batches per drain resource by size and by timeout, keeping each drain apart', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter);
    expect(p.offer({ 'service.name': 'a' }, 'a', records(0, 150))).toBe(true);
    expect(p.offer({ 'service.name': 'b' }, 'b', records(1000, 10))).toBe(true);
    const sent = () => exporter.batches.map((b) => [b.resource['service.name'], b.logs.length]);
    // Drain a is past send_batch_size: it goes at once; drain b's 10 records wait for the timeout.
    await until(() => exporter.batches.length >= 1);
    expect(sent()[0]).toEqual(['a', 150]);
    await until(() => exporter.batches.length === 2);
    expect(sent()).toEqual([
      ['a', 150],
      ['b', 10],
    ]);
    await until(() => p.held === 0);
    expect(p.counters).toMatchObject({ accepted: 160, exported: { file: 160 }, failed: { file: 0 } });
    await p.shutdown(1000);
  });

  it('refuses what does not fit, and takes it again once the exporter has caught up', async () => {
    let release!: () => void;
    const exporter = new ScriptedExporter('slow', [], new Promise<void>((r) => (release = r)));
    const p = pipeline(exporter, { capacity: 100, batch: undefined });
    expect(p.offer({}, 'a', records(0, 80))).toBe(true);
    expect(p.fits(30)).toBe(false);
    expect(p.offer({}, 'a', records(80, 30))).toBe(false);
    expect(p.counters.refused).toBe(30);
    expect(p.counters.accepted).toBe(80);
    release();
    await until(() => p.fits(30));
    expect(p.offer({}, 'a', records(80, 30))).toBe(true);
    await until(() => p.held === 0);
    expect(exporter.batches.flatMap((b) => b.logs.map((r) => r.body))).toEqual(records(0, 110).map((r) => r.body));
    expect(p.counters).toMatchObject({ accepted: 110, refused: 30, exported: { slow: 110 } });
    await p.shutdown(1000);
  });

  it('loses nothing while the backend is down for a while: retries until it answers', async () => {
    const down: ExportResult = { ok: false, retryable: true, error: '503 Service Unavailable' };
    const exporter = new ScriptedExporter('otlphttp', [down, down, down, { ok: false, retryable: true, retryAfterMs: 10, error: '429' }]);
    const p = pipeline(exporter, { batch: undefined });
    p.offer({}, 'a', records(0, 5));
    await until(() => p.counters.exported.otlphttp === 5);
    expect(exporter.calls).toBe(5);
    expect(p.counters).toMatchObject({ exported: { otlphttp: 5 }, failed: { otlphttp: 0 } });
    expect(p.queue.counters).toMatchObject({ sent: 5, sendFailed: 0 });
    await p.shutdown(1000);
  });

  it('counts and logs a permanent refusal, which is not retried', async () => {
    const { lines, log } = capturedLog();
    const exporter = new ScriptedExporter('otlphttp', [{ ok: false, retryable: false, error: '400 Bad Request: invalid' }]);
    const p = pipeline(exporter, { batch: undefined }, log);
    p.offer({}, 'a', records(0, 7));
    await until(() => p.held === 0);
    expect(exporter.calls).toBe(1);
    expect(p.counters.failed.otlphttp).toBe(7);
    expect(p.queue.counters.sendFailed).toBe(7);
    expect(lines).toEqual(['error otlphttp: export failed: 400 Bad Request: invalid; 7 records lost (not retryable)']);
    await p.shutdown(1000);
  });

  it('survives an exporter that throws: counted failed, its items released, shutdown still clean', async () => {
    const { lines, log } = capturedLog();
    const throwing: Exporter = {
      id: 'broken',
      export: async () => {
        throw new RangeError('Offset is outside the bounds of the DataView');
      },
      shutdown: async () => {},
    };
    const p = pipeline(throwing, { batch: undefined, capacity: 10 }, log);
    expect(p.offer({}, 'a', records(0, 7))).toBe(true);
    await until(() => p.held === 0);
    expect(p.counters.failed.broken).toBe(7);
    expect(p.fits(10)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error broken: export failed: broken threw: RangeError: Offset is outside the bounds of the DataView\n.*; 7 records lost \(not retryable\)$/s);
    await p.shutdown(1000);
    expect(p.counters.droppedAtShutdown).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('on shutdown sends what is batching, waits for it, and refuses more', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter, { batch: { timeoutMs: 60_000, sendBatchSize: 1000, sendBatchMaxSize: 0 } });
    p.offer({}, 'a', records(0, 42));
    expect(exporter.calls).toBe(0);
    await p.shutdown(1000);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([42]);
    expect(p.counters).toMatchObject({ exported: { file: 42 }, droppedAtShutdown: 0 });
    expect(p.fits(1)).toBe(false);
    expect(p.offer({}, 'a', records(42, 1))).toBe(false);
    expect(p.counters.refused).toBe(1);
    await p.shutdown(1000);
  });

  it('counts what a hung exporter still holds when the shutdown deadline passes', async () => {
    const exporter = new ScriptedExporter('hung', [], new Promise<void>(() => {}));
    const { lines, log } = capturedLog();
    const p = pipeline(exporter, { batch: undefined }, log);
    p.offer({}, 'a', records(0, 3));
    await p.shutdown(30);
    expect(p.counters.droppedAtShutdown).toBe(3);
    expect(p.queue.counters.droppedAtShutdown).toBe(3);
    expect(lines).toEqual(['error hung: shutdown deadline passed: 3 records not exported']);
    await p.shutdown(30);
    expect(p.counters.droppedAtShutdown).toBe(3);
    expect(lines).toHaveLength(1);
  });

  it('ends retries at the shutdown deadline: no wait outlives it, and what they held is counted once, as dropped', async () => {
    const down: ExportResult = { ok: false, retryable: true, error: '503 Service Unavailable', status: 503 };
    const exporter = new ScriptedExporter('otlphttp', Array.from({ length: 1000 }, () => down));
    const { lines, log } = capturedLog();
    const p = pipeline(exporter, { batch: undefined, retry: { enabled: true, initialIntervalMs: 60_000, maxIntervalMs: 60_000, maxElapsedMs: 0 } }, log);
    p.offer({}, 'a', records(0, 4));
    p.offer({}, 'b', records(4, 5));
    await until(() => exporter.calls === 2);
    await p.shutdown(50);
    // Were the retries still waiting (or trying every second as shutdown once made them), the
    // items would stay held for max_elapsed_time: here, forever.
    await until(() => p.held === 0);
    await settle(20);
    expect(p.counters).toMatchObject({ droppedAtShutdown: 9, failed: { otlphttp: 0 }, exported: { otlphttp: 0 } });
    expect(p.queue.counters).toMatchObject({ droppedAtShutdown: 9, sendFailed: 0, sent: 0 });
    expect(lines).toEqual([
      expect.stringMatching(/^warn otlphttp: export failed: 503 Service Unavailable; retrying in (\d+m)?[\d.]+s$/),
      'error otlphttp: shutdown deadline passed: 9 records not exported',
      // The other batch's first failure, counted, then written when the queue stopped.
      // The window's length as formatted: milliseconds, or seconds on a machine slow enough.
      expect.stringMatching(/^warn otlphttp: 1 failure in the last (\d+ms|[\d.]+s), last: 503 Service Unavailable$/),
    ]);
  });

  it('logs the first failure at once, while it is being retried, then its recovery; a backend down for a while writes no more', async () => {
    const down: ExportResult = { ok: false, retryable: true, error: 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1' };
    const exporter = new ScriptedExporter('otlphttp', Array.from({ length: 30 }, () => down));
    const { lines, debug, log } = capturedLog();
    const p = pipeline(exporter, { batch: undefined, retry: { enabled: true, initialIntervalMs: 1, maxIntervalMs: 2, maxElapsedMs: 0 } }, log);
    p.offer({}, 'a', records(0, 5));
    await until(() => lines.length > 0);
    expect(lines[0]).toBe('warn otlphttp: export failed: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1; retrying in 1ms');
    await until(() => p.counters.exported.otlphttp === 5);
    expect(exporter.calls).toBe(31);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^info otlphttp: recovered after 30 failures \/ \d+(\.\d)?m?s$/);
    // At debug level, every attempt: its items, its outcome and its duration.
    expect(debug).toHaveLength(31);
    expect(debug[0]).toMatchObject({ message: 'otlphttp: export failed', fields: { pipeline: 'logs', exporter: 'otlphttp', attempt: 1, items: 5, duration_ms: expect.any(Number), error: down.error, retry_in_ms: 1 } });
    expect(debug[30]).toMatchObject({ message: 'otlphttp: export ok', fields: { attempt: 31, items: 5 } });
    await p.shutdown(1000);
  });

  it('logs what the retries gave up on, with the reason', async () => {
    const down: ExportResult = { ok: false, retryable: true, error: '503 Service Unavailable', status: 503 };
    const exporter = new ScriptedExporter('otlphttp', Array.from({ length: 1000 }, () => down));
    const { lines, log } = capturedLog();
    const p = pipeline(exporter, { batch: undefined, retry: { enabled: true, initialIntervalMs: 5, maxIntervalMs: 5, maxElapsedMs: 30 } }, log);
    p.offer({}, 'a', records(0, 6));
    await until(() => p.held === 0);
    expect(p.counters.failed.otlphttp).toBe(6);
    await p.shutdown(100);
    expect(lines[0]).toMatch(/^warn otlphttp: export failed: 503 Service Unavailable; retrying in \d+ms$/);
    expect(lines.at(-1)).toMatch(/^error otlphttp: \d+ failures in the last \d+ms, 6 records lost \(retried for \d+ms \(max_elapsed_time 30ms\)\), last: 503 Service Unavailable$/);
    expect(lines).toHaveLength(2);
  });

  it('says once per 30 s that a backend rejects part of what it takes (OTLP partial success)', async () => {
    const partial: ExportResult = { ok: true, rejected: 1, warning: '200 partial success: 1 rejected: too old' };
    const exporter = new ScriptedExporter('otlphttp', Array.from({ length: 50 }, () => partial));
    const { lines, log } = capturedLog();
    const p = pipeline(exporter, { batch: undefined }, log);
    for (let i = 0; i < 50; i++) expect(p.offer({}, 'a', records(i * 2, 2))).toBe(true);
    await until(() => p.held === 0);
    expect(exporter.calls).toBe(50);
    expect(p.counters).toMatchObject({ exported: { otlphttp: 50 }, failed: { otlphttp: 50 } });
    await p.shutdown(100);
    expect(lines).toEqual(['error otlphttp: 200 partial success: 1 rejected: too old', 'error otlphttp: 200 partial success: 1 rejected: too old (48 more in the last 1s)']);
  });

  it('splits batches larger than send_batch_max_size', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter, { batch: { timeoutMs: 10, sendBatchSize: 500, sendBatchMaxSize: 200 } });
    p.offer({}, 'a', records(0, 500));
    await until(() => p.held === 0);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([200, 200, 100]);
    expect(exporter.batches.flatMap((b) => b.logs.map((r) => r.body))).toEqual(records(0, 500).map((r) => r.body));
    await p.shutdown(1000);
  });

  it('sends each batch as it comes without a batch processor', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter, { batch: undefined, capacity: 10, retry: NO_RETRY });
    p.offer({}, 'a', records(0, 2));
    p.offer({}, 'a', records(2, 3));
    await until(() => p.held === 0);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([2, 3]);
    await p.shutdown(1000);
  });
});
