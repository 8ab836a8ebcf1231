/**
 * The metrics aggregation stage (src/processors/interval/stage.ts), driven with explicit clock
 * values: points are absorbed at one `nowMs`, exports collected at another, so every time in a
 * point can be said exactly. No timers, no sleeps.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { intervalConfigSchema } from '../../src/processors/interval/config.ts';
import { defaultInstanceId, stageSettings } from '../../src/processors/interval/factory.ts';
import { MetricsStage, type StageSettings } from '../../src/processors/interval/stage.ts';
import type { Level } from '../../src/service/log.ts';
import type { Attributes, MetricPointData } from '../../src/translate/telemetry.ts';
import { heapKeptBy } from '../support/heap.ts';

/** A fixed wall clock (ms): every time below is T0 plus something. */
const T0 = 1_750_000_000_000;
const us = (ms: number) => ms * 1000;
const RESOURCE: Attributes = { 'service.name': 'shop-web' };
const RKEY = 'shop-web';
const BOUNDS = [0.1, 1, 10] as const;

interface Logged {
  level: Level;
  message: string;
  fields: Record<string, unknown> | undefined;
}

function newStage(settings: Partial<StageSettings> = {}) {
  const logged: Logged[] = [];
  const sent: Array<{ resource: Attributes; key: string; points: MetricPointData[] }> = [];
  const stage = new MetricsStage(
    'service.pipelines.metrics',
    { intervalMs: 1000, maxStreams: 100, maxStaleMs: 3_600_000, instanceId: 'web.1-0a1b2c3d', ...settings },
    (resource, key, points) => void sent.push({ resource, key, points }),
    (level, message, fields) => void logged.push({ level, message, fields }),
  );
  return { stage, logged, sent };
}

function point(type: MetricPointData['type'], name: string, value: number, atMs: number, attributes: Attributes = {}): MetricPointData {
  return { name, unit: type === 'histogram' ? 's' : '1', type, value, timeUnixMicros: us(atMs), attributes, bounds: type === 'histogram' ? BOUNDS : undefined };
}

/** One export's points, whatever resource they belong to. */
function collect(stage: MetricsStage, nowMs: number): MetricPointData[] {
  return [...stage.collect(nowMs).values()].flat();
}

/** Absorbs one point at its own time (as a line arriving when it was written). */
function feed(stage: MetricsStage, p: MetricPointData, resource = RESOURCE, key = RKEY): void {
  stage.absorb(resource, key, [p], p.timeUnixMicros / 1000);
}

describe('MetricsStage: sums', () => {
  it('accumulate across exports in one cumulative series with one start time, stamped with the export time', () => {
    const { stage } = newStage();
    feed(stage, point('sum', 'orders.created', 2, T0 + 100));
    feed(stage, point('sum', 'orders.created', 3, T0 + 200));
    const [first, ...rest1] = collect(stage, T0 + 1000);
    expect(rest1).toEqual([]);
    expect(first).toMatchObject({ type: 'sum', name: 'orders.created', value: 5, temporality: 'cumulative', monotonic: true, startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 1000) });

    feed(stage, point('sum', 'orders.created', 4, T0 + 1500));
    const [second] = collect(stage, T0 + 2000);
    expect(second).toMatchObject({ value: 9, startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 2000) });

    // No new point: the live series is sent again, unchanged, at the new export's time.
    const [third] = collect(stage, T0 + 3000);
    expect(third).toMatchObject({ value: 9, startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 3000) });
    // The same series object each time: the identity cumulativetodelta keys on.
    expect(second!.series).toBe(first!.series);
    expect(third!.series).toBe(first!.series);
    expect(stage.stats).toMatchObject({ series: 1, absorbed: 3, notFinite: 0 });
  });

  it('say non-monotonic once an increment is negative (an l2met count#x=-3)', () => {
    const { stage } = newStage();
    feed(stage, point('sum', 'stock.change', 5, T0 + 100));
    feed(stage, point('sum', 'stock.change', -3, T0 + 200));
    expect(collect(stage, T0 + 1000)).toEqual([expect.objectContaining({ value: 2, monotonic: false, temporality: 'cumulative' })]);
  });

  it('restart with a new start time when the running sum would overflow to Infinity', () => {
    const { stage } = newStage();
    feed(stage, point('sum', 'bytes.total', 1e308, T0 + 100));
    const [before] = collect(stage, T0 + 1000);
    expect(before).toMatchObject({ value: 1e308, startTimeUnixMicros: us(T0 + 100) });
    feed(stage, point('sum', 'bytes.total', 1e308, T0 + 1500));
    const [after] = collect(stage, T0 + 2000);
    expect(Number.isFinite(after!.value)).toBe(true);
    expect(after).toMatchObject({ value: 1e308, startTimeUnixMicros: us(T0 + 1500), timeUnixMicros: us(T0 + 2000) });
  });
});

describe('MetricsStage: histograms', () => {
  it('accumulate count, sum, min, max and buckets across exports, with one start time', () => {
    const { stage } = newStage();
    for (const [v, at] of [
      [0.05, 100],
      [0.5, 200],
      [5, 300],
      [50, 400],
    ] as const) {
      feed(stage, point('histogram', 'http.server.request.duration', v, T0 + at));
    }
    const [first] = collect(stage, T0 + 1000);
    expect(first).toMatchObject({ type: 'histogram', temporality: 'cumulative', startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 1000), bounds: BOUNDS });
    expect(first!.merged).toMatchObject({ startTimeUnixMicros: us(T0 + 100), count: 4, min: 0.05, max: 50, bucketCounts: [1, 1, 1, 1] });
    expect(first!.merged!.sum).toBeCloseTo(55.55, 10);

    feed(stage, point('histogram', 'http.server.request.duration', 0.7, T0 + 1200));
    feed(stage, point('histogram', 'http.server.request.duration', 0.01, T0 + 1300));
    const [second] = collect(stage, T0 + 2000);
    expect(second).toMatchObject({ startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 2000) });
    expect(second!.merged).toMatchObject({ count: 6, min: 0.01, max: 50, bucketCounts: [2, 2, 1, 1] });
    expect(second!.merged!.sum).toBeCloseTo(56.26, 10);
    // The first export's point is a snapshot: the second did not change it.
    expect(first!.merged!.count).toBe(4);
  });
});

describe('MetricsStage: gauges', () => {
  it('send the latest sample of an interval with its own time, once, and again only when a newer one comes', () => {
    const { stage } = newStage();
    feed(stage, point('gauge', 'heroku.dyno.load.avg.1m', 0.4, T0 + 100));
    feed(stage, point('gauge', 'heroku.dyno.load.avg.1m', 0.6, T0 + 300));
    expect(collect(stage, T0 + 1000)).toEqual([expect.objectContaining({ type: 'gauge', value: 0.6, timeUnixMicros: us(T0 + 300) })]);
    expect(stage.stats.supersededSamples).toBe(1);
    // Nothing new: nothing sent, and the series is still held.
    expect(collect(stage, T0 + 2000)).toEqual([]);
    expect(stage.stats.series).toBe(1);
    feed(stage, point('gauge', 'heroku.dyno.load.avg.1m', 0.9, T0 + 2500));
    expect(collect(stage, T0 + 3000)).toEqual([expect.objectContaining({ value: 0.9, timeUnixMicros: us(T0 + 2500) })]);
  });

  it('do not send a sample older than the one sent before, and count it superseded', () => {
    const { stage } = newStage();
    feed(stage, point('gauge', 'heroku.dyno.memory.total', 400, T0 + 500));
    expect(collect(stage, T0 + 1000)).toEqual([expect.objectContaining({ value: 400, timeUnixMicros: us(T0 + 500) })]);
    // A late line (retried by Logplex) with a sample from before the one sent.
    stage.absorb(RESOURCE, RKEY, [point('gauge', 'heroku.dyno.memory.total', 390, T0 + 200)], T0 + 1500);
    expect(collect(stage, T0 + 2000)).toEqual([]);
    expect(stage.stats.supersededSamples).toBe(1);
  });

  it('go out at the previous export time when written less than an interval before it and delivered after; older samples keep their own time', () => {
    // The Prometheus translator writes target_info at each request's earliest and latest point
    // time (prometheusremotewrite helper.go addResourceTargetInfo); a request reaching back before
    // the previous one's latest is an out-of-order target_info sample for Mimir.
    const { stage } = newStage();
    feed(stage, point('sum', 'orders.created', 1, T0 + 100));
    feed(stage, point('gauge', 'heroku.dyno.load.avg.1m', 0.4, T0 + 200));
    collect(stage, T0 + 1000);
    // Written 20 ms before that export, delivered 30 ms after it.
    stage.absorb(RESOURCE, RKEY, [point('gauge', 'heroku.dyno.load.avg.1m', 0.5, T0 + 980)], T0 + 1030);
    // A line of a capture (or a backlog) from an hour ago.
    stage.absorb(RESOURCE, RKEY, [point('gauge', 'heroku.postgres.db.size', 10, T0 - 3_600_000)], T0 + 1040);
    const points = collect(stage, T0 + 2000);
    const times = (name: string) => points.filter((p) => p.name === name).map((p) => p.timeUnixMicros);
    expect(times('heroku.dyno.load.avg.1m')).toEqual([us(T0 + 1000)]);
    expect(times('heroku.postgres.db.size')).toEqual([us(T0 - 3_600_000)]);
    // Nothing in the request but the old capture's sample reaches back before the previous export.
    expect(points.filter((p) => p.timeUnixMicros < us(T0 + 1000)).map((p) => p.name)).toEqual(['heroku.postgres.db.size']);
  });

  it('keep the newer sample when an older one arrives after it in the same interval', () => {
    const { stage } = newStage();
    feed(stage, point('gauge', 'heroku.dyno.memory.total', 410, T0 + 600));
    stage.absorb(RESOURCE, RKEY, [point('gauge', 'heroku.dyno.memory.total', 405, T0 + 300)], T0 + 700);
    expect(collect(stage, T0 + 1000)).toEqual([expect.objectContaining({ value: 410, timeUnixMicros: us(T0 + 600) })]);
    expect(stage.stats.supersededSamples).toBe(1);
  });
});

describe('MetricsStage: running totals (total)', () => {
  it('send the latest value at the export time when a sample came, cumulative from the first sample; a decrease starts the series anew', () => {
    const { stage } = newStage();
    feed(stage, point('total', 'heroku.dyno.memory.pgpgin', 348_836, T0 + 100));
    const [first] = collect(stage, T0 + 1000);
    expect(first).toMatchObject({ type: 'total', value: 348_836, temporality: 'cumulative', monotonic: true, startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 1000) });

    feed(stage, point('total', 'heroku.dyno.memory.pgpgin', 349_000, T0 + 1200));
    expect(collect(stage, T0 + 2000)).toEqual([expect.objectContaining({ value: 349_000, startTimeUnixMicros: us(T0 + 100), timeUnixMicros: us(T0 + 2000) })]);

    // No new sample: nothing to say.
    expect(collect(stage, T0 + 3000)).toEqual([]);

    // The dyno restarted: its count went down. A new start at that sample, not a drop in the old series.
    feed(stage, point('total', 'heroku.dyno.memory.pgpgin', 1_200, T0 + 3500));
    const [restarted] = collect(stage, T0 + 4000);
    expect(restarted).toMatchObject({ value: 1_200, startTimeUnixMicros: us(T0 + 3500), timeUnixMicros: us(T0 + 4000) });
    expect(restarted!.series).toBe(first!.series);
  });
});

describe('MetricsStage: max_streams', () => {
  it('puts the points of series past the cap into one overflow series per metric, counted and logged once', async () => {
    const { stage, logged } = newStage({ maxStreams: 2 });
    const route = (r: string) => ({ 'http.route': r });
    feed(stage, point('sum', 'requests', 1, T0 + 10, route('/a')));
    feed(stage, point('sum', 'requests', 1, T0 + 20, route('/b')));
    // Past the cap: three new series of `requests`, two of `errors`.
    feed(stage, point('sum', 'requests', 2, T0 + 30, route('/c')));
    feed(stage, point('sum', 'requests', 3, T0 + 40, route('/d')));
    feed(stage, point('sum', 'requests', 4, T0 + 50, route('/c')));
    feed(stage, point('sum', 'errors', 7, T0 + 60, route('/e')));
    // A series that got in keeps taking points.
    feed(stage, point('sum', 'requests', 10, T0 + 70, route('/a')));

    const out = collect(stage, T0 + 1000);
    const byKey = new Map(out.map((p) => [`${p.name} ${JSON.stringify(p.attributes)}`, p.value]));
    expect(Object.fromEntries(byKey)).toEqual({
      'requests {"http.route":"/a"}': 11,
      'requests {"http.route":"/b"}': 1,
      'requests {"otel.metric.overflow":true}': 9,
      'errors {"otel.metric.overflow":true}': 7,
    });
    expect(stage.stats.overflowPoints).toBe(4);

    const warnings = () => logged.filter((l) => l.level === 'warn' && l.message.includes('max_streams'));
    // One line at once; the rest counted (RateLimitedLog), not one line per point.
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.message).toContain('otel.metric.overflow');
    expect(warnings()[0]!.fields).toMatchObject({ processor: 'service.pipelines.metrics' });
    // At shutdown the last report not written goes out, with the count of the others: 1 + 1 + 2 = 4.
    await stage.shutdown();
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]!.message).toMatch(/\(2 more in the last \d+s\)$/);
  });
});

describe('MetricsStage: max_stale', () => {
  it('forgets a series idle for max_stale; a later point starts it again from zero with a new start time', () => {
    const { stage } = newStage({ maxStaleMs: 5000 });
    feed(stage, point('sum', 'jobs.processed', 3, T0 + 100));
    feed(stage, point('sum', 'jobs.other', 1, T0 + 100));
    const [first] = collect(stage, T0 + 1000).filter((p) => p.name === 'jobs.processed');
    expect(first).toMatchObject({ value: 3, startTimeUnixMicros: us(T0 + 100) });
    // jobs.other stays alive; jobs.processed gets nothing more.
    feed(stage, point('sum', 'jobs.other', 1, T0 + 4000));
    // Idle for exactly max_stale at this export: sent a last time, then forgotten.
    expect(collect(stage, T0 + 5100).map((p) => p.name).sort()).toEqual(['jobs.other', 'jobs.processed']);
    expect(stage.stats).toMatchObject({ forgotten: 1, series: 1 });
    // Gone from the next export.
    expect(collect(stage, T0 + 6000).map((p) => p.name)).toEqual(['jobs.other']);

    feed(stage, point('sum', 'jobs.processed', 2, T0 + 7000));
    const [again] = collect(stage, T0 + 8000).filter((p) => p.name === 'jobs.processed');
    expect(again).toMatchObject({ value: 2, startTimeUnixMicros: us(T0 + 7000), timeUnixMicros: us(T0 + 8000) });
    expect(again!.series).not.toBe(first!.series);
  });

  it('keeps a series that gets a point within every max_stale', () => {
    const { stage } = newStage({ maxStaleMs: 2000 });
    for (let i = 0; i < 5; i++) {
      feed(stage, point('sum', 'jobs.processed', 1, T0 + i * 1500));
      collect(stage, T0 + i * 1500 + 1000);
    }
    const [last] = collect(stage, T0 + 7000);
    expect(last).toMatchObject({ value: 5, startTimeUnixMicros: us(T0) });
    expect(stage.stats.forgotten).toBe(0);
  });
});

describe('MetricsStage: values that are not finite', () => {
  it('are counted, logged and left out', () => {
    const { stage, logged } = newStage();
    stage.absorb(
      RESOURCE,
      RKEY,
      [point('sum', 'a', Number.NaN, T0), point('gauge', 'b', Number.POSITIVE_INFINITY, T0), point('histogram', 'c', Number.NEGATIVE_INFINITY, T0), point('sum', 'a', 1, T0), point('gauge', 'b', 2, T0)],
      T0,
    );
    expect(stage.stats).toMatchObject({ notFinite: 3, absorbed: 2, series: 2 });
    const out = collect(stage, T0 + 1000);
    expect(out.map((p) => [p.name, p.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(logged.filter((l) => l.level === 'warn' && l.message.includes('no finite value'))).toHaveLength(1);
  });
});

describe('MetricsStage: series identity', () => {
  const seriesCount = (points: Array<[Attributes, string]>) => {
    const { stage } = newStage();
    for (const [attributes, key] of points) stage.absorb(RESOURCE, key, [point('sum', 'orders.created', 1, T0, attributes)], T0);
    return { stage, out: collect(stage, T0 + 1000) };
  };

  it('separates the same metric of two resources (drains)', () => {
    const { stage, out } = seriesCount([
      [{}, 'drain-a'],
      [{}, 'drain-b'],
      [{}, 'drain-a'],
    ]);
    expect(stage.stats.series).toBe(2);
    expect(out.map((p) => p.value).sort()).toEqual([1, 2]);
    expect(stage.collect(T0 + 2000).size).toBe(2);
  });

  it('separates attributes whose texts run together', () => {
    const { out } = seriesCount([
      [{ a: 'x\u0005b\u0001y' }, RKEY],
      [{ a: 'x', b: 'y' }, RKEY],
      [{ a: 'x\u0000b' }, RKEY],
      [{ 'a\u0000b': 'x' }, RKEY],
    ]);
    expect(out).toHaveLength(4);
    expect(out.map((p) => p.attributes)).toEqual([{ a: 'x\u0005b\u0001y' }, { a: 'x', b: 'y' }, { a: 'x\u0000b' }, { 'a\u0000b': 'x' }]);
  });

  it("separates a string '1' from a number 1, and true from 'true'", () => {
    const { out } = seriesCount([
      [{ n: '1' }, RKEY],
      [{ n: 1 }, RKEY],
      [{ n: true }, RKEY],
      [{ n: 'true' }, RKEY],
      [{ n: 1 }, RKEY],
    ]);
    expect(out.map((p) => [p.attributes.n, p.value])).toEqual([
      ['1', 1],
      [1, 2],
      [true, 1],
      ['true', 1],
    ]);
  });

  it('separates histograms of other bucket bounds', () => {
    const { stage } = newStage();
    stage.absorb(RESOURCE, RKEY, [point('histogram', 'h', 0.5, T0), { ...point('histogram', 'h', 0.5, T0), bounds: [1, 2] }], T0);
    const out = collect(stage, T0 + 1000);
    expect(out.map((p) => p.merged!.bucketCounts)).toEqual([
      [0, 1, 0, 0],
      [1, 0, 0],
    ]);
  });
});

describe('MetricsStage: output resource', () => {
  it("adds service.instance.id to a copy of the drain's resource, leaving the input as it was", async () => {
    const { stage, sent } = newStage({ instanceId: 'web.2-deadbeef' });
    const input = Object.freeze({ 'service.name': 'shop-web', 'heroku.app.name': 'shop' });
    stage.absorb(input, 'drain-shop', [point('sum', 'orders.created', 1, T0)], T0);
    const [entry] = [...stage.collect(T0 + 1000)];
    const [out, points] = entry!;
    expect(out.resource).toEqual({ 'service.name': 'shop-web', 'heroku.app.name': 'shop', 'service.instance.id': 'web.2-deadbeef' });
    expect(out.resource).not.toBe(input);
    expect(input).toEqual({ 'service.name': 'shop-web', 'heroku.app.name': 'shop' });
    expect(points).toHaveLength(1);

    // flush() hands the rest of the pipeline one call per resource, keyed by drain and instance.
    stage.absorb(input, 'drain-shop', [point('sum', 'orders.created', 1, T0 + 1500)], T0 + 1500);
    await stage.flush(T0 + 2000);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.resource['service.instance.id']).toBe('web.2-deadbeef');
    expect(sent[0]!.key).toBe('drain-shop\u0000web.2-deadbeef');
    expect(sent[0]!.points).toEqual([expect.objectContaining({ value: 2, timeUnixMicros: us(T0 + 2000) })]);
  });

  it('keeps an instance id on its own resource when a drain sets service.instance.id', () => {
    const { stage } = newStage({ instanceId: 'web.1-0a1b2c3d' });
    stage.absorb({ 'service.name': 'x', 'service.instance.id': 'from-drain' }, 'k', [point('sum', 'a', 1, T0)], T0);
    const [out] = [...stage.collect(T0 + 1000).keys()];
    // Two instances aggregating one drain must not write one series: the instance's id wins.
    expect(out!.resource['service.instance.id']).toBe('web.1-0a1b2c3d');
  });
});

describe('defaultInstanceId', () => {
  it('is $DYNO and a random part drawn once per process', () => {
    const a = defaultInstanceId({ DYNO: 'web.1' });
    expect(a).toMatch(/^web\.1-[0-9a-f]{8}$/);
    expect(defaultInstanceId({ DYNO: 'web.1' })).toBe(a);
    // The random part belongs to the process, not the dyno name.
    expect(defaultInstanceId({ DYNO: ' worker.2 ' })).toBe(`worker.2-${a.slice('web.1-'.length)}`);
  });

  it('is the host name without $DYNO', () => {
    expect(defaultInstanceId({})).toMatch(new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{8}$`));
    expect(defaultInstanceId({ DYNO: '  ' })).toBe(defaultInstanceId({}));
  });
});

describe('stageSettings', () => {
  const parsed = (raw?: unknown) => intervalConfigSchema.parse(raw);

  it('takes OTEL_METRIC_EXPORT_INTERVAL (milliseconds) when the config sets no interval', () => {
    expect(stageSettings(parsed(undefined), { OTEL_METRIC_EXPORT_INTERVAL: '15000' }).intervalMs).toBe(15_000);
    expect(stageSettings(parsed({}), { OTEL_METRIC_EXPORT_INTERVAL: ' 250 ' }).intervalMs).toBe(250);
  });

  it('ignores an invalid OTEL_METRIC_EXPORT_INTERVAL and falls back to 60 s', () => {
    for (const raw of ['', '  ', 'abc', '0', '-5', '15s', 'Infinity', 'NaN']) {
      expect(stageSettings(parsed({}), { OTEL_METRIC_EXPORT_INTERVAL: raw }).intervalMs, `OTEL_METRIC_EXPORT_INTERVAL=${JSON.stringify(raw)}`).toBe(60_000);
    }
    expect(stageSettings(parsed({}), {}).intervalMs).toBe(60_000);
  });

  it("lets the config's interval win over the variable", () => {
    expect(stageSettings(parsed({ interval: '300ms' }), { OTEL_METRIC_EXPORT_INTERVAL: '15000' }).intervalMs).toBe(300);
    expect(stageSettings(parsed({ interval: '2s' }), {}).intervalMs).toBe(2000);
  });

  it('has the documented defaults and takes a fixed instance_id as given', () => {
    const s = stageSettings(parsed({}), { DYNO: 'web.3' });
    expect(s).toMatchObject({ maxStreams: 10_000, maxStaleMs: 300_000 });
    expect(s.instanceId).toMatch(/^web\.3-[0-9a-f]{8}$/);
    expect(stageSettings(parsed({ instance_id: 'edge-7', max_streams: 5, max_stale: '10s' }), { DYNO: 'web.3' })).toMatchObject({ instanceId: 'edge-7', maxStreams: 5, maxStaleMs: 10_000 });
  });
});

describe('MetricsStage: series identity', () => {
  it('keeps routes that differ in one character, a status as number or text, and an array value apart, each with its own count', () => {
    const { stage } = newStage({ maxStreams: 10_000 });
    // Paths of one length that differ only in their inner characters: many share a lookup hash.
    const routes = Array.from({ length: 2_000 }, (_, i) => `/r/${String(i).padStart(4, '0')}x`);
    routes.forEach((route, i) => {
      for (let n = 0; n <= i % 3; n++) feed(stage, point('sum', 'hits', 1, T0 + 10, { 'url.template': route }));
    });
    feed(stage, point('sum', 'hits', 1, T0 + 10, { 'http.response.status_code': 200 }));
    feed(stage, point('sum', 'hits', 1, T0 + 10, { 'http.response.status_code': '200' }));
    feed(stage, point('sum', 'hits', 1, T0 + 10, { 'heroku.router.fwd': ['10.0.0.1'] }));
    feed(stage, point('sum', 'hits', 1, T0 + 10, { 'heroku.router.fwd': ['10.0.0.1'] }));
    feed(stage, point('sum', 'hits', 1, T0 + 10, { 'heroku.router.fwd': ['10.0.0.2'] }));
    const points = collect(stage, T0 + 1000);
    expect(points).toHaveLength(routes.length + 4);
    const byRoute = new Map(points.filter((p) => 'url.template' in p.attributes).map((p) => [p.attributes['url.template'], p.value]));
    routes.forEach((route, i) => expect(byRoute.get(route)).toBe((i % 3) + 1));
    const status = points.filter((p) => 'http.response.status_code' in p.attributes);
    expect(status.map((p) => [p.attributes['http.response.status_code'], p.value])).toEqual([
      [200, 1],
      ['200', 1],
    ]);
    const fwd = points.filter((p) => 'heroku.router.fwd' in p.attributes);
    expect(fwd.map((p) => [p.attributes['heroku.router.fwd'], p.value])).toEqual([
      [['10.0.0.1'], 2],
      [['10.0.0.2'], 1],
    ]);
  });

  it('a series found again after another with the same lookup hash was forgotten (max_stale)', () => {
    const { stage } = newStage({ maxStaleMs: 5_000, maxStreams: 10_000 });
    const routes = Array.from({ length: 500 }, (_, i) => `/r/${String(i).padStart(4, '0')}x`);
    for (const route of routes) feed(stage, point('sum', 'hits', 1, T0 + 10, { 'url.template': route }));
    collect(stage, T0 + 1000);
    // Half of them again, later (every other ten: neighbours that share a lookup hash), the other half goes stale at the next export.
    const kept = (i: number) => Math.floor(i / 10) % 2 === 0;
    for (const route of routes.filter((_, i) => kept(i))) feed(stage, point('sum', 'hits', 1, T0 + 4_000, { 'url.template': route }));
    collect(stage, T0 + 6_000);
    for (const route of routes) feed(stage, point('sum', 'hits', 1, T0 + 7_000, { 'url.template': route }));
    const points = collect(stage, T0 + 8_000);
    const byRoute = new Map(points.map((p) => [p.attributes['url.template'], p.value]));
    expect(byRoute.size).toBe(routes.length);
    // Kept series count on (1 + 1 + 1); forgotten ones started again (1).
    routes.forEach((route, i) => expect(byRoute.get(route)).toBe(kept(i) ? 3 : 1));
  });

  it('sends the same points without their series when no processor after it asks for them (seriesIdentity: false)', () => {
    const stages = [newStage().stage, new MetricsStage('service.pipelines.metrics', { intervalMs: 1000, maxStreams: 100, maxStaleMs: 3_600_000, instanceId: 'web.1-0a1b2c3d' }, () => {}, () => {}, { seriesIdentity: false })];
    const exports = stages.map((stage) => {
      for (const type of ['sum', 'histogram', 'gauge', 'total'] as const) {
        feed(stage, point(type, `m.${type}`, 2, T0 + 100, { 'http.route': '/a' }));
        feed(stage, point(type, `m.${type}`, 3, T0 + 200, { 'http.route': '/a' }));
      }
      return collect(stage, T0 + 1000);
    });
    expect(exports[0]).toHaveLength(4);
    expect(exports[0]!.every((p) => p.series !== undefined)).toBe(true);
    expect(exports[1]!.every((p) => !('series' in p))).toBe(true);
    expect(exports[1]).toStrictEqual(exports[0]!.map(({ series: _series, ...rest }) => rest));
  });

  it('keeps an attribute named __proto__ as an attribute of its series', () => {
    const { stage } = newStage();
    const attributes = JSON.parse('{"__proto__":"x","route":"/a"}') as Attributes;
    feed(stage, point('sum', 'hits', 1, T0 + 100, attributes));
    feed(stage, point('sum', 'hits', 2, T0 + 200, JSON.parse('{"__proto__":"x","route":"/a"}') as Attributes));
    const points = collect(stage, T0 + 1000);
    expect(points).toHaveLength(1);
    expect(points[0]!.value).toBe(3);
    expect(Object.entries(points[0]!.attributes)).toEqual([
      ['__proto__', 'x'],
      ['route', '/a'],
    ]);
  });

  it('keeps no line alive through the series it made (a long line per new series)', async () => {
    // In a process of its own that can collect garbage when asked: 300 points whose host and
    // metric name are cut from lines of 100 KB, each a new series; then the heap after a full GC.
    const stagePath = new URL('../../src/processors/interval/stage.ts', import.meta.url).pathname;
    const kept = await heapKeptBy(
      `
      const { MetricsStage } = await import(${JSON.stringify(stagePath)});
      const stage = new MetricsStage('t', { intervalMs: 1000, maxStreams: 1e6, maxStaleMs: 1e9, instanceId: 'i' }, () => {}, () => {});`,
      `
      for (let i = 0; i < 300; i++) {
        const line = 'count#orders.created.total host=www.example-' + i + '.org ' + 'x'.repeat(100000);
        const host = line.slice(32, line.indexOf(' ', 32));
        stage.absorb({ 'service.name': 'a' }, 'a', [{ name: line.slice(6, 26), unit: '1', type: 'sum', value: 1, timeUnixMicros: 1.7e15, attributes: { 'server.address': host, list: [host] }, bounds: undefined }], 1.7e12);
      }`,
    );
    // 30 MB of lines went through; a series holding its first line would keep about that much.
    expect(kept).toBeLessThan(3_000_000);
  });
});
