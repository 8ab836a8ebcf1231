/**
 * The `alerts` processor: sees the records and points of the pipelines it is in, evaluates its
 * rules every evaluation_interval, and hands the transitions on (as `heroku.alert` log records
 * into the logs pipelines, and to the notifiers). It never holds the pipeline up: observing is a
 * few map updates per item, and evaluation runs on its own timer.
 */
import { SEVERITY_CRITICAL, SEVERITY_ERROR, SEVERITY_INFO, SEVERITY_WARN } from '../../translate/severity.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../../translate/telemetry.ts';
import type { AlertsConfig } from './config.ts';
import { AlertEngine, type AlertEvent } from './engine.ts';
import type { AlertSeverity } from './rules.ts';

export const ALERT_EVENT_NAME = 'heroku.alert';

const SEVERITY = { info: SEVERITY_INFO, warning: SEVERITY_WARN, error: SEVERITY_ERROR, critical: SEVERITY_CRITICAL } as const satisfies Record<AlertSeverity, unknown>;

export interface AlertsCounters {
  firing: number;
  resolved: number;
}

export class AlertsProcessor {
  readonly id: string;
  readonly engine: AlertEngine;
  readonly counters: AlertsCounters = { firing: 0, resolved: 0 };
  private readonly _config: AlertsConfig;
  private readonly _emit: (events: AlertEvent[]) => void;
  private readonly _now: () => number;
  private _timer: NodeJS.Timeout | undefined;

  constructor(id: string, config: AlertsConfig, emit: (events: AlertEvent[]) => void, now: () => number = Date.now) {
    this.id = id;
    this._config = config;
    this._emit = emit;
    this._now = now;
    this.engine = new AlertEngine(config.rules);
  }

  observe(resource: Attributes, logs: readonly LogRecordData[], metrics: readonly MetricPointData[]): void {
    const now = this._now();
    if (logs.length > 0) this.engine.observeRecords(resource, logs, now);
    if (metrics.length > 0) this.engine.observePoints(resource, metrics, now);
  }

  /** Evaluates now and hands on what changed. */
  evaluate(): AlertEvent[] {
    const events = this.engine.evaluate(this._now());
    for (const e of events) this.counters[e.state]++;
    if (events.length > 0) this._emit(events);
    return events;
  }

  start(): void {
    if (this._timer !== undefined || this.engine.ruleCount === 0) return;
    this._timer = setInterval(() => this.evaluate(), this._config.evaluation_interval);
    this._timer.unref();
  }

  shutdown(): void {
    clearInterval(this._timer);
    this._timer = undefined;
  }
}

/** An alert transition as a log record: every backend sees the alerts, whatever notifies. */
export function alertRecord(event: AlertEvent, observedUnixMicros: number): LogRecordData {
  const severity = SEVERITY[event.severity];
  const attributes: Attributes = {
    'event.name': ALERT_EVENT_NAME,
    'heroku.alert.rule': event.rule,
    'heroku.alert.state': event.state,
    'heroku.alert.severity': event.severity,
    'heroku.alert.value': event.value,
    'heroku.alert.starts_at': new Date(event.startsAtMs).toISOString(),
  };
  if (event.endsAtMs !== undefined) attributes['heroku.alert.ends_at'] = new Date(event.endsAtMs).toISOString();
  for (const [k, v] of Object.entries(event.labels)) attributes[`heroku.alert.label.${k}`] = v;
  for (const [k, v] of Object.entries(event.annotations)) attributes[`heroku.alert.annotation.${k}`] = v;
  if (event.samples.length > 0) attributes['heroku.alert.samples'] = event.samples;
  const when = (event.endsAtMs ?? event.startsAtMs) * 1000;
  return {
    timeUnixMicros: when,
    observedUnixMicros: observedUnixMicros,
    severityNumber: severity.number,
    severityText: severity.text,
    body: event.annotations.summary ?? `${event.rule} ${event.state}`,
    eventName: ALERT_EVENT_NAME,
    attributes,
    traceId: undefined,
    spanId: undefined,
    traceFlags: 0,
  };
}
