/**
 * Merges histogram observations of the same metric, unit, bucket bounds and attributes into one
 * point per batch. Translation makes one observation per router line; sent as they are, each
 * becomes a full histogram data point (and a dozen Prometheus series samples) per request. Merged,
 * a batch of a thousand requests is a few dozen points: the same counts, sums and buckets, with the
 * time range they cover (start = earliest, time = latest), as a delta-temporality histogram.
 * Gauges and sums pass through in order.
 */
import type { AttributeValue, MetricPointData } from './telemetry.ts';
import { bucketIndex } from './otlp-json.ts';

/** The attributes as a key: every part length-prefixed, so no value can pass for two. */
export function attributeKey(attributes: Readonly<Record<string, AttributeValue>>): string {
  let key = '';
  for (const name in attributes) {
    const value = attributes[name]!;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    key += `${name.length}:${name}${typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : typeof value === 'boolean' ? 'b' : 'a'}${text.length}:${text}`;
  }
  return key;
}

/** Bucket bounds are shared constant arrays: numbered once, not joined per point. */
const boundsIds = new WeakMap<readonly number[], string>();

export function boundsId(bounds: readonly number[]): string {
  let id = boundsIds.get(bounds);
  if (id === undefined) {
    id = bounds.join(',');
    boundsIds.set(bounds, id);
  }
  return id;
}

export function mergeHistogramPoints(points: readonly MetricPointData[]): MetricPointData[] {
  const out: MetricPointData[] = [];
  const byKey = new Map<string, MetricPointData>();
  for (const p of points) {
    if (p.type !== 'histogram') {
      out.push(p);
      continue;
    }
    const bounds = p.bounds ?? [];
    const key = `${p.name}\u0000${p.unit}\u0000${boundsId(bounds)}\u0000${attributeKey(p.attributes)}`;
    const observed = observation(p, bounds);
    const into = byKey.get(key);
    if (into === undefined) {
      const point: MetricPointData = { ...p, merged: observed };
      byKey.set(key, point);
      out.push(point);
      continue;
    }
    const m = into.merged!;
    m.count += observed.count;
    m.sum += observed.sum;
    if (observed.min < m.min) m.min = observed.min;
    if (observed.max > m.max) m.max = observed.max;
    for (let i = 0; i < m.bucketCounts.length; i++) m.bucketCounts[i]! += observed.bucketCounts[i]!;
    if (observed.startTimeUnixMicros < m.startTimeUnixMicros) m.startTimeUnixMicros = observed.startTimeUnixMicros;
    if (p.timeUnixMicros > into.timeUnixMicros) into.timeUnixMicros = p.timeUnixMicros;
  }
  return out;
}

/** A point's observations as a (fresh) merged summary. */
function observation(p: MetricPointData, bounds: readonly number[]): MergedHistogram {
  if (p.merged !== undefined) return { ...p.merged, bucketCounts: p.merged.bucketCounts.slice() };
  const bucketCounts = new Array<number>(bounds.length + 1).fill(0);
  bucketCounts[bucketIndex(bounds, p.value)] = 1;
  return { startTimeUnixMicros: p.timeUnixMicros, count: 1, sum: p.value, min: p.value, max: p.value, bucketCounts };
}

type MergedHistogram = NonNullable<MetricPointData['merged']>;
