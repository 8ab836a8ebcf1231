/**
 * The service: builds receivers, pipelines and exporters from a validated config, starts them in
 * order, and stops them in the reverse order, flushing everything that was accepted.
 */
import { readFileSync } from 'node:fs';
import { factoryOf } from '../components.ts';
import type { BuiltExporter, ComponentKind, EmitOptions, Extension, Host, Processor, ProcessorHost, Receiver, Signal } from './component.ts';
import type { ComponentConfig, SidecarConfig } from '../config/load.ts';
import { isLoopback } from '../receivers/logplex/config.ts';
import type { ReceivedBatch } from '../receivers/logplex/receiver.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData, TelemetryBatch } from '../translate/telemetry.ts';
import { errorSite, type Level, type Logger } from './log.ts';
import { Pipeline } from './pipeline.ts';
import { SendingQueue } from '../exporters/exporterhelper/queue.ts';
import type { SegmentLog } from '../extensions/file_storage/segment-log.ts';
import { countIntake, newReceiverIntake, SelfTelemetry, storagesOf, transportOf, type ItemCounts, type ReceiverIntake } from './self-telemetry.ts';
import { OwnLogs } from './own-logs.ts';
import type { PrometheusEndpoint } from './prometheus.ts';
import { StatusBoard } from './status.ts';
import { MetricsStage } from '../processors/interval/stage.ts';
import { intervalConfigSchema } from '../processors/interval/config.ts';
import { defaultInstanceId, stageSettings } from '../processors/interval/factory.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import pkg from '../../package.json' with { type: 'json' };

/** A pipeline's processors, and what they amount to, known once at build time. */
interface Chain {
  /** The processors that run on its items, in the order it lists them (a metrics pipeline's: before its aggregation). */
  steps: Processor[];
  /** Each step's processor id (emitLogs `after` finds its place by it). */
  stepIds: string[];
  /** Per step, what it was given and handed on (shared with the other pipelines of its signal that list it). */
  counts: ItemCounts[];
  /** A metrics pipeline's aggregation stage, and the processors that work on what it sends (cumulativetodelta). */
  stage?: MetricsStage;
  /** The interval processor the stage is (`interval` when the pipeline lists none), and its counts when it is listed. */
  stageId?: string;
  stageCounts?: ItemCounts;
  after?: Processor[];
  /** Some step changes records. */
  mutates: boolean;
  /** A redact step is among them: its records are fit for the status page. */
  redacts: boolean;
}

/** A record another pipeline's processors may change without this one seeing it. */
function copyRecord(record: LogRecordData): LogRecordData {
  return { ...record, attributes: { ...record.attributes } };
}

/** A span another pipeline's processors may change without this one seeing it. */
function copySpan(span: SpanData): SpanData {
  return { ...span, attributes: { ...span.attributes } };
}

const NO_SPANS: readonly SpanData[] = [];

/** Dynos per drain resource whose span resources are kept; past it the cache starts again (a new object per dyno, the same key). */
const MAX_DYNO_RESOURCES = 1000;

/** A point a processor may change without another pipeline (or the aggregation stage's series) seeing it. */
function copyPoint(point: MetricPointData): MetricPointData {
  return { ...point, attributes: { ...point.attributes } };
}

/** A receiver the service runs. */
export interface RunningReceiver {
  id: string;
  type: string;
  receiver: Receiver;
  /** Listening with no drains and no opt-in: loopback only. */
  open: boolean;
  /** What its pipelines took of what it read. */
  intake: ReceiverIntake;
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

export interface ServiceOptions {
  /**
   * Replaces the interval of every periodic reader of the sidecar's own metrics
   * (service.telemetry.metrics.readers); 0: they export once, at shutdown (replay, tests).
   */
  selfTelemetryIntervalMs?: number;
  /**
   * Extensions made by whoever runs the service, beside the config's, by id (a cluster worker's
   * frame-id claims through its primary, which the config names as a receiver's `storage`).
   */
  extensions?: ReadonlyMap<string, Extension>;
}


export class Service {
  private readonly _receivers: RunningReceiver[] = [];
  /** Each running receiver's config, by id. */
  private readonly _receiverConfigs = new Map<string, unknown>();
  private readonly _pipelines: Pipeline[] = [];
  private readonly _exporters = new Map<string, BuiltExporter>();
  /** Each exporter's queue per signal (`otlphttp/grafana` logs), shared by the pipelines of that signal listing it. */
  private readonly _queues = new Map<string, SendingQueue>();
  private readonly _log: Logger;
  private readonly _pipelineIds = new Map<Pipeline, string>();
  /** Processors by id: one instance for every pipeline that lists it. */
  private readonly _processors = new Map<string, Processor>();
  /** Per processor id, the logs pipelines that list it: where the records it emits go. */
  private readonly _logsPipelinesOf = new Map<string, Pipeline[]>();
  /** Per pipeline, its processors in the order it lists them. */
  private readonly _chains = new Map<Pipeline, Chain>();
  /** Lines taken per drain (its service.name), for the self-telemetry. */
  readonly drainLines = new Map<string, number>();
  /** service.telemetry.status: what the status page shows. */
  readonly status: StatusBoard | undefined;
  /** service.telemetry.metrics: the sidecar's own metrics and their readers. */
  readonly telemetry: SelfTelemetry;
  /** service.telemetry.logs.processors: the copy of its log over OTLP. */
  private readonly _ownLogs: OwnLogs | undefined;
  /** What each processor that works on items was given and handed on, per signal. */
  private readonly _itemCounts = new Map<string, { id: string; signal: Signal; counts: ItemCounts }>();
  /** Running extensions (service.extensions), by id. */
  private readonly _extensions = new Map<string, Extension>();
  /** Per drain resource, the resource of each dyno's spans (see _spanResource). */
  private readonly _dynoResources = new WeakMap<Attributes, Map<string, Attributes>>();
  private _stopped = false;

  constructor(config: SidecarConfig, log: Logger, options: ServiceOptions = {}) {
    const stderr = log;
    this.telemetry = new SelfTelemetry(
      config.telemetry,
      {
        receivers: () => this._receivers.map(({ id, receiver, intake }) => ({ id, transport: transportOf(receiver.listening()), counters: receiver.counters, intake })),
        drains: () => this.drainLines,
        processors: () => [...this._itemCounts.values()],
        stages: () => [...this._chains].flatMap(([p, c]) => (c.stage === undefined ? [] : [{ processor: c.stageId!, pipeline: p.id, stats: c.stage.stats }])),
        alerts: () => [...this._processors.values()].flatMap((x) => (x.alertsSnapshot === undefined ? [] : [{ ...x.alertsSnapshot(), firingNow: x.firing?.().length ?? 0 }])),
        sampling: () => [...this._processors.values()].flatMap((x) => (x.samplingSnapshot === undefined ? [] : [x.samplingSnapshot()])),
        pipelines: () => this._pipelines.map((p) => ({ id: p.id, held: p.held, capacity: p.capacity })),
        queues: () => this.queues,
        storages: () => storagesOf(this._extensions),
      },
      {
        resource: { 'service.name': pkg.name, 'service.version': pkg.version, 'service.instance.id': defaultInstanceId() },
        log: (level, message, fields) => this._log(level, message, fields),
        ...(options.selfTelemetryIntervalMs !== undefined ? { periodicIntervalMs: options.selfTelemetryIntervalMs } : {}),
      },
    );
    const logs = config.telemetry.logs;
    // The config's level wins over OTEL_LOG_LEVEL / LOG_LEVEL, which set the logger's at start.
    if (logs.level !== undefined) (log as { setLevel?(level: Level): void }).setLevel?.(logs.level);
    if (logs.processors.length > 0) {
      this._ownLogs = new OwnLogs(logs.processors, this.telemetry.resource, logs.level ?? 'info', stderr, { name: pkg.name, version: pkg.version });
      log = this._ownLogs.tee(log);
    }
    this._log = log;
    const host: Host = { log, extension: (id) => this._extensions.get(id) };
    for (const [id, extension] of options.extensions ?? []) this._extensions.set(id, extension);
    for (const id of config.serviceExtensions) {
      const component = config.extensions.get(id)!;
      this._extensions.set(id, this._factory('extensions', id, component.type).create(id, component.config, host));
    }
    for (const [id, component] of config.exporters) {
      this._exporters.set(id, this._factory('exporters', id, component.type).create(id, component.config, host));
    }
    const processorHost: ProcessorHost = { ...host, emitLogs: (pid, resource, records, options) => this._emitLogs(pid, resource, records, options) };
    const byReceiver = new Map<string, Pipeline[]>();
    for (const [id, p] of config.pipelines) {
      const signal = p.signal;
      // Its processors in the order it lists them; one of another signal only is left out.
      const built = p.processors.flatMap((pid) => {
        const processor = this._processor(pid, config.processors.get(pid)!, signal, processorHost);
        return processor === undefined ? [] : [{ id: pid, processor }];
      });
      const processors = built.map((b) => b.processor);
      const batch = processors.find((x) => x.batch !== undefined)?.batch;
      const queues = p.exporters.map((e) => this._queue(e, signal, log));
      const gates = processors.filter((x) => x.accepting !== undefined);
      const pipeline = new Pipeline({
        id,
        signal,
        queues,
        batch,
        ...(gates.length > 0 ? { accepting: () => gates.every((x) => x.accepting!()) } : {}),
      });
      this._pipelines.push(pipeline);
      this._pipelineIds.set(pipeline, id);
      if (signal === 'logs') {
        for (const pid of p.processors) this._logsPipelinesOf.set(pid, [...(this._logsPipelinesOf.get(pid) ?? []), pipeline]);
      }
      if (signal === 'metrics') {
        this._chains.set(pipeline, this._metricsChain(id, pipeline, built, log));
      } else {
        const steps = built.filter((b) => b.processor.process !== undefined);
        this._chains.set(pipeline, {
          steps: steps.map((b) => b.processor),
          stepIds: steps.map((b) => b.id),
          counts: steps.map((b) => this._countsOf(b.id, signal)),
          mutates: steps.some((b) => b.processor.mutates),
          redacts: steps.some((b) => b.processor.redacts === true),
        });
      }
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
      const intake = newReceiverIntake();
      const records = pipelines.some((p) => p.signal === 'logs');
      const points = pipelines.some((p) => p.signal === 'metrics');
      // Spans cost a hash and an object per router line: made only when a traces pipeline takes them.
      const spans = pipelines.some((p) => p.signal === 'traces');
      const consume = (batch: ReceivedBatch) => countIntake(intake, batch, records, points, this._fanOut(pipelines, batch));
      // Asked from a request's headers, before its body is read: a line is a record in a logs
      // pipeline and at most a span in a traces pipeline; a metrics pipeline aggregates whatever
      // comes, so it only asks its memory_limiter.
      const room = (lines: number) => pipelines.every((p) => (p.signal === 'metrics' ? p.accepts() : p.fits(lines)));
      const receiver = factory.create(id, component.config, { consume, room, spans }, host);
      this._receivers.push({ id, type: component.type, receiver, open: factory.open(component.config), intake });
    }
    if (config.telemetry.status.enabled) {
      const board = new StatusBoard();
      this.status = board;
      const render = () =>
        board.render({
          pipelines: () => this._pipelineSnapshots(),
          queues: () => this.queues,
          firing: () => [...this._processors.values()].flatMap((x) => x.firing?.() ?? []),
        });
      for (const { receiver } of this._receivers) receiver.serveStatusPage?.({ path: config.telemetry.status.path, render });
    }
  }

  /** The first Prometheus pull reader of the sidecar's own metrics (service.telemetry.metrics), if any. */
  get prometheus(): PrometheusEndpoint | undefined {
    return this.telemetry.endpoints[0];
  }

  /** A processor's counts for one signal, shared by every pipeline of that signal listing it. */
  private _countsOf(id: string, signal: Signal): ItemCounts {
    const key = `${id}\u0000${signal}`;
    let entry = this._itemCounts.get(key);
    if (entry === undefined) {
      entry = { id, signal, counts: { incoming: 0, outgoing: 0 } };
      this._itemCounts.set(key, entry);
    }
    return entry.counts;
  }

  /** The factory of a component the config names; the config loader has checked the type exists. */
  private _factory<K extends ComponentKind>(kind: K, id: string, type: string) {
    const factory = factoryOf(kind, type);
    if (factory === undefined) throw new Error(`${kind}.${id}: the ${type} component is not available in this version`);
    return factory;
  }

  /** The processor of an id, made on first use; undefined in a pipeline of a signal it does not work on. */
  private _processor(id: string, component: ComponentConfig, signal: Signal, host: ProcessorHost): Processor | undefined {
    const factory = this._factory('processors', id, component.type);
    if (!factory.signals.includes(signal)) {
      // validate refuses it there: a traces pipeline never runs without a processor it lists.
      if (signal === 'traces') throw new Error(`processors.${id}: a ${component.type} processor does not work on traces`);
      return undefined;
    }
    let processor = this._processors.get(id);
    if (processor === undefined) {
      processor = factory.create(id, component.config, host);
      this._processors.set(id, processor);
    }
    return processor;
  }

  /**
   * A metrics pipeline's chain: the processors before its aggregation stage (at `interval`'s place,
   * else before the first processor that works on aggregated points, else at the end), the stage,
   * and the processors after it. The config loader has checked the order.
   */
  private _metricsChain(id: string, pipeline: Pipeline, built: Array<{ id: string; processor: Processor }>, log: Logger): Chain {
    let at = built.findIndex((b) => b.processor.aggregation !== undefined);
    const listed = at >= 0;
    if (at < 0) at = built.findIndex((b) => b.processor.afterAggregation === true);
    if (at < 0) at = built.length;
    const settings = (listed ? built[at]!.processor.aggregation : undefined) ?? stageSettings(intervalConfigSchema.parse(undefined));
    const steps = built.slice(0, at).filter((b) => b.processor.process !== undefined);
    const afterBuilt = built.slice(at).filter((b) => b.processor.transformMetrics !== undefined || b.processor.process !== undefined);
    const after = afterBuilt.map((b) => b.processor);
    const afterCounts = afterBuilt.map((b) => this._countsOf(b.id, 'metrics'));
    const stageCounts = listed ? this._countsOf(built[at]!.id, 'metrics') : undefined;
    const refused = new RateLimitedLog(log);
    const stage = new MetricsStage(`service.pipelines.${id}`, settings, (resource, key, points) => {
      if (stageCounts !== undefined) stageCounts.outgoing += points.length;
      for (let i = 0; i < after.length; i++) {
        const x = after[i]!;
        afterCounts[i]!.incoming += points.length;
        if (x.transformMetrics !== undefined) {
          points = x.transformMetrics(resource, points);
          afterCounts[i]!.outgoing += points.length;
          continue;
        }
        // The stage's points share their attributes with its series: a processor changing them works on copies.
        if (x.mutates) points = points.map(copyPoint);
        const r = x.process!(resource, [], points, new Set());
        if (r?.metrics !== undefined) points = r.metrics;
        afterCounts[i]!.outgoing += points.length;
        if (r?.resource !== undefined && r.resource !== resource) {
          resource = r.resource;
          key = resourceKey(resource);
        }
      }
      // The stage's series identity served the processors after it; the queue keeps no such thing.
      if (after.length > 0) for (const p of points) if (p.series !== undefined) delete p.series;
      const taken = pipeline.offer(resource, key, points);
      const said = (ok: boolean) => {
        // A cumulative series refused now is not lost (the next export carries it); a delta is.
        if (!ok) refused.report('warn', 'refused', `service.pipelines.${id}: a full queue refused ${points.length} aggregated points (cumulative series catch up at the next export; deltas are lost)`, { pipeline: id, points: points.length });
      };
      if (taken === true || taken === false) return said(taken);
      return taken.then(said);
    }, log, { seriesIdentity: after.length > 0 });
    return {
      steps: steps.map((b) => b.processor),
      stepIds: steps.map((b) => b.id),
      counts: steps.map((b) => this._countsOf(b.id, 'metrics')),
      stage,
      stageId: listed ? built[at]!.id : 'interval',
      ...(stageCounts !== undefined ? { stageCounts } : {}),
      after,
      mutates: steps.some((b) => b.processor.mutates),
      redacts: false,
    };
  }

  /** Every pipeline's figures, for the status page, the Prometheus endpoint and the self-telemetry. */
  private _pipelineSnapshots() {
    return this._pipelines.map((p) => ({ id: this._pipelineIds.get(p)!, held: p.held, capacity: p.capacity, counters: p.counters, aggregation: this._chains.get(p)?.stage?.stats }));
  }

  /** Each metrics pipeline's aggregation stage. */
  get stages(): MetricsStage[] {
    return [...this._chains.values()].flatMap((c) => (c.stage === undefined ? [] : [c.stage]));
  }

  /** An exporter's queue for one signal, made on first use; on disk when its sending_queue names a storage. */
  private _queue(exporterId: string, signal: Signal, log: Logger): SendingQueue {
    const key = `${exporterId}\u0000${signal}`;
    let queue = this._queues.get(key);
    if (queue === undefined) {
      const built = this._exporters.get(exporterId)!;
      let storage: SegmentLog | undefined;
      if (built.queue.enabled && built.queue.storage !== undefined) {
        const extension = this._extensions.get(built.queue.storage) as { queueLog?: (name: string) => SegmentLog } | undefined;
        if (extension?.queueLog === undefined) throw new Error(`exporters.${exporterId}.sending_queue.storage: extension "${built.queue.storage}" does not store queues (use a file_storage extension)`);
        // As the Collector names a queue's storage: kind, type, name and signal.
        storage = extension.queueLog(`exporter_${exporterId.replace('/', '_')}_${signal}`);
      }
      // `as`: the exporters' own Signal gains traces with the traces exporters (branch traces-export).
      queue = new SendingQueue({ exporter: built.exporter, signal, queue: built.queue, retry: built.retry, ...(storage ? { storage } : {}), log });
      this._queues.set(key, queue);
    }
    return queue;
  }

  /** Every exporter's queues: their sizes and counters, for the status page and self-telemetry. */
  get queues(): readonly SendingQueue[] {
    return [...this._queues.values()];
  }

  /**
   * Records a processor made (alerts) or held back (tail_sampling), into the logs pipelines that
   * list it (or every logs pipeline; or the one `options.pipeline` names). With `options.after`,
   * each pipeline first runs the steps it lists after that processor on them.
   */
  private _emitLogs(processorId: string, resource: Attributes, records: LogRecordData[], options: EmitOptions = {}): boolean {
    let pipelines = this._logsPipelinesOf.get(processorId) ?? this._pipelines.filter((p) => p.signal === 'logs');
    if (options.pipeline !== undefined) pipelines = pipelines.filter((p) => p.id === options.pipeline);
    const key = resourceKey(resource);
    let taken = true;
    pipelines.forEach((p, n) => {
      let own = records;
      let r = resource;
      const chain = this._chains.get(p);
      const at = options.after === true && chain !== undefined ? chain.stepIds.indexOf(processorId) : -1;
      if (at >= 0) {
        // The last pipeline may change the records as given; the others work on copies.
        if (chain!.mutates && n < pipelines.length - 1) own = own.map(copyRecord);
        for (let i = at + 1; i < chain!.steps.length; i++) {
          const counts = chain!.counts[i]!;
          counts.incoming += own.length;
          const out = chain!.steps[i]!.process!(r, own, [], new Set(), undefined, p.id);
          if (out?.logs !== undefined) own = out.logs;
          if (out?.resource !== undefined) r = out.resource;
          counts.outgoing += own.length;
        }
      }
      if (own.length > 0 && !p.offer(r, r === resource ? key : resourceKey(r), own)) taken = false;
    });
    return taken;
  }

  /**
   * Offers a batch to every pipeline of its receiver, all or none, so a 503'd batch is not half
   * taken. Each pipeline runs its own processors in its own order on its own items: a pipeline
   * whose processors change records or spans (redact, geoip) works on copies when another
   * pipeline takes the same items, so that nothing one pipeline does shows in another's export.
   */
  private _fanOut(pipelines: readonly Pipeline[], batch: ReceivedBatch): boolean | Promise<boolean> {
    const { logs, metrics } = batch.telemetry;
    const spans = batch.telemetry.spans ?? NO_SPANS;
    for (const p of pipelines) {
      // A metrics pipeline aggregates what it takes (bounded by max_streams): it refuses only when its memory_limiter does.
      const refuses =
        p.signal === 'logs'
          ? logs.length > 0 && !p.fits(logs.length)
          : p.signal === 'metrics'
            ? metrics.length > 0 && !p.accepts()
            : spans.length > 0 && !p.fits(spans.length);
      if (refuses) return false;
    }
    const key = resourceKey(batch.resource);
    const mayChangeRecords = logs.length === 0 ? undefined : this._mayChangeOriginals(pipelines, 'logs');
    const mayChangeSpans = spans.length === 0 ? undefined : this._mayChangeOriginals(pipelines, 'traces');
    const observed = new Set<string>();
    // What the status page shows: records a redacting pipeline processed, or, without one, as received.
    let shown: readonly LogRecordData[] = logs;
    let shownRedacted = false;
    let taken = true;
    let writes: Promise<boolean>[] | undefined;
    const offered = (t: boolean | Promise<boolean>): void => {
      if (t === false) taken = false;
      else if (t !== true) (writes ??= []).push(t);
    };
    for (const p of pipelines) {
      const chain = this._chains.get(p)!;
      if (p.signal === 'logs') {
        if (logs.length === 0) continue;
        // What a step hands on (another resource, fewer items) is what the next step gets.
        let resource = batch.resource;
        let own = chain.mutates && p !== mayChangeRecords ? logs.map(copyRecord) : logs;
        for (let i = 0; i < chain.steps.length; i++) {
          // Counted per batch, for otelcol_processor_incoming_items / _outgoing_items.
          const counts = chain.counts[i]!;
          counts.incoming += own.length;
          const r = chain.steps[i]!.process!(resource, own, [], observed, undefined, p.id);
          if (r?.logs !== undefined) own = r.logs;
          if (r?.resource !== undefined) resource = r.resource;
          counts.outgoing += own.length;
        }
        if (!shownRedacted && chain.redacts) {
          shown = own;
          shownRedacted = true;
        }
        offered(p.offer(resource, resource === batch.resource ? key : resourceKey(resource), own));
      } else if (p.signal === 'traces') {
        if (spans.length === 0) continue;
        const own = chain.mutates && p !== mayChangeSpans ? spans.map(copySpan) : spans;
        // A dyno's spans under its own resource (service.instance.id), each group through the processors.
        for (const [dynoResource, group] of this._spansByDyno(batch.resource, own)) {
          let resource = dynoResource;
          let items: readonly SpanData[] = group;
          for (let i = 0; i < chain.steps.length; i++) {
            const counts = chain.counts[i]!;
            counts.incoming += items.length;
            const r = chain.steps[i]!.process!(resource, [], [], observed, items, p.id);
            if (r?.spans !== undefined) items = r.spans;
            if (r?.resource !== undefined) resource = r.resource;
            counts.outgoing += items.length;
          }
          offered(p.offer(resource, resource === batch.resource ? key : resourceKey(resource), items));
        }
      } else {
        if (metrics.length === 0) continue;
        let resource = batch.resource;
        // Points are not copied up front for every pipeline: only one whose processors change them.
        let own: readonly MetricPointData[] = chain.mutates ? metrics.map(copyPoint) : metrics;
        for (let i = 0; i < chain.steps.length; i++) {
          const counts = chain.counts[i]!;
          counts.incoming += own.length;
          const r = chain.steps[i]!.process!(resource, [], own, observed);
          if (r?.metrics !== undefined) own = r.metrics;
          if (r?.resource !== undefined) resource = r.resource;
          counts.outgoing += own.length;
        }
        if (chain.stageCounts !== undefined) chain.stageCounts.incoming += own.length;
        chain.stage!.absorb(resource, resource === batch.resource ? key : resourceKey(resource), own);
      }
    }
    // After redaction: the status page shows no secret either.
    this.status?.observe(batch.resource, shown);
    if (logs.length > 0) {
      const drain = String(batch.resource['service.name'] ?? 'unnamed');
      if (this.drainLines.has(drain) || this.drainLines.size < 1000) this.drainLines.set(drain, (this.drainLines.get(drain) ?? 0) + logs.length);
    }
    // A queue on disk answers once written; one that failed to write makes it a 503.
    if (writes === undefined) return taken;
    return Promise.all(writes).then((results) => taken && results.every(Boolean));
  }

  /**
   * Who may change a signal's items as received: the one pipeline of that signal that takes
   * them, or, when every taker changes them, the last (the others have copies); otherwise nobody.
   */
  private _mayChangeOriginals(pipelines: readonly Pipeline[], signal: 'logs' | 'traces'): Pipeline | undefined {
    let takers = 0;
    let mutating = 0;
    let lastMutating: Pipeline | undefined;
    for (const p of pipelines) {
      if (p.signal !== signal) continue;
      takers++;
      if (this._chains.get(p)!.mutates) {
        mutating++;
        lastMutating = p;
      }
    }
    return mutating === takers ? lastMutating : undefined;
  }

  /**
   * Spans grouped by the dyno that served them, each group under the drain's resource with
   * `service.instance.id` = the dyno (the server instance, as Fir's own spans have it); spans
   * with no dyno (an H10 no dyno answered) stay under the drain's resource. One group for the
   * common batch of one dyno's requests: no map is made then.
   */
  private _spansByDyno(resource: Attributes, spans: readonly SpanData[]): Array<[Attributes, readonly SpanData[]]> {
    const first = spans[0]!.attributes['heroku.dyno.name'];
    let i = 1;
    while (i < spans.length && spans[i]!.attributes['heroku.dyno.name'] === first) i++;
    if (i === spans.length) return [[this._spanResource(resource, first), spans]];
    const groups = new Map<unknown, SpanData[]>();
    for (const span of spans) {
      const dyno = span.attributes['heroku.dyno.name'];
      const group = groups.get(dyno);
      if (group === undefined) groups.set(dyno, [span]);
      else group.push(span);
    }
    return [...groups].map(([dyno, group]) => [this._spanResource(resource, dyno), group]);
  }

  /** The resource of a dyno's spans: one object per drain resource and dyno (batches go together by resource object), bounded. */
  private _spanResource(resource: Attributes, dyno: unknown): Attributes {
    if (typeof dyno !== 'string') return resource;
    let byDyno = this._dynoResources.get(resource);
    if (byDyno === undefined) {
      byDyno = new Map();
      this._dynoResources.set(resource, byDyno);
    }
    let r = byDyno.get(dyno);
    if (r === undefined) {
      if (byDyno.size >= MAX_DYNO_RESOURCES) byDyno.clear();
      r = { ...resource, 'service.instance.id': dyno };
      byDyno.set(dyno, r);
    }
    return r;
  }

  /**
   * Offers telemetry to every pipeline (replay and backfill, no receiver involved), waiting while
   * they are full: memory stays bounded however large the input.
   */
  async ingest(resource: Attributes, telemetry: TelemetryBatch): Promise<void> {
    while (!(await this._fanOut(this._pipelines, { resource, telemetry }))) {
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

  /** The processors, by id. */
  get processors(): ReadonlyMap<string, Processor> {
    return this._processors;
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

  /**
   * Everything but the receivers: for replay, which feeds the pipelines itself (ingest). The
   * aggregation stages run on no timer: replay exports them by the lines' own clock
   * (exportAggregated), so a day of samples replayed in a minute is still a day of points.
   */
  async startWithoutReceivers(): Promise<void> {
    await Promise.all([...this._extensions.values()].map((extension) => extension.start()));
    this._startQueues();
    for (const x of this._processors.values()) x.start?.();
  }

  /** Every metrics pipeline's export of what it aggregated, stamped `atMs` (replay: the lines' time). */
  async exportAggregated(atMs: number): Promise<void> {
    await Promise.all(this.stages.map((stage) => stage.flush(atMs)));
  }

  /** The shortest export interval of the metrics pipelines; undefined without one. */
  get exportIntervalMs(): number | undefined {
    const intervals = this.stages.map((stage) => stage.settings.intervalMs);
    return intervals.length === 0 ? undefined : Math.min(...intervals);
  }

  private _startQueues(): void {
    const byId = new Map(this._pipelines.map((p) => [p.id, p]));
    for (const q of this._queues.values()) q.start(byId);
  }

  async start(): Promise<void> {
    this._checkOpenFilesLimit();
    await Promise.all([...this._extensions.values()].map((extension) => extension.start()));
    // What an earlier run left on disk goes out first.
    this._startQueues();
    await this.telemetry.start();
    for (const endpoint of this.telemetry.endpoints) {
      const { host, port } = endpoint.address;
      this._log('info', `own metrics for Prometheus on http://${host}:${port}/metrics`);
    }
    // Before the receivers: a memory_limiter has measured once when the first data comes.
    for (const x of this._processors.values()) x.start?.();
    for (const stage of this.stages) stage.start();
    for (const { id, receiver, open } of this._receivers) {
      await receiver.start();
      for (const { host, port, transport } of receiver.listening()) {
        this._log('info', `${id}: listening on ${host}:${port}${transport === 'http' ? '' : ` (${transport})`}`, {
          receiver: id,
          ...(open && isLoopback(host) ? { note: 'loopback only: no drains or basic auth are set, so only this machine can send logs' } : {}),
        });
      }
    }
    // After the listening lines, which come first.
    for (const x of this._processors.values()) {
      const note = x.startedNote?.();
      if (note !== undefined) this._log('info', note);
    }
    for (const extension of this._extensions.values()) extension.ready?.();
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
    // Every step is bounded and its failure logged, never thrown: one component's error (a Redis
    // that went away, say) must not stop the flush of what the others hold.
    const step = async (what: string, work: () => Promise<unknown>, ms?: number): Promise<void> => {
      const guarded = work().catch((error: unknown) => this._log('error', `shutdown: ${what} failed; going on`, errorSite(error)));
      await (ms === undefined ? guarded : Promise.race([guarded, new Promise((r) => setTimeout(r, ms).unref())]));
    };
    for (const extension of this._extensions.values()) extension.notReady?.();
    await step('receivers', () => Promise.all(this._receivers.map(({ receiver }) => receiver.shutdown())));
    // Processors' last work (an alert evaluation, so what fired on the last lines still goes
    // out) while the pipelines take it; bounded: a hung Redis must not eat the flush's time.
    const processors = [...this._processors.values()];
    await step("the processors' last work (alert evaluations)", () => Promise.all(processors.map((x) => x.flush?.())), 3000);
    await step('processors', () => Promise.all(processors.map((x) => x.shutdown?.())));
    // What the stages aggregated since their last export, into the queues before they close.
    await step('the last export of aggregated metrics', () => Promise.all(this.stages.map((stage) => stage.shutdown())), 3000);
    for (const p of this._pipelines) p.stop();
    await step('queues', () => Promise.all([...this._queues.values()].map((q) => q.shutdown(Math.max(0, deadlineMs - (Date.now() - started))))));
    await step('exporters', () => Promise.all([...this._exporters.values()].map(({ exporter }) => exporter.shutdown())), 2000);
    await step('extensions', () => Promise.all([...this._extensions.values()].map((extension) => extension.shutdown())), 2000);
    // Once the queues have counted their last: a last export carries the final counts.
    await step("the sidecar's own metrics (their last export)", () => this.telemetry.shutdown(), 1500);
    for (const { id, receiver } of this._receivers) this._log('info', `${id}: stopped`, { receiver: id, ...receiver.counters });
    for (const p of this._pipelines) this._log('info', 'pipeline stopped', { pipeline: this._pipelineIds.get(p), signal: p.signal, ...p.counters });
    const unexported = this._pipelines.map((p) => ({
      pipeline: this._pipelineIds.get(p)!,
      dropped_at_shutdown: p.counters.droppedAtShutdown,
      failed: Object.values(p.counters.failed).reduce((a, b) => a + b, 0),
      // Dropped by a full queue that does not block: not exported by that exporter.
      queue_full: Object.values(p.counters.queueFull).reduce((a, b) => a + b, 0),
    }));
    const lost = unexported.reduce((n, u) => n + u.dropped_at_shutdown + u.failed + u.queue_full, 0);
    if (lost === 0) this._log('info', 'stopped: every accepted item was exported');
    else this._log('error', `stopped: ${lost} accepted items could not be exported`, { pipelines: unexported.filter((u) => u.dropped_at_shutdown + u.failed + u.queue_full > 0) });
    // Its own log's copy over OTLP, last: the lines above go out too.
    if (this._ownLogs !== undefined) await step("the copy of the sidecar's own log", () => this._ownLogs!.shutdown(), 1500);
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
