/** Merging per-request histogram observations into one point per metric and attribute set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeHistogramPoints } from '../src/translate/histograms.ts';
import type { MetricPointData } from '../src/translate/telemetry.ts';

const BOUNDS = [0.005, 0.01, 0.1, 1, 10];

function observation(value: number, time: number, attributes: Record<string, string | number> = { 'http.request.method': 'GET', 'http.response.status_code': 200 }): MetricPointData {
  return { name: 'http.server.request.duration', unit: 's', type: 'histogram', value, timeUnixMicros: time, attributes, bounds: BOUNDS };
}

describe('mergeHistogramPoints', () => {
  it('merges observations with the same metric and attributes: counts, sum, min, max, buckets, time range', () => {
    const rss: MetricPointData = { name: 'heroku.dyno.memory_rss', unit: 'By', type: 'gauge', value: 5, timeUnixMicros: 2, attributes: {}, bounds: undefined };
    const post = { 'http.request.method': 'POST', 'http.response.status_code': 200 };
    const merged = mergeHistogramPoints([observation(0.041, 30), rss, observation(0.2, 10), observation(12, 20), observation(0.003, 40, post)]);
    expect(merged).toHaveLength(3);
    expect(merged[1]).toBe(rss);
    expect(merged[0]!.timeUnixMicros).toBe(30);
    expect(merged[0]!.merged).toEqual({ startTimeUnixMicros: 10, count: 3, sum: 12.241, min: 0.041, max: 12, bucketCounts: [0, 0, 1, 1, 0, 1] });
    expect(merged[2]!.merged).toMatchObject({ count: 1, bucketCounts: [1, 0, 0, 0, 0, 0] });
    expect(merged[2]!.attributes).toEqual(post);
  });

  it('never merges different attributes whose texts run together', () => {
    const a = observation(1, 1, { a: 'x\u0005b\u0001y' } as never);
    const b = observation(1, 2, { a: 'x', b: 'y' } as never);
    const c = { ...observation(1, 3), attributes: { f: ['x\u0004y'] } };
    const d = { ...observation(1, 4), attributes: { f: ['x', 'y'] } };
    const e = observation(1, 5, { s: '1' } as never);
    const f = observation(1, 6, { s: 1 } as never);
    expect(mergeHistogramPoints([a, b, c, d, e, f])).toHaveLength(6);
  });

  it('keeps every observation: counts and bucket totals are preserved, and merging twice changes nothing', () => {
    const attrs = fc.record({ method: fc.constantFrom('GET', 'POST'), status: fc.constantFrom(200, 503) });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 1, max: 1e6 }), attrs), { maxLength: 60 }), (obs) => {
        const points = obs.map(([v, t, a]) => observation(v, t, a));
        const merged = mergeHistogramPoints(points);
        expect(merged.reduce((n, p) => n + p.merged!.count, 0)).toBe(points.length);
        const buckets = merged.reduce((n, p) => n + p.merged!.bucketCounts.reduce((a, b) => a + b, 0), 0);
        expect(buckets).toBe(points.length);
        expect(merged.length).toBe(new Set(obs.map(([, , a]) => `${a.method}/${a.status}`)).size);
        expect(mergeHistogramPoints(merged)).toEqual(merged);
      }),
    );
  });
});
