/**
 * Alert windows shared by the workers of one dyno, kept by the primary: what the redis
 * extension's SharedAlertWindows does between dynos, over the cluster's IPC channel. Each worker
 * writes its own totals per window bucket of every rule and group (absolute values: written again,
 * nothing counts twice), the primary answers with every worker's sums, and each transition goes
 * through a compare-and-set here, so one worker sends it. Quantiles and gauges stay per worker.
 */
import type { AlertEngine, OwnBucket, SharedBucket } from '../../processors/alerts/engine.ts';
import type { SharedWindows } from '../../processors/alerts/processor.ts';
import type { ClaimChannel } from './claims.ts';

/** A worker that hears nothing back by then keeps its own windows for that evaluation (as with Redis away). */
const ANSWER_TIMEOUT_MS = 1000;

/** Past this many alert states, expired ones are swept. */
const MAX_STATES = 10_000;

export interface GroupSums {
  rule: string;
  group: string;
  labels: Record<string, string>;
  buckets: SharedBucket[];
}

export type AlertsMessage =
  | { hod: 'alerts-sync'; id: number; processor: string; instance: string; rules: Array<{ name: string; windowMs: number }>; own: OwnBucket[]; now: number }
  | { hod: 'alerts-synced'; id: number; groups: GroupSums[] }
  | { hod: 'alerts-transition'; id: number; key: string; state: 'firing' | 'resolved'; now: number; repeatMs: number; ttlMs: number }
  | { hod: 'alerts-moved'; id: number; moved: boolean };

const KINDS: ReadonlySet<unknown> = new Set(['alerts-sync', 'alerts-synced', 'alerts-transition', 'alerts-moved']);

export function isAlertsMessage(m: unknown): m is AlertsMessage {
  return typeof m === 'object' && m !== null && KINDS.has((m as { hod?: unknown }).hod);
}

interface Group {
  labels: Record<string, string>;
  lastActive: number;
  /** Per bucket start, per worker instance, its totals. */
  buckets: Map<number, Map<string, SharedBucket>>;
}

/** The primary's side: every worker's buckets and the alerts' shared states. */
export class AlertTable {
  /** By processor, rule and group. */
  private readonly _groups = new Map<string, Map<string, Map<string, Group>>>();
  private readonly _states = new Map<string, { value: string; expires: number }>();

  sync(m: Extract<AlertsMessage, { hod: 'alerts-sync' }>): GroupSums[] {
    let rules = this._groups.get(m.processor);
    if (rules === undefined) this._groups.set(m.processor, (rules = new Map()));
    for (const b of m.own) {
      let groups = rules.get(b.rule);
      if (groups === undefined) rules.set(b.rule, (groups = new Map()));
      let group = groups.get(b.groupKey);
      if (group === undefined) groups.set(b.groupKey, (group = { labels: b.labels, lastActive: m.now, buckets: new Map() }));
      group.lastActive = m.now;
      let byInstance = group.buckets.get(b.start);
      if (byInstance === undefined) group.buckets.set(b.start, (byInstance = new Map()));
      byInstance.set(m.instance, { start: b.start, count: b.count, hits: b.hits, sum: b.sum, max: b.max });
    }
    const out: GroupSums[] = [];
    for (const { name, windowMs } of m.rules) {
      const groups = rules.get(name);
      if (groups === undefined) continue;
      for (const [key, group] of groups) {
        // As the Redis store: a group quiet for two windows is forgotten, a bucket past the window (and a minute) dropped.
        if (group.lastActive < m.now - 2 * windowMs) {
          groups.delete(key);
          continue;
        }
        const buckets: SharedBucket[] = [];
        for (const [start, byInstance] of group.buckets) {
          if (!(start >= m.now - windowMs - 60_000)) {
            group.buckets.delete(start);
            continue;
          }
          const sum: SharedBucket = { start, count: 0, hits: 0, sum: 0, max: -Infinity };
          for (const b of byInstance.values()) {
            sum.count += b.count;
            sum.hits += b.hits;
            sum.sum += b.sum;
            if (b.max > sum.max) sum.max = b.max;
          }
          buckets.push(sum);
        }
        out.push({ rule: name, group: key, labels: group.labels, buckets });
      }
    }
    return out;
  }

  /**
   * The alert's shared state, changed only from the right state (the redis extension's TRANSITION
   * script): `firing` from not firing, or from firing once the last send is `repeatMs` old;
   * `resolved` from firing. True: this worker sends it.
   */
  transition(m: Extract<AlertsMessage, { hod: 'alerts-transition' }>): boolean {
    // Expired states are forgotten (Redis lets them expire): the map stays as large as the alerts alive.
    if (this._states.size >= MAX_STATES) for (const [key, e] of this._states) if (e.expires <= m.now) this._states.delete(key);
    const entry = this._states.get(m.key);
    const current = entry !== undefined && entry.expires > m.now ? entry.value : undefined;
    const firingSince = current?.startsWith('firing:') ? Number(current.slice(7)) : undefined;
    if (m.state === 'firing') {
      if (firingSince !== undefined && m.now - firingSince < m.repeatMs) return false;
      this._states.set(m.key, { value: `firing:${m.now}`, expires: m.now + m.ttlMs });
      return true;
    }
    if (firingSince === undefined) return false;
    this._states.set(m.key, { value: 'resolved', expires: m.now + m.ttlMs });
    return true;
  }

  /** What the primary answers a worker's message with. */
  answer(m: AlertsMessage): AlertsMessage | undefined {
    if (m.hod === 'alerts-sync') return { hod: 'alerts-synced', id: m.id, groups: this.sync(m) };
    if (m.hod === 'alerts-transition') return { hod: 'alerts-moved', id: m.id, moved: this.transition(m) };
    return undefined;
  }
}

/** A worker's side, one per alerts processor. */
export class WorkerAlertWindows implements SharedWindows {
  private readonly _channel: ClaimChannel;
  private readonly _processor: string;
  private readonly _instance: string;
  private readonly _waiting = new Map<number, (m: AlertsMessage | undefined) => void>();
  private _next = 0;

  constructor(channel: ClaimChannel, processor: string, instance: string) {
    this._channel = channel;
    this._processor = processor;
    this._instance = instance;
    channel.onMessage((m) => {
      if (!isAlertsMessage(m) || (m.hod !== 'alerts-synced' && m.hod !== 'alerts-moved')) return;
      this._waiting.get(m.id)?.(m);
    });
  }

  async sync(engine: AlertEngine, now: number): Promise<boolean> {
    const rules = engine.sharedRules();
    if (rules.length === 0) return true;
    const answer = await this._ask({ hod: 'alerts-sync', id: this._next++, processor: this._processor, instance: this._instance, rules: rules.map((r) => ({ name: r.name, windowMs: r.windowMs })), own: engine.ownBuckets(now), now });
    if (answer?.hod !== 'alerts-synced') return false;
    for (const g of answer.groups) engine.mergeShared(g.rule, g.group, g.labels, g.buckets, now);
    return true;
  }

  async transition(rule: string, fingerprint: string, state: 'firing' | 'resolved', now: number, repeatMs: number, ttlMs: number): Promise<boolean | undefined> {
    const answer = await this._ask({ hod: 'alerts-transition', id: this._next++, key: `${this._processor}:${rule}:${fingerprint}`, state, now, repeatMs, ttlMs });
    return answer?.hod === 'alerts-moved' ? answer.moved : undefined;
  }

  private _ask(m: Extract<AlertsMessage, { hod: 'alerts-sync' | 'alerts-transition' }>): Promise<AlertsMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
      timer.unref();
      const done = (answer: AlertsMessage | undefined) => {
        clearTimeout(timer);
        this._waiting.delete(m.id);
        resolve(answer);
      };
      this._waiting.set(m.id, done);
      this._channel.send(m);
    });
  }
}
