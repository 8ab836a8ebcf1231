/**
 * The `otlphttp` exporter: OTLP over HTTP through the OpenTelemetry SDK's exporters (protobuf or
 * JSON, gzip or not). Our pipeline does the batching and queueing (the SDK's batch processor
 * drops records when its queue is full; ours answers Logplex 503 instead): this only converts a
 * batch and sends it, and says whether a failure is worth retrying.
 */
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { ExportResult as SdkExportResult } from '@opentelemetry/core';
import type { ExportBatch, ExportResult, Exporter } from '../exporter.ts';
import type { OtlphttpConfig } from './config.ts';
import { toReadableLogRecords, toResourceMetrics } from './translate.ts';

/** Statuses OTLP/HTTP says to retry; anything else from the backend is a permanent refusal. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

interface SdkExporter<T> {
  export(items: T, done: (result: SdkExportResult) => void): void;
  shutdown(): Promise<void>;
}

function outcome(result: SdkExportResult): ExportResult {
  if (result.code === 0) return { ok: true };
  const error = result.error as (Error & { code?: number | string; data?: string }) | undefined;
  // An HTTP status is a number; a string code (ECONNREFUSED) means the backend was not reached.
  const status = typeof error?.code === 'number' ? error.code : undefined;
  const retryable = status === undefined || RETRYABLE_STATUS.has(status);
  const detail = [status ?? error?.code, error?.message, error?.data].filter((x) => x !== undefined && x !== '').join(' ');
  return { ok: false, retryable, error: detail || 'export failed' };
}

function send<T>(exporter: SdkExporter<T>, items: T): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, (result) => resolve(outcome(result))));
}

export class OtlphttpExporter implements Exporter {
  readonly id: string;
  private readonly _logs: SdkExporter<ReturnType<typeof toReadableLogRecords>>;
  private readonly _metrics: SdkExporter<ReturnType<typeof toResourceMetrics>>;
  private _stopped = false;

  constructor(id: string, config: OtlphttpConfig) {
    this.id = id;
    const common = {
      headers: config.headers,
      timeoutMillis: config.timeout,
      compression: config.compression as never,
      concurrencyLimit: 64,
    };
    const logsUrl = config.logs_endpoint ?? `${config.endpoint}/v1/logs`;
    const metricsUrl = config.metrics_endpoint ?? `${config.endpoint}/v1/metrics`;
    const proto = config.encoding === 'proto';
    this._logs = proto ? new ProtoLogExporter({ ...common, url: logsUrl }) : new JsonLogExporter({ ...common, url: logsUrl });
    this._metrics = proto ? new ProtoMetricExporter({ ...common, url: metricsUrl }) : new JsonMetricExporter({ ...common, url: metricsUrl });
  }

  async export(batch: ExportBatch): Promise<ExportResult> {
    if (batch.logs.length > 0) {
      const result = await send(this._logs, toReadableLogRecords(batch.resource, batch.logs));
      if (!result.ok) return result;
    }
    if (batch.metrics.length > 0) return send(this._metrics, toResourceMetrics(batch.resource, batch.metrics));
    return { ok: true };
  }

  async shutdown(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    await Promise.all([this._logs.shutdown(), this._metrics.shutdown()]);
  }
}
