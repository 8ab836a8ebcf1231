/**
 * OTLP/JSON encoding (the protobuf JSON mapping OTLP specifies: lowerCamelCase fields, 64-bit
 * integers as decimal strings, trace and span ids as hex) of our log records, metric points and
 * spans, as `ExportLogsServiceRequest`, `ExportMetricsServiceRequest` and
 * `ExportTraceServiceRequest` objects.
 */
import { microsToNanoString } from '../heroku/time.ts';
import type { AttributeValue, Attributes, LogRecordData, MetricPointData, SpanData } from './telemetry.ts';

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

const AGGREGATION_TEMPORALITY_DELTA = 1;
const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;

/** OTLP's AggregationTemporality: an aggregated point says which; one observation is a delta, a running total cumulative. */
export function temporalityOf(p: MetricPointData): number {
  return (p.temporality ?? (p.type === 'total' ? 'cumulative' : 'delta')) === 'cumulative' ? AGGREGATION_TEMPORALITY_CUMULATIVE : AGGREGATION_TEMPORALITY_DELTA;
}

/** A point's start time: its series' (aggregated), its merged observations' earliest, or its own time. */
export function startOf(p: MetricPointData): number {
  return p.startTimeUnixMicros ?? p.merged?.startTimeUnixMicros ?? p.timeUnixMicros;
}

/**
 * Whether a sum's points only grow: a running total does; an aggregated sum says; an l2met
 * `count#x=-3` is the app's to send, and a sum with a negative delta is not monotonic.
 */
export function isMonotonic(points: readonly MetricPointData[]): boolean {
  for (const p of points) {
    if (p.type === 'total') continue;
    if (p.monotonic !== undefined ? !p.monotonic : p.value < 0) return false;
  }
  return true;
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
  if (p.type !== 'histogram') return { attributes, startTimeUnixNano: microsToNanoString(startOf(p)), timeUnixNano: time, asDouble: p.value };
  const bounds = p.bounds ?? [];
  const m = p.merged;
  if (m !== undefined) {
    return {
      attributes,
      startTimeUnixNano: microsToNanoString(startOf(p)),
      timeUnixNano: time,
      count: String(m.count),
      ...(m.min >= 0 || (Number.isNaN(m.min) && m.sum >= 0) ? { sum: m.sum } : {}),
      // A delta made from cumulative points knows no min or max (NaN).
      ...(Number.isNaN(m.min) ? {} : { min: m.min, max: m.max }),
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

export function metricsRequest(resource: Attributes, scope: InstrumentationScope, points: readonly MetricPointData[]): object {
  // One Metric per name, type, unit and temporality, its points in input order.
  const metrics = new Map<string, { name: string; unit: string; type: MetricPointData['type']; points: MetricPointData[] }>();
  for (const p of points) {
    const key = `${p.name}\u0000${p.type}\u0000${p.unit}\u0000${p.temporality ?? ''}`;
    let m = metrics.get(key);
    if (m === undefined) {
      m = { name: p.name, unit: p.unit, type: p.type, points: [] };
      metrics.set(key, m);
    }
    m.points.push(p);
  }
  const encoded = [...metrics.values()].map((m) => {
    const base = { name: m.name, unit: m.unit };
    const dataPoints = m.points.map(dataPoint);
    if (m.type === 'gauge') return { ...base, gauge: { dataPoints } };
    const aggregationTemporality = temporalityOf(m.points[0]!);
    if (m.type === 'histogram') return { ...base, histogram: { dataPoints, aggregationTemporality } };
    return { ...base, sum: { dataPoints, aggregationTemporality, isMonotonic: isMonotonic(m.points) } };
  });
  return {
    resourceMetrics: [{ resource: { attributes: keyValues(resource) }, scopeMetrics: [{ scope, metrics: encoded }] }],
  };
}

/** A Span, its fields at their default left out as our protobuf encoder leaves them out. */
function span(s: SpanData): Record<string, unknown> {
  const out: Record<string, unknown> = { traceId: s.traceId, spanId: s.spanId };
  if (s.traceState !== '') out.traceState = s.traceState;
  if (s.parentSpanId !== undefined) out.parentSpanId = s.parentSpanId;
  if (s.traceFlags !== 0) out.flags = s.traceFlags;
  out.name = s.name;
  out.kind = s.kind;
  out.startTimeUnixNano = microsToNanoString(s.startUnixMicros);
  out.endTimeUnixNano = microsToNanoString(s.endUnixMicros);
  out.attributes = keyValues(s.attributes);
  if (s.statusCode !== 0 || s.statusMessage !== '') {
    const status: Record<string, unknown> = {};
    if (s.statusMessage !== '') status.message = s.statusMessage;
    if (s.statusCode !== 0) status.code = s.statusCode;
    out.status = status;
  }
  return out;
}

export function tracesRequest(resource: Attributes, scope: InstrumentationScope, spans: readonly SpanData[]): object {
  return {
    resourceSpans: [{ resource: { attributes: keyValues(resource) }, scopeSpans: [{ scope, spans: spans.map(span) }] }],
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
 * when there are records, an ExportMetricsServiceRequest line when there are points, an
 * ExportTraceServiceRequest line (`resourceSpans`) when there are spans, halving a batch whose
 * line would pass MAX_JSON_LINE_CHARS.
 */
export function otlpJsonLines(
  resource: Attributes,
  scope: InstrumentationScope,
  logs: readonly LogRecordData[],
  metrics: readonly MetricPointData[],
  spans: readonly SpanData[] = [],
): string[] {
  const lines: string[] = [];
  if (logs.length > 0) pushLines((part: readonly LogRecordData[]) => logsRequest(resource, scope, part), logs, lines);
  if (metrics.length > 0) pushLines((part: readonly MetricPointData[]) => metricsRequest(resource, scope, part), metrics, lines);
  if (spans.length > 0) pushLines((part: readonly SpanData[]) => tracesRequest(resource, scope, part), spans, lines);
  return lines;
}
