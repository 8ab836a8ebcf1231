/**
 * What every exporter does: send one batch of one drain's telemetry, and say how it went, so the
 * pipeline can retry, count and never lose a record silently.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { Attributes, LogRecordData, MetricPointData } from '../translate/telemetry.ts';

export interface ExportBatch {
  /** The drain's resource: service.name, cloud.provider=heroku, ... */
  resource: Attributes;
  logs: readonly LogRecordData[];
  metrics: readonly MetricPointData[];
}

export type ExportResult =
  /**
   * `rejected`: items the backend refused for good although it answered success (an OTLP
   * partial success), with its `warning`; a warning may also come with nothing rejected.
   */
  | { ok: true; rejected?: number; warning?: string }
  /** `retryable`: the same batch may succeed later (after `retryAfterMs` when the backend said). */
  | { ok: false; retryable: boolean; retryAfterMs?: number; error: string };

export interface Exporter {
  /** The component id (`otlphttp/grafana`). */
  readonly id: string;
  export(batch: ExportBatch): Promise<ExportResult>;
  /** Flushes what it holds and releases its resources. Safe to call twice. */
  shutdown(): Promise<void>;
}

/** The instrumentation scope of everything we emit. */
export const SCOPE = { name: pkg.name, version: pkg.version };
