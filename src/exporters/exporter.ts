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
