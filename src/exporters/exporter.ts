/**
 * What every exporter does: send one batch of one drain's telemetry, and say how it went, so the
 * pipeline can retry, count and never lose a record silently.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../translate/telemetry.ts';

/** The signals an exporter may serve: a pipeline's, and the OTLP path each goes to. */
export type ExportSignal = 'logs' | 'metrics' | 'traces';

export interface ExportBatch {
  /** The drain's resource: service.name, cloud.provider=heroku, ... */
  resource: Attributes;
  logs: readonly LogRecordData[];
  metrics: readonly MetricPointData[];
  /** A traces pipeline's spans; absent or empty in a logs or metrics batch. */
  spans?: readonly SpanData[];
  /** The batch's items already in the exporter's wire form (`Exporter.wire`): then logs, metrics and spans are empty. */
  encoded?: EncodedItems;
}

/** Items of one signal as an exporter's `wire` encoded them, in order. */
export interface EncodedItems {
  signal: ExportSignal;
  /** Items (records, spans) in them all. */
  count: number;
  /** What `wire.encode` made, one after another. */
  parts: readonly Uint8Array[];
}

/**
 * How an exporter's items look on its wire, for a sending queue to encode them once, as it takes
 * them: it then holds (and stores on disk) compact bytes rather than the objects, and the
 * exporter makes its requests of those bytes without encoding them again.
 */
export interface WireForm {
  /** Names the form in storage (`otlp-proto-1`): entries of another form are never given to this exporter. */
  readonly name: string;
  /** Whether items of `signal` are encoded; the others are queued as objects. */
  encodes(signal: ExportSignal): boolean;
  /** `items` of `signal` in this form: a buffer of their own, that the caller keeps. */
  encode(signal: ExportSignal, items: readonly unknown[]): Uint8Array;
  /** What `encode` made, cut after its first `n` items: the two parts. */
  split(bytes: Uint8Array, n: number): [Uint8Array, Uint8Array];
}

/** What an attempt sent, for the debug log: request bytes (all requests of it) and the last status. */
export interface ExportDetail {
  bytes?: number;
  status?: number;
}

export type ExportResult =
  /**
   * `rejected`: items the backend refused for good although it answered success (an OTLP
   * partial success), with its `warning`; a warning may also come with nothing rejected.
   */
  | ({ ok: true; rejected?: number; warning?: string } & ExportDetail)
  /**
   * `retryable`: the same batch may succeed later (after `retryAfterMs` when the backend said).
   * `error` is read by people: the status or the network error, never a credential.
   */
  | ({ ok: false; retryable: boolean; retryAfterMs?: number; error: string } & ExportDetail);

export interface Exporter {
  /** The component id (`otlphttp/grafana`). */
  readonly id: string;
  /**
   * Where each signal goes, for log lines: a URL without its credentials or query, a path.
   * Undefined when there is nothing to say (stdout).
   */
  readonly endpoints?: Readonly<Partial<Record<ExportSignal, string>>>;
  /**
   * Sends one batch. `signal` is aborted when the pipeline's shutdown deadline passes: a request
   * still in flight then is given up at once.
   */
  export(batch: ExportBatch, signal?: AbortSignal): Promise<ExportResult>;
  /** Set when its queue may hold items encoded (`ExportBatch.encoded`) for it. */
  readonly wire?: WireForm | undefined;
  /** Flushes what it holds and releases its resources. Safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * A URL as our log lines may show it: scheme, host, port and path; never the userinfo
 * (`user:password@`) or the query (`?api_key=`), where credentials hide.
 */
export function urlForLogs(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** The instrumentation scope of everything we emit. */
export const SCOPE = { name: pkg.name, version: pkg.version };
