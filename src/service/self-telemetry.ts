/**
 * The sidecar's own metrics on the OpenTelemetry SDK, as the Collector builds its own: one meter
 * provider, whose readers are `service.telemetry.metrics.readers` (a Prometheus pull reader, the
 * `address` shorthand, periodic OTLP readers), with the Collector's `otelcol_*` names, units and
 * attributes (`receiver`, `transport`, `processor`, `otel.signal`, `exporter`, `data_type`), and
 * ours under the same scheme where the Collector has no such metric. Every instrument is
 * observable: it reads the counters the components keep anyway, at collection time, so the data
 * path does no work for it. The names are registered in semconv/registry/metrics.yaml.
 *
 * Unlike the Collector's, nothing here serves by default: a reader is configured or there is none.
 * The sidecar's metrics do not go through the user's metrics pipelines either (as the Collector's
 * do not): a periodic OTLP reader sends them where they should go (the embedded default points
 * one at OTEL_EXPORTER_OTLP_ENDPOINT).
 */
// The SDK is loaded by start(), and only when a reader reads: a config without one (the embedded
// default without an OTLP endpoint) loads none of it.
import type { BatchObservableResult, Meter, Observable, ValueType } from '@opentelemetry/api';
import type { IMetricReader, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { QueueCounters } from '../exporters/exporterhelper/queue.ts';
import type { StageStats } from '../processors/interval/stage.ts';
import type { ReceivedBatch } from '../receivers/logplex/receiver.ts';
import * as A from '../semconv/attributes.ts';
import * as M from '../semconv/metrics.ts';
import type { Extension, Signal } from './component.ts';
import type { Logger } from './log.ts';
import { otelApi, otelResources, sdkMetrics } from './otel-sdk.ts';
import { PrometheusEndpoint } from './prometheus.ts';
import type { TelemetryConfig } from './telemetry-config.ts';
import { metricExporter } from './telemetry-exporters.ts';

/** What every receiver counts; each kind adds what it refuses, per request, line or connection. */
export interface ReceiverCounters {
  /** HTTP receivers: requests to the drain path (not those refused as not_found or bad_method). */
  requests?: number;
  acceptedLines: number;
  duplicateLines: number;
  rejectedRequests?: Readonly<Record<string, number>>;
  rejectedLines?: Readonly<Record<string, number>>;
  rejectedConnections?: Readonly<Record<string, number>>;
  /** Router paths given the catch-all url.template because their drain's table was full. */
  urlTemplateOverflows?: number;
}

/** What a receiver's pipelines took of what it read, counted once per batch (the Collector's accepted / refused items). */
export interface ReceiverIntake {
  acceptedRecords: number;
  refusedRecords: number;
  acceptedPoints: number;
  refusedPoints: number;
  acceptedSpans: number;
  refusedSpans: number;
}

export function newReceiverIntake(): ReceiverIntake {
  return { acceptedRecords: 0, refusedRecords: 0, acceptedPoints: 0, refusedPoints: 0, acceptedSpans: 0, refusedSpans: 0 };
}

/**
 * Counts a batch into `intake` once its pipelines answered (`taken`, or its promise when a queue
 * is on disk), and hands the answer on. `records` / `points`: whether the receiver feeds a logs /
 * a metrics pipeline (what none takes is not counted); spans are made only for a traces pipeline.
 */
export function countIntake(intake: ReceiverIntake, batch: ReceivedBatch, records: boolean, points: boolean, taken: boolean | Promise<boolean>): boolean | Promise<boolean> {
  const t = batch.telemetry;
  const r = records ? t.logs.length : 0;
  const p = points ? t.metrics.length : 0;
  const s = t.spans?.length ?? 0;
  if (taken === true || taken === false) return addIntake(intake, r, p, s, taken);
  return taken.then((ok) => addIntake(intake, r, p, s, ok));
}

function addIntake(intake: ReceiverIntake, r: number, p: number, s: number, ok: boolean): boolean {
  if (ok) {
    intake.acceptedRecords += r;
    intake.acceptedPoints += p;
    intake.acceptedSpans += s;
  } else {
    intake.refusedRecords += r;
    intake.refusedPoints += p;
    intake.refusedSpans += s;
  }
  return ok;
}

/** Items a processor was given and handed on, over the pipelines of one signal that list it. */
export interface ItemCounts {
  incoming: number;
  outgoing: number;
}

/** An alerts processor's transitions and its deliveries to Alertmanager and webhooks. */
export interface AlertsSnapshot {
  id: string;
  firing: number;
  resolved: number;
  /** Per target (`alertmanager`, `webhook 0`): notifications sent and given up on. */
  targets: Array<{ name: string; sent: number; failed: number }>;
}

/** A tail_sampling processor's decisions and what it holds. */
export interface SamplingSnapshot {
  id: string;
  /** Per policy name, its own decisions. */
  policies: Record<string, { sampled: number; not_sampled: number }>;
  /** Requests held now, waiting for their router line. */
  holdingRequests: number;
  /** App lines held since start. */
  held: number;
  /** Requests decided on their own lines at decision_wait. */
  releasedOnExpiry: number;
  /** App lines kept undecided (fail open). */
  forced: number;
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

/** Where the instruments read, at collection time. */
/**
 * A receiver's `transport` attribute from what it listens on: HTTP over TLS is `http`, as the
 * Collector's HTTP receivers say it (dashboards filter on it); `tcp,udp` for both.
 */
export function transportOf(listening: ReadonlyArray<{ transport: string }>): string {
  return [...new Set(listening.map((l) => (l.transport === 'https' ? 'http' : l.transport)))].join(',');
}

export interface TelemetrySource {
  /** `transport`: what it listens on (`http`, `tcp`, `tcp,udp`). */
  receivers(): Array<{ id: string; transport: string; counters: ReceiverCounters; intake: ReceiverIntake }>;
  /** Lines taken per drain (service.name). */
  drains(): Iterable<[string, number]>;
  /** Every processor that works on items, per signal. */
  processors(): Array<{ id: string; signal: Signal; counts: ItemCounts }>;
  /** Each metrics pipeline's aggregation stage, with the interval processor it is (or `interval` when the pipeline lists none). */
  stages(): Array<{ processor: string; pipeline: string; stats: StageStats }>;
  /** Every alerts processor, with the alerts firing now. */
  alerts(): Array<AlertsSnapshot & { firingNow: number }>;
  /** Every tail_sampling processor. */
  sampling(): SamplingSnapshot[];
  pipelines(): Array<{ id: string; held: number; capacity: number }>;
  /** Every exporter's sending queue, one per signal it serves. */
  queues(): readonly QueueSnapshot[];
  /** Storage extensions (file_storage): bytes on disk and budget. */
  storages(): readonly StorageSnapshot[];
}

/**
 * The Collector's counter names per signal: its names carry the signal, not an attribute, and
 * its counters carry `exporter` alone (`data_type` is on the queue's size and capacity only).
 */
const QUEUE_COUNTERS: Record<Signal, { sent: string; sendFailed: string; enqueueFailed: string; dropped: string }> = {
  logs: {
    sent: M.METRIC_OTELCOL_EXPORTER_SENT_LOG_RECORDS,
    sendFailed: M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_LOG_RECORDS,
    enqueueFailed: M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_LOG_RECORDS,
    dropped: M.METRIC_OTELCOL_EXPORTER_DROPPED_LOG_RECORDS,
  },
  metrics: {
    sent: M.METRIC_OTELCOL_EXPORTER_SENT_METRIC_POINTS,
    sendFailed: M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS,
    enqueueFailed: M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_METRIC_POINTS,
    dropped: M.METRIC_OTELCOL_EXPORTER_DROPPED_METRIC_POINTS,
  },
  traces: {
    sent: M.METRIC_OTELCOL_EXPORTER_SENT_SPANS,
    sendFailed: M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_SPANS,
    enqueueFailed: M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_SPANS,
    dropped: M.METRIC_OTELCOL_EXPORTER_DROPPED_SPANS,
  },
};

/** Rejections that mean the pipelines downstream were full: the Collector's `refused` outcome. */
const REFUSED_BY_PIPELINES = new Set(['queue_full']);

/**
 * Rejections of requests the receiver's `requests` does not count (another path or method, a
 * malformed or too slow request, a client gone before its headers): the rest of `requests`
 * minus the other rejections succeeded.
 */
const BEFORE_COUNTING = new Set(['not_found', 'bad_method', 'bad_request', 'timeout', 'client_gone']);

/** A setInterval beyond this fires at once; an override of 0 means a periodic reader exports at shutdown only. */
const NEVER_MS = 2 ** 31 - 1;

type Instruments = Record<string, Observable>;

/**
 * The component metrics. `withOurs`: ours beside the Collector's (level normal and detailed).
 * Each group is one batch callback, which reads its source once per collection.
 */
function registerComponentMetrics(meter: Meter, source: TelemetrySource, withOurs: boolean, int: ValueType): void {
  const counter = (name: string, description: string) => meter.createObservableCounter(name, { unit: M.METRIC_UNITS[name]!, description, valueType: int });
  const gauge = (name: string, description: string) => meter.createObservableGauge(name, { unit: M.METRIC_UNITS[name]!, description, valueType: int });
  const group = (instruments: Instruments, observe: (result: BatchObservableResult, i: Instruments) => void) => meter.addBatchObservableCallback((result) => observe(result, instruments), Object.values(instruments));

  group(
    {
      acceptedRecords: counter(M.METRIC_OTELCOL_RECEIVER_ACCEPTED_LOG_RECORDS, 'Number of log records successfully pushed into the pipeline.'),
      refusedRecords: counter(M.METRIC_OTELCOL_RECEIVER_REFUSED_LOG_RECORDS, 'Number of log records that could not be pushed into the pipeline.'),
      acceptedPoints: counter(M.METRIC_OTELCOL_RECEIVER_ACCEPTED_METRIC_POINTS, 'Number of metric points successfully pushed into the pipeline.'),
      refusedPoints: counter(M.METRIC_OTELCOL_RECEIVER_REFUSED_METRIC_POINTS, 'Number of metric points that could not be pushed into the pipeline.'),
      acceptedSpans: counter(M.METRIC_OTELCOL_RECEIVER_ACCEPTED_SPANS, 'Number of spans successfully pushed into the pipeline.'),
      refusedSpans: counter(M.METRIC_OTELCOL_RECEIVER_REFUSED_SPANS, 'Number of spans that could not be pushed into the pipeline.'),
      requests: counter(M.METRIC_OTELCOL_RECEIVER_REQUESTS, 'The number of requests performed, by outcome (and error.type when not a success).'),
      ...(withOurs
        ? {
            duplicate: counter(M.METRIC_OTELCOL_RECEIVER_DUPLICATE_LINES, 'Lines of batches Logplex re-sent: acknowledged, not emitted again.'),
            rejectedLines: counter(M.METRIC_OTELCOL_RECEIVER_REJECTED_LINES, 'Lines refused one by one, by error.type.'),
            rejectedConnections: counter(M.METRIC_OTELCOL_RECEIVER_REJECTED_CONNECTIONS, 'Connections refused or closed, by error.type.'),
            urlTemplateOverflows: counter(M.METRIC_OTELCOL_RECEIVER_URL_TEMPLATE_OVERFLOW_PATHS, 'Router paths given url.template /{overflow}: their drain\'s table was full.'),
          }
        : {}),
    },
    (result, i) => {
      for (const r of source.receivers()) {
        const at = { [A.ATTR_RECEIVER]: r.id, [A.ATTR_TRANSPORT]: r.transport };
        result.observe(i.acceptedRecords!, r.intake.acceptedRecords, at);
        result.observe(i.refusedRecords!, r.intake.refusedRecords, at);
        result.observe(i.acceptedPoints!, r.intake.acceptedPoints, at);
        result.observe(i.refusedPoints!, r.intake.refusedPoints, at);
        result.observe(i.acceptedSpans!, r.intake.acceptedSpans, at);
        result.observe(i.refusedSpans!, r.intake.refusedSpans, at);
        const c = r.counters;
        if (c.requests !== undefined) {
          let rejected = 0;
          for (const [reason, n] of Object.entries(c.rejectedRequests ?? {})) {
            if (!BEFORE_COUNTING.has(reason)) rejected += n;
            // Zeros too: a series from the start, so that increase() sees the first one.
            result.observe(i.requests!, n, { ...at, [A.ATTR_OUTCOME]: REFUSED_BY_PIPELINES.has(reason) ? 'refused' : 'failure', [A.ATTR_ERROR_TYPE]: reason });
          }
          result.observe(i.requests!, Math.max(0, c.requests - rejected), { ...at, [A.ATTR_OUTCOME]: 'success' });
        }
        if (!withOurs) continue;
        result.observe(i.duplicate!, c.duplicateLines, at);
        for (const [reason, n] of Object.entries(c.rejectedLines ?? {})) result.observe(i.rejectedLines!, n, { ...at, [A.ATTR_ERROR_TYPE]: reason });
        for (const [reason, n] of Object.entries(c.rejectedConnections ?? {})) result.observe(i.rejectedConnections!, n, { ...at, [A.ATTR_ERROR_TYPE]: reason });
        if (c.urlTemplateOverflows !== undefined) result.observe(i.urlTemplateOverflows!, c.urlTemplateOverflows, at);
      }
    },
  );

  group(
    {
      incoming: counter(M.METRIC_OTELCOL_PROCESSOR_INCOMING_ITEMS, 'Number of items passed to the processor.'),
      outgoing: counter(M.METRIC_OTELCOL_PROCESSOR_OUTGOING_ITEMS, 'Number of items emitted from the processor.'),
    },
    (result, i) => {
      for (const p of source.processors()) {
        const at = { [A.ATTR_PROCESSOR]: p.id, [A.ATTR_OTEL_SIGNAL]: p.signal };
        result.observe(i.incoming!, p.counts.incoming, at);
        result.observe(i.outgoing!, p.counts.outgoing, at);
      }
    },
  );

  group(
    {
      sent: counter(M.METRIC_OTELCOL_EXPORTER_SENT_LOG_RECORDS, 'Number of log records successfully sent to destination.'),
      sendFailed: counter(M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_LOG_RECORDS, 'Number of log records in failed attempts to send to destination.'),
      enqueueFailed: counter(M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_LOG_RECORDS, 'Number of log records failed to be added to the sending queue.'),
      pointsSent: counter(M.METRIC_OTELCOL_EXPORTER_SENT_METRIC_POINTS, 'Number of metric points successfully sent to destination.'),
      pointsSendFailed: counter(M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS, 'Number of metric points in failed attempts to send to destination.'),
      pointsEnqueueFailed: counter(M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_METRIC_POINTS, 'Number of metric points failed to be added to the sending queue.'),
      spansSent: counter(M.METRIC_OTELCOL_EXPORTER_SENT_SPANS, 'Number of spans successfully sent to destination.'),
      spansSendFailed: counter(M.METRIC_OTELCOL_EXPORTER_SEND_FAILED_SPANS, 'Number of spans in failed attempts to send to destination.'),
      spansEnqueueFailed: counter(M.METRIC_OTELCOL_EXPORTER_ENQUEUE_FAILED_SPANS, 'Number of spans failed to be added to the sending queue.'),
      size: gauge(M.METRIC_OTELCOL_EXPORTER_QUEUE_SIZE, "Current size of the exporter's sending queue, in its sizer's unit."),
      capacity: gauge(M.METRIC_OTELCOL_EXPORTER_QUEUE_CAPACITY, "Capacity of the exporter's sending queue, in its sizer's unit."),
      ...(withOurs
        ? {
            dropped: counter(M.METRIC_OTELCOL_EXPORTER_DROPPED_LOG_RECORDS, 'Log records an in-memory queue still held at the shutdown deadline.'),
            pointsDropped: counter(M.METRIC_OTELCOL_EXPORTER_DROPPED_METRIC_POINTS, 'Metric points an in-memory queue still held at the shutdown deadline.'),
            spansDropped: counter(M.METRIC_OTELCOL_EXPORTER_DROPPED_SPANS, 'Spans an in-memory queue still held at the shutdown deadline.'),
          }
        : {}),
    },
    (result, i) => {
      for (const q of source.queues()) {
        const [sent, sendFailed, enqueueFailed, dropped] =
          q.signal === 'logs'
            ? [i.sent!, i.sendFailed!, i.enqueueFailed!, i.dropped]
            : q.signal === 'metrics'
              ? [i.pointsSent!, i.pointsSendFailed!, i.pointsEnqueueFailed!, i.pointsDropped]
              : [i.spansSent!, i.spansSendFailed!, i.spansEnqueueFailed!, i.spansDropped];
        const at = { [A.ATTR_EXPORTER]: q.id };
        result.observe(sent, q.counters.sent, at);
        result.observe(sendFailed, q.counters.sendFailed, at);
        result.observe(enqueueFailed, q.counters.enqueueFailed, at);
        if (withOurs) result.observe(dropped!, q.counters.droppedAtShutdown, at);
        const queue = { ...at, [A.ATTR_DATA_TYPE]: q.signal };
        result.observe(i.size!, q.size, queue);
        // Unbounded but by its storage's budget: that budget is the storage's own gauge.
        if (Number.isFinite(q.capacity)) result.observe(i.capacity!, q.capacity, queue);
      }
    },
  );

  if (!withOurs) return;

  group({ lines: counter(M.METRIC_OTELCOL_DRAIN_LINES, 'Lines taken per drain (its service.name).') }, (result, i) => {
    for (const [drain, n] of source.drains()) result.observe(i.lines!, n, { [A.ATTR_DRAIN]: drain });
  });

  group(
    {
      transitions: counter(M.METRIC_OTELCOL_PROCESSOR_ALERTS_TRANSITIONS, 'Alerts that started firing (repeats included) or resolved.'),
      firing: gauge(M.METRIC_OTELCOL_PROCESSOR_ALERTS_FIRING, 'Alerts firing now.'),
      notifications: counter(M.METRIC_OTELCOL_PROCESSOR_ALERTS_NOTIFICATIONS, 'Notifications to Alertmanager or webhooks: delivered (success) or given up on (failure).'),
    },
    (result, i) => {
      for (const a of source.alerts()) {
        const at = { [A.ATTR_PROCESSOR]: a.id };
        result.observe(i.transitions!, a.firing, { ...at, [A.ATTR_STATE]: 'firing' });
        result.observe(i.transitions!, a.resolved, { ...at, [A.ATTR_STATE]: 'resolved' });
        result.observe(i.firing!, a.firingNow, at);
        for (const t of a.targets) {
          result.observe(i.notifications!, t.sent, { ...at, [A.ATTR_TARGET]: t.name, [A.ATTR_OUTCOME]: 'success' });
          result.observe(i.notifications!, t.failed, { ...at, [A.ATTR_TARGET]: t.name, [A.ATTR_OUTCOME]: 'failure' });
        }
      }
    },
  );

  group(
    {
      decisions: counter(M.METRIC_OTELCOL_PROCESSOR_TAIL_SAMPLING_COUNT_TRACES_SAMPLED, 'Requests (and lone records) a tail_sampling policy sampled or not.'),
      onMemory: gauge(M.METRIC_OTELCOL_PROCESSOR_TAIL_SAMPLING_SAMPLING_TRACES_ON_MEMORY, 'Requests whose app lines wait for their router line now.'),
      held: counter(M.METRIC_OTELCOL_PROCESSOR_TAIL_SAMPLING_HELD_LOG_RECORDS, "App lines held for their request's decision."),
      expired: counter(M.METRIC_OTELCOL_PROCESSOR_TAIL_SAMPLING_EXPIRED_TRACES, 'Requests decided on their own app lines: no router line within decision_wait.'),
      forced: counter(M.METRIC_OTELCOL_PROCESSOR_TAIL_SAMPLING_FORCED_LOG_RECORDS, 'App lines kept undecided (fail open): num_traces reached.'),
    },
    (result, i) => {
      for (const s of source.sampling()) {
        const at = { [A.ATTR_PROCESSOR]: s.id };
        for (const [policy, c] of Object.entries(s.policies)) {
          result.observe(i.decisions!, c.sampled, { ...at, [A.ATTR_POLICY]: policy, [A.ATTR_SAMPLED]: 'true' });
          result.observe(i.decisions!, c.not_sampled, { ...at, [A.ATTR_POLICY]: policy, [A.ATTR_SAMPLED]: 'false' });
        }
        result.observe(i.onMemory!, s.holdingRequests, at);
        result.observe(i.held!, s.held, at);
        result.observe(i.expired!, s.releasedOnExpiry, at);
        result.observe(i.forced!, s.forced, at);
      }
    },
  );

  group(
    {
      series: gauge(M.METRIC_OTELCOL_PROCESSOR_INTERVAL_SERIES, "Series a metrics pipeline's aggregation holds."),
      overflow: counter(M.METRIC_OTELCOL_PROCESSOR_INTERVAL_OVERFLOW_POINTS, 'Points added to an overflow series: max_streams reached.'),
      notFinite: counter(M.METRIC_OTELCOL_PROCESSOR_INTERVAL_NOT_FINITE_POINTS, 'Points left out: their value was not a finite number.'),
    },
    (result, i) => {
      for (const s of source.stages()) {
        const at = { [A.ATTR_PROCESSOR]: s.processor, [A.ATTR_PIPELINE]: s.pipeline };
        result.observe(i.series!, s.stats.series, at);
        result.observe(i.overflow!, s.stats.overflowPoints, at);
        result.observe(i.notFinite!, s.stats.notFinite, at);
      }
    },
  );

  group(
    {
      held: gauge(M.METRIC_OTELCOL_PIPELINE_HELD_ITEMS, "Items a pipeline's exporters hold for it: its memory in use."),
      capacity: gauge(M.METRIC_OTELCOL_PIPELINE_CAPACITY_ITEMS, 'Items a pipeline may hold before its receivers answer 503.'),
    },
    (result, i) => {
      for (const p of source.pipelines()) {
        result.observe(i.held!, p.held, { [A.ATTR_PIPELINE]: p.id });
        // Infinity (its queues on disk, or none that blocks): no item limit, no series.
        if (Number.isFinite(p.capacity)) result.observe(i.capacity!, p.capacity, { [A.ATTR_PIPELINE]: p.id });
      }
    },
  );

  group(
    {
      usage: gauge(M.METRIC_OTELCOL_STORAGE_USAGE_BYTES, "Bytes a file_storage extension's queues take on disk now."),
      limit: gauge(M.METRIC_OTELCOL_STORAGE_LIMIT_BYTES, "A file_storage extension's budget (max_size_mib) for all its queues."),
    },
    (result, i) => {
      for (const s of source.storages()) {
        result.observe(i.usage!, s.bytes, { [A.ATTR_EXTENSION]: s.id });
        result.observe(i.limit!, s.maxBytes, { [A.ATTR_EXTENSION]: s.id });
      }
    },
  );
}

export interface SelfTelemetryOptions {
  /** service.name, service.version and service.instance.id; `service.telemetry.resource` adds to them. */
  resource: Record<string, string>;
  log: Logger;
  /** Replaces every periodic reader's interval (replay, tests); 0: they export once, at shutdown. */
  periodicIntervalMs?: number;
}

export class SelfTelemetry {
  /** The Prometheus pull readers (`address`, then `readers[].pull`), each with its server. */
  readonly endpoints: PrometheusEndpoint[] = [];
  /** The resource attributes of the sidecar's own metrics and logs. */
  readonly resource: Readonly<Record<string, string>>;
  private readonly _config: TelemetryConfig['metrics'];
  private readonly _source: TelemetrySource;
  private readonly _options: SelfTelemetryOptions;
  private _provider: MeterProvider | undefined;
  private _starting: Promise<void> | undefined;
  private _stopProcessMetrics: (() => void) | undefined;

  constructor(config: TelemetryConfig, source: TelemetrySource, options: SelfTelemetryOptions) {
    this._config = config.metrics;
    this._source = source;
    this._options = options;
    const attributes: Record<string, string> = { ...options.resource };
    for (const [key, value] of Object.entries(config.resource)) {
      if (value === null) delete attributes[key];
      else attributes[key] = value;
    }
    this.resource = attributes;
    if (this._config.level === 'none') return;
    const auth = this._config.basic_auth;
    if (this._config.address !== undefined) this.endpoints.push(new PrometheusEndpoint(this._config.address, auth));
    for (const r of this._config.readers) {
      const p = r.pull?.exporter.prometheus;
      if (p !== undefined) this.endpoints.push(new PrometheusEndpoint({ host: p.host, port: p.port }, auth));
    }
  }

  /** Whether any reader reads (level none, or no reader: nothing is collected at all). */
  get enabled(): boolean {
    return this._config.level !== 'none' && (this.endpoints.length > 0 || this._config.readers.some((r) => r.periodic !== undefined));
  }

  /** Builds the meter provider (periodic readers start their clocks), then serves the pull readers. */
  start(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this._starting ??= this._start();
    return this._starting;
  }

  private async _start(): Promise<void> {
    const { ValueType } = otelApi();
    const { resourceFromAttributes } = otelResources();
    const { MeterProvider, PeriodicExportingMetricReader } = sdkMetrics();
    const { registerProcessMetrics } = await import('./process-metrics.ts');
    const readers: IMetricReader[] = await Promise.all(this.endpoints.map((e) => e.load()));
    for (const [i, r] of this._config.readers.entries()) {
      if (r.periodic === undefined) continue;
      const override = this._options.periodicIntervalMs;
      const interval = override === undefined ? r.periodic.interval : override > 0 ? override : NEVER_MS;
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: await metricExporter(r.periodic.exporter.otlp, `service.telemetry.metrics.readers[${i}]`, this._options.log),
          exportIntervalMillis: interval,
          // The SDK refuses a timeout longer than the interval.
          exportTimeoutMillis: Math.min(r.periodic.timeout, interval),
        }),
      );
    }
    this._provider = new MeterProvider({ resource: resourceFromAttributes(this.resource), readers });
    const meter = this._provider.getMeter(String(this._options.resource['service.name'] ?? 'heroku-otel-drain'), this._options.resource['service.version']);
    const withOurs = this._config.level !== 'basic';
    registerComponentMetrics(meter, this._source, withOurs, ValueType.INT);
    this._stopProcessMetrics = registerProcessMetrics(meter, withOurs);
    for (const e of this.endpoints) await e.start();
  }

  /** The pull readers' servers close, then every periodic reader collects and exports a last time; safe twice. */
  async shutdown(): Promise<void> {
    // A start under way ends first: its provider is the one to shut down.
    await this._starting?.catch(() => {});
    const provider = this._provider;
    this._provider = undefined;
    this._stopProcessMetrics?.();
    this._stopProcessMetrics = undefined;
    // The servers first: the last export does not need them, and they close whatever it does.
    await Promise.all(this.endpoints.map((e) => e.shutdown()));
    await provider?.shutdown();
  }
}
