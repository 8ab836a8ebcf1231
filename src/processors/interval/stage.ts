/**
 * The metrics aggregation stage of one pipeline. Translation makes one point per observation (a
 * router line's duration, an l2met count, a runtime sample); sent as they come, a busy app makes
 * thousands of points a second, and backends of the Prometheus family refuse them (delta sums
 * and histograms are rejected by its OTLP translator). Here they accumulate per series (metric,
 * unit, attributes, drain) and go out once per interval:
 *
 * - `sum` (increments) and `histogram` as cumulative series: a start time fixed when the series
 *   began, a value that only adds, sent every interval while the series lives (what the SDK does;
 *   a sent point that a full queue refused is not lost: the next one carries it);
 * - `total` (a running total the source reports) as cumulative too, sent when a new sample came,
 *   at the export's time; when it goes down the source restarted, and so does the series,
 *   with a new start time rather than a drop inside the old one;
 * - `gauge`: the latest sample of the interval, with its own time, once it is newer than the one
 *   sent before (a backend refuses a series going back in time). A sample that missed the
 *   previous export by less than an interval (written just before it, delivered just after) goes
 *   out at that export's time: the Prometheus translator stamps `target_info` over each request's
 *   earliest to latest point, so a request reaching back before the previous one's latest makes
 *   an out-of-order `target_info` sample, which Mimir refuses when out-of-order ingestion is off.
 *   Older samples (a capture, a backlog) keep their own time.
 *
 * Memory is bounded: at most `max_streams` series (past it, new series' points add up in one
 * overflow series per metric, `otel.metric.overflow: true`, as the SDK's cardinality limit does),
 * and a series with no point for `max_stale` is forgotten. The resource of what it sends carries
 * this instance's `service.instance.id`: two instances aggregating the same drain write two
 * series, never one with two writers.
 */
import type { Logger } from '../../service/log.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import { attributeKey, boundsId } from '../../translate/histograms.ts';
import { bucketIndex } from '../../translate/otlp-json.ts';
import type { AttributeValue, Attributes, MetricPointData, MetricPointType } from '../../translate/telemetry.ts';
import { ownString } from '../../own-string.ts';

export interface StageSettings {
  intervalMs: number;
  maxStreams: number;
  maxStaleMs: number;
  instanceId: string;
}

/** Where aggregated points go, one call per resource: the rest of the pipeline. */
export type StageOutput = (resource: Attributes, resourceKey: string, points: MetricPointData[]) => void | Promise<void>;

/** What the stage holds and what it had to fold or skip, for the status page and self-telemetry. */
export interface StageStats {
  series: number;
  /** Points taken into series. */
  absorbed: number;
  /** Points left out because their value was not a finite number (no backend stores them). */
  notFinite: number;
  /** Points added to an overflow series because max_streams was reached. */
  overflowPoints: number;
  /** Gauge samples not sent: a later sample of the same series came in the same interval, or one sent before was newer. */
  supersededSamples: number;
  /** Series forgotten after max_stale without a point. */
  forgotten: number;
}

interface Series {
  type: MetricPointType;
  name: string;
  unit: string;
  attributes: Attributes;
  /**
   * Its attributes' names and values as its key was made of them (a copy: whatever later changes
   * the attributes object it sends does not move the series).
   */
  attributeNames: string[];
  attributeValues: Array<AttributeValue | ValueText>;
  bounds: readonly number[] | undefined;
  output: OutputResource;
  startMicros: number;
  /** Wall-clock ms of its last point: forgotten after max_stale. */
  seenMs: number;
  /** A point came since the last export. */
  fresh: boolean;
  /** sum: the total of increments; total and gauge: the latest sample. */
  value: number;
  /** Its time (total, gauge: the sample's; sum, histogram: the latest observation's). */
  timeMicros: number;
  /** gauge and total: the time of the sample sent last (nothing older goes out). */
  sentMicros: number;
  monotonic: boolean;
  /** histogram */
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: Float64Array | undefined;
  /** Its lookup hash (seriesHash) and the next series of the same hash. */
  hash: number;
  sameHash: Series | undefined;
}

interface OutputResource {
  resource: Attributes;
  key: string;
  series: number;
  /** Short, in its series' keys instead of the resource's key (its JSON, copied per point otherwise). */
  id: string;
}

const MICROS_PER_MS = 1000;

export class MetricsStage {
  readonly id: string;
  readonly settings: StageSettings;
  /** Every series, oldest first. */
  private readonly _series = new Set<Series>();
  /**
   * The same series by seriesHash, chained: a point finds its series without building a key
   * (a string per point, hashed, then garbage, or one held per series); sameSeries decides.
   */
  private readonly _byHash = new Map<number, Series>();
  private readonly _outputs = new Map<string, OutputResource>();
  private readonly _output: StageOutput;
  private readonly _limited: RateLimitedLog;
  private readonly _stats: StageStats = { series: 0, absorbed: 0, notFinite: 0, overflowPoints: 0, supersededSamples: 0, forgotten: 0 };
  private _timer: NodeJS.Timeout | undefined;
  private _flushing: Promise<void> | undefined;
  private _lastExportMicros = 0;
  private _outputsMade = 0;

  /**
   * Whether the points it sends carry their series (`series`, for the processors after it, such
   * as cumulativetodelta); default true. Without it they are made without, rather than carrying
   * it to the queue, which must not keep it (deleting it would turn every point into a slow
   * dictionary object for the encoder).
   */
  private readonly _seriesIdentity: boolean;

  constructor(id: string, settings: StageSettings, output: StageOutput, log: Logger, options: { seriesIdentity?: boolean } = {}) {
    this.id = id;
    this.settings = settings;
    this._output = output;
    this._limited = new RateLimitedLog(log);
    this._seriesIdentity = options.seriesIdentity ?? true;
  }

  get stats(): StageStats {
    this._stats.series = this._series.size;
    return this._stats;
  }

  /** Takes a batch's points into their series. Never refuses: memory is bounded by max_streams. */
  absorb(resource: Attributes, resourceKey: string, points: readonly MetricPointData[], nowMs = Date.now()): void {
    let out = this._outputs.get(resourceKey);
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (!Number.isFinite(p.value) && p.merged === undefined) {
        this._stats.notFinite++;
        this._limited.report('warn', 'not-finite', `${this.id}: a point of ${p.name} has no finite value (${p.value}); left out`, { processor: this.id, metric: p.name });
        continue;
      }
      this._stats.absorbed++;
      // No output yet for this resource: none of its series exist either.
      let series: Series | undefined;
      if (out !== undefined) {
        const hash = seriesHash(p);
        series = this._byHash.get(hash);
        while (series !== undefined && !sameSeries(series, out, p)) series = series.sameHash;
      }
      if (series === undefined) {
        series = this._open(resource, resourceKey, p, nowMs);
        out = series.output;
      }
      this._add(series, p, nowMs);
    }
  }

  private _open(resource: Attributes, resourceKey: string, p: MetricPointData, nowMs: number): Series {
    const output = this._outputOf(resource, resourceKey);
    let attributes: Attributes;
    if (this._series.size < this.settings.maxStreams) attributes = ownAttributes(p.attributes);
    else {
      // Full: the point counts in its metric's overflow series, not in a new one.
      this._stats.overflowPoints++;
      attributes = { 'otel.metric.overflow': true };
      const overflow = { ...p, attributes };
      this._limited.report('warn', 'overflow', `${this.id}: max_streams (${this.settings.maxStreams}) series reached: points of new series of ${p.name} add up in its overflow series (otel.metric.overflow=true)`, {
        processor: this.id,
        metric: p.name,
      });
      let existing = this._byHash.get(seriesHash(overflow));
      while (existing !== undefined && !sameSeries(existing, output, overflow)) existing = existing.sameHash;
      if (existing !== undefined) return existing;
    }
    const series: Series = {
      type: p.type,
      name: ownString(p.name),
      unit: ownString(p.unit),
      attributes,
      attributeNames: Object.keys(attributes),
      attributeValues: Object.values(attributes).map(keyValueOf),
      bounds: p.bounds,
      output,
      startMicros: Math.min(p.merged?.startTimeUnixMicros ?? p.timeUnixMicros, nowMs * MICROS_PER_MS),
      seenMs: nowMs,
      fresh: false,
      value: 0,
      timeMicros: 0,
      sentMicros: 0,
      monotonic: true,
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      buckets: p.type === 'histogram' ? new Float64Array((p.bounds?.length ?? 0) + 1) : undefined,
      hash: 0,
      sameHash: undefined,
    };
    if (p.type === 'total') series.value = Number.NEGATIVE_INFINITY;
    series.output.series++;
    this._series.add(series);
    // Found by its own name and attributes (the overflow series by otel.metric.overflow), as its key says.
    series.hash = seriesHash(series);
    series.sameHash = this._byHash.get(series.hash);
    this._byHash.set(series.hash, series);
    return series;
  }

  private _add(s: Series, p: MetricPointData, nowMs: number): void {
    s.seenMs = nowMs;
    s.fresh = true;
    const time = p.timeUnixMicros;
    switch (s.type) {
      case 'sum':
        // Past a double's range the running sum would read Infinity: the series starts anew.
        if (!Number.isFinite(s.value + p.value)) this._restart(s, Math.max(time, s.timeMicros));
        s.value += p.value;
        if (p.value < 0) s.monotonic = false;
        if (time > s.timeMicros) s.timeMicros = time;
        return;
      case 'total':
        if (time < s.timeMicros) {
          this._stats.supersededSamples++;
          return;
        }
        // Down: the source restarted its count. A new series start, not a drop inside the old one.
        if (p.value < s.value) s.startMicros = time;
        s.value = p.value;
        s.timeMicros = time;
        return;
      case 'gauge':
        if (time < s.timeMicros) {
          this._stats.supersededSamples++;
          return;
        }
        if (s.timeMicros > s.sentMicros) this._stats.supersededSamples++;
        s.value = p.value;
        s.timeMicros = time;
        return;
      case 'histogram': {
        const m = p.merged;
        const buckets = s.buckets!;
        if (m !== undefined && m.bucketCounts.length === buckets.length) {
          s.count += m.count;
          s.sum += m.sum;
          if (m.min < s.min) s.min = m.min;
          if (m.max > s.max) s.max = m.max;
          for (let i = 0; i < buckets.length; i++) buckets[i]! += m.bucketCounts[i]!;
        } else {
          if (!Number.isFinite(s.sum + p.value)) this._restart(s, Math.max(time, s.timeMicros));
          s.count++;
          s.sum += p.value;
          if (p.value < s.min) s.min = p.value;
          if (p.value > s.max) s.max = p.value;
          buckets[bucketIndex(s.bounds ?? [], p.value)]!++;
        }
        if (time > s.timeMicros) s.timeMicros = time;
      }
    }
  }

  /** A new series in place of one that cannot go on: a new start time, nothing counted yet. */
  private _restart(s: Series, timeMicros: number): void {
    s.startMicros = timeMicros;
    s.value = 0;
    s.count = 0;
    s.sum = 0;
    s.min = Infinity;
    s.max = -Infinity;
    s.buckets?.fill(0);
  }

  private _unhash(s: Series): void {
    let at = this._byHash.get(s.hash);
    if (at === s) {
      if (s.sameHash === undefined) this._byHash.delete(s.hash);
      else this._byHash.set(s.hash, s.sameHash);
      return;
    }
    while (at !== undefined && at.sameHash !== s) at = at.sameHash;
    if (at !== undefined) at.sameHash = s.sameHash;
  }

  private _outputOf(resource: Attributes, resourceKey: string): OutputResource {
    let out = this._outputs.get(resourceKey);
    if (out === undefined) {
      out = { resource: { ...resource, 'service.instance.id': this.settings.instanceId }, key: `${resourceKey}\u0000${this.settings.instanceId}`, series: 0, id: (this._outputsMade++).toString(36) };
      this._outputs.set(resourceKey, out);
    }
    return out;
  }

  /**
   * The points of one export: every live cumulative series, and the gauges and totals with a
   * new sample; series idle past max_stale are forgotten after.
   */
  collect(nowMs = Date.now()): Map<OutputResource, MetricPointData[]> {
    // Each export strictly after the one before, even two in one millisecond (a timer's and
    // the shutdown's) or after the clock stepped back: a series' points never share a time.
    const previousMicros = this._lastExportMicros;
    const nowMicros = Math.max(nowMs * MICROS_PER_MS, previousMicros + 1);
    this._lastExportMicros = nowMicros;
    // Samples written less than an interval before the previous export go out at its time (see the top).
    const lateSinceMicros = previousMicros - this.settings.intervalMs * MICROS_PER_MS;
    const byResource = new Map<OutputResource, MetricPointData[]>();
    for (const s of this._series) {
      const point = this._point(s, nowMicros, previousMicros, lateSinceMicros);
      s.fresh = false;
      if (point !== undefined) {
        let list = byResource.get(s.output);
        if (list === undefined) byResource.set(s.output, (list = []));
        list.push(point);
      }
      if (nowMs - s.seenMs >= this.settings.maxStaleMs) {
        this._series.delete(s);
        this._unhash(s);
        this._stats.forgotten++;
        if (--s.output.series === 0) {
          for (const [k, o] of this._outputs) if (o === s.output) this._outputs.delete(k);
        }
      }
    }
    return byResource;
  }

  private _point(s: Series, nowMicros: number, previousMicros: number, lateSinceMicros: number): MetricPointData | undefined {
    const base = this._seriesIdentity ? { name: s.name, unit: s.unit, attributes: s.attributes, bounds: s.bounds, series: s } : { name: s.name, unit: s.unit, attributes: s.attributes, bounds: s.bounds };
    switch (s.type) {
      case 'gauge':
      case 'total':
        if (!s.fresh || s.timeMicros <= s.sentMicros) return undefined;
        s.sentMicros = s.timeMicros;
        if (s.type === 'gauge') {
          const time = s.timeMicros < previousMicros && s.timeMicros >= lateSinceMicros ? previousMicros : s.timeMicros;
          return { ...base, type: 'gauge', value: s.value, timeUnixMicros: time };
        }
        // At the export's time, as the SDK stamps an observable counter: exports are an interval
        // apart, so two of them never share a second (Datadog keeps one delta per second).
        return { ...base, type: 'total', value: s.value, timeUnixMicros: Math.max(nowMicros, s.timeMicros), temporality: 'cumulative', startTimeUnixMicros: Math.min(s.startMicros, s.timeMicros), monotonic: true };
      case 'sum': {
        // After its start: a point with start = time reads as one of unknown start.
        const time = Math.max(nowMicros, s.startMicros + 1);
        return { ...base, type: 'sum', value: s.value, timeUnixMicros: time, temporality: 'cumulative', startTimeUnixMicros: s.startMicros, monotonic: s.monotonic };
      }
      case 'histogram': {
        const time = Math.max(nowMicros, s.startMicros + 1);
        return {
          ...base,
          type: 'histogram',
          value: 0,
          timeUnixMicros: time,
          temporality: 'cumulative',
          startTimeUnixMicros: s.startMicros,
          merged: { startTimeUnixMicros: s.startMicros, count: s.count, sum: s.sum, min: s.min, max: s.max, bucketCounts: Array.from(s.buckets!) },
        };
      }
    }
  }

  /** Sends one export's points through the rest of the pipeline. */
  flush(nowMs = Date.now()): Promise<void> {
    const run = async () => {
      const sends: Array<void | Promise<void>> = [];
      for (const [out, points] of this.collect(nowMs)) sends.push(this._output(out.resource, out.key, points));
      await Promise.all(sends);
    };
    // One export at a time: a slow write to a disk queue does not overlap the next.
    const previous = this._flushing ?? Promise.resolve();
    const next = previous.then(run, run);
    this._flushing = next;
    return next;
  }

  start(): void {
    if (this._timer !== undefined) return;
    this._timer = setInterval(() => void this.flush().catch((error: unknown) => this._limited.report('error', 'flush', `${this.id}: sending aggregated metrics failed: ${String(error)}`, { processor: this.id })), this.settings.intervalMs);
    this._timer.unref?.();
  }

  /** Stops the timer and sends what was aggregated since the last export. */
  async shutdown(): Promise<void> {
    clearInterval(this._timer);
    this._timer = undefined;
    await this.flush();
    this._limited.flush();
  }
}

/**
 * A cheap hash of what tells series apart within a resource (name, type, unit, attribute names
 * and values): lengths and a few characters, no string built. Collisions only cost a comparison.
 */
function seriesHash(p: { name: string; type: string; unit: string; attributes: Attributes }): number {
  let h = Math.imul(textHash(p.name), 31) ^ p.type.length ^ (p.unit.length << 4);
  for (const name in p.attributes) {
    const v = p.attributes[name]!;
    h = Math.imul(h ^ textHash(name), 0x01000193);
    h = Math.imul(h ^ (typeof v === 'string' ? textHash(v) : typeof v === 'number' ? (v | 0) ^ 0x5bd1e995 : typeof v === 'boolean' ? (v ? 3 : 5) : 7), 0x01000193);
  }
  return h | 0;
}

/** Length, then the characters at either end and in the middle. */
function textHash(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  return (n * 0x9e3779b1) ^ (s.charCodeAt(n - 1) << 8) ^ (s.charCodeAt(n >> 1) << 16) ^ (s.charCodeAt(n >> 2) << 24) ^ s.charCodeAt((3 * n) >> 2);
}

/**
 * Whether the point belongs to the series: the same output (drain resource), name, type, unit,
 * histogram bounds, and attributes (the same names in the same order, values of the same type
 * and text).
 */
function sameSeries(s: Series, out: OutputResource, p: MetricPointData): boolean {
  if (s.output !== out || s.name !== p.name || s.type !== p.type || s.unit !== p.unit) return false;
  if (s.type === 'histogram' && s.bounds !== p.bounds && boundsId(s.bounds ?? []) !== boundsId(p.bounds ?? [])) return false;
  // Same names in the same order, each value of the same type and text (attributeKey's parts).
  const names = s.attributeNames;
  const values = s.attributeValues;
  const b = p.attributes;
  let i = 0;
  for (const name in b) {
    if (names[i] !== name || !sameValue(values[i]!, b[name]!)) return false;
    i++;
  }
  return i === names.length;
}


/** A series' own copy of its first point's attributes: the same names in the same order, strings of their own. */
function ownAttributes(attributes: Attributes): Attributes {
  const own: Attributes = {};
  for (const name in attributes) {
    const v = attributes[name]!;
    const value = typeof v === 'string' ? ownString(v) : Array.isArray(v) ? v.map(ownString) : v;
    // An attribute named __proto__ (JSON.parse makes one) is a property like any other.
    if (name === '__proto__') Object.defineProperty(own, name, { value, enumerable: true, writable: true, configurable: true });
    else own[name] = value;
  }
  return own;
}

/** A value that is not a string, number or boolean, as its key's text: kept as the key was made. */
class ValueText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function keyValueOf(v: AttributeValue): AttributeValue | ValueText {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : new ValueText(attributeKey({ v }));
}

function sameValue(x: AttributeValue | ValueText, y: AttributeValue): boolean {
  if (typeof x === 'string' || typeof x === 'boolean') return x === y;
  if (typeof x === 'number') return typeof y === 'number' && (x === y || (x !== x && y !== y));
  return typeof y !== 'string' && typeof y !== 'number' && typeof y !== 'boolean' && (x as ValueText).text === attributeKey({ v: y });
}
