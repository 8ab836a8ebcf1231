/**
 * A pipeline: receivers' batches in, batched per drain resource, out to every exporter, with
 * retries. Memory is bounded: `offer` refuses a batch (the receiver answers 503, Logplex retries)
 * when the items held (queued, batching or being exported) would pass `capacity`. Nothing is
 * dropped silently: every item ends exported, failed (the backend refused it for good, logged) or
 * dropped at shutdown when the deadline passed, each counted.
 */
import type { ExportBatch, Exporter } from '../exporters/exporter.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../translate/telemetry.ts';
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
}

export interface PipelineCounters {
  accepted: number;
  refused: number;
  /** Per exporter id. */
  exported: Record<string, number>;
  failed: Record<string, number>;
  droppedAtShutdown: number;
}

export type PipelineLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

type Item = LogRecordData | MetricPointData;

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
  private readonly _inFlight = new Set<Promise<void>>();
  private _held = 0;
  private _stopping = false;

  constructor(settings: PipelineSettings, log: PipelineLog = () => {}) {
    this._settings = settings;
    this._log = log;
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
    return !this._stopping && (this._held + n <= this._settings.capacity || this._held === 0);
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
    const batch: ExportBatch =
      this._settings.signal === 'logs' ? { resource, logs: items as LogRecordData[], metrics: [] } : { resource, logs: [], metrics: items as MetricPointData[] };
    const done = Promise.all(
      this._settings.exporters.map(async ({ exporter, retry }) => {
        const result = await exportWithRetry(exporter, batch, retry, () => this._stopping);
        if (result.ok) {
          const rejected = Math.min(result.rejected ?? 0, items.length);
          this.counters.exported[exporter.id]! += items.length - rejected;
          this.counters.failed[exporter.id]! += rejected;
          if (result.warning !== undefined) {
            this._log(rejected > 0 ? 'error' : 'warn', `${exporter.id}: ${result.warning}`, { pipeline: this._settings.id });
          }
        } else {
          this.counters.failed[exporter.id]! += items.length;
          this._log('error', `${exporter.id}: export failed, ${items.length} ${this._settings.signal === 'logs' ? 'records' : 'points'} lost`, {
            pipeline: this._settings.id,
            error: result.error,
            retryable: result.retryable,
          });
        }
      }),
    )
      .then(
        () => undefined,
        (error: unknown) => this._log('error', `export of ${items.length} items failed unexpectedly`, { pipeline: this._settings.id, error: String(error) }),
      )
      .finally(() => {
        this._held -= items.length;
        this._inFlight.delete(done);
      });
    this._inFlight.add(done);
  }

  /**
   * Refuses new items, sends every pending batch and waits for the exports, up to `deadlineMs`;
   * what is still unexported then is counted as dropped at shutdown. Safe to call twice.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    this._stopping = true;
    for (const key of [...this._pending.keys()]) this._flush(key);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([Promise.all([...this._inFlight]).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.counters.droppedAtShutdown += this._held;
      this._log('error', `shutdown deadline passed: ${this._held} items not exported`, { pipeline: this._settings.id });
    }
  }
}
