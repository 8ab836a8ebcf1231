/**
 * The component model, as the Collector's: every receiver, processor, exporter and extension is
 * made by a factory that names its type, its config schema (defaults included) and the signals it
 * supports. The service builds what a config lists from the factories in `src/components.ts`
 * alone, never naming a type; adding a component touches its own folder and one registry line.
 */
import type { z } from 'zod';
import type { Exporter } from '../exporters/exporter.ts';
import type { BatchConsumer, RoomCheck } from '../receivers/logplex/receiver.ts';
import type { Logger } from './log.ts';
import type { RetrySettings } from './retry.ts';
import type { ReceiverCounters } from './self-telemetry.ts';

export type Signal = 'logs' | 'metrics';
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

export interface Extension {
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ExtensionFactory extends FactoryBase<'extensions'> {
  create(id: string, config: unknown, host: Host): Extension;
}

/** Where a receiver listens, for the service's "listening on" lines. */
export interface Listening {
  transport: 'http' | 'tcp' | 'udp';
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
}

export interface ReceiverFactory extends FactoryBase<'receivers'> {
  signals: readonly Signal[];
  /** Whether this config lets anyone in (no drains, no credentials): then only loopback is allowed. */
  open(config: unknown): boolean;
  create(id: string, config: unknown, next: ReceiverNext, host: Host): Receiver;
}

/** An exporter, with its retry_on_failure and what its sending_queue lets a pipeline hold. */
export interface BuiltExporter {
  exporter: Exporter;
  retry: RetrySettings;
  /** Items this exporter lets its pipelines hold, given their batch size; undefined: no say. */
  capacity?: (sendBatchSize: number) => number;
}

export interface ExporterFactory extends FactoryBase<'exporters'> {
  signals: readonly Signal[];
  create(id: string, config: unknown, host: Host): BuiltExporter;
}

/** Processors are still built by the service (ordered chains per pipeline come next). */
export interface ProcessorFactory extends FactoryBase<'processors'> {
  signals: readonly Signal[];
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;
