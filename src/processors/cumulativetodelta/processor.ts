/**
 * Turns the cumulative points of the aggregation stage into deltas: each series' change since
 * the previous export. Its state is the previous point per series, keyed by the stage's series
 * object (a WeakMap: a series the stage forgets is forgotten here too).
 */
import type { MetricPointData } from '../../translate/telemetry.ts';
import type { CumulativeToDeltaConfig } from './config.ts';

interface Previous {
  startMicros: number;
  timeMicros: number;
  value: number;
  count: number;
  sum: number;
  buckets: readonly number[] | undefined;
}

type Match = NonNullable<CumulativeToDeltaConfig['include']>;

function matcher(m: Match | undefined): ((p: MetricPointData, kind: 'sum' | 'histogram') => boolean) | undefined {
  if (m === undefined) return undefined;
  const names = m.match_type === 'strict' ? new Set(m.metrics) : undefined;
  const patterns = m.match_type === 'regexp' ? m.metrics.map((x) => new RegExp(x)) : [];
  const types = new Set(m.metric_types);
  return (p, kind) => {
    if (types.size > 0 && !types.has(kind)) return false;
    if (m.metrics.length === 0) return types.size > 0;
    return names !== undefined ? names.has(p.name) : patterns.some((r) => r.test(p.name));
  };
}

export class CumulativeToDelta {
  private readonly _previous = new WeakMap<object, Previous>();
  private readonly _include: ReturnType<typeof matcher>;
  private readonly _exclude: ReturnType<typeof matcher>;
  private readonly _initial: CumulativeToDeltaConfig['initial_value'];

  constructor(config: CumulativeToDeltaConfig) {
    this._include = matcher(config.include);
    this._exclude = matcher(config.exclude);
    this._initial = config.initial_value;
  }

  /** The points with the chosen cumulative ones as deltas; a series with no change since the previous export sends nothing. */
  transform(points: MetricPointData[]): MetricPointData[] {
    const out: MetricPointData[] = [];
    for (const p of points) {
      const kind = p.type === 'histogram' ? 'histogram' : p.type === 'sum' || p.type === 'total' ? 'sum' : undefined;
      const convert =
        kind !== undefined &&
        p.temporality === 'cumulative' &&
        p.series !== undefined &&
        (kind === 'histogram' || p.type === 'total' || p.monotonic !== false) &&
        (this._include === undefined || this._include(p, kind)) &&
        !(this._exclude?.(p, kind) ?? false);
      if (!convert) {
        out.push(p);
        continue;
      }
      const delta = this._delta(p);
      if (delta !== undefined) out.push(delta);
    }
    return out;
  }

  private _delta(p: MetricPointData): MetricPointData | undefined {
    const start = p.startTimeUnixMicros ?? p.timeUnixMicros;
    const m = p.merged;
    const previous = this._previous.get(p.series!);
    // Not after the previous point of the same series: nothing to say yet, and the previous
    // point stays the reference, so the next delta carries whatever changed.
    if (previous !== undefined && previous.startMicros === start && p.timeUnixMicros <= previous.timeMicros) return undefined;
    this._previous.set(p.series!, {
      startMicros: start,
      timeMicros: p.timeUnixMicros,
      value: p.value,
      count: m?.count ?? 0,
      sum: m?.sum ?? 0,
      buckets: m?.bucketCounts,
    });
    // The same series, not restarted since: the change since the previous point.
    if (previous !== undefined && previous.startMicros === start && p.timeUnixMicros > previous.timeMicros) {
      if (m === undefined) {
        if (p.value === previous.value) return undefined;
        return { ...p, value: p.value - previous.value, temporality: 'delta', startTimeUnixMicros: previous.timeMicros };
      }
      const count = m.count - previous.count;
      if (count <= 0) return undefined;
      const before = previous.buckets ?? [];
      return {
        ...p,
        temporality: 'delta',
        startTimeUnixMicros: previous.timeMicros,
        // What the window's smallest and largest were, a cumulative point cannot tell.
        merged: { startTimeUnixMicros: previous.timeMicros, count, sum: m.sum - previous.sum, min: Number.NaN, max: Number.NaN, bucketCounts: m.bucketCounts.map((c, i) => c - (before[i] ?? 0)) },
      };
    }
    // The first point of a series (or of its restart): all of it since its start, unless that
    // start is unknown. A running total's first sample counts since its source started, which
    // nobody saw (a dyno's pgpgin since boot): as a delta it would be one false spike. After a
    // restart of its source (a point of a known series with a new start) it counts from zero.
    const known = start < p.timeUnixMicros && (p.type !== 'total' || previous !== undefined);
    if (this._initial === 'drop' || (this._initial === 'auto' && !known)) return undefined;
    if (m === undefined ? p.value === 0 : m.count === 0) return undefined;
    return { ...p, temporality: 'delta' };
  }
}
