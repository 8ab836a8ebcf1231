/**
 * A pipeline: what its receivers take, after its processors, handed to the sending queue of each
 * of its exporters (`src/exporters/exporterhelper/queue.ts`), which batch, send and retry on
 * their own. The pipeline refuses a batch (the receiver answers 503, Logplex keeps it) when a
 * queue that blocks is full, or its memory_limiter says so; a queue that does not block never
 * holds it back. It counts what it took and refused; its queues count, per exporter, what was
 * exported, failed, dropped because a queue was full, or dropped at shutdown.
 */
import type { QueueBatching, QueueSource, SendingQueue, SourceCounters } from '../exporters/exporterhelper/queue.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../translate/telemetry.ts';

export type Signal = 'logs' | 'metrics' | 'traces';

export interface PipelineSettings {
  id: string;
  signal: Signal;
  /** Its exporters' queues (a queue serves every pipeline of its signal that lists its exporter). */
  queues: SendingQueue[];
  /** The batch processor's settings, applied in each queue; without one, every offer is sent as it is. */
  batch: QueueBatching | undefined;
  /** Whether it may take data now at all (memory_limiter); always when unset. */
  accepting?: () => boolean;
}

export interface PipelineCounters extends SourceCounters {
  accepted: number;
  refused: number;
}

type Item = LogRecordData | MetricPointData | SpanData;
/** What the exporters' queue takes today; it takes spans with the traces exporters (branch traces-export). */

export class Pipeline implements QueueSource {
  readonly counters: PipelineCounters;
  readonly id: string;
  readonly batch: QueueBatching | undefined;
  private readonly _settings: PipelineSettings;
  private _stopping = false;

  constructor(settings: PipelineSettings) {
    this._settings = settings;
    this.id = settings.id;
    this.batch = settings.batch;
    const zero = () => Object.fromEntries(settings.queues.map((q) => [q.id, 0]));
    this.counters = { accepted: 0, refused: 0, exported: zero(), failed: zero(), queueFull: zero(), droppedAtShutdown: 0 };
  }

  get signal(): Signal {
    return this._settings.signal;
  }

  get queues(): readonly SendingQueue[] {
    return this._settings.queues;
  }

  /** Items held for it at most, as far as its fullest-bounded queue says (Infinity: only a disk budget bounds it). */
  get capacity(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const q of this._settings.queues) if (q.blocking) min = Math.min(min, q.itemCapacity(this.batch?.sendBatchSize ?? 1024));
    return min;
  }

  /** Items its queues hold now (the fullest of them): queued, batching or being exported. */
  get held(): number {
    let max = 0;
    for (const q of this._settings.queues) max = Math.max(max, q.items);
    return max;
  }

  /** Whether it takes data now at all: not stopping, and its memory_limiter lets data in. */
  accepts(): boolean {
    return !this._stopping && (this._settings.accepting === undefined || this._settings.accepting());
  }

  /** Whether `n` more items fit every queue that blocks, and its memory_limiter lets data in. */
  fits(n: number): boolean {
    if (!this.accepts()) return false;
    for (const q of this._settings.queues) if (!q.fits(n, this)) return false;
    return true;
  }

  /**
   * Takes a drain's items into every queue. False (nothing counted as taken) when they do not
   * fit; a promise when a queue keeps them on disk, resolved once they are written. A queue on
   * disk that fails to write after the others took the items makes it false too: the receiver
   * answers 503 and the others may get those items twice when Logplex sends them again (never
   * none).
   */
  offer(resource: Attributes, resourceKey: string, items: readonly Item[]): boolean | Promise<boolean> {
    if (items.length === 0) return true;
    if (!this.fits(items.length)) {
      this.counters.refused += items.length;
      return false;
    }
    let pending: Promise<boolean>[] | undefined;
    let ok = true;
    for (const q of this._settings.queues) {
      const taken = q.enqueue(this, resource, resourceKey, items);
      if (taken === true) continue;
      if (taken === false) ok = false;
      else (pending ??= []).push(taken);
    }
    if (pending === undefined) return this._count(ok, items.length);
    return Promise.all(pending).then((results) => this._count(ok && results.every(Boolean), items.length));
  }

  private _count(ok: boolean, n: number): boolean {
    if (ok) this.counters.accepted += n;
    else this.counters.refused += n;
    return ok;
  }

  /** Takes nothing more; its queues are shut down by the service (they may serve other pipelines). */
  stop(): void {
    this._stopping = true;
  }
}
