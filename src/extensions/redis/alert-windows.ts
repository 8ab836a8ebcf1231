/**
 * Alert windows shared by several instances through Redis: each instance writes its own totals
 * for every window bucket of every rule and group (count, hits, sum, max), reads everyone's, and
 * evaluates on the sums, so a storm split across two dynos is seen whole. Each transition goes
 * through a compare-and-set on the alert's shared state, so one instance sends it.
 *
 * Keys, under the store's prefix and the processor's id: `w:<rule>:<group>` a hash of
 * `<bucket start>:<instance>:c|h|s|m` plus `labels`; `g:<rule>` a sorted set of groups by last
 * activity; `s:<rule>:<fingerprint>` an alert's state. Values are absolute: writing them again
 * after a failure counts nothing twice. Quantiles and gauges stay per instance.
 */
import { randomUUID } from 'node:crypto';
import type { AlertEngine, OwnBucket, SharedBucket } from '../../processors/alerts/engine.ts';
import type { RedisStore } from './store.ts';

/**
 * The alert's shared state, changed only from the right state: `firing` from not firing (or from
 * firing once the last send is `repeat` old), `resolved` from firing. 1: this instance sends it.
 */
const TRANSITION = `local cur = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[2])
if ARGV[1] == 'firing' then
  if cur and string.sub(cur, 1, 7) == 'firing:' and now - tonumber(string.sub(cur, 8)) < tonumber(ARGV[3]) then return 0 end
  redis.call('SET', KEYS[1], 'firing:' .. ARGV[2], 'PX', ARGV[4])
  return 1
end
if cur and string.sub(cur, 1, 7) == 'firing:' then
  redis.call('SET', KEYS[1], 'resolved', 'PX', ARGV[4])
  return 1
end
return 0`;

type Pipeline = ReturnType<RedisStore['client']['pipeline']>;

/** Pipeline results with any command's error thrown: a half-done sync must not pass for one. */
function checked(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('the pipeline did not run');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export class SharedAlertWindows {
  private readonly _store: RedisStore;
  private readonly _prefix: string;
  /** This process among the instances: its fields in the window hashes. */
  private readonly _instance = randomUUID().slice(0, 8);

  constructor(store: RedisStore, processorId: string) {
    this._store = store;
    this._prefix = `${store.keyPrefix}alerts:${processorId}:`;
  }

  /**
   * Writes this instance's bucket totals and loads every group's sums into the engine. False
   * when Redis could not be reached or answered in part: the engine then keeps what it had.
   */
  async sync(engine: AlertEngine, now: number): Promise<boolean> {
    const rules = engine.sharedRules();
    if (rules.length === 0) return true;
    const windowOf = new Map(rules.map((r) => [r.name, r.windowMs] as const));
    const redis = this._store.client;
    try {
      const own = engine.ownBuckets(now);
      if (own.length > 0) {
        const write = redis.pipeline();
        for (const b of own) this._write(write, b, windowOf.get(b.rule)!, now);
        checked(await this._store.withTimeout(write.exec()));
      }
      const listing = redis.pipeline();
      for (const r of rules) {
        listing.zremrangebyscore(`${this._prefix}g:${r.name}`, 0, now - 2 * r.windowMs);
        listing.zrangebyscore(`${this._prefix}g:${r.name}`, now - 2 * r.windowMs, '+inf');
      }
      const listed = checked(await this._store.withTimeout(listing.exec()));
      const wanted: Array<{ rule: string; group: string; windowMs: number }> = [];
      const read = redis.pipeline();
      rules.forEach((r, i) => {
        for (const group of (listed[i * 2 + 1] as string[] | undefined) ?? []) {
          wanted.push({ rule: r.name, group, windowMs: r.windowMs });
          read.hgetall(`${this._prefix}w:${r.name}:${group}`);
        }
      });
      const windows = wanted.length > 0 ? checked(await this._store.withTimeout(read.exec())) : [];
      const cleanup = redis.pipeline();
      const merges: Array<() => void> = [];
      wanted.forEach((w, i) => {
        const fields = (windows[i] as Record<string, string> | undefined) ?? {};
        const labels = fields.labels ? (JSON.parse(fields.labels) as Record<string, string>) : {};
        const buckets = new Map<number, SharedBucket>();
        const stale: string[] = [];
        for (const [field, value] of Object.entries(fields)) {
          if (field === 'labels') continue;
          const [startText, , part] = field.split(':');
          const start = Number(startText);
          if (!(start >= now - w.windowMs - 60_000)) {
            stale.push(field);
            continue;
          }
          let b = buckets.get(start);
          if (b === undefined) {
            b = { start, count: 0, hits: 0, sum: 0, max: -Infinity };
            buckets.set(start, b);
          }
          const n = Number(value);
          if (part === 'c') b.count += n;
          else if (part === 'h') b.hits += n;
          else if (part === 's') b.sum += n;
          else if (part === 'm' && n > b.max) b.max = n;
        }
        if (stale.length > 0) cleanup.hdel(`${this._prefix}w:${w.rule}:${w.group}`, ...stale);
        merges.push(() => engine.mergeShared(w.rule, w.group, labels, [...buckets.values()], now));
      });
      // Every read answered: only now do the engine's windows change.
      for (const merge of merges) merge();
      if (cleanup.length > 0) void this._store.withTimeout(cleanup.exec()).catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  private _write(p: Pipeline, b: OwnBucket, windowMs: number, now: number): void {
    const key = `${this._prefix}w:${b.rule}:${b.groupKey}`;
    const field = `${b.start}:${this._instance}`;
    const values: Record<string, string> = { [`${field}:c`]: String(b.count), labels: JSON.stringify(b.labels) };
    if (b.hits > 0) values[`${field}:h`] = String(b.hits);
    if (b.sum !== 0) values[`${field}:s`] = String(b.sum);
    if (b.max !== -Infinity) values[`${field}:m`] = String(b.max);
    p.hset(key, values);
    p.pexpire(key, 3 * windowMs);
    p.zadd(`${this._prefix}g:${b.rule}`, now, b.groupKey);
    p.pexpire(`${this._prefix}g:${b.rule}`, 3 * windowMs);
  }

  /**
   * Whether this instance sends a transition: true when the shared state moved, false when
   * another instance already sent it, undefined when Redis cannot say (then each sends).
   */
  async transition(rule: string, fingerprint: string, state: 'firing' | 'resolved', now: number, repeatMs: number, ttlMs: number): Promise<boolean | undefined> {
    try {
      const moved = await this._store.withTimeout(this._store.client.eval(TRANSITION, 1, `${this._prefix}s:${rule}:${fingerprint}`, state, String(now), String(repeatMs), String(ttlMs)));
      return moved === 1;
    } catch {
      return undefined;
    }
  }
}
