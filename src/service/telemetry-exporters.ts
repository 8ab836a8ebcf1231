/**
 * The OTLP/HTTP exporters of the sidecar's own telemetry (periodic metric readers, log
 * processors): the SDK's, in protobuf or JSON, set from `service.telemetry` alone, and wrapped so
 * that a failed export is said in our log (the SDK's own diagnostics are silent by default).
 */
import { readFileSync } from 'node:fs';
// Each exporter's package is loaded when a reader or processor of its protocol is made: one
// of the four, and none for a config without them.
import type { ExportResult } from '@opentelemetry/core';
import type { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import type { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { AggregationOption, AggregationTemporality, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from './log.ts';
import { logsOtlpHttp, logsOtlpProto, metricsOtlpHttp, metricsOtlpProto } from './otel-sdk.ts';
import { RateLimitedLog } from './rate-limited-log.ts';
import type { OtlpTelemetryExporter } from './telemetry-config.ts';

type ExporterOptions = NonNullable<ConstructorParameters<typeof ProtoMetricExporter>[0]>;

/** The whole URL of a signal: `endpoint` as given when it has a path, else with the signal's path, as otelconf. */
export function telemetryUrl(endpoint: string, signalPath: 'v1/metrics' | 'v1/logs'): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = `/${signalPath}`;
  return url.toString();
}

/** `k=v,k2=v2` (percent-encoded), then `headers`, which wins on the same name. */
function headersOf(config: OtlpTelemetryExporter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (config.headers_list ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return { ...out, ...config.headers };
}

/** Every OTEL_EXPORTER_OTLP_*HEADERS variable, which the SDK's exporters would add to our own headers. */
const ENV_HEADERS = /^OTEL_EXPORTER_OTLP_(?:[A-Z]+_)?HEADERS$/;

/**
 * Builds an SDK exporter with the process's OTLP header variables hidden: the SDK merges them into
 * every request it sends, and a reader pointed elsewhere than the data's backend must not carry
 * that backend's credentials. The SDK reads them once, in its constructor, synchronously.
 */
function withoutEnvHeaders<T>(make: () => T): T {
  const hidden: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(process.env)) {
    if (ENV_HEADERS.test(key) && value !== undefined) {
      hidden.push([key, value]);
      delete process.env[key];
    }
  }
  try {
    return make();
  } finally {
    for (const [key, value] of hidden) process.env[key] = value;
  }
}

/** The SDK's options from ours: every one set, so that no OTEL_EXPORTER_OTLP_* variable fills a gap. */
function sdkOptions(config: OtlpTelemetryExporter, signalPath: 'v1/metrics' | 'v1/logs'): ExporterOptions {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
  return {
    url: telemetryUrl(config.endpoint, signalPath),
    headers: headersOf(config),
    compression: config.compression as ExporterOptions['compression'],
    timeoutMillis: config.timeout,
    // Given, so that the OTEL_EXPORTER_OTLP_CERTIFICATE variables do not apply either.
    httpAgentOptions: { keepAlive: true, ca: read(config.certificate), cert: read(config.client_certificate), key: read(config.client_key) },
  };
}

/** The SDK's AggregationTemporalityPreference members, by our names. */
const TEMPORALITY: Readonly<Record<OtlpTelemetryExporter['temporality_preference'], keyof typeof AggregationTemporalityPreference>> = {
  cumulative: 'CUMULATIVE',
  delta: 'DELTA',
  low_memory: 'LOWMEMORY',
};

/** ExportResultCode.SUCCESS of @opentelemetry/core, whose value the SDK's exporters report. */
const SUCCESS = 0;

/** What a failed export says in our log: the HTTP status when there is one, never the response body. */
function failureFields(result: ExportResult): Record<string, unknown> {
  const error = result.error as (Error & { code?: unknown }) | undefined;
  return { ...(typeof error?.code === 'number' ? { status: error.code } : {}), error_type: error?.name ?? 'unknown' };
}

/**
 * A periodic reader's exporter; `where` names it in the log (`service.telemetry.metrics.readers[1]`).
 * Throws at once when a certificate file cannot be read; the SDK's package is imported after.
 */
export function metricExporter(config: OtlpTelemetryExporter, where: string, log: Logger): Promise<PushMetricExporter> {
  const options = sdkOptions(config, 'v1/metrics');
  return (async () => {
    // The protobuf package builds on the JSON one, which has the temporality enum.
    const { AggregationTemporalityPreference } = metricsOtlpHttp();
    const { OTLPMetricExporter } = config.protocol === 'http/json' ? metricsOtlpHttp() : metricsOtlpProto();
    const temporalityPreference = AggregationTemporalityPreference[TEMPORALITY[config.temporality_preference]];
    const exporter = withoutEnvHeaders(() => new OTLPMetricExporter({ ...options, temporalityPreference }));
    return new ReportedMetricExporter(exporter, where, new RateLimitedLog(log));
  })();
}

/** A log processor's exporter; its failures go to `log`, which must not be the log it exports. */
export function logExporter(config: OtlpTelemetryExporter, where: string, log: Logger): Promise<LogRecordExporter> {
  const options = sdkOptions(config, 'v1/logs');
  return (async () => {
    const { OTLPLogExporter } = config.protocol === 'http/json' ? logsOtlpHttp() : logsOtlpProto();
    const exporter = withoutEnvHeaders(() => new OTLPLogExporter(options));
    return new ReportedLogExporter(exporter, where, new RateLimitedLog(log));
  })();
}

class ReportedMetricExporter implements PushMetricExporter {
  private readonly _exporter: PushMetricExporter;
  private readonly _where: string;
  private readonly _limited: RateLimitedLog;

  constructor(exporter: PushMetricExporter, where: string, limited: RateLimitedLog) {
    this._exporter = exporter;
    this._where = where;
    this._limited = limited;
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this._exporter.export(metrics, (result) => {
      if (result.code !== SUCCESS) this._limited.report('warn', 'failed', `${this._where}: the sidecar's own metrics were not delivered`, failureFields(result));
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this._exporter.forceFlush();
  }

  shutdown(): Promise<void> {
    return this._exporter.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this._exporter.selectAggregationTemporality!(instrumentType);
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this._exporter.selectAggregation!(instrumentType);
  }
}

class ReportedLogExporter implements LogRecordExporter {
  private readonly _exporter: LogRecordExporter;
  private readonly _where: string;
  private readonly _limited: RateLimitedLog;

  constructor(exporter: LogRecordExporter, where: string, limited: RateLimitedLog) {
    this._exporter = exporter;
    this._where = where;
    this._limited = limited;
  }

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this._exporter.export(records, (result) => {
      if (result.code !== SUCCESS) this._limited.report('warn', 'failed', `${this._where}: ${records.length} of the sidecar's own log lines were not delivered`, failureFields(result));
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this._exporter.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this._exporter.shutdown();
  }
}
