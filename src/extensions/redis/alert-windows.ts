/**
 * Alert windows shared by several instances through Redis: each instance adds what it saw to the
 * window buckets of every rule and group (count, hits, sum, max), then evaluates on the totals,
 * so a storm split across two dynos is seen whole. Transitions are claimed, so that one instance
 * sends a firing alert (and its repeats) and one sends its resolution.
 *
 * Keys, under the store's prefix: `alerts:w:<rule>:<group>` a hash of `<bucket start>:c|h|s|m`;
 * `alerts:g:<rule>` a sorted set of groups by last activity; `alerts:l:<rule>` their labels.
 * Quantiles and gauges stay per instance (a sample cannot be added up).
 */
import type { AlertEngine, BucketDelta, SharedBucket } from '../../processors/alerts/engine.ts';
import type { RedisStore } from './store.ts';

/** Keeps the largest value of a hash field. */
const HMAX = `local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (not cur) or (tonumber(cur) < tonumber(ARGV[2])) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

export class SharedAlertWindows {
  private readonly _store: RedisStore;

  constructor(store: RedisStore) {
    this._store = store;
  }

  private _key(kind: 'w' | 'g' | 'l', rule: string, group?: string): string {
    return `${this._store.keyPrefix}alerts:${kind}:${rule}${group === undefined ? '' : `:${group}`}`;
  }

  /**
   * Writes this instance's increments and loads every group's totals into the engine. False when
   * Redis could not be reached: the engine then judges on what this instance saw alone.
   */
  async sync(engine: AlertEngine, now: number): Promise<boolean> {
    const deltas = engine.takeDeltas();
    const rules = engine.sharedRules();
    if (rules.length === 0) return true;
    const redis = this._store.client;
    try {
      const write = redis.pipeline();
      for (const d of deltas) this._write(write, d, rules.find((r) => r.name === d.rule)!.windowMs, now);
      if (deltas.length > 0) await this._store.withTimeout(write.exec());
      // Which groups exist anywhere, then their buckets.
      const listing = redis.pipeline();
      for (const r of rules) {
        listing.zremrangebyscore(this._key('g', r.name), 0, now - 2 * r.windowMs);
        listing.zrangebyscore(this._key('g', r.name), now - 2 * r.windowMs, '+inf');
        listing.hgetall(this._key('l', r.name));
      }
      const listed = (await this._store.withTimeout(listing.exec())) ?? [];
      const read = redis.pipeline();
      const wanted: Array<{ rule: string; group: string; labels: Record<string, string>; windowMs: number }> = [];
      rules.forEach((r, i) => {
        const groups = (listed[i * 3 + 1]?.[1] as string[] | undefined) ?? [];
        const labels = (listed[i * 3 + 2]?.[1] as Record<string, string> | undefined) ?? {};
        for (const group of groups) {
          wanted.push({ rule: r.name, group, labels: JSON.parse(labels[group] ?? '{}') as Record<string, string>, windowMs: r.windowMs });
          read.hgetall(this._key('w', r.name, group));
        }
      });
      const windows = wanted.length > 0 ? ((await this._store.withTimeout(read.exec())) ?? []) : [];
      const cleanup = redis.pipeline();
      wanted.forEach((w, i) => {
        const fields = (windows[i]?.[1] as Record<string, string> | undefined) ?? {};
        const buckets = new Map<number, SharedBucket>();
        const stale: string[] = [];
        for (const [field, value] of Object.entries(fields)) {
          const colon = field.lastIndexOf(':');
          const start = Number(field.slice(0, colon));
          if (start < now - w.windowMs - 60_000) {
            stale.push(field);
            continue;
          }
          let b = buckets.get(start);
          if (b === undefined) {
            b = { start, count: 0, hits: 0, sum: 0, max: -Infinity };
            buckets.set(start, b);
          }
          const n = Number(value);
          const part = field.slice(colon + 1);
          if (part === 'c') b.count = n;
          else if (part === 'h') b.hits = n;
          else if (part === 's') b.sum = n;
          else if (part === 'm') b.max = n;
        }
        if (stale.length > 0) cleanup.hdel(this._key('w', w.rule, w.group), ...stale);
        engine.mergeShared(w.rule, w.group, w.labels, [...buckets.values()], now);
      });
      if (cleanup.length > 0) void this._store.withTimeout(cleanup.exec()).catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  private _write(p: ReturnType<RedisStore['client']['pipeline']>, d: BucketDelta, windowMs: number, now: number): void {
    const key = this._key('w', d.rule, d.groupKey);
    p.hincrby(key, `${d.start}:c`, d.count);
    if (d.hits > 0) p.hincrby(key, `${d.start}:h`, d.hits);
    if (d.sum !== 0) p.hincrbyfloat(key, `${d.start}:s`, d.sum);
    if (d.max !== -Infinity) p.eval(HMAX, 1, key, `${d.start}:m`, String(d.max));
    p.pexpire(key, 3 * windowMs);
    p.zadd(this._key('g', d.rule), now, d.groupKey);
    p.pexpire(this._key('g', d.rule), 3 * windowMs);
    p.hset(this._key('l', d.rule), d.groupKey, JSON.stringify(d.labels));
    p.pexpire(this._key('l', d.rule), 3 * windowMs);
  }

  /** Claims the right to send one transition; undefined when Redis cannot say. */
  claim(key: string, ttlMs: number): Promise<boolean | undefined> {
    return this._store.claim(`alerts:t:${key}`, ttlMs);
  }

  release(key: string): Promise<void> {
    return this._store.release(`alerts:t:${key}`);
  }
}
