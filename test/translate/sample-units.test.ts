/**
 * The unit of every `sample#` key Heroku documents, decided per key: the value's own suffix first,
 * then the unit Heroku documents (the registry), then the key's whole words, never a name prefix.
 *
 * Keys and units from Heroku's Dev Center:
 * - dynos: https://devcenter.heroku.com/articles/log-runtime-metrics (memory in MB, pgpgin/out in
 *   pages, load averages plain numbers)
 * - Heroku Postgres: https://devcenter.heroku.com/articles/heroku-postgres-metrics-logs (memory in kB,
 *   db_size in bytes, tmp-disk-* bare bytes, hit rates 0-1),
 *   https://devcenter.heroku.com/articles/postgres-write-ahead-log-usage (`wal-percentage-used` is a
 *   fraction: healthy at 0.75 or lower), https://devcenter.heroku.com/articles/monitoring-heroku-postgres
 *   (`db-max-size`, `db-size-percentage-used`)
 * - Heroku Redis / Key-Value Store: https://devcenter.heroku.com/articles/heroku-redis-metrics-logs
 *   (memory in kB but memory-redis in bytes, hit-rate 0-1, evicted-keys a count)
 * - pgbouncer (server-side connection pooling, in the Postgres metrics logs): connections as counts,
 *   avg_query in microseconds, avg_recv/avg_sent in bytes per second.
 * The lines are written here in the documented shapes, one sample per line.
 */
import { describe, expect, it } from 'vitest';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { interpretLine } from '../../src/heroku/classify.ts';
import { translateEvent, unitFromKey } from '../../src/translate/translate.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';
import * as M from '../../src/semconv/metrics.ts';

const TS = '2026-12-05T14:00:00.000000+00:00';
const KB = 1024;
const MB = 1048576;

type Source = 'dyno' | 'postgres' | 'redis' | 'pgbouncer';

const HEADS: Record<Source, string> = {
  dyno: `${TS} heroku[web.1]: source=web.1 dyno=heroku.1234567.00000000-0000-4000-8000-000000000001`,
  postgres: `${TS} app[heroku-postgres]: source=DATABASE addon=postgresql-tidy-10001`,
  redis: `${TS} app[heroku-redis]: source=REDIS addon=redis-tidy-10002`,
  pgbouncer: `${TS} app[heroku-pgbouncer]: source=pgbouncer addon=postgresql-tidy-10001`,
};

/** One row: where the line comes from, `key=value` as written, and the point it must become. */
interface Row {
  source: Source;
  sample: string;
  metric: string;
  unit: string;
  value: number;
}

const row = (source: Source, sample: string, metric: string, unit: string, value: number): Row => ({ source, sample, metric, unit, value });

/** Every documented key: each must be in the registry with the unit it comes out with. */
const DOCUMENTED: Row[] = [
  // log-runtime-metrics
  row('dyno', 'load_avg_1m=2.46', 'heroku.dyno.load_avg_1m', '1', 2.46),
  row('dyno', 'load_avg_5m=1.06', 'heroku.dyno.load_avg_5m', '1', 1.06),
  row('dyno', 'load_avg_15m=0.99', 'heroku.dyno.load_avg_15m', '1', 0.99),
  row('dyno', 'memory_total=21.00MB', 'heroku.dyno.memory_total', 'By', 21 * MB),
  row('dyno', 'memory_rss=21.22MB', 'heroku.dyno.memory_rss', 'By', Math.round(21.22 * MB)),
  row('dyno', 'memory_cache=0.00MB', 'heroku.dyno.memory_cache', 'By', 0),
  row('dyno', 'memory_swap=1.50MB', 'heroku.dyno.memory_swap', 'By', 1.5 * MB),
  row('dyno', 'memory_pgpgin=348836pages', 'heroku.dyno.memory_pgpgin', '{page}', 348836),
  row('dyno', 'memory_pgpgout=343403pages', 'heroku.dyno.memory_pgpgout', '{page}', 343403),
  row('dyno', 'memory_quota=512.00MB', 'heroku.dyno.memory_quota', 'By', 512 * MB),
  // Heroku Postgres server and database metrics
  row('postgres', 'current_transaction=54017686', 'heroku.postgres.current_transaction', '{transaction}', 54017686),
  row('postgres', 'db_size=16012956319bytes', 'heroku.postgres.db_size', 'By', 16012956319),
  row('postgres', 'tables=97', 'heroku.postgres.tables', '{table}', 97),
  row('postgres', 'active-connections=7', 'heroku.postgres.active_connections', '{connection}', 7),
  row('postgres', 'waiting-connections=1', 'heroku.postgres.waiting_connections', '{connection}', 1),
  row('postgres', 'index-cache-hit-rate=0.9239', 'heroku.postgres.index_cache_hit_rate', '1', 0.9239),
  row('postgres', 'table-cache-hit-rate=0.93609', 'heroku.postgres.table_cache_hit_rate', '1', 0.93609),
  row('postgres', 'load-avg-1m=0.005', 'heroku.postgres.load_avg_1m', '1', 0.005),
  row('postgres', 'load-avg-5m=0.04', 'heroku.postgres.load_avg_5m', '1', 0.04),
  row('postgres', 'load-avg-15m=0.075', 'heroku.postgres.load_avg_15m', '1', 0.075),
  row('postgres', 'read-iops=0.12', 'heroku.postgres.read_iops', '{operation}/s', 0.12),
  row('postgres', 'write-iops=2.875', 'heroku.postgres.write_iops', '{operation}/s', 2.875),
  row('postgres', 'tmp-disk-used=543600640', 'heroku.postgres.tmp_disk_used', 'By', 543600640),
  row('postgres', 'tmp-disk-available=72435191808', 'heroku.postgres.tmp_disk_available', 'By', 72435191808),
  row('postgres', 'memory-total=8038464kB', 'heroku.postgres.memory_total', 'By', 8038464 * KB),
  row('postgres', 'memory-free=150324kB', 'heroku.postgres.memory_free', 'By', 150324 * KB),
  row('postgres', 'memory-cached=7152936.0kB', 'heroku.postgres.memory_cached', 'By', 7152936 * KB),
  row('postgres', 'memory-postgres=181400kB', 'heroku.postgres.memory_postgres', 'By', 181400 * KB),
  row('postgres', 'wal-percentage-used=0.0645', 'heroku.postgres.wal_percentage_used', '1', 0.0645),
  row('postgres', 'db-max-size=68719476736bytes', 'heroku.postgres.db_max_size', 'By', 68719476736),
  row('postgres', 'db-size-percentage-used=0.23', 'heroku.postgres.db_size_percentage_used', '1', 0.23),
  row('postgres', 'max-connections=500', 'heroku.postgres.max_connections', '{connection}', 500),
  row('postgres', 'connections-percentage-used=0.014', 'heroku.postgres.connections_percentage_used', '1', 0.014),
  row('postgres', 'iops-percentage-used=0.2', 'heroku.postgres.iops_percentage_used', '1', 0.2),
  row('postgres', 'follower-lag-commits=12', 'heroku.postgres.follower_lag_commits', '{commit}', 12),
  // Heroku Redis / Key-Value Store
  row('redis', 'active-connections=404', 'heroku.redis.active_connections', '{connection}', 404),
  row('redis', 'load-avg-1m=0.115', 'heroku.redis.load_avg_1m', '1', 0.115),
  row('redis', 'load-avg-5m=0.075', 'heroku.redis.load_avg_5m', '1', 0.075),
  row('redis', 'load-avg-15m=0.07', 'heroku.redis.load_avg_15m', '1', 0.07),
  row('redis', 'read-iops=0', 'heroku.redis.read_iops', '{operation}/s', 0),
  row('redis', 'write-iops=54.758', 'heroku.redis.write_iops', '{operation}/s', 54.758),
  row('redis', 'memory-total=15405660kB', 'heroku.redis.memory_total', 'By', 15405660 * KB),
  row('redis', 'memory-free=12639520kB', 'heroku.redis.memory_free', 'By', 12639520 * KB),
  row('redis', 'memory-cached=1911724kB', 'heroku.redis.memory_cached', 'By', 1911724 * KB),
  row('redis', 'memory-redis=343477584bytes', 'heroku.redis.memory_redis', 'By', 343477584),
  row('redis', 'hit-rate=0.7', 'heroku.redis.hit_rate', '1', 0.7),
  row('redis', 'evicted-keys=3', 'heroku.redis.evicted_keys', '{key}', 3),
  // The known bug: a fraction, not bytes, whatever its first word.
  row('redis', 'memory-percentage-used=0.00081', 'heroku.redis.memory_percentage_used', '1', 0.00081),
  // pgbouncer
  row('pgbouncer', 'client_active=56', 'heroku.pgbouncer.client_active', '{connection}', 56),
  row('pgbouncer', 'client_waiting=2', 'heroku.pgbouncer.client_waiting', '{connection}', 2),
  row('pgbouncer', 'server_active=4', 'heroku.pgbouncer.server_active', '{connection}', 4),
  row('pgbouncer', 'server_idle=16', 'heroku.pgbouncer.server_idle', '{connection}', 16),
  row('pgbouncer', 'max_wait=3', 'heroku.pgbouncer.max_wait', 's', 3),
  row('pgbouncer', 'avg_query=8751', 'heroku.pgbouncer.avg_query_duration', 's', 0.008751),
  row('pgbouncer', 'avg_recv=37568', 'heroku.pgbouncer.avg_recv', 'By/s', 37568),
  row('pgbouncer', 'avg_sent=1339005', 'heroku.pgbouncer.avg_sent', 'By/s', 1339005),
];

/**
 * Keys Heroku's lines carry beyond the lists above (newer plans), registered with the unit the key's
 * words give: every `*-percentage-used` written as a fraction 0-1, like the documented ones.
 */
const NEWER: Row[] = [
  row('postgres', 'max-iops=3000', 'heroku.postgres.max_iops', '{operation}/s', 3000),
  row('postgres', 'memory-percentage-used=0.96052', 'heroku.postgres.memory_percentage_used', '1', 0.96052),
  row('redis', 'max-connections=40', 'heroku.redis.max_connections', '{connection}', 40),
  row('redis', 'connection-percentage-used=0.05', 'heroku.redis.connection_percentage_used', '1', 0.05),
  row('redis', 'max-iops=3000', 'heroku.redis.max_iops', '{operation}/s', 3000),
  row('redis', 'iops-percentage-used=0.0125', 'heroku.redis.iops_percentage_used', '1', 0.0125),
];

/** Keys no registry entry names: the suffix, then the key's whole words, never a prefix. */
const UNDOCUMENTED: Row[] = [
  row('redis', 'memory-fragmentation=1.3', 'heroku.redis.memory_fragmentation', '1', 1.3),
  row('redis', 'memory-percent-free=0.4', 'heroku.redis.memory_percent_free', '1', 0.4),
  row('postgres', 'disk-percentage-used=0.5', 'heroku.postgres.disk_percentage_used', '1', 0.5),
  row('postgres', 'memory-swap=2048kB', 'heroku.postgres.memory_swap', 'By', 2048 * KB),
  row('postgres', 'replica-cache-hit-rate=0.98', 'heroku.postgres.replica_cache_hit_rate', '1', 0.98),
  row('postgres', 'idle-connections=9', 'heroku.postgres.idle_connections', '{connection}', 9),
  row('postgres', 'load-avg-30m=0.2', 'heroku.postgres.load_avg_30m', '1', 0.2),
  row('postgres', 'wal-archived-bytes=4096', 'heroku.postgres.wal_archived_bytes', 'By', 4096),
  row('pgbouncer', 'avg_wait=120ms', 'heroku.pgbouncer.avg_wait', 's', 0.12),
  row('dyno', 'memory_widgets=5', 'heroku.dyno.memory_widgets', '1', 5),
  // The suffix wins over the registry's unit and over the key's words.
  row('postgres', 'tmp-disk-used=2MB', 'heroku.postgres.tmp_disk_used', 'By', 2 * MB),
  row('redis', 'memory-redis=3kB', 'heroku.redis.memory_redis', 'By', 3 * KB),
];

function translate(r: Row): { name: string; unit: string; value: number; attributes: Record<string, unknown> }[] {
  const line = parseAnyLine(`${HEADS[r.source]} sample#${r.sample}`);
  const batch = newTelemetryBatch();
  translateEvent(line, interpretLine(line), 1_800_000_000_000_000, batch);
  expect(batch.logs).toHaveLength(1);
  return batch.metrics.map((p) => ({ name: p.name, unit: p.unit, value: p.value, attributes: batch.logs[0]!.attributes as Record<string, unknown> }));
}

describe('sample units: every documented key', () => {
  it.each([...DOCUMENTED, ...NEWER].map((r) => [`${r.source} ${r.sample}`, r] as const))('%s', (_name, r) => {
    const points = translate(r);
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ name: r.metric, unit: r.unit });
    expect(points[0]!.value).toBeCloseTo(r.value, 12);
    // The log record's heroku.sample.<key> carries the same base-unit value.
    expect(points[0]!.attributes[`heroku.sample.${r.metric.slice(r.metric.lastIndexOf('.') + 1)}`]).toBeCloseTo(r.value, 12);
    // Documented keys are registered, with the unit they come out with.
    expect(M.METRIC_UNITS[r.metric]).toBe(r.unit);
  });

  it('covers each documented source', () => {
    const sources = new Set(DOCUMENTED.map((r) => r.source));
    expect([...sources].sort()).toEqual(['dyno', 'pgbouncer', 'postgres', 'redis']);
  });
});

describe('sample units: keys the registry does not list', () => {
  it.each(UNDOCUMENTED.map((r) => [`${r.source} ${r.sample}`, r] as const))('%s', (_name, r) => {
    const points = translate(r);
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ name: r.metric, unit: r.unit });
    expect(points[0]!.value).toBeCloseTo(r.value, 12);
  });
});

describe('unitFromKey', () => {
  it.each([
    ['memory_percentage_used', '1'],
    ['percent_used', '1'],
    ['hit_rate', '1'],
    ['rate_limit', '1'],
    ['max_iops', '{operation}/s'],
    ['max_connections', '{connection}'],
    ['connections_percentage_used', '1'],
    ['iops_percentage_used', '1'],
    ['received_bytes', 'By'],
    ['maxmemory', 'By'],
    // No prefix or substring rule: these name no unit by a whole word.
    ['memory_foo', '1'],
    ['disk_used', '1'],
    ['percentages', '1'],
    ['load_avg_1m', '1'],
  ])('%s -> %s', (key, unit) => {
    expect(unitFromKey(key)).toBe(unit);
  });
});
