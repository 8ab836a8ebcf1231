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
import { fingerprint, JsonSender, postableAlert, webhookPayload, type NotifyLog } from './notify.ts';
import type { Processor } from '../../service/component.ts';
import type { AlertsSnapshot } from '../../service/self-telemetry.ts';
import type { AlertSeverity } from './rules.ts';

export const ALERT_EVENT_NAME = 'heroku.alert';

const SEVERITY = { info: SEVERITY_INFO, warning: SEVERITY_WARN, error: SEVERITY_ERROR, critical: SEVERITY_CRITICAL } as const satisfies Record<AlertSeverity, unknown>;

export interface AlertsCounters {
  firing: number;
  resolved: number;
}

/**
 * Windows added up across instances or workers, each transition sent by one: the redis
 * extension's SharedAlertWindows between dynos, the cluster primary between workers.
 */
export interface SharedWindows {
  /** Writes this instance's buckets and loads everyone's sums into the engine; false when the store cannot say (the engine keeps what it had). */
  sync(engine: AlertEngine, now: number): Promise<boolean>;
  /** Whether this instance sends a transition: false when another sent it, undefined when the store cannot say. */
  transition(rule: string, fingerprint: string, state: 'firing' | 'resolved', now: number, repeatMs: number, ttlMs: number): Promise<boolean | undefined>;
}

export class AlertsProcessor implements Processor {
  readonly id: string;
  /** It only watches: records go on as they came. */
  readonly mutates = false;
  readonly engine: AlertEngine;
  readonly counters: AlertsCounters = { firing: 0, resolved: 0 };
  private readonly _config: AlertsConfig;
  private readonly _emit: (events: AlertEvent[]) => void;
  private readonly _now: () => number;
  private _timer: NodeJS.Timeout | undefined;
  private _resendTimer: NodeJS.Timeout | undefined;
  private readonly _log: NotifyLog;
  private _droppedLogged = 0;
  /** Alertmanager's v2 API, when configured. */
  readonly alertmanager: JsonSender | undefined;
  readonly webhooks: JsonSender[];

  private readonly _shared: SharedWindows | undefined;
  private _running: Promise<AlertEvent[]> | undefined;
  /** Its marks in a batch's `observed` set, one per signal. */
  private readonly _seenLogs: string;
  private readonly _seenMetrics: string;

  constructor(
    id: string,
    config: AlertsConfig,
    emit: (events: AlertEvent[]) => void,
    log: NotifyLog = () => {},
    now: () => number = Date.now,
    shared?: SharedWindows,
  ) {
    this.id = id;
    this._seenLogs = `${id}\u0000logs`;
    this._seenMetrics = `${id}\u0000metrics`;
    this._config = config;
    this._emit = emit;
    this._now = now;
    this.engine = new AlertEngine(config.rules);
    this._shared = shared;
    if (shared !== undefined) this.engine.shareWindows();
    this._log = log;
    const am = config.alertmanager;
    this.alertmanager = am && new JsonSender(`${id}: alertmanager`, { endpoint: `${am.endpoint.replace(/\/+$/, '')}/api/v2/alerts`, headers: am.headers, timeout: am.timeout }, log);
    this.webhooks = config.webhooks.map((w, i) => new JsonSender(`${id}: webhook ${i}`, w, log));
  }

  /** A pipeline's items; in two pipelines of one signal, it sees each item once (`observed`). */
  process(resource: Attributes, logs: readonly LogRecordData[], metrics: readonly MetricPointData[], observed: Set<string>): void {
    const seeLogs = logs.length > 0 && !observed.has(this._seenLogs);
    const seeMetrics = metrics.length > 0 && !observed.has(this._seenMetrics);
    if (seeLogs) observed.add(this._seenLogs);
    if (seeMetrics) observed.add(this._seenMetrics);
    if (seeLogs || seeMetrics) this.observe(resource, seeLogs ? logs : [], seeMetrics ? metrics : []);
  }

  observe(resource: Attributes, logs: readonly LogRecordData[], metrics: readonly MetricPointData[]): void {
    const now = this._now();
    if (logs.length > 0) this.engine.observeRecords(resource, logs, now);
    if (metrics.length > 0) this.engine.observePoints(resource, metrics, now);
  }

  /**
   * One evaluation: with shared windows, first adds up every instance's buckets, and sends only
   * the transitions this instance moves in the shared state (one instance sends each). A tick
   * already running is waited for, not skipped.
   */
  tick(): Promise<AlertEvent[]> {
    this._running ??= this._tick().finally(() => {
      this._running = undefined;
    });
    return this._running;
  }

  private async _tick(): Promise<AlertEvent[]> {
    const now = this._now();
    if (this._shared === undefined) return this._handOn(this.engine.evaluate(now), now);
    await this._shared.sync(this.engine, now);
    const events = this.engine.evaluate(now);
    const mine: AlertEvent[] = [];
    for (const e of events) {
      const rule = this._config.rules.find((r) => r.name === e.rule)!;
      // A repeat is due a little early, so that an evaluation just short of repeat_interval
      // after the last send does not miss its turn.
      const repeat = Math.max(0, rule.repeat_interval - this._config.evaluation_interval / 2);
      const ttl = 3 * Math.max(rule.repeat_interval, rule.window, rule.for);
      const sends = await this._shared.transition(e.rule, fingerprint(e.labels), e.state, now, repeat, ttl);
      if (sends !== false) mine.push(e);
    }
    return this._handOn(mine, now);
  }

  /** Evaluates now and hands on what changed (windows of this instance alone). */
  evaluate(): AlertEvent[] {
    const now = this._now();
    return this._handOn(this.engine.evaluate(now), now);
  }

  private _handOn(events: AlertEvent[], now: number): AlertEvent[] {
    for (const e of events) this.counters[e.state]++;
    if (this.engine.droppedGroups > this._droppedLogged) {
      this._log('warn', `${this.id}: a rule reached its 10,000 groups; items of new groups are not tracked`, { dropped: this.engine.droppedGroups });
      this._droppedLogged = this.engine.droppedGroups;
    }
    if (events.length === 0) return events;
    this._emit(events);
    const am = this._config.alertmanager;
    if (this.alertmanager !== undefined && am !== undefined) {
      this.alertmanager.send(events.map((e) => postableAlert(e, am.resend_interval, now, this._config.generator_url)));
    }
    if (this.webhooks.length > 0) {
      // One payload per rule and state, as an Alertmanager route grouped by alertname sends.
      const groups = new Map<string, AlertEvent[]>();
      for (const e of events) {
        const key = `${e.rule}\u0000${e.state}`;
        const list = groups.get(key);
        if (list === undefined) groups.set(key, [e]);
        else list.push(e);
      }
      for (const of of groups.values()) for (const w of this.webhooks) w.send(webhookPayload(of, this._config.generator_url));
    }
    return events;
  }

  /** Posts every firing alert to Alertmanager again, as it expects of its clients. */
  resend(): void {
    const am = this._config.alertmanager;
    if (this.alertmanager === undefined || am === undefined) return;
    const now = this._now();
    const firing = this.engine.firing(now);
    if (firing.length > 0) this.alertmanager.send(firing.map((e) => postableAlert(e, am.resend_interval, now, this._config.generator_url)));
  }

  start(): void {
    if (this._timer !== undefined || this.engine.ruleCount === 0) return;
    this._timer = setInterval(() => void this.tick(), this._config.evaluation_interval);
    this._timer.unref();
    if (this._config.alertmanager !== undefined) {
      this._resendTimer = setInterval(() => this.resend(), this._config.alertmanager.resend_interval);
      this._resendTimer.unref();
    }
  }

  /** A last evaluation, so what fired on the last lines still goes out. */
  flush(): Promise<AlertEvent[]> {
    return this.tick();
  }

  /** The alerts firing now (status page). */
  firing(): AlertEvent[] {
    return this.engine.firing();
  }

  /** Transitions and notifications, for the sidecar's own metrics. */
  alertsSnapshot(): AlertsSnapshot {
    return {
      id: this.id,
      firing: this.counters.firing,
      resolved: this.counters.resolved,
      targets: [...(this.alertmanager ? [{ name: 'alertmanager', ...this.alertmanager.counters }] : []), ...this.webhooks.map((w, i) => ({ name: `webhook ${i}`, ...w.counters }))],
    };
  }

  /** Stops evaluating; sends what is queued to Alertmanager and the webhooks (up to `ms`). */
  async shutdown(ms = 2000): Promise<void> {
    clearInterval(this._timer);
    clearInterval(this._resendTimer);
    this._timer = this._resendTimer = undefined;
    await Promise.all([this.alertmanager, ...this.webhooks].map((s) => s?.shutdown(ms)));
  }
}

/** An alert transition as a log record: every backend sees the alerts, whatever notifies. */
export function alertRecord(event: AlertEvent, observedUnixMicros: number): LogRecordData {
  const severity = SEVERITY[event.severity];
  const attributes: Attributes = {
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
  // The record's time is the evaluation's: a repeat hours into an alert is news of now.
  const when = event.atMs * 1000;
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
