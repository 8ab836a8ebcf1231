/**
 * The OpenTelemetry data a Heroku line turns into, as plain objects: what the exporters and the
 * SDK bridge consume, and what `parse` encodes as OTLP/JSON. Times are microseconds since the
 * epoch (exact in a JS number, and Heroku's finest precision); 0 means "not known".
 */

export type AttributeValue = string | number | boolean | string[];
export type Attributes = Record<string, AttributeValue>;

export interface LogRecordData {
  /** When the line says it happened; 0 when the line had no usable timestamp. */
  timeUnixMicros: number;
  /** When we received it. */
  observedUnixMicros: number;
  /** OpenTelemetry SeverityNumber (1-24), 0 when unknown. */
  severityNumber: number;
  severityText: string;
  body: string;
  eventName: string;
  attributes: Attributes;
  /** Lower-case hex, or undefined. */
  traceId: string | undefined;
  spanId: string | undefined;
  traceFlags: number;
}

/**
 * `sum`: an increment one line observed (l2met `count#`, messages dropped). `total`: a running
 * total the source itself reports, monotonic since the source started (a dyno's `pgpgin`, Redis's
 * `evicted_keys`): the aggregation stage keeps its series and starts a new one when it goes down.
 */
export type MetricPointType = 'gauge' | 'sum' | 'total' | 'histogram';

/** How a sum or histogram point reads: since its series started, or since the previous point. */
export type Temporality = 'cumulative' | 'delta';

/**
 * One observation. Gauges carry the sampled value; sums a delta (l2met counts, dropped messages);
 * histograms a single measurement that the exporter aggregates with `bounds`.
 */
export interface MetricPointData {
  name: string;
  unit: string;
  type: MetricPointType;
  value: number;
  timeUnixMicros: number;
  attributes: Attributes;
  /** Explicit bucket bounds, for histograms. */
  bounds: readonly number[] | undefined;
  /**
   * Set on a histogram point that merges several observations (the aggregation stage); its
   * `value` is then unused and `timeUnixMicros` is the latest observation's.
   */
  merged?: MergedHistogram;
  /**
   * Set on sums and histograms the metrics aggregation stage emits: how `value` (or `merged`)
   * reads, since when, and whether a sum only grows. Unset: one observation, sent as a delta.
   */
  temporality?: Temporality;
  startTimeUnixMicros?: number;
  monotonic?: boolean;
  /** The aggregation stage's series it belongs to: the same object export after export (a stable identity for cumulativetodelta). */
  series?: object;
}

export interface MergedHistogram {
  /** The earliest observation's time. */
  startTimeUnixMicros: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** One count per bucket: bounds.length + 1 of them. */
  bucketCounts: number[];
}

/** OTLP's Span.SpanKind: a router line's request is a SERVER span. */
export const SPAN_KIND_SERVER = 2;
/** OTLP's Status.StatusCode. */
export const SPAN_STATUS_UNSET = 0;
export const SPAN_STATUS_OK = 1;
export const SPAN_STATUS_ERROR = 2;

/** One span: a router line's request (see src/translate/trace-context.ts for its ids). */
export interface SpanData {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  /** 16 lower-case hex digits, or undefined for a root span. */
  parentSpanId: string | undefined;
  /** W3C tracestate, '' when none. */
  traceState: string;
  /** W3C trace flags (bit 0: sampled). */
  traceFlags: number;
  name: string;
  /** OTLP SpanKind (SPAN_KIND_SERVER). */
  kind: number;
  startUnixMicros: number;
  endUnixMicros: number;
  attributes: Attributes;
  /** OTLP StatusCode: SPAN_STATUS_UNSET, _OK or _ERROR. */
  statusCode: number;
  /** Set with an error status only: what went wrong (an H-code's description). */
  statusMessage: string;
}

/**
 * Where translation appends its output: one log record per line, any number of metric points,
 * and a span per router line when `spans` is set (only receivers feeding a traces pipeline ask).
 */
export interface TelemetryBatch {
  logs: LogRecordData[];
  metrics: MetricPointData[];
  spans?: SpanData[];
}

export function newTelemetryBatch(withSpans = false): TelemetryBatch {
  return withSpans ? { logs: [], metrics: [], spans: [] } : { logs: [], metrics: [] };
}
