/**
 * The tail_sampling processor: keeps or drops each request's router record, span and app lines
 * together, as its policies decide from the router line's facts (see policies.ts).
 *
 * Logplex delivers a request's app lines before its router line, often in an earlier batch. So
 * an app line (a record with a trace id) whose request is not decided yet is held, per pipeline,
 * up to decision_wait: the router line's decision then releases it (kept or dropped); without a
 * router line by then it is decided on its own (its severity, probabilistic on its trace id).
 * A bounded table of recent decisions serves app lines that come after their router line, and
 * holds the decisions the traces pipeline made for the logs pipelines. Held records leave
 * through the host (emitLogs after this processor: the pipeline's later steps, then its queue).
 * They are in memory: a SIGKILL loses what is held (at most decision_wait of app lines); on
 * shutdown (flush) everything held is released as kept.
 */
import type { Processed, Processor, ProcessorHost } from '../../service/component.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import type { SamplingSnapshot } from '../../service/self-telemetry.ts';
import { traceIdsOfRequest } from '../../translate/trace-context.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';
import type { TailSamplingConfig } from './config.ts';
import { compilePolicy, decide, isRouterRecord, recordSubject, spanSubject, thresholdOf, withThreshold, type HashKey, type Policy, type PolicyCounts, type Subject } from './policies.ts';

/** Lines one held request may gather; past it, its new lines pass at once (kept, counted as forced). */
const MAX_LINES_PER_REQUEST = 1000;
/** How long flush waits for a full pipeline to take what it releases. */
const FLUSH_RETRY_MS = 2000;

/** What tail_sampling counted, for its log lines and the service. */
export interface TailSamplingCounts {
  /** Per policy name, its own decisions on requests and lone records. */
  policies: Record<string, PolicyCounts>;
  /** Items (records and spans) kept and dropped. */
  kept: number;
  dropped: number;
  /** Records held for their request's decision, since start. */
  held: number;
  /** Held now: requests and records. */
  holdingRequests: number;
  holdingRecords: number;
  /** Requests whose held lines were decided on their own: no router line within decision_wait. */
  releasedOnExpiry: number;
  /** Records kept undecided because num_traces requests were held already (fail open). */
  forced: number;
  /** Records released by flush (shutdown), kept. */
  flushed: number;
  /** Released records a full pipeline refused at shutdown. */
  refused: number;
}

interface Held {
  pipeline: string;
  traceId: string;
  sinceMs: number;
  /** Per resource object (one per drain), in arrival order. */
  parts: Array<{ resource: Attributes; records: LogRecordData[] }>;
  lines: number;
}

interface Release {
  pipeline: string;
  resource: Attributes;
  records: LogRecordData[];
}

export class TailSamplingProcessor implements Processor {
  /** It sets the adjusted count attribute on kept records. */
  readonly mutates = true;
  readonly counts: TailSamplingCounts;
  private readonly _id: string;
  private readonly _host: ProcessorHost;
  private readonly _policies: Policy[];
  private readonly _policyCounts: PolicyCounts[];
  /** Where _rescued's evaluations are counted: nowhere a reader looks. */
  private readonly _uncounted: PolicyCounts[];
  private readonly _waitMs: number;
  private readonly _maxHeld: number;
  private readonly _attribute: string;
  private readonly _now: () => number;
  /** Held requests by pipeline and trace id, oldest first. */
  private readonly _held = new Map<string, Held>();
  /** Recent decisions by trace id: adjusted count when kept; dropped ones apart (decision_cache's two sizes). */
  private readonly _kept: RecentDecisions;
  private readonly _notKept: RecentDecisions;
  /** Released records a full pipeline refused: offered again at the next tick. */
  private _pending: Release[] = [];
  private _timer: NodeJS.Timeout | undefined;
  private readonly _warn: RateLimitedLog;
  private _lastSummary: string = '';
  private _lastSummaryMs = 0;
  private readonly _subject: Subject = { attributes: {}, status: 'UNSET', durationMs: NaN };
  private readonly _subjects: Subject[] = [this._subject];
  private readonly _key: HashKey = { traceId: undefined, text: '', micros: 0 };
  /** Per record of the batch in hand, a router record's decision (reused from batch to batch). */
  private readonly _routerDecisions: number[] = [];

  constructor(id: string, config: TailSamplingConfig, host: ProcessorHost, now: () => number = Date.now) {
    this._id = id;
    this._host = host;
    this._policies = config.policies.map(compilePolicy);
    this._policyCounts = this._policies.map(() => ({ sampled: 0, not_sampled: 0 }));
    this._uncounted = this._policies.map(() => ({ sampled: 0, not_sampled: 0 }));
    this._waitMs = config.decision_wait;
    this._maxHeld = config.num_traces;
    this._attribute = config.adjusted_count_attribute;
    this._kept = new RecentDecisions(config.decision_cache.sampled_cache_size);
    this._notKept = new RecentDecisions(config.decision_cache.non_sampled_cache_size);
    this._now = now;
    this._warn = new RateLimitedLog(host.log);
    const policies: Record<string, PolicyCounts> = {};
    this._policies.forEach((p, i) => (policies[p.name] = this._policyCounts[i]!));
    this.counts = { policies, kept: 0, dropped: 0, held: 0, holdingRequests: 0, holdingRecords: 0, releasedOnExpiry: 0, forced: 0, flushed: 0, refused: 0 };
  }

  start(): void {
    if (this._timer !== undefined) return;
    // Often enough that a held line waits little past decision_wait.
    const tick = Math.max(20, Math.min(1000, this._waitMs / 10));
    this._timer = setInterval(() => this.tick(), tick);
    this._timer.unref();
  }

  samplingSnapshot(): SamplingSnapshot {
    const c = this.counts;
    return { id: this._id, policies: c.policies, holdingRequests: c.holdingRequests, held: c.held, releasedOnExpiry: c.releasedOnExpiry, forced: c.forced };
  }

  startedNote(): string {
    return `${this._id}: sampling logs and spans with ${this._policies.length} ${this._policies.length === 1 ? 'policy' : 'policies'} (${this._policies.map((p) => p.name).join(', ')}); app lines wait up to ${this._waitMs} ms for their router line, in memory`;
  }

  /** Decides a request or a lone record: its adjusted count when kept, 0 when dropped. */
  private _decide(subjects: readonly Subject[], resource: Attributes, traceId: string | undefined, record: LogRecordData | undefined): number {
    const key = this._key;
    key.traceId = traceId;
    key.text = traceId === undefined && record !== undefined ? record.body : '';
    key.micros = traceId === undefined && record !== undefined ? record.timeUnixMicros : 0;
    return decide(this._policies, this._policyCounts, subjects, resource, key);
  }

  private _decideRecord(record: LogRecordData, resource: Attributes, traceId: string | undefined): number {
    recordSubject(record, this._subject);
    return this._decide(this._subjects, resource, traceId, record);
  }

  /**
   * An app line of a request that is not kept, on its own facts (its severity, its attributes;
   * the probabilistic policy's hash is the request's, so it says no again): an error line is
   * never lost with its request. Not counted in the policies' decisions (the request was).
   */
  private _rescued(record: LogRecordData, resource: Attributes): number {
    recordSubject(record, this._subject);
    const key = this._key;
    key.traceId = record.traceId;
    key.text = '';
    key.micros = 0;
    return decide(this._policies, this._uncounted, this._subjects, resource, key);
  }

  private _decideSpan(span: SpanData, resource: Attributes): number {
    spanSubject(span, this._subject);
    return this._decide(this._subjects, resource, span.traceId, undefined);
  }

  private _remember(traceId: string, adjustedCount: number): void {
    if (adjustedCount > 0) this._kept.set(traceId, adjustedCount);
    else this._notKept.set(traceId, 0);
  }

  /** A decision made earlier for this trace: its adjusted count, 0 when dropped, undefined when none. */
  private _recalled(traceId: string): number | undefined {
    return this._kept.get(traceId) ?? this._notKept.get(traceId);
  }

  private _mark(record: LogRecordData, adjustedCount: number): void {
    if (this._attribute !== '') record.attributes[this._attribute] = adjustedCount;
  }

  /** The trace id of a router record: its own, or the one its request id gives. */
  private static _routerTraceId(record: LogRecordData): string | undefined {
    if (record.traceId !== undefined) return record.traceId;
    const requestId = record.attributes['heroku.router.request_id'];
    return typeof requestId === 'string' && requestId !== '' ? traceIdsOfRequest(requestId).traceId : undefined;
  }

  process(resource: Attributes, logs: readonly LogRecordData[], _metrics: readonly MetricPointData[], _observed: Set<string>, spans?: readonly SpanData[], pipeline = ''): void | Processed {
    if (spans !== undefined && spans.length > 0) return { spans: this._processSpans(resource, spans) };
    if (logs.length === 0) return undefined;
    // Router records first: their decisions serve the app lines before them in the batch.
    let decided: string[] | undefined;
    const routerDecisions = this._routerDecisions;
    routerDecisions.length = logs.length;
    for (let i = 0; i < logs.length; i++) {
      const r = logs[i]!;
      if (!isRouterRecord(r)) continue;
      const traceId = TailSamplingProcessor._routerTraceId(r);
      const adjusted = this._decideRecord(r, resource, traceId);
      routerDecisions[i] = adjusted;
      if (traceId === undefined) continue;
      this._remember(traceId, adjusted);
      (decided ??= []).push(traceId);
    }
    let kept: LogRecordData[] | undefined;
    for (let i = 0; i < logs.length; i++) {
      const r = logs[i]!;
      let adjusted: number | undefined;
      if (isRouterRecord(r)) {
        adjusted = routerDecisions[i]!;
      } else if (r.traceId === undefined) {
        adjusted = this._decideRecord(r, resource, undefined);
      } else {
        adjusted = this._recalled(r.traceId);
        if (adjusted === 0) adjusted = this._rescued(r, resource);
        if (adjusted === undefined) {
          if (this._waitMs > 0 && this._hold(pipeline, resource, r)) {
            adjusted = -1;
          } else if (this._waitMs === 0) {
            adjusted = this._decideRecord(r, resource, r.traceId);
          } else {
            adjusted = 1; // forced: the request gathered too many lines
          }
        }
      }
      if (adjusted > 0) {
        this._mark(r, adjusted);
        this.counts.kept++;
        if (kept !== undefined) kept.push(r);
      } else {
        if (adjusted === 0) this.counts.dropped++;
        kept ??= logs.slice(0, i);
      }
    }
    // Lines held for the requests decided in this batch leave beside it, offered on their own: the
    // batch itself was measured against the pipeline's room before it came here.
    if (decided !== undefined && this._held.size > 0) {
      for (const traceId of decided) {
        const held = this._held.get(heldKey(pipeline, traceId));
        if (held === undefined) continue;
        this._unhold(held);
        const adjusted = this._recalled(traceId) ?? 1;
        for (const part of held.parts) {
          let records = part.records;
          if (adjusted === 0) {
            // The request is not kept: its error lines are, on their own facts.
            records = records.filter((r) => {
              const own = this._rescued(r, part.resource);
              if (own > 0) this._mark(r, own);
              return own > 0;
            });
            this.counts.dropped += part.records.length - records.length;
            if (records.length === 0) continue;
          } else {
            for (const r of records) this._mark(r, adjusted);
          }
          this.counts.kept += records.length;
          this._release({ pipeline, resource: part.resource, records });
        }
      }
    }
    return kept === undefined ? undefined : { logs: kept };
  }

  private _processSpans(resource: Attributes, spans: readonly SpanData[]): SpanData[] {
    const out: SpanData[] = [];
    for (const span of spans) {
      const adjusted = this._decideSpan(span, resource);
      this._remember(span.traceId, adjusted);
      if (adjusted === 0) {
        this.counts.dropped++;
        continue;
      }
      this.counts.kept++;
      if (this._attribute !== '') span.attributes[this._attribute] = adjusted;
      span.traceState = withThreshold(span.traceState, thresholdOf(adjusted));
      out.push(span);
    }
    return out;
  }

  /** Holds an app line for its request; false when its request has gathered too many lines (then it passes). */
  private _hold(pipeline: string, resource: Attributes, record: LogRecordData): boolean {
    const key = heldKey(pipeline, record.traceId!);
    let held = this._held.get(key);
    if (held === undefined) {
      // Full: the oldest request's lines go on undecided (fail open), counted.
      while (this._held.size >= this._maxHeld) {
        const oldest = this._held.values().next().value!;
        this._unhold(oldest);
        this.counts.forced += oldest.lines;
        this._warn.report('warn', 'full', `${this._id}: ${this._maxHeld} requests (num_traces) wait for their router line already; the oldest one's app lines are kept undecided`, { processor: this._id, num_traces: this._maxHeld });
        this._releaseKept(oldest, 1);
      }
      held = { pipeline, traceId: record.traceId!, sinceMs: this._now(), parts: [], lines: 0 };
      this._held.set(key, held);
      this.counts.holdingRequests++;
    }
    if (held.lines >= MAX_LINES_PER_REQUEST) {
      this.counts.forced++;
      return false;
    }
    const last = held.parts[held.parts.length - 1];
    if (last !== undefined && last.resource === resource) last.records.push(record);
    else held.parts.push({ resource, records: [record] });
    held.lines++;
    this.counts.held++;
    this.counts.holdingRecords++;
    return true;
  }

  private _unhold(held: Held): void {
    this._held.delete(heldKey(held.pipeline, held.traceId));
    this.counts.holdingRequests--;
    this.counts.holdingRecords -= held.lines;
  }

  private _releaseKept(held: Held, adjusted: number): void {
    for (const part of held.parts) {
      for (const r of part.records) this._mark(r, adjusted);
      this.counts.kept += part.records.length;
      this._release({ pipeline: held.pipeline, resource: part.resource, records: part.records });
    }
  }

  /** Offers released records to their pipeline, after this processor; kept for the next tick when it is full. */
  private _release(release: Release): void {
    if (!this._host.emitLogs(this._id, release.resource, release.records, { after: true, ...(release.pipeline !== '' ? { pipeline: release.pipeline } : {}) })) this._pending.push(release);
  }

  /** Decides the requests whose decision_wait is over: as decided elsewhere (a span, another pipeline), else on their own lines. */
  tick(): void {
    if (this._pending.length > 0) {
      const pending = this._pending;
      this._pending = [];
      for (const p of pending) this._release(p);
    }
    const now = this._now();
    let expired = 0;
    for (const held of this._held.values()) {
      if (now - held.sinceMs < this._waitMs) break;
      this._unhold(held);
      let adjusted = this._recalled(held.traceId);
      if (adjusted === undefined) {
        expired++;
        const subjects = held.parts.flatMap((p) => p.records.map((r) => recordSubject(r, { attributes: {}, status: 'UNSET', durationMs: NaN })));
        adjusted = this._decide(subjects, held.parts[0]!.resource, held.traceId, undefined);
        this._remember(held.traceId, adjusted);
      }
      if (adjusted > 0) this._releaseKept(held, adjusted);
      else this.counts.dropped += held.lines;
    }
    this.counts.releasedOnExpiry += expired;
    this._summarise(now);
  }

  /** A line in the log at most once a minute, when the counts moved. */
  private _summarise(now: number, force = false): void {
    if (!force && now - this._lastSummaryMs < 60_000) return;
    const c = this.counts;
    const fields = {
      processor: this._id,
      kept: c.kept,
      dropped: c.dropped,
      held: c.held,
      holding: c.holdingRecords,
      released_on_expiry: c.releasedOnExpiry,
      forced: c.forced,
      policies: c.policies,
    };
    const text = JSON.stringify(fields);
    if (text === this._lastSummary) return;
    this._lastSummary = text;
    this._lastSummaryMs = now;
    this._host.log('info', `${this._id}: ${c.kept} kept, ${c.dropped} dropped, ${c.holdingRecords} app lines waiting for their router line`, fields);
  }

  /** Shutdown's last work, while pipelines still take: everything held goes out kept (or as decided). */
  async flush(): Promise<void> {
    for (const held of [...this._held.values()]) {
      this._unhold(held);
      const adjusted = this._recalled(held.traceId) ?? 1;
      if (adjusted === 0) {
        this.counts.dropped += held.lines;
        continue;
      }
      this.counts.flushed += held.lines;
      this._releaseKept(held, adjusted);
    }
    const until = this._now() + FLUSH_RETRY_MS;
    while (this._pending.length > 0 && this._now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      const pending = this._pending;
      this._pending = [];
      for (const p of pending) this._release(p);
    }
    if (this._pending.length > 0) {
      const lost = this._pending.reduce((n, p) => n + p.records.length, 0);
      this.counts.refused += lost;
      this._pending = [];
      this._host.log('error', `${this._id}: a full pipeline refused ${lost} released app lines at shutdown`, { processor: this._id, records: lost });
    }
    this._summarise(this._now(), true);
  }

  async shutdown(): Promise<void> {
    if (this._timer !== undefined) clearInterval(this._timer);
    this._timer = undefined;
    this._warn.flush?.();
  }
}

function heldKey(pipeline: string, traceId: string): string {
  return pipeline === '' ? traceId : `${pipeline}\u0000${traceId}`;
}

/**
 * The last `capacity` decisions, by trace id: a ring of keys beside the map, so that forgetting
 * the oldest is O(1) (deleting a Map's first entries over and over makes V8 skip ever more holes).
 */
class RecentDecisions {
  private readonly _map = new Map<string, number>();
  private readonly _ring: Array<string | undefined>;
  private readonly _capacity: number;
  private _next = 0;

  constructor(capacity: number) {
    this._capacity = capacity;
    this._ring = new Array<string | undefined>(capacity);
  }

  get(traceId: string): number | undefined {
    return this._map.get(traceId);
  }

  set(traceId: string, value: number): void {
    if (this._capacity === 0) return;
    if (this._map.has(traceId)) {
      this._map.set(traceId, value);
      return;
    }
    const oldest = this._ring[this._next];
    if (oldest !== undefined) this._map.delete(oldest);
    this._ring[this._next] = traceId;
    this._next = (this._next + 1) % this._capacity;
    this._map.set(traceId, value);
  }
}
