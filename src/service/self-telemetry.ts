/**
 * The sidecar's own counters as metric points, sent through the metrics pipelines like any drain's
 * (resource service.name=heroku-otel-drain). Counts go out as deltas since the last report, in
 * keeping with every sum we emit; the items a pipeline holds as a gauge.
 */
import * as M from '../semconv/metrics.ts';
import type { Attributes, MetricPointData } from '../translate/telemetry.ts';
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
}

/** An alerts processor's transitions and its deliveries to Alertmanager and webhooks. */
export interface AlertsSnapshot {
  id: string;
  firing: number;
  resolved: number;
  /** Per target (`alertmanager`, `webhook 0`): notifications sent and given up on. */
  targets: Array<{ name: string; sent: number; failed: number }>;
}

export class SelfTelemetry {
  private readonly _last = new Map<string, number>();

  /** Points for what changed since the last call (and the gauges), at `nowMicros`. */
  report(receivers: readonly ReceiverSnapshot[], pipelines: readonly PipelineSnapshot[], nowMicros: number, alerts: readonly AlertsSnapshot[] = []): MetricPointData[] {
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
    }
    return points;
  }
}
