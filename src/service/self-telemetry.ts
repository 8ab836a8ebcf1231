/**
 * The sidecar's own counters as metric points, sent through the metrics pipelines like any drain's
 * (resource service.name=heroku-otel-drain). Counts go out as deltas since the last report, in
 * keeping with every sum we emit; the items a pipeline holds, a queue's size and a storage's bytes
 * as gauges. Exporters' queues report with the Collector's names (`otelcol_exporter_*`).
 */
import type { QueueCounters, Signal } from '../exporters/exporterhelper/queue.ts';
import * as A from '../semconv/attributes.ts';
import * as M from '../semconv/metrics.ts';
import type { Attributes, MetricPointData } from '../translate/telemetry.ts';
import type { Extension } from './component.ts';
import type { PipelineCounters } from './pipeline.ts';

/** What every receiver counts; each kind adds what it refuses, per request, line or connection. */
export interface ReceiverCounters {
  acceptedLines: number;
  duplicateLines: number;
  rejectedRequests?: Readonly<Record<string, number>>;
  rejectedLines?: Readonly<Record<string, number>>;
  rejectedConnections?: Readonly<Record<string, number>>;
}

export interface ReceiverSnapshot {
  id: string;
  type: string;
  counters: ReceiverCounters;
}

export interface PipelineSnapshot {
  id: string;
  held: number;
  counters: PipelineCounters;
  /** A metrics pipeline's aggregation stage. */
  aggregation?: { series: number; overflowPoints: number; notFinite: number };
}

/** An alerts processor's transitions and its deliveries to Alertmanager and webhooks. */
export interface AlertsSnapshot {
  id: string;
  firing: number;
  resolved: number;
  /** Per target (`alertmanager`, `webhook 0`): notifications sent and given up on. */
  targets: Array<{ name: string; sent: number; failed: number }>;
}

/** An exporter's sending queue for one signal (a SendingQueue fits it). */
export interface QueueSnapshot {
  /** The exporter's component id. */
  readonly id: string;
  readonly signal: Signal;
  /** What it holds now, in its sizer's unit. */
  readonly size: number;
  /** What it may hold, in its sizer's unit; Infinity when only its storage's budget bounds it. */
  readonly capacity: number;
  /** `requests`, `items` or `bytes`, when the queue says. */
  readonly sizer?: string;
  /** On disk (sending_queue.storage). */
  readonly persistent: boolean;
  readonly counters: Readonly<QueueCounters>;
}

/** A storage extension's bytes on disk now and its budget. */
export interface StorageSnapshot {
  id: string;
  bytes: number;
  maxBytes: number;
}

/** The running extensions that keep queues on disk (file_storage), with their usage. */
export function storagesOf(extensions: ReadonlyMap<string, Extension>): StorageSnapshot[] {
  const out: StorageSnapshot[] = [];
  for (const [id, extension] of extensions) {
    const usage = (extension as { usage?: { bytes: number; maxBytes: number } }).usage;
    if (usage !== undefined) out.push({ id, bytes: usage.bytes, maxBytes: usage.maxBytes });
  }
  return out;
}

/**
 * The Collector's counter names per signal: its metric names carry the signal, not an attribute.
 * Attributes as the current Collector emits them: `exporter` (the component id) on every series,
 * `data_type` on the queue's size and capacity only. Its newer `otelcol.component.id` /
 * `otelcol.signal` are instrumentation-scope attributes, and for metrics still behind the
 * `telemetry.newPipelineTelemetry` gate (its Prometheus exporter drops scope attributes), so its
 * dashboards and alerts key on `exporter`: we follow them.
 */
export const QUEUE_COUNTERS: Record<Signal, { unit: string; sent: string; sendFailed: string; enqueueFailed: string }> = {
  logs: {
    unit: M.METRIC_UNITS[M.METRIC_OTELCOL_EXPORTER_SENT_LOG_RECORDS]!,
    sent: M.METRIC_OTELCOL_EXPORTER_SENT_LOG_RECORDS,
    sendFailed: M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_LOG_RECORDS,
    enqueueFailed: M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_LOG_RECORDS,
  },
  metrics: {
    unit: M.METRIC_UNITS[M.METRIC_OTELCOL_EXPORTER_SENT_METRIC_POINTS]!,
    sent: M.METRIC_OTELCOL_EXPORTER_SENT_METRIC_POINTS,
    sendFailed: M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS,
    enqueueFailed: M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_METRIC_POINTS,
  },
};

export class SelfTelemetry {
  private readonly _last = new Map<string, number>();

  /** Points for what changed since the last call (and the gauges), at `nowMicros`. */
  report(
    receivers: readonly ReceiverSnapshot[],
    pipelines: readonly PipelineSnapshot[],
    nowMicros: number,
    alerts: readonly AlertsSnapshot[] = [],
    queues: readonly QueueSnapshot[] = [],
    storages: readonly StorageSnapshot[] = [],
  ): MetricPointData[] {
    const points: MetricPointData[] = [];
    const delta = (name: string, unit: string, attributes: Attributes, total: number): void => {
      const key = `${name}\u0000${JSON.stringify(attributes)}`;
      const change = total - (this._last.get(key) ?? 0);
      this._last.set(key, total);
      if (change !== 0) points.push({ name, unit, type: 'sum', value: change, timeUnixMicros: nowMicros, attributes, bounds: undefined });
    };
    for (const r of receivers) {
      const component = { 'otel.component.name': r.id, 'otel.component.type': r.type };
      delta(M.METRIC_HEROKU_OTEL_DRAIN_RECEIVER_LINES, '{line}', { ...component, 'heroku.otel_drain.outcome': 'accepted' }, r.counters.acceptedLines);
      delta(M.METRIC_HEROKU_OTEL_DRAIN_RECEIVER_LINES, '{line}', { ...component, 'heroku.otel_drain.outcome': 'duplicate' }, r.counters.duplicateLines);
      for (const [reason, n] of Object.entries(r.counters.rejectedRequests ?? {})) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_RECEIVER_REQUESTS, '{request}', { ...component, 'heroku.otel_drain.outcome': 'rejected', 'error.type': reason }, n);
      }
      for (const [reason, n] of Object.entries(r.counters.rejectedLines ?? {})) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_RECEIVER_LINES, '{line}', { ...component, 'heroku.otel_drain.outcome': 'rejected', 'error.type': reason }, n);
      }
      for (const [reason, n] of Object.entries(r.counters.rejectedConnections ?? {})) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_RECEIVER_CONNECTIONS, '{connection}', { ...component, 'heroku.otel_drain.outcome': 'rejected', 'error.type': reason }, n);
      }
    }
    for (const a of alerts) {
      const component = { 'otel.component.name': a.id, 'otel.component.type': 'alerts' };
      delta(M.METRIC_HEROKU_OTEL_DRAIN_ALERTS_TRANSITIONS, '{alert}', { ...component, 'heroku.alert.state': 'firing' }, a.firing);
      delta(M.METRIC_HEROKU_OTEL_DRAIN_ALERTS_TRANSITIONS, '{alert}', { ...component, 'heroku.alert.state': 'resolved' }, a.resolved);
      for (const t of a.targets) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_ALERTS_NOTIFICATIONS, '{notification}', { ...component, 'heroku.otel_drain.target': t.name, 'heroku.otel_drain.outcome': 'exported' }, t.sent);
        delta(M.METRIC_HEROKU_OTEL_DRAIN_ALERTS_NOTIFICATIONS, '{notification}', { ...component, 'heroku.otel_drain.target': t.name, 'heroku.otel_drain.outcome': 'failed' }, t.failed);
      }
    }
    for (const p of pipelines) {
      const pipeline = { 'heroku.otel_drain.pipeline': p.id };
      for (const [exporter, n] of Object.entries(p.counters.exported)) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'otel.component.name': exporter, 'heroku.otel_drain.outcome': 'exported' }, n);
      }
      for (const [exporter, n] of Object.entries(p.counters.failed)) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'otel.component.name': exporter, 'heroku.otel_drain.outcome': 'failed' }, n);
      }
      delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'heroku.otel_drain.outcome': 'refused' }, p.counters.refused);
      delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'heroku.otel_drain.outcome': 'dropped' }, p.counters.droppedAtShutdown);
      points.push({ name: M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_HELD, unit: '{item}', type: 'gauge', value: p.held, timeUnixMicros: nowMicros, attributes: pipeline, bounds: undefined });
      if (p.aggregation !== undefined) {
        delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'heroku.otel_drain.outcome': 'overflow' }, p.aggregation.overflowPoints);
        delta(M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_ITEMS, '{item}', { ...pipeline, 'heroku.otel_drain.outcome': 'not_finite' }, p.aggregation.notFinite);
        points.push({ name: M.METRIC_HEROKU_OTEL_DRAIN_PIPELINE_SERIES, unit: '{series}', type: 'gauge', value: p.aggregation.series, timeUnixMicros: nowMicros, attributes: pipeline, bounds: undefined });
      }
    }
    const gauge = (name: string, attributes: Attributes, value: number): void => {
      points.push({ name, unit: M.METRIC_UNITS[name]!, type: 'gauge', value, timeUnixMicros: nowMicros, attributes, bounds: undefined });
    };
    for (const q of queues) {
      // As the Collector: `exporter` on every series, `data_type` on the queue's size and capacity only.
      const exporter = { [A.ATTR_EXPORTER]: q.id };
      const names = QUEUE_COUNTERS[q.signal];
      delta(names.sent, names.unit, exporter, q.counters.sent);
      delta(names.sendFailed, names.unit, exporter, q.counters.sendFailed);
      delta(names.enqueueFailed, names.unit, exporter, q.counters.enqueueFailed);
      const queue = { ...exporter, [A.ATTR_DATA_TYPE]: q.signal };
      gauge(M.METRIC_OTELCOL_EXPORTER_QUEUE_SIZE, queue, q.size);
      // Unbounded but by its storage's budget: that budget is the storage's own gauge.
      if (Number.isFinite(q.capacity)) gauge(M.METRIC_OTELCOL_EXPORTER_QUEUE_CAPACITY, queue, q.capacity);
    }
    for (const s of storages) {
      const component = { [A.ATTR_OTEL_COMPONENT_NAME]: s.id };
      gauge(M.METRIC_HEROKU_OTEL_DRAIN_STORAGE_USAGE, component, s.bytes);
      gauge(M.METRIC_HEROKU_OTEL_DRAIN_STORAGE_LIMIT, component, s.maxBytes);
    }
    return points;
  }
}
