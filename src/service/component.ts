/**
 * The component model, as the Collector's: every receiver, processor, exporter and extension is
 * made by a factory that names its type, its config schema (defaults included) and the signals it
 * supports. The service builds what a config lists from the factories in `src/components.ts`
 * alone, never naming a type; adding a component touches its own folder and one registry line.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { Exporter } from '../exporters/exporter.ts';
import type { AlertEvent } from '../processors/alerts/engine.ts';
import type { BatchConsumer, RoomCheck } from '../receivers/logplex/receiver.ts';
import type { Logger } from './log.ts';
import type { RetrySettings } from './retry.ts';
import type { SendingQueueConfig } from '../exporters/exporterhelper/config.ts';
import type { AlertsSnapshot, ReceiverCounters, SamplingSnapshot } from './self-telemetry.ts';
import type { StageSettings } from '../processors/interval/stage.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../translate/telemetry.ts';

export type Signal = 'logs' | 'metrics' | 'traces';
export type ComponentKind = 'receivers' | 'processors' | 'exporters' | 'extensions';

interface FactoryBase<K extends ComponentKind> {
  kind: K;
  /** The type a config names: `otlphttp` in `otlphttp/grafana`. */
  type: string;
  /** The config's schema, every default in it. */
  configSchema: z.ZodType;
}

/** What a component may ask of the service that runs it. */
export interface Host {
  log: Logger;
  /** A running extension, by id (`storage: redis`); undefined when there is none. */
  extension(id: string): Extension | undefined;
}

/** What an exporter's `auth.authenticator` asks of an extension (the Collector's extensionauth.HTTPClient). */
export interface ClientAuthenticator {
  /**
   * Sets or removes headers of one request (keys in lower case), over the exporter's own.
   * `resource`: the batch's, which headers_setter's `from_context` reads.
   */
  applyHeaders(headers: Record<string, string>, resource: Attributes): void;
}

/** What a receiver's `auth.authenticator` asks of an extension (the Collector's extensionauth.Server). */
export interface ServerAuthenticator {
  /** Whether a request's headers carry valid credentials (a promise when checking takes work: bcrypt). */
  authenticate(headers: IncomingHttpHeaders): boolean | Promise<boolean>;
}

export interface Extension {
  /** Set when its config makes it authenticate exporters' requests (see ExtensionFactory.authenticates). */
  readonly clientAuth?: ClientAuthenticator;
  /** Set when its config makes it check receivers' requests. */
  readonly serverAuth?: ServerAuthenticator;
  start(): Promise<void>;
  shutdown(): Promise<void>;
  /** Every component has started (the Collector's PipelineWatcher.Ready): health_check answers 200 from now. */
  ready?(): void;
  /** Shutdown has begun (PipelineWatcher.NotReady): health_check answers 503 before the receivers close. */
  notReady?(): void;
}

export interface ExtensionFactory extends FactoryBase<'extensions'> {
  /** Which requests a config of this type authenticates, for validate's `auth.authenticator` check; unset: none. */
  authenticates?(config: unknown): { client: boolean; server: boolean };
  create(id: string, config: unknown, host: Host): Extension;
}

/** Where a receiver listens, for the service's "listening on" lines. */
export interface Listening {
  transport: 'http' | 'https' | 'tcp' | 'udp';
  host: string;
  port: number;
}

/** The status page, as the service renders it; a receiver that serves pages serves it. */
export interface StatusPage {
  path: string;
  render: () => string;
}

export interface Receiver {
  readonly counters: ReceiverCounters;
  /** The first address it listens on (the real port when the config said 0). */
  readonly address: { host: string; port: number };
  start(): Promise<void>;
  /** Stops accepting and hands over what it holds; safe twice. */
  shutdown(): Promise<void>;
  listening(): Listening[];
  /** SIGHUP: read certificate files again. */
  reload?(): void;
  /** Serves the status page (a receiver that serves HTTP). */
  serveStatusPage?(page: StatusPage): void;
}

/** Where a receiver's batches go: into its pipelines, with a way to ask for room first. */
export interface ReceiverNext {
  consume: BatchConsumer;
  room: RoomCheck;
  /** Whether a traces pipeline takes its batches: then translation makes a span per router request. */
  spans?: boolean;
}

export interface ReceiverFactory extends FactoryBase<'receivers'> {
  signals: readonly Signal[];
  /** Whether this config lets anyone in (no drains, no credentials): then only loopback is allowed. */
  open(config: unknown): boolean;
  create(id: string, config: unknown, next: ReceiverNext, host: Host): Receiver;
}

/** An exporter, with its retry_on_failure and its sending_queue (one queue per signal it serves). */
export interface BuiltExporter {
  exporter: Exporter;
  retry: RetrySettings;
  queue: SendingQueueConfig;
}

export interface ExporterFactory extends FactoryBase<'exporters'> {
  signals: readonly Signal[];
  /** What this config cannot do in a pipeline of `signal` (otlphttp without a traces URL), each `key: message`. */
  signalProblems?(config: unknown, signal: Signal): string[];
  create(id: string, config: unknown, host: Host): BuiltExporter;
}

/** What a processor may ask of the service besides the Host: a way to emit records of its own. */
export interface ProcessorHost extends Host {
  /**
   * Offers records this processor made (alerts' transitions) to the logs pipelines that list it,
   * or to every logs pipeline when none does. `resource` should be one object per drain, reused:
   * batches go together by resource. False when a full pipeline did not take them.
   */
  emitLogs(processorId: string, resource: Attributes, records: LogRecordData[], options?: EmitOptions): boolean;
}

/** Where emitted records enter a logs pipeline. */
export interface EmitOptions {
  /**
   * Run the steps the pipeline lists after this processor first (records it held back:
   * tail_sampling's), rather than going straight to its exporters' queues (alerts' own records).
   */
  after?: boolean;
  /** Only this pipeline (the one `process` was called for); unset: every logs pipeline listing the processor. */
  pipeline?: string;
}

/** The batch processor's say on its pipelines' batching. */
export interface BatchSettings {
  timeoutMs: number;
  sendBatchSize: number;
  /** 0: no upper bound. */
  sendBatchMaxSize: number;
}

/**
 * What a processor hands on in place of what it was given: another resource (`resource`), fewer
 * items (`filter`). Unset members: as given. A processor never changes the resource object it was
 * given (one object serves a whole drain and every pipeline); it returns one of its own, the same
 * object for the same input (cache by input), since batches go together by resource object.
 */
export interface Processed {
  resource?: Attributes;
  logs?: LogRecordData[];
  metrics?: MetricPointData[];
  spans?: SpanData[];
}

/**
 * A processor, one shape for every type. The service makes one per id, shared by every pipeline
 * that lists it (its state is kept once), and runs `process` in the order each pipeline lists
 * its processors; the other members say what it does to the pipeline itself. Every member but
 * `mutates` is optional: a processor has only what it does.
 */
export interface Processor {
  /**
   * Whether `process` changes records or points in place (then a pipeline sharing them with
   * another works on copies). Returning other items or another resource is not changing them.
   */
  readonly mutates: boolean;
  /** Whether it masks secrets: records it processed are fit for the status page. Default false. */
  readonly redacts?: boolean;
  /**
   * Runs on a pipeline's own items: a logs pipeline passes its records (and no points), a
   * metrics pipeline its points. `observed` is shared by every pipeline of one received batch:
   * a processor that keeps state across pipelines marks what it has seen of it, to see it once.
   * In a metrics pipeline, a processor listed after the aggregation runs on the aggregated points
   * (with an `observed` of its own), unless it has `transformMetrics`. A traces pipeline passes
   * its spans as `spans` (and no records or points); the others pass none. `pipeline`: the id
   * of the pipeline it runs for (a processor holding records back emits them to it later).
   */
  process?(resource: Attributes, logs: readonly LogRecordData[], metrics: readonly MetricPointData[], observed: Set<string>, spans?: readonly SpanData[], pipeline?: string): void | Processed;
  /** The batch processor's settings for its pipelines; without one, each offered batch goes out as it is. */
  readonly batch?: BatchSettings;
  /**
   * `interval`: a metrics pipeline aggregates where it is listed, with these settings (the
   * service makes one aggregation stage per pipeline: each aggregates its own points). A
   * metrics pipeline that lists none aggregates with the defaults, after its processors.
   */
  readonly aggregation?: StageSettings;
  /** Works on aggregated points (cumulativetodelta): in a metrics pipeline it must come after the aggregation. */
  readonly afterAggregation?: boolean;
  /** After the aggregation: replaces a pipeline's points with what it returns. */
  transformMetrics?(resource: Attributes, points: MetricPointData[]): MetricPointData[];
  /** Whether its pipelines take data now (memory_limiter); always when unset. */
  accepting?(): boolean;
  /** Called before the receivers start (and for replay, which has none). */
  start?(): void;
  /** Said once in the log after the receivers' listening lines (memory_limiter's limits). */
  startedNote?(): string;
  /** Last work once the receivers stopped, while pipelines still take what it emits (alerts: a last evaluation). */
  flush?(): Promise<unknown>;
  /** Stops its timers and sends what it holds; bounded by itself, safe twice. */
  shutdown?(): Promise<void>;
  /** Alerts firing now, for the status page. */
  firing?(): AlertEvent[];
  /** Its alert counters, for the Prometheus endpoint and the self-telemetry. */
  alertsSnapshot?(): AlertsSnapshot;
  /** Its sampling decisions and what it holds (tail_sampling), for the Prometheus endpoint and the self-telemetry. */
  samplingSnapshot?(): SamplingSnapshot;
}

/**
 * Where a processor goes in a metrics pipeline, around its aggregation stage: on the points as
 * translated (alerts), as the stage itself (interval), or on the aggregated points
 * (cumulativetodelta). Unset: anywhere (batch, memory_limiter).
 */
export type MetricsPlacement = 'before-aggregation' | 'aggregation' | 'after-aggregation';

export interface ProcessorFactory extends FactoryBase<'processors'> {
  /** The signals it works on; in a pipeline of another signal, the service leaves it out. */
  signals: readonly Signal[];
  metricsPlacement?: MetricsPlacement;
  /**
   * What this config cannot do in a pipeline of `signal` (the Collector refuses to build it
   * there: attributes' `include.metric_names` in a logs pipeline), each `key: message` with the
   * key relative to the processor's config. validate reports them for each pipeline listing it.
   */
  signalProblems?(config: unknown, signal: Signal): string[];
  /** Called once per processor id, whatever the number of pipelines listing it. */
  create(id: string, config: unknown, host: ProcessorHost): Processor;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;
