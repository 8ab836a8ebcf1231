/**
 * Our log records and metric points as the OpenTelemetry SDK's export types (ReadableLogRecord,
 * ResourceMetrics), for the SDK's OTLP exporters. Pure.
 */
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../../src/translate/telemetry.ts';
import { SCOPE } from '../../src/exporters/exporter.ts';

/** ValueType.DOUBLE of @opentelemetry/api: every point we make is a double. */
const VALUE_TYPE_DOUBLE = 1;

const resources = new WeakMap<Attributes, Resource>();

/** One SDK Resource per drain resource object. */
export function sdkResource(attributes: Attributes): Resource {
  let resource = resources.get(attributes);
  if (resource === undefined) {
    resource = resourceFromAttributes(attributes);
    resources.set(attributes, resource);
  }
  return resource;
}

export function microsToHrTime(micros: number): HrTime {
  const seconds = Math.floor(micros / 1_000_000);
  return [seconds, (micros - seconds * 1_000_000) * 1000];
}

export function toReadableLogRecords(resource: Attributes, records: readonly LogRecordData[]): ReadableLogRecord[] {
  const sdk = sdkResource(resource);
  return records.map((r) => ({
    hrTime: microsToHrTime(r.timeUnixMicros),
    hrTimeObserved: microsToHrTime(r.observedUnixMicros),
    spanContext: r.traceId !== undefined && r.spanId !== undefined ? { traceId: r.traceId, spanId: r.spanId, traceFlags: r.traceFlags } : undefined,
    severityText: r.severityText || undefined,
    severityNumber: r.severityNumber || undefined,
    body: r.body,
    eventName: r.eventName || undefined,
    resource: sdk,
    instrumentationScope: SCOPE,
    attributes: r.attributes,
    droppedAttributesCount: 0,
  }));
}

export function toResourceMetrics(resource: Attributes, points: readonly MetricPointData[]): ResourceMetrics {
  const metrics = new Map<string, MetricData>();
  for (const p of points) {
    const key = `${p.name}\u0000${p.type}\u0000${p.unit}\u0000${p.temporality ?? ''}`;
    let metric = metrics.get(key);
    const descriptor = { name: p.name, description: '', unit: p.unit, valueType: VALUE_TYPE_DOUBLE };
    const time = microsToHrTime(p.timeUnixMicros);
    // As the SDK reads it: a running total the source reports is a cumulative monotonic sum.
    const aggregationTemporality =
      (p.temporality ?? (p.type === 'total' ? 'cumulative' : 'delta')) === 'cumulative' ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA;
    if (metric === undefined) {
      if (p.type === 'gauge') metric = { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: [] };
      else if (p.type === 'sum' || p.type === 'total') metric = { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, dataPoints: [], isMonotonic: true };
      else metric = { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: [] };
      metrics.set(key, metric);
    }
    const start = microsToHrTime(p.startTimeUnixMicros ?? p.timeUnixMicros);
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const bounds = p.bounds ?? [];
      const counts = new Array<number>(bounds.length + 1).fill(0);
      let i = 0;
      while (i < bounds.length && p.value > bounds[i]!) i++;
      counts[i] = 1;
      metric.dataPoints.push({
        startTime: time,
        endTime: time,
        attributes: p.attributes,
        value: { buckets: { boundaries: bounds.slice(), counts }, count: 1, min: p.value, max: p.value, ...(p.value >= 0 ? { sum: p.value } : {}) },
      });
    } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
      // An l2met count may be negative: such a sum is not monotonic.
      if (p.type === 'sum' && (p.monotonic === false || (p.monotonic === undefined && p.value < 0))) (metric as { isMonotonic: boolean }).isMonotonic = false;
      metric.dataPoints.push({ startTime: metric.dataPointType === DataPointType.GAUGE ? time : start, endTime: time, attributes: p.attributes, value: p.value });
    }
  }
  return { resource: sdkResource(resource), scopeMetrics: [{ scope: SCOPE, metrics: [...metrics.values()] }] };
}

/**
 * Our spans as the SDK's ReadableSpan, for its trace serializer (otlp-transformer 0.205): API
 * SpanKind is OTLP's minus one, and this serializer writes no span flags.
 */
export function toReadableSpans(resource: Attributes, spans: readonly SpanData[]): unknown[] {
  const sdk = sdkResource(resource);
  return spans.map((s) => ({
    name: s.name,
    kind: s.kind - 1,
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: s.traceFlags, ...(s.traceState !== '' ? { traceState: { serialize: () => s.traceState } } : {}) }),
    parentSpanContext: s.parentSpanId !== undefined ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: s.traceFlags, isRemote: true } : undefined,
    startTime: microsToHrTime(s.startUnixMicros),
    endTime: microsToHrTime(s.endUnixMicros),
    status: { code: s.statusCode, ...(s.statusMessage !== '' ? { message: s.statusMessage } : {}) },
    attributes: s.attributes,
    links: [],
    events: [],
    duration: microsToHrTime(s.endUnixMicros - s.startUnixMicros),
    ended: true,
    resource: sdk,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  }));
}
