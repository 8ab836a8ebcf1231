/**
 * One exporter's sending queue for one signal, as the Collector's exporter helper: it takes what
 * its pipelines offer, batches it per drain (the pipeline's `batch` settings), and sends it with
 * `num_consumers` requests at once, each retried on its own (`retry_on_failure`). Every exporter
 * has its own queue: a slow or dead backend fills only its own.
 *
 * Full, a queue that blocks (`block_on_overflow`, our default) refuses, so the receiver answers
 * 503 and Logplex keeps the data; one that does not block drops what does not fit, counted and
 * logged, and holds nobody back.
 *
 * An exporter with a wire form (`Exporter.wire`: otlphttp's protobuf) gets its records and spans
 * encoded once, as the queue takes them: the queue holds, stores and sends those bytes (a
 * request wraps them as they are), not the objects, which would be serialised for the disk,
 * deserialised when read back, and encoded again for the request, and which, held, are old
 * objects for the garbage collector to walk.
 *
 * With storage (a `file_storage` extension), an offer is written to disk before it counts as
 * taken, so the receiver's 200 comes after the write. Memory holds an index, and the items
 * themselves of the first `STORED_ITEMS_IN_MEMORY` items held: while the backend keeps up they are
 * sent from memory, not read back, inflated and deserialised (a third of the default pipelines'
 * CPU), and written without deflating them while the disk's budget is mostly free (read back
 * only after a crash); a backlog beyond that is written deflated and read back for the requests
 * in flight. What is on disk at shutdown stays there and is sent
 * after the next start on the same directory (item objects stored by a queue that did not
 * encode, or by an earlier release, are encoded as they are sent).
 *
 * Every item ends sent, failed (refused for good, or retries given up: logged with the reason),
 * dropped because the queue was full (not blocking), dropped at shutdown (in memory, when the
 * deadline passed) or left in storage; each counted once, here and in its pipeline's counters.
 */
import type { EncodedItems, ExportBatch, ExportSignal, Exporter, WireForm } from '../exporter.ts';
import { BudgetFull, type Encoded, type SegmentLog } from '../../extensions/file_storage/segment-log.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';
import { ExporterHealth } from '../../service/exporter-health.ts';
import type { Logger } from '../../service/log.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import { exportWithRetry, type RetrySettings } from '../../service/retry.ts';
import type { SendingQueueConfig } from './config.ts';

export type Signal = ExportSignal;
type Item = LogRecordData | MetricPointData | SpanData;

/** What the queue's log lines call its items. */
const UNIT = { logs: 'records', metrics: 'points', traces: 'spans' } as const;

/** The batch processor's settings of a pipeline, applied as its items leave the queue. */
export interface QueueBatching {
  timeoutMs: number;
  sendBatchSize: number;
  /** 0: no limit. */
  sendBatchMaxSize: number;
}

/** What a pipeline counts of its items, per exporter id. */
export interface SourceCounters {
  exported: Record<string, number>;
  failed: Record<string, number>;
  /** Dropped by a queue that was full and does not block. */
  queueFull: Record<string, number>;
  droppedAtShutdown: number;
}

/** A pipeline, as a queue knows it. */
export interface QueueSource {
  id: string;
  batch: QueueBatching | undefined;
  counters: SourceCounters;
}

/** The queue's own counts: the Collector's `otelcol_exporter_*` and what storage adds. */
export interface QueueCounters {
  sent: number;
  sendFailed: number;
  enqueueFailed: number;
  droppedAtShutdown: number;
  /** Found in storage at start, left by an earlier run. */
  recovered: number;
  /** Still in storage at shutdown: sent after the next start. */
  leftInStorage: number;
}

export interface QueueOptions {
  exporter: Exporter;
  signal: Signal;
  queue: SendingQueueConfig;
  retry: RetrySettings;
  /** The queue's log in a file_storage extension. */
  storage?: SegmentLog;
  log: Logger;
}

/**
 * Items of stored entries a queue also keeps in memory (~1 KB a record, as objects or encoded:
 * encoded, one buffer off the heap that the garbage collector need not walk), so a healthy
 * backend's requests skip the read back from disk; beyond it, only the index is held.
 */
const STORED_ITEMS_IN_MEMORY = 16_384;

/** One offer held: its pipeline and drain are its group's (an entry is kept small: a backlog of one-line POSTs is millions of them). */
interface Entry {
  count: number;
  bytes: number;
  /** The items, as objects or encoded by the exporter's wire form; stored, undefined when only on disk (read back to be sent). */
  items: readonly Item[] | Uint8Array | undefined;
  /** The storage segment and offset, or -1 in memory. */
  segment: number;
  offset: number;
  at: number;
}

interface Group {
  key: string;
  source: QueueSource;
  resource: Attributes;
  /** Its entries from `head` on (those before were taken): no shift() per entry, which is O(n) each. */
  entries: Entry[];
  head: number;
  items: number;
  /** The requests its items make (what `sizer: requests` counts). */
  requests: number;
  timer: NodeJS.Timeout | undefined;
}

/** Items a request holds: a batch (send_batch_size), or 1024 where a pipeline has no batch processor. */
function requestItems(source: QueueSource | undefined): number {
  return source?.batch?.sendBatchSize ?? 1024;
}

/**
 * The requests `items` items make, as `sizer: requests` counts them: in fractions, so that many
 * drains each filling a batch of their own do not count a whole request each (20 drains with one
 * record each are not a full queue of 20 requests).
 */
function requestsOf(items: number, source: QueueSource | undefined): number {
  return items / requestItems(source);
}

/**
 * What a record, point or span takes in memory, roughly, for `sizer: bytes` (a Heroku record:
 * ~1 KB). A span's strings: its name, ids (one char a hex digit) and status message.
 */
function approxBytes(items: readonly Item[]): number {
  let n = 0;
  for (const item of items) {
    n += 160;
    if ('body' in item) n += item.body.length;
    else if ('spanId' in item) n += 64 + item.name.length + item.traceState.length + item.statusMessage.length;
    for (const key in item.attributes) {
      const v = item.attributes[key];
      n += 40 + key.length + (typeof v === 'string' ? v.length : 8);
    }
  }
  return n;
}

/** One health per exporter, whichever signals and pipelines it serves: a backend down is one story in the log. */
const healths = new WeakMap<Exporter, ExporterHealth>();

function healthOf(exporter: Exporter, log: Logger): ExporterHealth {
  let health = healths.get(exporter);
  if (health === undefined) {
    health = new ExporterHealth(exporter.id, log);
    healths.set(exporter, health);
  }
  return health;
}

function newSourceCounters(): SourceCounters {
  return { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 };
}

export class SendingQueue {
  readonly counters: QueueCounters = { sent: 0, sendFailed: 0, enqueueFailed: 0, droppedAtShutdown: 0, recovered: 0, leftInStorage: 0 };
  readonly exporter: Exporter;
  readonly signal: Signal;
  private readonly _config: SendingQueueConfig;
  private readonly _retry: RetrySettings;
  private readonly _storage: SegmentLog | undefined;
  /** The exporter's wire form, and whether this signal's items are encoded in it as they are taken. */
  private readonly _wire: WireForm | undefined;
  private readonly _encodes: boolean;
  private readonly _log: Logger;
  private readonly _health: ExporterHealth;
  private readonly _limited: RateLimitedLog;
  private readonly _groups = new Map<string, Group>();
  /** Groups ready to send, oldest first. */
  private readonly _ready = new Set<Group>();
  /** Items, requests (batches of send_batch_size) and bytes held: queued or in flight. */
  private _items = 0;
  private _requests = 0;
  private _bytes = 0;
  /** Items of stored entries also held in memory (STORED_ITEMS_IN_MEMORY bounds it). */
  private _storedInMemory = 0;
  /** Entries in flight, per request being sent. */
  /** Requests being sent: their entries, and the pipeline they came from. */
  private readonly _inFlight = new Map<Entry[], QueueSource>();
  /** Appends to storage not yet written: they count as held already. */
  private _appending = 0;
  private _stopping = false;
  private readonly _deadline = new AbortController();
  private _idle: (() => void) | undefined;
  private _shutdown: Promise<void> | undefined;
  private readonly _unit: (typeof UNIT)[Signal];

  constructor(options: QueueOptions) {
    this.exporter = options.exporter;
    this.signal = options.signal;
    this._config = options.queue;
    this._retry = options.retry;
    this._storage = options.queue.enabled ? options.storage : undefined;
    this._wire = options.exporter.wire;
    this._encodes = this._wire?.encodes(options.signal) === true;
    this._log = options.log;
    this._health = healthOf(options.exporter, options.log);
    this._limited = new RateLimitedLog(options.log);
    this._unit = UNIT[options.signal];
  }

  /** What queue_size counts: requests, items or bytes. */
  get sizer(): 'requests' | 'items' | 'bytes' {
    return this._config.sizer;
  }

  /** The exporter's component id, as log lines and metrics name it. */
  get id(): string {
    return this.exporter.id;
  }

  get persistent(): boolean {
    return this._storage !== undefined;
  }

  get blocking(): boolean {
    return this._config.block_on_overflow || !this._config.enabled;
  }

  /** What it holds now, in its sizer's unit (the Collector's otelcol_exporter_queue_size). */
  get size(): number {
    const sizer = this._config.sizer;
    return sizer === 'items' ? this._items : sizer === 'bytes' ? this._bytes : Math.ceil(this._requests - 1e-9);
  }

  /** What it may hold, in its sizer's unit; Infinity when only its storage's budget bounds it. */
  get capacity(): number {
    return this._config.enabled ? this._config.queue_size : 1;
  }

  /** What it may hold in items, roughly (requests of `sendBatchSize`, ~1 KB an item): for the status page. */
  itemCapacity(sendBatchSize: number): number {
    if (!this._config.enabled) return sendBatchSize;
    const size = this._config.queue_size;
    return this._config.sizer === 'items' ? size : this._config.sizer === 'bytes' ? Math.floor(size / 1024) : size * sendBatchSize;
  }

  /** Items (records, points or spans) held now. */
  get items(): number {
    return this._items;
  }

  /**
   * Whether `items` more items fit now. A queue that does not block always takes (what does not
   * fit is dropped, counted); an empty queue takes one offer however large, or it never could.
   */
  fits(items: number, source?: QueueSource): boolean {
    if (this._stopping) return false;
    if (!this.blocking) return true;
    return this._hasRoom(items, requestsOf(items, source), items * 1024);
  }

  private _hasRoom(items: number, requests: number, bytes: number): boolean {
    if (this._storage !== undefined && !this._storage.room(items)) return false;
    if (this._items === 0) return true;
    if (!this._config.enabled) return false;
    const cap = this._config.queue_size;
    const sizer = this._config.sizer;
    if (sizer === 'items') return this._items + items <= cap;
    if (sizer === 'bytes') return this._bytes + bytes <= cap;
    return this._requests + requests <= cap + 1e-9;
  }

  /**
   * Takes a pipeline's items for one drain. False: refused (full and blocking, stopping, or the
   * storage failed), nothing of it taken. With storage, resolves once the items are on disk.
   */
  enqueue(source: QueueSource, resource: Attributes, key: string, items: readonly Item[]): boolean | Promise<boolean> {
    if (items.length === 0) return true;
    if (this._stopping) return false;
    let encoded: Uint8Array | undefined;
    let bytes = 0;
    if (this._config.sizer === 'bytes' && this._storage === undefined) {
      // Encoded, what it holds is the bytes, as the Collector counts a request's protobuf size.
      if (this._encodes) bytes = (encoded = this._wire!.encode(this.signal, items)).length;
      else bytes = approxBytes(items);
    }
    const requests = requestsOf(items.length, source);
    // A queue that blocks was asked `fits` by the pipeline just before, for every queue at once:
    // asked again here with the exact size, it could refuse what another queue already took.
    if (!(this.blocking && this._storage === undefined) && !this._hasRoom(items.length, requests, bytes)) {
      if (this.blocking) return false;
      this._dropFull(source, items.length, 'the sending queue is full');
      return true;
    }
    // Encoded once, here: what is held, stored and sent from now on.
    if (this._encodes) encoded ??= this._wire!.encode(this.signal, items);
    if (this._storage === undefined) {
      this._add(source, resource, key, { count: items.length, bytes, items: encoded ?? items, segment: -1, offset: -1, at: Date.now() });
      return true;
    }
    // Counted as held while it is written, so that concurrent offers see the room it takes.
    this._items += items.length;
    this._requests += requests;
    this._appending++;
    // Kept in memory as well (sent from there), with the disk's budget mostly free: written as
    // serialised, not deflated (read back only after a crash).
    const keep = this._storedInMemory + items.length <= STORED_ITEMS_IN_MEMORY;
    if (keep) this._storedInMemory += items.length;
    const payload: readonly Item[] | Encoded = encoded !== undefined ? { form: this._wire!.name, count: items.length, bytes: encoded } : items;
    return this._storage.append(source.id, resource, payload, !(keep && this._storage.roomy)).then(
      (stored) => {
        this._items -= items.length;
        this._requests -= requests;
        this._appending--;
        this._add(source, resource, key, { count: items.length, bytes: stored.bytes, items: keep ? (encoded ?? items) : undefined, segment: stored.segment, offset: stored.offset, at: Date.now() });
        return true;
      },
      (error: unknown) => {
        this._items -= items.length;
        this._requests -= requests;
        this._appending--;
        if (keep) this._storedInMemory -= items.length;
        this._wake();
        if (this.blocking) {
          if (!(error instanceof BudgetFull)) this._limited.report('error', 'write', `${this.id}: could not write to its storage; the receiver answers 503`, { exporter: this.id, error: String(error) });
          return false;
        }
        this._dropFull(source, items.length, error instanceof BudgetFull ? error.message : `could not write to its storage: ${String(error)}`);
        return true;
      },
    );
  }

  private _dropFull(source: QueueSource, n: number, reason: string): void {
    this.counters.enqueueFailed += n;
    source.counters.queueFull[this.id] = (source.counters.queueFull[this.id] ?? 0) + n;
    this._limited.report('error', 'full', `${this.id}: ${reason} (block_on_overflow is off): ${n} ${this._unit} dropped for this exporter`, {
      exporter: this.id,
      pipeline: source.id,
      dropped: n,
    });
  }

  private _add(source: QueueSource, resource: Attributes, key: string, entry: Entry): void {
    this._items += entry.count;
    this._bytes += entry.bytes;
    const groupKey = `${source.id}\u0000${key}`;
    let group = this._groups.get(groupKey);
    if (group === undefined) {
      group = { key: groupKey, source, resource, entries: [], head: 0, items: 0, requests: 0, timer: undefined };
      this._groups.set(groupKey, group);
    }
    group.entries.push(entry);
    group.items += entry.count;
    this._regroup(group);
    this._schedule(group);
    this._pump();
  }

  /** Ready when full enough, when its oldest entry has waited the batch timeout, or when stopping. */
  private _schedule(group: Group): void {
    if (this._ready.has(group)) return;
    const batch = group.source.batch;
    if (batch === undefined || this._stopping || group.items >= batch.sendBatchSize) {
      clearTimeout(group.timer);
      group.timer = undefined;
      this._ready.add(group);
      return;
    }
    if (group.timer !== undefined) return;
    const wait = group.entries[group.head]!.at + batch.timeoutMs - Date.now();
    if (wait <= 0) {
      this._ready.add(group);
      return;
    }
    group.timer = setTimeout(() => {
      group.timer = undefined;
      this._ready.add(group);
      this._pump();
    }, wait);
    group.timer.unref?.();
  }

  /** Starts requests while consumers are free and something is ready. */
  private _pump(): void {
    const consumers = this._config.enabled ? this._config.num_consumers : 1;
    while (this._inFlight.size < consumers && this._ready.size > 0) {
      const group = this._ready.values().next().value!;
      this._ready.delete(group);
      const taken = this._take(group);
      this._inFlight.set(taken, group.source);
      void this._send(group.source, group.resource, taken);
    }
  }

  /** The entries of one request: a batch's worth (send_batch_size), or one offer without batching. */
  private _take(group: Group): Entry[] {
    const batch = group.source.batch;
    const taken: Entry[] = [];
    let n = 0;
    while (group.head < group.entries.length && (taken.length === 0 || (batch !== undefined && n < batch.sendBatchSize))) {
      const e = group.entries[group.head++]!;
      taken.push(e);
      n += e.count;
    }
    group.items -= n;
    this._regroup(group);
    // In flight, they are requests of their own.
    this._requests += requestsOf(n, group.source);
    // What was taken leaves the array once it is most of it: amortised O(1) an entry.
    if (group.head > 1024 && group.head * 2 > group.entries.length) {
      group.entries = group.entries.slice(group.head);
      group.head = 0;
    }
    if (group.head >= group.entries.length) this._groups.delete(group.key);
    else this._schedule(group);
    return taken;
  }

  /** Keeps the requests count in step with a group's items. */
  private _regroup(group: Group): void {
    const requests = requestsOf(group.items, group.source);
    this._requests += requests - group.requests;
    group.requests = requests;
  }

  private async _send(source: QueueSource, resource: Attributes, entries: Entry[]): Promise<void> {
    let count = 0;
    for (const e of entries) count += e.count;
    let settled = false;
    try {
      // Stored entries not in memory are read together: one open per segment, neighbours in one read.
      const onDisk = this._storage === undefined ? [] : entries.filter((e) => e.items === undefined);
      const read = onDisk.length === 0 ? [] : await this._storage!.readMany(onDisk);
      const got: Array<readonly Item[] | Uint8Array> = [];
      const counts: number[] = [];
      let encoded = false;
      let unreadable = 0;
      for (let i = 0, r = 0; i < entries.length; i++) {
        const e = entries[i]!;
        let items: readonly Item[] | Uint8Array | Encoded | Error = e.items ?? (read[r++] as readonly Item[] | Encoded | Error);
        if (items instanceof Error) {
          unreadable += e.count;
          this._limited.report('error', 'read', `${this.id}: ${e.count} ${this._unit} could not be read back from storage and are lost`, { exporter: this.id, error: String(items) });
          continue;
        }
        if (!Array.isArray(items) && !(items instanceof Uint8Array)) {
          const stored = items as Encoded;
          if (stored.form !== this._wire?.name) {
            unreadable += e.count;
            this._limited.report('error', 'form', `${this.id}: ${e.count} ${this._unit} in storage were encoded as ${stored.form}, which this exporter does not send; they are lost`, { exporter: this.id, form: stored.form });
            continue;
          }
          items = stored.bytes;
        }
        if (items instanceof Uint8Array) encoded = true;
        got.push(items as readonly Item[] | Uint8Array);
        counts.push(e.count);
      }
      if (unreadable > 0) this._account(source, 0, unreadable);
      const max = source.batch?.sendBatchMaxSize ?? 0;
      // Encoded items and objects (stored by an earlier release) in one request: all encoded.
      const requests = encoded ? encodedRequests(this._wire!, this.signal, got, counts, max) : objectRequests(got as Array<readonly Item[]>, max);
      got.length = 0;
      let sent = 0;
      let failed = 0;
      for (const request of requests) {
        const outcome = await this._export(source, resource, request);
        if (outcome === 'aborted') return; // the shutdown deadline passed: counted there
        sent += outcome.sent;
        failed += outcome.failed;
      }
      this._account(source, sent, failed);
      settled = true;
      if (this._storage !== undefined) {
        // Sent: a failed note of it means a duplicate after a restart, never a loss.
        await this._storage.ack(entries).catch((error: unknown) =>
          this._limited.report('error', 'ack', `${this.id}: could not note in storage that ${count} ${this._unit} were sent; they may be sent again after a restart`, { exporter: this.id, error: String(error) }),
        );
      }
    } catch (error) {
      this._log('error', `${this.id}: sending ${count} ${this._unit} failed unexpectedly`, { exporter: this.id, pipeline: source.id, error: String(error) });
      if (!settled) this._account(source, 0, count);
    } finally {
      this._release(entries, source);
      this._inFlight.delete(entries);
      this._pump();
      this._wake();
    }
  }

  private _release(entries: readonly Entry[], source: QueueSource): void {
    let n = 0;
    for (const e of entries) {
      n += e.count;
      this._bytes -= e.bytes;
      if (e.segment >= 0 && e.items !== undefined) this._storedInMemory -= e.count;
    }
    this._items -= n;
    this._requests -= requestsOf(n, source);
  }

  private _account(source: QueueSource, sent: number, failed: number): void {
    this.counters.sent += sent;
    this.counters.sendFailed += failed;
    source.counters.exported[this.id] = (source.counters.exported[this.id] ?? 0) + sent;
    source.counters.failed[this.id] = (source.counters.failed[this.id] ?? 0) + failed;
  }

  /** One request with its retries: how many were sent and how many failed, or aborted at the deadline. */
  private async _export(source: QueueSource, resource: Attributes, request: Item[] | EncodedItems): Promise<{ sent: number; failed: number } | 'aborted'> {
    const signal = this.signal;
    const exporter = this.exporter;
    const health = this._health;
    const endpoint = exporter.endpoints?.[signal];
    const unit = this._unit;
    const items = Array.isArray(request) ? request : { length: request.count };
    const batch: ExportBatch = !Array.isArray(request)
      ? { resource, logs: [], metrics: [], encoded: request }
      : signal === 'logs'
        ? { resource, logs: request as LogRecordData[], metrics: [] }
        : signal === 'metrics'
          ? { resource, logs: [], metrics: request as MetricPointData[] }
          : { resource, logs: [], metrics: [], spans: request as SpanData[] };
    const outcome = await exportWithRetry(exporter, batch, this._retry, {
      stopping: () => this._stopping,
      deadline: this._deadline.signal,
      onAttempt: (result, attempt) => {
        this._log('debug', `${exporter.id}: export ${result.ok ? 'ok' : 'failed'}`, {
          pipeline: source.id,
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
          health.failed({ pipeline: source.id, endpoint, error: result.error, status: result.status, retryInMs: attempt.retryInMs, lost: 0, unit, reason: undefined });
        }
      },
    });
    // Past the deadline, shutdown has counted it (dropped, or left in storage): counted once.
    if (this._deadline.signal.aborted) return 'aborted';
    const result = outcome.result;
    if (result.ok) {
      const rejected = Math.min(result.rejected ?? 0, items.length);
      if (result.warning !== undefined) {
        this._limited.report(rejected > 0 ? 'error' : 'warn', 'partial', `${exporter.id}: ${result.warning}`, { pipeline: source.id, exporter: exporter.id, rejected });
      }
      return { sent: items.length - rejected, failed: rejected };
    }
    health.failed({ pipeline: source.id, endpoint, error: result.error, status: result.status, retryInMs: undefined, lost: items.length, unit, reason: outcome.gaveUp });
    return { sent: 0, failed: items.length };
  }

  private _wake(): void {
    if (this._idle !== undefined && this._inFlight.size === 0 && this._groups.size === 0 && this._appending === 0) {
      const idle = this._idle;
      this._idle = undefined;
      idle();
    }
  }

  /**
   * Reads what an earlier run left in storage and queues it first, under the pipelines it came
   * from (`sources`, by id; one no longer configured sends it unbatched).
   */
  start(sources: ReadonlyMap<string, QueueSource>): void {
    if (this._storage === undefined) return;
    const found = this._storage.recover();
    if (found.torn > 0) {
      this._log('warn', `${this.id}: ${found.torn} entries cut short in storage (written when the process died, never answered 200) were discarded`, { exporter: this.id, directory: this._storage.directory });
    }
    for (const c of found.corrupt) {
      this._log('error', `${this.id}: a segment of its storage is damaged; ${c.bytesSkipped} bytes of it could not be read and are lost`, { exporter: this.id, directory: this._storage.directory, segment: c.segment });
    }
    const orphans = new Map<string, QueueSource>();
    const now = Date.now();
    for (const stored of found.entries) {
      let source = sources.get(stored.pipeline);
      if (source === undefined) {
        source = orphans.get(stored.pipeline);
        if (source === undefined) {
          source = { id: stored.pipeline, batch: undefined, counters: newSourceCounters() };
          orphans.set(stored.pipeline, source);
        }
      }
      this.counters.recovered += stored.items;
      this._add(source, stored.resource, JSON.stringify(stored.resource), { count: stored.items, bytes: stored.bytes, items: undefined, segment: stored.segment, offset: stored.offset, at: now });
    }
    if (found.entries.length > 0) {
      this._log('info', `${this.id}: ${this.counters.recovered} ${this._unit} left unsent by an earlier run found in storage; sending them`, {
        exporter: this.id,
        signal: this.signal,
        recovered: this.counters.recovered,
        ...(orphans.size > 0 ? { from_pipelines_no_longer_configured: [...orphans.keys()] } : {}),
      });
    }
  }

  /**
   * Takes nothing more, sends everything it holds (batches go out at once) and waits, up to
   * `deadlineMs`. Then requests and retries stop: in memory, what is unsent is counted dropped at
   * shutdown and logged; in storage, it stays for the next start. Safe twice.
   */
  shutdown(deadlineMs: number): Promise<void> {
    this._shutdown ??= this._stop(deadlineMs);
    return this._shutdown;
  }

  private async _stop(deadlineMs: number): Promise<void> {
    this._stopping = true;
    for (const group of this._groups.values()) this._schedule(group);
    this._pump();
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'done'>((resolve) => {
      this._idle = () => resolve('done');
      this._wake();
    });
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([idle, deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      // Counted before aborting: what finishes from here on is not counted again.
      let left = 0;
      const bySource = new Map<QueueSource, number>();
      const count = (source: QueueSource, entries: readonly Entry[], from: number) => {
        let n = 0;
        for (let i = from; i < entries.length; i++) n += entries[i]!.count;
        left += n;
        bySource.set(source, (bySource.get(source) ?? 0) + n);
      };
      for (const [entries, source] of this._inFlight) count(source, entries, 0);
      for (const group of this._groups.values()) {
        clearTimeout(group.timer);
        count(group.source, group.entries, group.head);
      }
      this._deadline.abort();
      if (this._storage === undefined) {
        this.counters.droppedAtShutdown += left;
        for (const [source, n] of bySource) source.counters.droppedAtShutdown += n;
        this._log('error', `${this.id}: shutdown deadline passed: ${left} ${this._unit} not exported`, { exporter: this.id, signal: this.signal, dropped: left, pipelines: Object.fromEntries([...bySource].map(([s, n]) => [s.id, n])) });
      } else {
        this.counters.leftInStorage += left;
        this._log('warn', `${this.id}: shutdown deadline passed: ${left} ${this._unit} stay in storage, sent after the next start on ${this._storage.directory}`, { exporter: this.id, signal: this.signal, left_in_storage: left });
      }
      // Requests in flight end at once on the abort; their entries are not acknowledged.
      await Promise.race([
        new Promise<void>((resolve) => {
          this._idle = resolve;
          this._groups.clear();
          this._ready.clear();
          this._wake();
        }),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
    }
    this._health.flush();
    this._limited.flush();
  }
}

/** Entries' items as requests of at most `max` items (0: one request). */
function objectRequests(got: ReadonlyArray<readonly Item[]>, max: number): Item[][] {
  const items: Item[] = [];
  for (const g of got) for (const item of g) items.push(item);
  if (max <= 0 || items.length <= max) return items.length === 0 ? [] : [items];
  const out: Item[][] = [];
  for (let i = 0; i < items.length; i += max) out.push(items.slice(i, i + max));
  return out;
}

/**
 * Entries' items as encoded requests of at most `max` items (0: one request), an entry cut where
 * a request ends; objects among them (stored by an earlier release) are encoded here.
 */
function encodedRequests(wire: WireForm, signal: Signal, got: ReadonlyArray<readonly Item[] | Uint8Array>, counts: readonly number[], max: number): EncodedItems[] {
  const out: EncodedItems[] = [];
  let parts: Uint8Array[] = [];
  let n = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    let bytes = g instanceof Uint8Array ? g : wire.encode(signal, g);
    let left = counts[i]!;
    while (max > 0 && n + left > max) {
      const [head, tail] = wire.split(bytes, max - n);
      parts.push(head);
      out.push({ signal, count: max, parts });
      left -= max - n;
      bytes = tail;
      parts = [];
      n = 0;
    }
    if (left > 0) {
      parts.push(bytes);
      n += left;
    }
  }
  if (n > 0) out.push({ signal, count: n, parts });
  return out;
}
