/**
 * What each exporter's sending queue promises (in memory; storage is tested in
 * test/extensions/file-storage.test.ts and test/service/durable-queue.test.ts): a dead backend
 * fills only its own queue, dropping (counted, logged) or refusing (503) as block_on_overflow
 * says, never slowing the others; num_consumers bounds the requests in flight; queue_size counts
 * in its sizer's unit; a queue shared by pipelines counts in each pipeline's counters; and
 * retry_on_failure's schedule follows its keys. Real otlphttp requests to local backends where a
 * backend is involved.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cpSync, mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SCOPE, type ExportBatch, type ExportResult, type Exporter } from '../../src/exporters/exporter.ts';
import { retryOnFailureSchema, sendingQueueSchema } from '../../src/exporters/exporterhelper/config.ts';
import { SendingQueue, type QueueBatching } from '../../src/exporters/exporterhelper/queue.ts';
import { retrySettings } from '../../src/exporters/exporterhelper/settings.ts';
import { otlphttpConfigSchema } from '../../src/exporters/otlphttp/config.ts';
import { OtlphttpExporter } from '../../src/exporters/otlphttp/exporter.ts';
import { OtlpProtoEncoder } from '../../src/exporters/otlphttp/proto.ts';
import { fileStorageConfigSchema } from '../../src/extensions/file_storage/config.ts';
import { SegmentLog } from '../../src/extensions/file_storage/segment-log.ts';
import { FileStorage } from '../../src/extensions/file_storage/storage.ts';
import type { Logger } from '../../src/service/log.ts';
import { Pipeline } from '../../src/service/pipeline.ts';
import type { RetrySettings } from '../../src/service/retry.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';
import { previousReleaseRecords, PREVIOUS_RESOURCE } from '../extensions/previous-release-records.ts';
import { decodeOtlpBody, OtlpTestServer } from '../support/otlp-server.ts';
import { capturedLog } from '../support/log.ts';
import { settle, until } from '../support/wait.ts';

/** 4 s before a wait fails. */
const WAIT = { timeoutMs: 4000 };

function record(n: number, body = `line ${n}`): LogRecordData {
  return { timeUnixMicros: n, observedUnixMicros: n, severityNumber: 9, severityText: 'INFO', body, eventName: 'heroku.app.log', attributes: {}, traceId: undefined, spanId: undefined, traceFlags: 0 };
}
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => record(from + i));

const QUICK_RETRY: RetrySettings = { enabled: true, initialIntervalMs: 20, maxIntervalMs: 50, maxElapsedMs: 0 };

/**
 * A backend that holds every request until told to answer (200, `{}`), counting requests at the
 * server: those in flight now, the most at once, and the log records of those answered.
 */
class HoldingBackend {
  inFlight = 0;
  peak = 0;
  answered = 0;
  records = 0;
  /** While true, requests wait for `answerHeld()`; false: answered at once. */
  holding = true;
  private readonly _held: Array<{ res: ServerResponse; records: number }> = [];
  private readonly _sockets = new Set<Socket>();
  private _server: Server | undefined;

  async start(): Promise<string> {
    this._server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      this.inFlight++;
      this.peak = Math.max(this.peak, this.inFlight);
      // Given up by the client (the shutdown deadline) before an answer.
      res.on('close', () => {
        if (!res.writableEnded) this.inFlight--;
      });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }> };
        const n = body.resourceLogs.reduce((a, rl) => a + rl.scopeLogs.reduce((b, sl) => b + sl.logRecords.length, 0), 0);
        if (this.holding) this._held.push({ res, records: n });
        else this._answer(res, n);
      });
    });
    this._server.on('connection', (s: Socket) => {
      this._sockets.add(s);
      s.on('close', () => this._sockets.delete(s));
    });
    await new Promise<void>((resolve) => this._server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this._server.address() as AddressInfo).port}`;
  }

  /** Requests waiting for an answer. */
  get held(): number {
    return this._held.length;
  }

  answerHeld(): void {
    for (const { res, records } of this._held.splice(0)) this._answer(res, records);
  }

  private _answer(res: ServerResponse, records: number): void {
    if (res.destroyed) return;
    this.inFlight--;
    this.answered++;
    this.records += records;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  }

  async stop(): Promise<void> {
    for (const s of this._sockets) s.destroy();
    await new Promise<void>((resolve) => (this._server ? this._server.close(() => resolve()) : resolve()));
  }
}

/** A port nobody listens on: connection refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** An exporter that holds every export until `release()`, or until the shutdown deadline aborts it; it keeps what it sent. */
class HeldExporter implements Exporter {
  readonly batches: ExportBatch[] = [];
  calls = 0;
  private _released = false;
  readonly id: string;
  private readonly _waiting: Array<() => void> = [];
  constructor(id: string) {
    this.id = id;
  }
  async export(batch: ExportBatch, signal?: AbortSignal): Promise<ExportResult> {
    this.calls++;
    if (!this._released) {
      await new Promise<void>((resolve) => {
        this._waiting.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (signal?.aborted) return { ok: false, retryable: false, error: 'given up: the shutdown deadline passed' };
    this.batches.push(batch);
    return { ok: true };
  }
  release(): void {
    this._released = true;
    for (const resolve of this._waiting.splice(0)) resolve();
  }
  async shutdown(): Promise<void> {}
}

/** An otlphttp exporter from its config keys (its own schema, sending_queue included), as its factory builds it. */
function otlphttp(id: string, settings: Record<string, unknown>) {
  const config = otlphttpConfigSchema.parse({ encoding: 'json', compression: 'none', ...settings });
  return { exporter: new OtlphttpExporter(id, config), config };
}

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** Stops as the service does: pipelines take nothing more, then each queue sends what it holds, up to the deadline. */
async function stopAll(pipelines: Pipeline[], queues: SendingQueue[], deadlineMs: number): Promise<void> {
  for (const p of pipelines) p.stop();
  await Promise.all(queues.map((q) => q.shutdown(deadlineMs)));
}

/**
 * A logs pipeline feeding two otlphttp exporters (id and config keys each), each through its own
 * sending queue; all of them shut down after the test.
 */
function pipelineToTwo(a: [id: string, settings: Record<string, unknown>], b: [id: string, settings: Record<string, unknown>], log: Logger = () => {}) {
  const ea = otlphttp(...a);
  const eb = otlphttp(...b);
  const qa = new SendingQueue({ exporter: ea.exporter, signal: 'logs', queue: ea.config.sending_queue, retry: QUICK_RETRY, log });
  const qb = new SendingQueue({ exporter: eb.exporter, signal: 'logs', queue: eb.config.sending_queue, retry: QUICK_RETRY, log });
  const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [qa, qb], batch: undefined });
  cleanups.push(
    () => stopAll([p], [qa, qb], 100),
    () => ea.exporter.shutdown(),
    () => eb.exporter.shutdown(),
  );
  return { p, qa, qb };
}

describe('sending queue: a dead backend fills only its own queue', () => {
  it('block_on_overflow off: the live exporter gets everything, the dead one drops what does not fit (counted, logged), nothing is refused', async () => {
    const live = new OtlpTestServer();
    const liveUrl = await live.start();
    const port = await closedPort();
    const { lines, log } = capturedLog();
    const { p, qa, qb } = pipelineToTwo(
      ['otlphttp/primary', { endpoint: liveUrl }],
      ['otlphttp/backup', { endpoint: `http://127.0.0.1:${port}`, sending_queue: { block_on_overflow: false, sizer: 'items', queue_size: 10 } }],
      log,
    );
    cleanups.push(() => live.stop());

    for (let i = 0; i < 20; i++) {
      expect(p.fits(5)).toBe(true);
      expect(p.offer({ 'service.name': 'shop' }, 'shop', records(i * 5, 5))).toBe(true);
    }
    await until(() => live.logRecords().length === 100, WAIT);
    expect(live.logRecords().map((r) => r.body.stringValue).sort()).toEqual(records(0, 100).map((r) => r.body).sort());
    await until(() => qa.items === 0, WAIT);
    expect(p.fits(5)).toBe(true);
    expect(p.counters).toMatchObject({ accepted: 100, refused: 0, exported: { 'otlphttp/primary': 100, 'otlphttp/backup': 0 }, queueFull: { 'otlphttp/primary': 0, 'otlphttp/backup': 90 } });
    // The backup holds its 10 (retrying a refused connection); the other 90 were dropped for it alone.
    expect(qb.items).toBe(10);
    expect(qb.counters).toMatchObject({ enqueueFailed: 90, sent: 0 });
    expect(qa.counters).toMatchObject({ enqueueFailed: 0, sent: 100 });
    expect(lines).toContain('error otlphttp/backup: the sending queue is full (block_on_overflow is off): 5 records dropped for this exporter');

    await stopAll([p], [qa, qb], 100);
    // Every record ends in one counter per exporter: the backup's dropped full or at shutdown.
    expect(qb.counters.droppedAtShutdown).toBe(10);
    expect(p.counters.droppedAtShutdown).toBe(10);
    expect(p.counters.queueFull['otlphttp/backup']! + qb.counters.droppedAtShutdown).toBe(100);
    // The drops after the first line are summed up in one, not 17 more lines.
    expect(lines.filter((l) => l.includes('dropped for this exporter'))).toEqual([
      'error otlphttp/backup: the sending queue is full (block_on_overflow is off): 5 records dropped for this exporter',
      expect.stringMatching(/^error otlphttp\/backup: the sending queue is full \(block_on_overflow is off\): 5 records dropped for this exporter \(16 more in the last \d+s\)$/),
    ]);
  });

  it('blocking (the default): once the dead one is full the pipeline refuses (the receiver answers 503), while the live one sends all it took at once', async () => {
    const live = new OtlpTestServer();
    const liveUrl = await live.start();
    const dead = new HoldingBackend();
    const deadUrl = await dead.start();
    const { p, qa, qb } = pipelineToTwo(['otlphttp/primary', { endpoint: liveUrl }], ['otlphttp/slow', { endpoint: deadUrl, timeout: '30s', sending_queue: { sizer: 'items', queue_size: 20 } }]);
    cleanups.push(() => live.stop(), () => dead.stop());

    let offered = 0;
    while (p.fits(5)) {
      expect(p.offer({}, 'shop', records(offered, 5))).toBe(true);
      offered += 5;
      // The live backend has each offer before the next, though the other backend answers nothing.
      await until(() => live.logRecords().length === offered, WAIT);
      expect(offered).toBeLessThanOrEqual(20);
    }
    expect(offered).toBe(20);
    expect(qb.items).toBe(20);
    expect(dead.answered).toBe(0);
    expect(qa.items).toBe(0);
    expect(p.offer({}, 'shop', records(20, 5))).toBe(false);
    expect(p.counters).toMatchObject({ accepted: 20, refused: 5, exported: { 'otlphttp/primary': 20 }, queueFull: { 'otlphttp/slow': 0 } });
    expect(qb.counters.enqueueFailed).toBe(0);

    // The slow backend answers: its queue empties, and the pipeline takes the refused records again.
    dead.holding = false;
    dead.answerHeld();
    await until(() => p.fits(5), WAIT);
    expect(p.offer({}, 'shop', records(20, 5))).toBe(true);
    await until(() => dead.records === 25 && live.logRecords().length === 25, WAIT);
    await stopAll([p], [qa, qb], 1000);
    expect(p.counters).toMatchObject({ accepted: 25, exported: { 'otlphttp/primary': 25, 'otlphttp/slow': 25 }, droppedAtShutdown: 0 });
  });
});

describe('sending queue: num_consumers', () => {
  /** Offers 10 requests' worth to a backend that holds them, answering what it holds each time the queue has all it may send. */
  async function peakInFlight(exporterConsumers: number, queueConsumers: number): Promise<{ peak: number; records: number; sent: number }> {
    const backend = new HoldingBackend();
    const url = await backend.start();
    const { exporter } = otlphttp('otlphttp', { endpoint: url, timeout: '30s', sending_queue: { num_consumers: exporterConsumers } });
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({ num_consumers: queueConsumers }), retry: QUICK_RETRY, log: () => {} });
    const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch: undefined });
    cleanups.push(
      () => stopAll([p], [queue], 100),
      () => exporter.shutdown(),
      () => backend.stop(),
    );
    for (let i = 0; i < 10; i++) expect(p.offer({}, 'shop', records(i * 2, 2))).toBe(true);
    while (backend.answered < 10) {
      await until(() => backend.held === Math.min(queueConsumers, 10 - backend.answered), WAIT);
      backend.answerHeld();
    }
    await until(() => queue.items === 0, WAIT);
    return { peak: backend.peak, records: backend.records, sent: queue.counters.sent };
  }

  it('sends at most num_consumers requests at once, and uses them all', async () => {
    expect(await peakInFlight(3, 3)).toEqual({ peak: 3, records: 20, sent: 20 });
  });

  it('bounds the requests by the queue itself, whatever the exporter would allow', async () => {
    expect(await peakInFlight(10, 2)).toEqual({ peak: 2, records: 20, sent: 20 });
  });
});

describe('sending queue: queue_size in its sizer', () => {
  /** Offers `make(i)` while the pipeline says it fits, the exporter sending nothing; what was taken. */
  function fill(p: Pipeline, make: (i: number) => LogRecordData[]): number {
    let taken = 0;
    for (let i = 0; i < 1000 && p.fits(make(i).length); i++) {
      expect(p.offer({}, 'shop', make(i))).toBe(true);
      taken += make(i).length;
    }
    return taken;
  }

  it('sizer: bytes holds about queue_size bytes of records, however many records that is', async () => {
    const queueConfig = sendingQueueSchema.parse({ sizer: 'bytes', queue_size: 10_000 });
    // ~1.2 KB records (a 1000-byte line), then records of a short line (~170 B).
    const large = (i: number) => [record(i, 'x'.repeat(1000))];
    const small = (i: number) => [record(i)];
    const taken: number[] = [];
    for (const make of [large, small]) {
      const exporter = new HeldExporter('otlphttp');
      const queue = new SendingQueue({ exporter, signal: 'logs', queue: queueConfig, retry: QUICK_RETRY, log: () => {} });
      const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch: undefined });
      cleanups.push(() => stopAll([p], [queue], 100));
      taken.push(fill(p, make));
      expect(queue.size).toBeLessThanOrEqual(10_000);
      expect(queue.size).toBeGreaterThan(10_000 - 2 * 1200);
      expect(p.offer({}, 'shop', make(0))).toBe(false);
      exporter.release();
      await until(() => queue.items === 0, WAIT);
      expect(queue.size).toBe(0);
      expect(p.fits(1)).toBe(true);
    }
    expect(taken[0]).toBe(8);
    expect(taken[1]).toBeGreaterThan(40);
  });

  it('sizer: requests counts batches of send_batch_size, in flight or waiting', async () => {
    const exporter = new HeldExporter('otlphttp');
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({ sizer: 'requests', queue_size: 3, num_consumers: 1 }), retry: QUICK_RETRY, log: () => {} });
    const batch: QueueBatching = { timeoutMs: 60_000, sendBatchSize: 100, sendBatchMaxSize: 0 };
    const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch });
    cleanups.push(() => stopAll([p], [queue], 100));
    // Four offers of 50 make two batches: one sent (held by the exporter), one waiting.
    for (let i = 0; i < 4; i++) expect(p.offer({}, 'shop', records(i * 50, 50))).toBe(true);
    expect(queue.size).toBe(2);
    expect(p.offer({}, 'shop', records(200, 100))).toBe(true);
    expect(p.fits(1)).toBe(false);
    expect(queue.size).toBe(3);
    expect(queue.items).toBe(300);
    expect(exporter.calls).toBe(1);
    expect(p.offer({}, 'shop', records(300, 1))).toBe(false);
    exporter.release();
    await until(() => queue.items === 0, WAIT);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([100, 100, 100]);
    expect(p.counters).toMatchObject({ accepted: 300, refused: 1, exported: { otlphttp: 300 } });
  });
});

describe('sending queue: shared by the pipelines of one signal', () => {
  it("counts each pipeline's items in that pipeline's counters, and batches each pipeline apart", async () => {
    const exporter: Exporter & { batches: ExportBatch[] } = {
      id: 'otlphttp',
      batches: [],
      async export(batch) {
        this.batches.push(batch);
        return batch.resource['service.name'] === 'bad' ? { ok: false, retryable: false, error: '400 resource refused' } : { ok: true };
      },
      async shutdown() {},
    };
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({}), retry: QUICK_RETRY, log: () => {} });
    const batch: QueueBatching = { timeoutMs: 10, sendBatchSize: 1000, sendBatchMaxSize: 0 };
    const web = new Pipeline({ id: 'logs/web', signal: 'logs', queues: [queue], batch });
    const audit = new Pipeline({ id: 'logs/audit', signal: 'logs', queues: [queue], batch });
    cleanups.push(() => stopAll([web, audit], [queue], 100));
    // The same drain through both pipelines.
    web.offer({ 'service.name': 'shop' }, 'shop', records(0, 7));
    audit.offer({ 'service.name': 'shop' }, 'shop', records(100, 5));
    audit.offer({ 'service.name': 'bad' }, 'bad', records(200, 3));
    await until(() => queue.counters.sent + queue.counters.sendFailed === 15, WAIT);
    expect(web.counters).toMatchObject({ accepted: 7, exported: { otlphttp: 7 }, failed: { otlphttp: 0 } });
    expect(audit.counters).toMatchObject({ accepted: 8, exported: { otlphttp: 5 }, failed: { otlphttp: 3 } });
    expect(queue.counters).toMatchObject({ sent: 12, sendFailed: 3 });
    // Each pipeline's records in their own requests: one pipeline's processors never mix with another's.
    expect(exporter.batches.map((b) => b.logs.map((r) => r.timeUnixMicros)).sort((x, y) => x[0]! - y[0]!)).toEqual([
      [0, 1, 2, 3, 4, 5, 6],
      [100, 101, 102, 103, 104],
      [200, 201, 202],
    ]);
  });

  it('counts what a full queue drops, and what the shutdown deadline drops, in the pipeline it came from', async () => {
    const exporter = new HeldExporter('otlphttp/backup');
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({ block_on_overflow: false, sizer: 'items', queue_size: 10 }), retry: QUICK_RETRY, log: () => {} });
    const web = new Pipeline({ id: 'logs/web', signal: 'logs', queues: [queue], batch: undefined });
    const audit = new Pipeline({ id: 'logs/audit', signal: 'logs', queues: [queue], batch: undefined });
    expect(web.offer({}, 'shop', records(0, 6))).toBe(true);
    expect(audit.offer({}, 'shop', records(10, 4))).toBe(true);
    expect(web.offer({}, 'shop', records(20, 3))).toBe(true);
    expect(audit.offer({}, 'shop', records(30, 2))).toBe(true);
    expect(queue.counters.enqueueFailed).toBe(5);
    expect(web.counters.queueFull).toEqual({ 'otlphttp/backup': 3 });
    expect(audit.counters.queueFull).toEqual({ 'otlphttp/backup': 2 });
    await stopAll([web, audit], [queue], 30);
    expect(queue.counters.droppedAtShutdown).toBe(10);
    expect(web.counters).toMatchObject({ accepted: 9, refused: 0, droppedAtShutdown: 6 });
    expect(audit.counters).toMatchObject({ accepted: 6, refused: 0, droppedAtShutdown: 4 });
  });
});

describe('sending queue: retry_on_failure', () => {
  /** The waits, as the debug log says them, before a backend failing `failures` times in a row answers. */
  async function waits(retryConfig: Record<string, unknown>, failures: number): Promise<unknown[]> {
    const script: ExportResult[] = Array.from({ length: failures }, () => ({ ok: false, retryable: true, error: '503 Service Unavailable', status: 503 }));
    const exporter: Exporter = { id: 'otlphttp', export: async () => script.shift() ?? { ok: true }, shutdown: async () => {} };
    const { debug, log } = capturedLog();
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({}), retry: retrySettings(retryOnFailureSchema.parse(retryConfig)), log });
    const p = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch: undefined });
    cleanups.push(() => stopAll([p], [queue], 100));
    p.offer({}, 'shop', records(0, 1));
    await until(() => p.counters.exported.otlphttp === 1, WAIT);
    return debug.filter((d) => d.message === 'otlphttp: export failed').map((d) => d.fields.retry_in_ms);
  }

  it('grows each wait by multiplier up to max_interval, randomised by randomization_factor', async () => {
    const random = vi.spyOn(Math, 'random');
    try {
      const keys = { initial_interval: '10ms', multiplier: 3, max_interval: '100ms', max_elapsed_time: 0 };
      random.mockReturnValue(0);
      expect(await waits({ ...keys, randomization_factor: 0 }, 4)).toEqual([10, 30, 90, 100]);
      // At random's lowest, each wait is the interval times 1 - randomization_factor; at its highest, 1 +.
      expect(await waits({ ...keys, randomization_factor: 0.5 }, 4)).toEqual([5, 15, 45, 50]);
      random.mockReturnValue(0.75);
      expect(await waits({ ...keys, randomization_factor: 0.2, multiplier: 2 }, 4)).toEqual([11, 22, 44, 88]);
    } finally {
      random.mockRestore();
    }
    // The defaults: 1.5 times per try, ± 50 %.
    const defaults = retrySettings(retryOnFailureSchema.parse({}));
    expect(defaults).toMatchObject({ multiplier: 1.5, randomizationFactor: 0.5 });
  });
});

describe('sizer: requests, with many drains batching at once', () => {
  it('counts requests by what they hold: 25 drains of one record each do not fill a queue of 20 requests', () => {
    const exporter: Exporter = { id: 'otlphttp/slow', export: () => new Promise<ExportResult>(() => {}), shutdown: async () => {} };
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({}), retry: QUICK_RETRY, log: () => {} });
    const pipeline = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch: { timeoutMs: 60_000, sendBatchSize: 8192, sendBatchMaxSize: 0 } });
    // Each drain's batch is filling (timeout far off): one record each is a sliver of a request.
    for (let drain = 0; drain < 25; drain++) expect(pipeline.offer({ 'service.name': `app-${drain}` }, `app-${drain}`, records(drain, 1))).toBe(true);
    expect(pipeline.counters.refused).toBe(0);
    expect(queue.size).toBe(1);
    // 20 requests of 8192: a drain sending a full request's worth after the first 20 is refused.
    for (let i = 0; i < 19; i++) expect(pipeline.offer({ 'service.name': 'big' }, 'big', records(1000 + i * 8192, 8192))).toBe(true);
    expect(pipeline.offer({ 'service.name': 'big' }, 'big', records(500_000, 8192))).toBe(false);
  });
});

describe('sending queue: items encoded once in the exporter wire form (otlphttp, protobuf)', () => {
  const RESOURCE = { 'service.name': 'shop' };

  /** A protobuf otlphttp exporter to `url`, its queue on disk in `directory` (a file_storage of its own). */
  async function onDisk(directory: string, url: string, settings: Record<string, unknown> = {}, log: Logger = () => {}) {
    const storage = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory }), log);
    await storage.start();
    const config = otlphttpConfigSchema.parse({ endpoint: url, compression: 'gzip', sending_queue: { storage: 'file_storage' }, ...settings });
    const exporter = new OtlphttpExporter('otlphttp', config);
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: config.sending_queue, retry: QUICK_RETRY, storage: storage.queueLog('exporter_otlphttp_logs'), log });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await queue.shutdown(100);
      await exporter.shutdown();
      await storage.shutdown();
    };
    cleanups.push(stop);
    return { queue, exporter, stop };
  }

  /** What the backend decodes of these records sent in one request, as our encoder (checked against the SDK's) writes them. */
  function asDecoded(records: LogRecordData[]): unknown[] {
    const request = Buffer.from(new OtlpProtoEncoder(SCOPE).logs(RESOURCE, records));
    return decodeOtlpBody('/v1/logs', {}, request).resourceLogs[0].scopeLogs[0].logRecords;
  }

  it('holds and sends bytes: every record arrives once, as encoded, in requests of at most send_batch_max_size, whatever the offers', async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const { queue, exporter } = await onDisk(mkdtempSync(join(tmpdir(), 'encoded-queue-')), url);
    expect(exporter.wire.encodes('logs')).toBe(true);
    const source = { id: 'logs', batch: { timeoutMs: 20, sendBatchSize: 50, sendBatchMaxSize: 20 }, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
    queue.start(new Map([['logs', source]]));
    const offered = Array.from({ length: 100 }, (_, i) => record(i, i % 3 ? `line ${i}` : `ligne ${i} é ${'x'.repeat(i)}`));
    for (let i = 0; i < 100; i += 7) expect(await queue.enqueue(source, RESOURCE, 'shop', offered.slice(i, i + 7))).toBe(true);
    await until(() => queue.counters.sent === 100, WAIT);
    // Requests go out num_consumers at once: in any order.
    const byTime = (rs: any[]) => [...rs].sort((a, b) => Number(a.timeUnixNano) - Number(b.timeUnixNano));
    expect(byTime(backend.logRecords())).toEqual(asDecoded(offered));
    const sizes = backend.requests.map((r) => r.body.resourceLogs[0].scopeLogs[0].logRecords.length);
    expect(Math.max(...sizes)).toBe(20);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('a request the backend finds too large (413) is sent again in halves of the encoded records, none lost', async () => {
    const backend = new OtlpTestServer();
    backend.maxLogRecords = 3;
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const { queue } = await onDisk(mkdtempSync(join(tmpdir(), 'encoded-queue-')), url);
    const source = { id: 'logs', batch: undefined, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
    queue.start(new Map([['logs', source]]));
    expect(await queue.enqueue(source, RESOURCE, 'shop', records(0, 10))).toBe(true);
    await until(() => queue.counters.sent === 10, WAIT);
    expect(backend.requests.map((r) => r.body.resourceLogs[0].scopeLogs[0].logRecords.length)).toEqual([2, 3, 2, 3]);
    expect(backend.logRecords()).toEqual(asDecoded(records(0, 10)));
  });

  it("sends the previous release's queue left on disk (record objects), with new offers encoded, in one request, each record once", async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const directory = mkdtempSync(join(tmpdir(), 'encoded-queue-'));
    cpSync(new URL('../extensions/fixtures/previous-release-queue', import.meta.url), directory, { recursive: true });
    const { lines, log } = capturedLog();
    const { queue } = await onDisk(directory, url, {}, log);
    // A batch of 10: the 5 recovered records wait for the 5 offered next, and go out with them.
    const source = { id: 'logs', batch: { timeoutMs: 60_000, sendBatchSize: 10, sendBatchMaxSize: 0 }, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
    queue.start(new Map([['logs', source]]));
    expect(lines).toContain('info otlphttp: 5 records left unsent by an earlier run found in storage; sending them');
    const fresh = records(500, 5);
    expect(await queue.enqueue(source, PREVIOUS_RESOURCE, JSON.stringify(PREVIOUS_RESOURCE), fresh)).toBe(true);
    await until(() => queue.counters.sent === 10, WAIT);
    expect(backend.requests).toHaveLength(1);
    const expected = decodeOtlpBody('/v1/logs', {}, Buffer.from(new OtlpProtoEncoder(SCOPE).logs(PREVIOUS_RESOURCE, [...previousReleaseRecords(), ...fresh])));
    expect(backend.requests[0]!.body).toEqual(expected);
  });

  it('a JSON exporter sends what a protobuf run left on disk as protobuf (every OTLP/HTTP server takes it), not lost', async () => {
    const down = new OtlpTestServer();
    const downUrl = await down.start();
    down.script = Array.from({ length: 1000 }, () => ({ status: 503 }));
    cleanups.push(() => down.stop());
    const directory = mkdtempSync(join(tmpdir(), 'encoded-queue-'));
    const first = await onDisk(directory, downUrl);
    first.queue.start(new Map());
    expect(await first.queue.enqueue({ id: 'logs', batch: undefined, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } }, RESOURCE, 'shop', records(0, 4))).toBe(true);
    await until(() => down.script.length < 1000, WAIT);
    await first.stop();
    expect(first.queue.counters.leftInStorage).toBe(4);

    const up = new OtlpTestServer();
    const upUrl = await up.start();
    cleanups.push(() => up.stop());
    const second = await onDisk(directory, upUrl, { encoding: 'json' });
    expect(second.exporter.wire.encodes('logs')).toBe(false);
    second.queue.start(new Map());
    // Offered now, with JSON: held as objects, sent as JSON.
    expect(await second.queue.enqueue({ id: 'logs', batch: undefined, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } }, RESOURCE, 'shop', records(10, 2))).toBe(true);
    await until(() => second.queue.counters.sent === 6, WAIT);
    // Two requests at once (num_consumers), in either order.
    const byType = Object.fromEntries(up.requests.map((r) => [String(r.headers['content-type']), r.body.resourceLogs[0].scopeLogs[0].logRecords]));
    expect(Object.keys(byType).sort()).toEqual(['application/json', 'application/x-protobuf']);
    expect(byType['application/x-protobuf']).toEqual(asDecoded(records(0, 4)));
    expect(byType['application/json'].map((r: { body: { stringValue: string } }) => r.body.stringValue)).toEqual(['line 10', 'line 11']);
  });

  it('refuses stored items of a form this exporter does not send: counted failed and logged, the rest sent', async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const directory = mkdtempSync(join(tmpdir(), 'encoded-queue-'));
    // As a later release's queue might leave it: a form this one does not know, beside records.
    const later = new SegmentLog(join(directory, 'exporter_otlphttp_logs'), { fsync: false, segmentBytes: 1 << 20, budget: { maxBytes: 1 << 24, used: 0 } });
    later.recover();
    await later.append('logs', RESOURCE, { form: 'otlp-proto-2', count: 3, bytes: Buffer.from('not ours') }, false);
    await later.append('logs', RESOURCE, records(0, 2), false);
    await later.close();
    const { lines, log } = capturedLog();
    const { queue } = await onDisk(directory, url, {}, log);
    const source = { id: 'logs', batch: undefined, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
    queue.start(new Map([['logs', source]]));
    await until(() => queue.counters.sent + queue.counters.sendFailed === 5, WAIT);
    expect(queue.counters).toMatchObject({ recovered: 5, sent: 2, sendFailed: 3 });
    expect(source.counters.failed).toEqual({ otlphttp: 3 });
    expect(backend.logRecords().map((r) => r.body.stringValue)).toEqual(['line 0', 'line 1']);
    expect(lines).toContain('error otlphttp: 3 records in storage were encoded as otlp-proto-2, which this exporter does not send; they are lost');
  });
});
