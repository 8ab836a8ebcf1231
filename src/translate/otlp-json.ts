/**
 * OTLP/JSON encoding (the protobuf JSON mapping OTLP specifies: lowerCamelCase fields, 64-bit
 * integers as decimal strings, trace and span ids as hex) of our log records and metric points,
 * as `ExportLogsServiceRequest` and `ExportMetricsServiceRequest` objects.
 */
import { microsToNanoString } from '../heroku/time.ts';
import type { AttributeValue, Attributes, LogRecordData, MetricPointData } from './telemetry.ts';

export interface InstrumentationScope {
  name: string;
  version: string;
}

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export function anyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') {
    // int64 only where it is exact; JSON has no Infinity or NaN (an app's `1e999` parses to one).
    if (Number.isSafeInteger(v)) return { intValue: String(v) };
    return Number.isFinite(v) ? { doubleValue: v } : { stringValue: String(v) };
  }
  if (typeof v === 'boolean') return { boolValue: v };
  return { arrayValue: { values: v.map((s) => ({ stringValue: s })) } };
}

export function keyValues(attributes: Attributes): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in attributes) out.push({ key, value: anyValue(attributes[key]!) });
  return out;
}

function logRecord(r: LogRecordData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.timeUnixMicros !== 0) out.timeUnixNano = microsToNanoString(r.timeUnixMicros);
  out.observedTimeUnixNano = microsToNanoString(r.observedUnixMicros);
  if (r.severityNumber !== 0) out.severityNumber = r.severityNumber;
  if (r.severityText !== '') out.severityText = r.severityText;
  out.body = { stringValue: r.body };
  out.attributes = keyValues(r.attributes);
  if (r.eventName !== '') out.eventName = r.eventName;
  if (r.traceId !== undefined && r.spanId !== undefined) {
    out.traceId = r.traceId;
    out.spanId = r.spanId;
    out.flags = r.traceFlags;
  }
  return out;
}

export function logsRequest(resource: Attributes, scope: InstrumentationScope, records: readonly LogRecordData[]): object {
  return {
    resourceLogs: [
      {
        resource: { attributes: keyValues(resource) },
        scopeLogs: [{ scope, logRecords: records.map(logRecord) }],
      },
    ],
  };
}

/** Index of the bucket a value falls in: bucket i holds (bounds[i-1], bounds[i]]. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  return i;
}

function dataPoint(p: MetricPointData): Record<string, unknown> {
  const time = microsToNanoString(p.timeUnixMicros);
  const attributes = keyValues(p.attributes);
  if (p.type === 'gauge') return { attributes, timeUnixNano: time, asDouble: p.value };
  if (p.type === 'sum') return { attributes, startTimeUnixNano: time, timeUnixNano: time, asDouble: p.value };
  const bounds = p.bounds ?? [];
  const m = p.merged;
  if (m !== undefined) {
    return {
      attributes,
      startTimeUnixNano: microsToNanoString(m.startTimeUnixMicros),
      timeUnixNano: time,
      count: String(m.count),
      ...(m.min >= 0 ? { sum: m.sum } : {}),
      min: m.min,
      max: m.max,
      bucketCounts: m.bucketCounts.map(String),
      explicitBounds: bounds,
    };
  }
  const counts = new Array<string>(bounds.length + 1).fill('0');
  counts[bucketIndex(bounds, p.value)] = '1';
  return {
    attributes,
    startTimeUnixNano: time,
    timeUnixNano: time,
    count: '1',
    // The specification leaves sum out of histograms that record negative values.
    ...(p.value >= 0 ? { sum: p.value } : {}),
    min: p.value,
    max: p.value,
    bucketCounts: counts,
    explicitBounds: bounds,
  };
}

/** Delta temporality: each point is one line's own observation. */
const AGGREGATION_TEMPORALITY_DELTA = 1;

export function metricsRequest(resource: Attributes, scope: InstrumentationScope, points: readonly MetricPointData[]): object {
  // One Metric per name, type and unit, its points in input order.
  const metrics = new Map<string, { name: string; unit: string; type: MetricPointData['type']; dataPoints: object[] }>();
  for (const p of points) {
    const key = `${p.name}\u0000${p.type}\u0000${p.unit}`;
    let m = metrics.get(key);
    if (m === undefined) {
      m = { name: p.name, unit: p.unit, type: p.type, dataPoints: [] };
      metrics.set(key, m);
    }
    m.dataPoints.push(dataPoint(p));
  }
  const encoded = [...metrics.values()].map((m) => {
    const base = { name: m.name, unit: m.unit };
    if (m.type === 'gauge') return { ...base, gauge: { dataPoints: m.dataPoints } };
    if (m.type === 'sum') {
      // An l2met `count#x=-3` is the app's to send; a sum with a negative delta is not monotonic.
      const isMonotonic = m.dataPoints.every((d) => (d as { asDouble: number }).asDouble >= 0);
      return { ...base, sum: { dataPoints: m.dataPoints, aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA, isMonotonic } };
    }
    return { ...base, histogram: { dataPoints: m.dataPoints, aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA } };
  });
  return {
    resourceMetrics: [{ resource: { attributes: keyValues(resource) }, scopeMetrics: [{ scope, metrics: encoded }] }],
  };
}

/**
 * An output line stays under this many characters where it can (a single huge record cannot):
 * the Collector's otlpjsonfile receiver splits lines over 1 MiB by default, breaking their JSON.
 */
export const MAX_JSON_LINE_CHARS = 900_000;

function pushLines<T>(encode: (part: readonly T[]) => object, items: readonly T[], into: string[]): void {
  const line = JSON.stringify(encode(items));
  if (line.length <= MAX_JSON_LINE_CHARS || items.length === 1) {
    into.push(line + '\n');
    return;
  }
  const half = items.length >> 1;
  pushLines(encode, items.slice(0, half), into);
  pushLines(encode, items.slice(half), into);
}

/**
 * OTLP/JSON lines as the Collector's file exporter writes them: an ExportLogsServiceRequest line
 * (and an ExportMetricsServiceRequest line when there are points), halving a batch whose line
 * would pass MAX_JSON_LINE_CHARS.
 */
export function otlpJsonLines(
  resource: Attributes,
  scope: InstrumentationScope,
  logs: readonly LogRecordData[],
  metrics: readonly MetricPointData[],
): string[] {
  const lines: string[] = [];
  if (logs.length > 0) pushLines((part: readonly LogRecordData[]) => logsRequest(resource, scope, part), logs, lines);
  if (metrics.length > 0) pushLines((part: readonly MetricPointData[]) => metricsRequest(resource, scope, part), metrics, lines);
  return lines;
}
