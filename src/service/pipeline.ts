/**
 * A pipeline: receivers' batches in, batched per drain resource, out to every exporter, with
 * retries. Memory is bounded: `offer` refuses a batch (the receiver answers 503, Logplex retries)
 * when the items held (queued, batching or being exported) would pass `capacity`. Nothing is
 * dropped silently: every item ends exported, failed (the backend refused it for good or the
 * retries gave up, logged with the reason) or dropped at shutdown when the deadline passed, each
 * counted once. Every exporter's failures are logged here, the same way for every exporter type
 * (ExporterHealth); at debug level, every attempt with its size, status and duration.
 */
import type { ExportBatch, Exporter } from '../exporters/exporter.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../translate/telemetry.ts';
import { ExporterHealth } from './exporter-health.ts';
import type { Logger } from './log.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import { exportWithRetry, type RetrySettings } from './retry.ts';

export type Signal = 'logs' | 'metrics';

export interface PipelineExporter {
  exporter: Exporter;
  retry: RetrySettings;
}

export interface PipelineSettings {
  id: string;
  signal: Signal;
  exporters: PipelineExporter[];
  /** Items (records or points) held at most. */
  capacity: number;
  /** The batch processor's settings; without one, every offered batch goes out as it is. */
  batch: { timeoutMs: number; sendBatchSize: number; sendBatchMaxSize: number } | undefined;
  /** Whether it may take data now at all (memory_limiter); always when unset. */
  accepting?: () => boolean;
}

export interface PipelineCounters {
  accepted: number;
  refused: number;
  /** Per exporter id. */
  exported: Record<string, number>;
  failed: Record<string, number>;
  droppedAtShutdown: number;
}

export type PipelineLog = Logger;

type Item = LogRecordData | MetricPointData;

/** A batch being exported: its size, and the exporters not done with it yet. */
interface InFlight {
  items: number;
  waiting: Set<string>;
}

/**
 * One health per exporter, whichever pipelines it serves: a backend that is down is one story in
 * the log, not one per pipeline.
 */
const healths = new WeakMap<Exporter, ExporterHealth>();

function healthOf(exporter: Exporter, log: Logger): ExporterHealth {
  let health = healths.get(exporter);
  if (health === undefined) {
    health = new ExporterHealth(exporter.id, log);
    healths.set(exporter, health);
  }
  return health;
}

interface Pending {
  resource: Attributes;
  items: Item[];
  timer: NodeJS.Timeout | undefined;
}

export class Pipeline {
  readonly counters: PipelineCounters;
  private readonly _settings: PipelineSettings;
  private readonly _log: PipelineLog;
  /** By resource key: the batch being filled for that drain. */
  private readonly _pending = new Map<string, Pending>();
  private readonly _inFlight = new Map<Promise<void>, InFlight>();
  private readonly _healths: ExporterHealth[];
  /** Partial successes, per exporter: a backend that rejects some of every batch says so once per 30 s. */
  private readonly _warnings: RateLimitedLog;
  /** Aborted when the shutdown deadline passes: retries and requests stop, what they held is counted dropped. */
  private readonly _deadline = new AbortController();
  private _held = 0;
  private _stopping = false;
  private _shutdown: Promise<void> | undefined;

  constructor(settings: PipelineSettings, log: PipelineLog = () => {}) {
    this._settings = settings;
    this._log = log;
    this._healths = settings.exporters.map(({ exporter }) => healthOf(exporter, log));
    this._warnings = new RateLimitedLog(log);
    const zero = () => Object.fromEntries(settings.exporters.map((e) => [e.exporter.id, 0]));
    this.counters = { accepted: 0, refused: 0, exported: zero(), failed: zero(), droppedAtShutdown: 0 };
  }

  get signal(): Signal {
    return this._settings.signal;
  }

  /** Items it holds at most. */
  get capacity(): number {
    return this._settings.capacity;
  }

  /** Items held now: queued, batching or being exported. */
  get held(): number {
    return this._held;
  }

  /**
   * Whether `n` more items fit. A batch larger than the whole capacity is let in when the
   * pipeline is empty, or it could never be taken.
   */
  fits(n: number): boolean {
    if (this._stopping || (this._settings.accepting !== undefined && !this._settings.accepting())) return false;
    return this._held + n <= this._settings.capacity || this._held === 0;
  }

  /** Takes a drain's items; false (and nothing taken) when they do not fit or it is stopping. */
  offer(resource: Attributes, resourceKey: string, items: readonly Item[]): boolean {
    if (items.length === 0) return true;
    if (!this.fits(items.length)) {
      this.counters.refused += items.length;
      return false;
    }
    this._held += items.length;
    this.counters.accepted += items.length;
    const batch = this._settings.batch;
    if (batch === undefined) {
      this._send(resource, items.slice());
      return true;
    }
    let pending = this._pending.get(resourceKey);
    if (pending === undefined) {
      pending = { resource, items: [], timer: undefined };
      this._pending.set(resourceKey, pending);
    }
    for (const item of items) pending.items.push(item);
    if (pending.items.length >= batch.sendBatchSize) {
      this._flush(resourceKey);
    } else if (pending.timer === undefined) {
      pending.timer = setTimeout(() => this._flush(resourceKey), batch.timeoutMs);
      pending.timer.unref?.();
    }
    return true;
  }

  private _flush(resourceKey: string): void {
    const pending = this._pending.get(resourceKey);
    if (pending === undefined) return;
    this._pending.delete(resourceKey);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    const max = this._settings.batch?.sendBatchMaxSize ?? 0;
    if (max > 0) {
      for (let i = 0; i < pending.items.length; i += max) this._send(pending.resource, pending.items.slice(i, i + max));
    } else {
      this._send(pending.resource, pending.items);
    }
  }

  /** Exports to every exporter; the items are released when all of them are done with them. */
  private _send(resource: Attributes, items: Item[]): void {
    const signal = this._settings.signal;
    const unit = signal === 'logs' ? 'records' : 'points';
    const pipeline = this._settings.id;
    const batch: ExportBatch = signal === 'logs' ? { resource, logs: items as LogRecordData[], metrics: [] } : { resource, logs: [], metrics: items as MetricPointData[] };
    const flight: InFlight = { items: items.length, waiting: new Set(this._settings.exporters.map((e) => e.exporter.id)) };
    const done = Promise.all(
      this._settings.exporters.map(async ({ exporter, retry }, i) => {
        const health = this._healths[i]!;
        const endpoint = exporter.endpoints?.[signal];
        const outcome = await exportWithRetry(exporter, batch, retry, {
          stopping: () => this._stopping,
          deadline: this._deadline.signal,
          onAttempt: (result, attempt) => {
            this._log('debug', `${exporter.id}: export ${result.ok ? 'ok' : 'failed'}`, {
              pipeline,
              exporter: exporter.id,
              attempt: attempt.number,
              items: items.length,
              ...(result.bytes !== undefined ? { bytes: result.bytes } : {}),
              ...(result.status !== undefined ? { status: result.status } : {}),
              duration_ms: attempt.durationMs,
              ...(result.ok ? {} : { error: result.error, ...(attempt.retryInMs !== undefined ? { retry_in_ms: attempt.retryInMs } : {}) }),
            });
            if (result.ok) health.succeeded();
            else if (attempt.retryInMs !== undefined && !this._deadline.signal.aborted) {
              health.failed({ pipeline, endpoint, error: result.error, status: result.status, retryInMs: attempt.retryInMs, lost: 0, unit, reason: undefined });
            }
          },
        });
        // Past the deadline, shutdown has counted these items dropped: they are counted once.
        if (this._deadline.signal.aborted) return;
        flight.waiting.delete(exporter.id);
        const result = outcome.result;
        if (result.ok) {
          const rejected = Math.min(result.rejected ?? 0, items.length);
          this.counters.exported[exporter.id]! += items.length - rejected;
          this.counters.failed[exporter.id]! += rejected;
          if (result.warning !== undefined) {
            this._warnings.report(rejected > 0 ? 'error' : 'warn', exporter.id, `${exporter.id}: ${result.warning}`, { pipeline, exporter: exporter.id, rejected });
          }
        } else {
          this.counters.failed[exporter.id]! += items.length;
          health.failed({ pipeline, endpoint, error: result.error, status: result.status, retryInMs: undefined, lost: items.length, unit, reason: outcome.gaveUp });
        }
      }),
    )
      .then(
        () => undefined,
        (error: unknown) => this._log('error', `export of ${items.length} ${unit} failed unexpectedly`, { pipeline, error: String(error) }),
      )
      .finally(() => {
        this._held -= items.length;
        this._inFlight.delete(done);
      });
    this._inFlight.set(done, flight);
  }

  /**
   * Refuses new items, sends every pending batch and waits for the exports, up to `deadlineMs`.
   * Then retries and requests in flight stop, and what is still unexported is counted as dropped
   * at shutdown, exactly, and logged. Safe to call twice.
   */
  shutdown(deadlineMs: number): Promise<void> {
    this._shutdown ??= this._stop(deadlineMs);
    return this._shutdown;
  }

  private async _stop(deadlineMs: number): Promise<void> {
    this._stopping = true;
    for (const key of [...this._pending.keys()]) this._flush(key);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([Promise.all([...this._inFlight.keys()]).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      // Counted before aborting: what finishes from here on is not counted again.
      let dropped = 0;
      const byExporter: Record<string, number> = {};
      for (const flight of this._inFlight.values()) {
        if (flight.waiting.size === 0) continue; // exported everywhere, only not released yet
        dropped += flight.items;
        for (const id of flight.waiting) byExporter[id] = (byExporter[id] ?? 0) + flight.items;
      }
      this._deadline.abort();
      this.counters.droppedAtShutdown += dropped;
      const unit = this._settings.signal === 'logs' ? 'records' : 'points';
      this._log('error', `shutdown deadline passed: ${dropped} ${unit} not exported`, { pipeline: this._settings.id, dropped, not_exported_by: byExporter });
    }
    for (const health of this._healths) health.flush();
    this._warnings.flush();
  }
}
