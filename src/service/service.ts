/**
 * The service: builds receivers, pipelines and exporters from a validated config, starts them in
 * order, and stops them in the reverse order, flushing everything that was accepted.
 */
import { readFileSync } from 'node:fs';
import { factoryOf } from '../components.ts';
import type { BuiltExporter, ComponentKind, Extension, Host, Receiver } from './component.ts';
import type { SidecarConfig } from '../config/load.ts';
import type { AlertsConfig } from '../processors/alerts/config.ts';
import type { AlertEvent } from '../processors/alerts/engine.ts';
import { alertRecord, AlertsProcessor } from '../processors/alerts/processor.ts';
import type { BatchConfig } from '../processors/batch/config.ts';
import type { GeoipConfig } from '../processors/geoip/config.ts';
import { GeoipProcessor } from '../processors/geoip/processor.ts';
import type { RedactConfig } from '../processors/redact/config.ts';
import { RedactProcessor } from '../processors/redact/processor.ts';
import { isLoopback } from '../receivers/logplex/config.ts';
import type { ReceivedBatch } from '../receivers/logplex/receiver.ts';
import type { RedisStore } from '../extensions/redis/store.ts';
import { SharedAlertWindows } from '../extensions/redis/alert-windows.ts';
import type { Attributes, TelemetryBatch } from '../translate/telemetry.ts';
import type { Logger } from './log.ts';
import { Pipeline, type PipelineExporter, type Signal } from './pipeline.ts';
import { SelfTelemetry } from './self-telemetry.ts';
import { PrometheusEndpoint } from './prometheus.ts';
import { StatusBoard } from './status.ts';
import { drainResource } from '../translate/resource.ts';
import pkg from '../../package.json' with { type: 'json' };

/**
 * Items a pipeline holds at most when no exporter of it says otherwise (sending_queue): about
 * 1 KB each, so memory stays far under a 512 MB dyno's.
 */
export const DEFAULT_PIPELINE_CAPACITY = 20_480;

/** A receiver the service runs. */
export interface RunningReceiver {
  id: string;
  type: string;
  receiver: Receiver;
  /** Listening with no drains and no opt-in: loopback only. */
  open: boolean;
}

const resourceKeys = new WeakMap<Attributes, string>();

/** A stable key per resource object: batches of one drain go together. */
function resourceKey(resource: Attributes): string {
  let key = resourceKeys.get(resource);
  if (key === undefined) {
    key = JSON.stringify(resource);
    resourceKeys.set(resource, key);
  }
  return key;
}

/** How often the sidecar reports its own counters through the metrics pipelines. */
export const SELF_TELEMETRY_INTERVAL_MS = 10_000;

export interface ServiceOptions {
  /** Default SELF_TELEMETRY_INTERVAL_MS; 0 turns the periodic report off (one still goes out at shutdown). */
  selfTelemetryIntervalMs?: number;
}

export class Service {
  private readonly _receivers: RunningReceiver[] = [];
  /** Each running receiver's config, by id. */
  private readonly _receiverConfigs = new Map<string, unknown>();
  private readonly _pipelines: Pipeline[] = [];
  private readonly _exporters = new Map<string, BuiltExporter>();
  private readonly _log: Logger;
  private readonly _pipelineIds = new Map<Pipeline, string>();
  /** The alerts processors, and per pipeline the ones it lists. */
  private readonly _alerts = new Map<string, AlertsProcessor>();
  private readonly _alertsOf = new Map<Pipeline, AlertsProcessor[]>();
  /** Per alerts processor, the logs pipelines its alerts go into. */
  private readonly _alertTargets = new Map<AlertsProcessor, Pipeline[]>();
  private readonly _alertResources = new Map<string, Attributes>();
  /** GeoIP processors by id, and per pipeline the ones it lists (they run before alerts and batching). */
  private readonly _geoip = new Map<string, GeoipProcessor>();
  private readonly _geoipOf = new Map<Pipeline, GeoipProcessor[]>();
  /** Redact processors, and per pipeline the ones it lists (first of all: nothing sees a secret). */
  private readonly _redact = new Map<string, RedactProcessor>();
  private readonly _redactOf = new Map<Pipeline, RedactProcessor[]>();
  /** Lines taken per drain (its service.name), for the Prometheus endpoint. */
  readonly drainLines = new Map<string, number>();
  /** service.telemetry.status: what the status page shows. */
  readonly status: StatusBoard | undefined;
  /** service.telemetry.metrics.address: the Prometheus scrape endpoint. */
  readonly prometheus: PrometheusEndpoint | undefined;
  /** Running extensions (service.extensions), by id. */
  private readonly _extensions = new Map<string, Extension>();
  private readonly _selfTelemetry = new SelfTelemetry();
  private readonly _selfResource = drainResource({ 'service.name': pkg.name, 'service.version': pkg.version });
  private readonly _selfTelemetryIntervalMs: number;
  private _selfTimer: NodeJS.Timeout | undefined;
  private _stopped = false;

  constructor(config: SidecarConfig, log: Logger, options: ServiceOptions = {}) {
    this._log = log;
    this._selfTelemetryIntervalMs = options.selfTelemetryIntervalMs ?? SELF_TELEMETRY_INTERVAL_MS;
    const host: Host = { log, extension: (id) => this._extensions.get(id) };
    for (const id of config.serviceExtensions) {
      const component = config.extensions.get(id)!;
      this._extensions.set(id, this._factory('extensions', id, component.type).create(id, component.config, host));
    }
    for (const [id, component] of config.exporters) {
      this._exporters.set(id, this._factory('exporters', id, component.type).create(id, component.config, host));
    }
    const byReceiver = new Map<string, Pipeline[]>();
    for (const [id, p] of config.pipelines) {
      const signal: Signal = id.startsWith('logs') ? 'logs' : 'metrics';
      const batchId = p.processors.find((pid) => config.processors.get(pid)?.type === 'batch');
      const batch = batchId === undefined ? undefined : (config.processors.get(batchId)!.config as BatchConfig);
      const exporters = p.exporters.map((e) => this._exporters.get(e)!);
      // Without a batch processor every POST's items go out as one request: count ~1024 a request.
      const sendBatchSize = batch?.send_batch_size ?? 1024;
      const capacities = exporters.flatMap((e) => (e.capacity === undefined ? [] : [e.capacity(sendBatchSize)]));
      const pipeline = new Pipeline(
        {
          id,
          signal,
          exporters: exporters.map(({ exporter, retry }): PipelineExporter => ({ exporter, retry })),
          capacity: capacities.length > 0 ? Math.min(...capacities) : DEFAULT_PIPELINE_CAPACITY,
          batch: batch && { timeoutMs: batch.timeout, sendBatchSize: batch.send_batch_size, sendBatchMaxSize: batch.send_batch_max_size },
        },
        log,
      );
      this._pipelines.push(pipeline);
      this._pipelineIds.set(pipeline, id);
      const redact = p.processors
        .filter((pid) => config.processors.get(pid)?.type === 'redact')
        .map((pid) => {
          let r = this._redact.get(pid);
          if (r === undefined) {
            r = new RedactProcessor(pid, config.processors.get(pid)!.config as RedactConfig);
            this._redact.set(pid, r);
          }
          return r;
        });
      if (redact.length > 0 && signal === 'logs') this._redactOf.set(pipeline, redact);
      const geoip = p.processors
        .filter((pid) => config.processors.get(pid)?.type === 'geoip')
        .map((pid) => {
          let g = this._geoip.get(pid);
          if (g === undefined) {
            g = new GeoipProcessor(pid, config.processors.get(pid)!.config as GeoipConfig);
            this._geoip.set(pid, g);
          }
          return g;
        });
      if (geoip.length > 0 && signal === 'logs') this._geoipOf.set(pipeline, geoip);
      const alerts = p.processors.filter((pid) => config.processors.get(pid)?.type === 'alerts').map((pid) => this._alertsProcessor(pid, config.processors.get(pid)!.config as AlertsConfig));
      if (alerts.length > 0) this._alertsOf.set(pipeline, alerts);
      if (signal === 'logs') for (const a of alerts) this._alertTargets.get(a)!.push(pipeline);
      for (const r of p.receivers) byReceiver.set(r, [...(byReceiver.get(r) ?? []), pipeline]);
    }
    for (const [id, component] of config.receivers) {
      const pipelines = byReceiver.get(id) ?? [];
      // A receiver no pipeline reads from would accept data into nowhere: it is not started.
      if (pipelines.length === 0) {
        log('warn', `${id}: in no pipeline, so not started`, { receiver: id });
        continue;
      }
      this._receiverConfigs.set(id, component.config);
      const factory = this._factory('receivers', id, component.type);
      const consume = (batch: ReceivedBatch) => this._fanOut(pipelines, batch);
      // Asked from a request's headers, before its body is read: a line is a record in a logs
      // pipeline; how many points it gives is not known yet, so metrics pipelines need one.
      const room = (lines: number) => pipelines.every((p) => p.fits(p.signal === 'logs' ? lines : 1));
      const receiver = factory.create(id, component.config, { consume, room }, host);
      this._receivers.push({ id, type: component.type, receiver, open: factory.open(component.config) });
    }
    if (config.telemetry.status.enabled) {
      const board = new StatusBoard();
      this.status = board;
      const render = () =>
        board.render({
          pipelines: () => this._pipelines.map((p) => ({ id: this._pipelineIds.get(p)!, held: p.held, capacity: p.capacity, counters: p.counters })),
          firing: () => [...this._alerts.values()].flatMap((a) => a.engine.firing()),
        });
      for (const { receiver } of this._receivers) receiver.serveStatusPage?.({ path: config.telemetry.status.path, render });
    }
    const address = config.telemetry.metrics.address;
    this.prometheus =
      address === undefined
        ? undefined
        : new PrometheusEndpoint(address, {
            receivers: () => this._receivers.map(({ id, type, receiver }) => ({ id, type, counters: receiver.counters })),
            pipelines: () => this._pipelines.map((p) => ({ id: this._pipelineIds.get(p)!, held: p.held, capacity: p.capacity, counters: p.counters })),
            alerts: () => this._alertSnapshots(),
            drains: () => [...this.drainLines],
          }, config.telemetry.metrics.basic_auth);
  }

  /** The factory of a component the config names; the config loader has checked the type exists. */
  private _factory<K extends ComponentKind>(kind: K, id: string, type: string) {
    const factory = factoryOf(kind, type);
    if (factory === undefined) throw new Error(`${kind}.${id}: the ${type} component is not available in this version`);
    return factory;
  }

  private _alertSnapshots() {
    return [...this._alerts.values()].map((a) => ({
      id: a.id,
      firing: a.counters.firing,
      resolved: a.counters.resolved,
      targets: [...(a.alertmanager ? [{ name: 'alertmanager', ...a.alertmanager.counters }] : []), ...a.webhooks.map((w, i) => ({ name: `webhook ${i}`, ...w.counters }))],
    }));
  }

  private _alertsProcessor(id: string, config: AlertsConfig): AlertsProcessor {
    let processor = this._alerts.get(id);
    if (processor === undefined) {
      // The alerts processor shares its windows through a redis extension (RedisStore).
      const store = config.storage === undefined ? undefined : (this._extensions.get(config.storage) as RedisStore | undefined);
      processor = new AlertsProcessor(id, config, (events) => this._deliverAlerts(processor!, events), this._log, Date.now, store && new SharedAlertWindows(store, id));
      this._alerts.set(id, processor);
      this._alertTargets.set(processor, []);
    }
    return processor;
  }

  /** Alert transitions as log records, into the logs pipelines of their processor (or all logs pipelines). */
  private _deliverAlerts(processor: AlertsProcessor, events: readonly AlertEvent[]): void {
    const targets = this._alertTargets.get(processor)!;
    const pipelines = targets.length > 0 ? targets : this._pipelines.filter((p) => p.signal === 'logs');
    const observed = Date.now() * 1000;
    for (const event of events) {
      const name = event.group['service.name'] || pkg.name;
      let resource = this._alertResources.get(name);
      if (resource === undefined) {
        resource = drainResource({ 'service.name': name });
        if (this._alertResources.size < 10_000) this._alertResources.set(name, resource);
      }
      const record = alertRecord(event, observed);
      for (const p of pipelines) {
        if (!p.offer(resource, resourceKey(resource), [record])) this._log('warn', `${processor.id}: alert not taken by a full pipeline`, { rule: event.rule, state: event.state });
      }
    }
  }

  /** Offers a batch to every pipeline of its receiver, all or none, so a 503'd batch is not half taken. */
  private _fanOut(pipelines: readonly Pipeline[], batch: ReceivedBatch): boolean {
    const { logs, metrics } = batch.telemetry;
    for (const p of pipelines) {
      const n = p.signal === 'logs' ? logs.length : metrics.length;
      if (n > 0 && !p.fits(n)) return false;
    }
    const key = resourceKey(batch.resource);
    // Redaction first, then GeoIP, once per batch: the records are shared by the pipelines.
    let redacted: Set<RedactProcessor> | undefined;
    for (const p of pipelines) {
      for (const r of this._redactOf.get(p) ?? []) {
        redacted ??= new Set();
        if (redacted.has(r)) continue;
        redacted.add(r);
        r.process(logs);
      }
    }
    let located: Set<GeoipProcessor> | undefined;
    for (const p of pipelines) {
      for (const g of this._geoipOf.get(p) ?? []) {
        located ??= new Set();
        if (located.has(g)) continue;
        located.add(g);
        g.process(logs);
      }
    }
    // After redaction: the status page shows no secret either.
    this.status?.observe(batch.resource, logs);
    if (logs.length > 0) {
      const drain = String(batch.resource['service.name'] ?? 'unnamed');
      if (this.drainLines.has(drain) || this.drainLines.size < 1000) this.drainLines.set(drain, (this.drainLines.get(drain) ?? 0) + logs.length);
    }
    let observed: Set<string> | undefined;
    for (const p of pipelines) {
      const items = p.signal === 'logs' ? logs : metrics;
      p.offer(batch.resource, key, items);
      const alerts = this._alertsOf.get(p);
      if (alerts === undefined || items.length === 0) continue;
      for (const a of alerts) {
        // A processor in two pipelines of one signal sees each item once.
        observed ??= new Set();
        const seen = `${a.id}\u0000${p.signal}`;
        if (observed.has(seen)) continue;
        observed.add(seen);
        a.observe(batch.resource, p.signal === 'logs' ? logs : [], p.signal === 'metrics' ? metrics : []);
      }
    }
    return true;
  }

  /**
   * Offers telemetry to every pipeline (replay and backfill, no receiver involved), waiting while
   * they are full: memory stays bounded however large the input.
   */
  async ingest(resource: Attributes, telemetry: TelemetryBatch): Promise<void> {
    while (!this._fanOut(this._pipelines, { resource, telemetry })) {
      if (this._stopped) throw new Error('the service is stopping');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get receivers(): readonly RunningReceiver[] {
    return this._receivers;
  }

  /** SIGHUP: receivers read their certificate files again. */
  reload(): void {
    for (const { receiver } of this._receivers) receiver.reload?.();
  }

  get pipelines(): readonly Pipeline[] {
    return this._pipelines;
  }

  /** Sends the counters' changes through every metrics pipeline. */
  private _reportSelf(): void {
    const points = this._selfTelemetry.report(
      this._receivers.map(({ id, type, receiver }) => ({ id, type, counters: receiver.counters })),
      this._pipelines.map((p) => ({ id: this._pipelineIds.get(p)!, held: p.held, counters: p.counters })),
      Date.now() * 1000,
      this._alertSnapshots(),
    );
    const key = resourceKey(this._selfResource);
    for (const p of this._pipelines) if (p.signal === 'metrics') p.offer(this._selfResource, key, points);
  }

  /** The alerts processors, by id. */
  get alerts(): ReadonlyMap<string, AlertsProcessor> {
    return this._alerts;
  }

  /**
   * max_connections protects nothing above the process's open-files limit: accepting fails
   * first (EMFILE) and every new connection, a drain's too, is lost. Said once at start.
   */
  private _checkOpenFilesLimit(): void {
    const limit = openFilesLimit();
    if (limit === undefined) return;
    let caps = 0;
    for (const { id } of this._receivers) {
      const c = this._receiverConfigs.get(id) as { max_connections?: number; tcp?: { max_connections?: number } } | undefined;
      caps += c?.max_connections ?? c?.tcp?.max_connections ?? 0;
    }
    // Room besides the receivers' sockets: exporters' connections, files, Redis.
    if (caps + 64 > limit) {
      this._log('warn', `max_connections add up to ${caps}, too close to this process's open-files limit (${limit}): past it new connections fail, drains' too; lower max_connections or raise the limit (ulimit -n)`, {
        max_connections: caps,
        open_files_limit: limit,
      });
    }
  }

  /** Everything but the receivers: for replay, which feeds the pipelines itself (ingest). */
  async startWithoutReceivers(): Promise<void> {
    await Promise.all([...this._extensions.values()].map((extension) => extension.start()));
    for (const a of this._alerts.values()) a.start();
  }

  async start(): Promise<void> {
    this._checkOpenFilesLimit();
    await Promise.all([...this._extensions.values()].map((extension) => extension.start()));
    if (this.prometheus) {
      await this.prometheus.start();
      const { host, port } = this.prometheus.address;
      this._log('info', `own metrics for Prometheus on http://${host}:${port}/metrics`);
    }
    for (const a of this._alerts.values()) a.start();
    if (this._selfTelemetryIntervalMs > 0) {
      this._selfTimer = setInterval(() => this._reportSelf(), this._selfTelemetryIntervalMs);
      this._selfTimer.unref();
    }
    for (const { id, receiver, open } of this._receivers) {
      await receiver.start();
      for (const { host, port, transport } of receiver.listening()) {
        this._log('info', `${id}: listening on ${host}:${port}${transport === 'http' ? '' : ` (${transport})`}`, {
          receiver: id,
          ...(open && isLoopback(host) ? { note: 'loopback only: no drains or basic auth are set, so only this machine can send logs' } : {}),
        });
      }
    }
  }

  /**
   * Stops accepting (receivers close every connection within a short grace, whatever clients
   * do), flushes every pipeline within `deadlineMs`, shuts exporters down, and logs how many
   * accepted items, if any, could not be exported. Safe twice.
   */
  async shutdown(deadlineMs = 25_000): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    const started = Date.now();
    await Promise.all(this._receivers.map(({ receiver }) => receiver.shutdown()));
    // A last evaluation, so what fired on the last lines still goes out; then no more.
    // A last evaluation, bounded: a hung Redis must not eat the flush's time.
    await Promise.all([...this._alerts.values()].map((a) => Promise.race([a.tick(), new Promise((r) => setTimeout(r, 3000).unref())])));
    await Promise.all([...this._alerts.values()].map((a) => a.shutdown(2000)));
    clearInterval(this._selfTimer);
    // A last report while the pipelines still take points: the final counts reach the backend.
    this._reportSelf();
    await Promise.all(this._pipelines.map((p) => p.shutdown(Math.max(0, deadlineMs - (Date.now() - started)))));
    // Whatever is left is bounded too: a hung backend or Redis must not hold the exit.
    const bounded = (work: Promise<unknown>, ms: number) => Promise.race([work, new Promise((r) => setTimeout(r, ms).unref())]);
    await bounded(Promise.all([...this._exporters.values()].map(({ exporter }) => exporter.shutdown())), 2000);
    await bounded(Promise.all([...this._extensions.values()].map((extension) => extension.shutdown())), 2000);
    await bounded(this.prometheus?.shutdown() ?? Promise.resolve(), 1000);
    for (const { id, receiver } of this._receivers) this._log('info', `${id}: stopped`, { receiver: id, ...receiver.counters });
    for (const p of this._pipelines) this._log('info', 'pipeline stopped', { pipeline: this._pipelineIds.get(p), signal: p.signal, ...p.counters });
    const unexported = this._pipelines.map((p) => ({
      pipeline: this._pipelineIds.get(p)!,
      dropped_at_shutdown: p.counters.droppedAtShutdown,
      failed: Object.values(p.counters.failed).reduce((a, b) => a + b, 0),
    }));
    const lost = unexported.reduce((n, u) => n + u.dropped_at_shutdown + u.failed, 0);
    if (lost === 0) this._log('info', 'stopped: every accepted item was exported');
    else this._log('error', `stopped: ${lost} accepted items could not be exported`, { pipelines: unexported.filter((u) => u.dropped_at_shutdown + u.failed > 0) });
  }
}

/** The soft limit on open files, from /proc (Linux, as on Heroku); undefined elsewhere or unlimited. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
