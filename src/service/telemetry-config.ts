/**
 * `service.telemetry`, in the Collector's shape (its otelconf-based telemetry): the sidecar's own
 * metrics, read by `metrics.readers` (a Prometheus pull reader, periodic OTLP readers) at a
 * `level`, its own log's `level` and optional OTLP log `processors`, and the `resource` of both.
 * `metrics.address` stays a shorthand for one Prometheus pull reader. Off unless set: no reader
 * serves anything by default (the Collector's default :8888 would clash between processes on one
 * machine, and on Heroku only $PORT is reachable).
 */
import { z } from 'zod';
import { hostPort, httpUrl, positiveDuration } from '../config/units.ts';
import { isLoopback } from '../receivers/logplex/config.ts';

/** Headers as the Collector's otelconf v0.3 writes them (a list of name/value), or as a map (v0.2). */
const headersSchema = z
  .union([z.array(z.strictObject({ name: z.string().min(1), value: z.string() })), z.record(z.string().min(1), z.string())])
  .transform((headers) => (Array.isArray(headers) ? Object.fromEntries(headers.map((h) => [h.name, h.value])) : headers));

/**
 * An OTLP/HTTP exporter of the sidecar's own telemetry (otelconf's `otlp`). `endpoint` is the
 * whole URL, signal path included (`https://host/otlp/v1/metrics`), as otelconf takes it; a URL
 * without a path gets the signal's (`/v1/metrics`, `/v1/logs`). Only this config's headers are
 * sent: none of the process's OTEL_EXPORTER_OTLP_* variables are mixed in.
 */
const otlpExporterSchema = z.strictObject({
  /** `http/protobuf` (default) or `http/json`; gRPC is not built in. */
  protocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  endpoint: httpUrl,
  headers: headersSchema.optional(),
  /** otelconf's `k=v,k2=v2` form, percent-encoded; `headers` wins on the same name. */
  headers_list: z.string().optional(),
  /** Default gzip. */
  compression: z.enum(['gzip', 'none']).default('gzip'),
  /** Per export, in milliseconds or as a duration; default 10 s. */
  timeout: positiveDuration('an export would time out at once').default(10_000),
  /** Metrics only: `cumulative` (default), `delta` (Datadog), or `low_memory`. */
  temporality_preference: z.enum(['cumulative', 'delta', 'low_memory']).default('cumulative'),
  /** PEM files: a CA to trust (`certificate`), and a client certificate and key for mutual TLS. */
  certificate: z.string().min(1).optional(),
  client_certificate: z.string().min(1).optional(),
  client_key: z.string().min(1).optional(),
  /** otelconf's gRPC-only switch: accepted, meaningless over HTTP (the URL's scheme decides). */
  insecure: z.boolean().optional(),
});
export type OtlpTelemetryExporter = z.output<typeof otlpExporterSchema>;

/** A Prometheus pull reader: `/metrics` on host:port. Defaults as the Collector's: localhost:8888. */
const prometheusSchema = z.strictObject({
  host: z.string().min(1).default('localhost'),
  port: z.number().int().min(0).max(65535).default(8888),
  /**
   * Accepted so that a Collector's reader config validates; the exposition is fixed and is the
   * Collector's default one: no unit suffixes, counters with `_total` (as Prometheus stores the
   * Collector's), no scope labels.
   */
  without_units: z.boolean().optional(),
  without_type_suffix: z.boolean().optional(),
  without_scope_info: z.boolean().optional(),
});

const readerSchema = z
  .strictObject({
    pull: z.strictObject({ exporter: z.strictObject({ prometheus: prometheusSchema }) }).optional(),
    periodic: z
      .strictObject({
        /** How often, in milliseconds or as a duration; default 60 s as otelconf's. */
        interval: positiveDuration('it would export without pause').default(60_000),
        /** How long one collection and export may take; default 30 s. */
        timeout: positiveDuration('every export would time out').default(30_000),
        exporter: z.strictObject({ otlp: otlpExporterSchema }),
      })
      .optional(),
  })
  .superRefine((reader, ctx) => {
    if ((reader.pull === undefined) === (reader.periodic === undefined)) ctx.addIssue({ code: 'custom', message: 'a reader is either pull (prometheus) or periodic (otlp)' });
  });

const basicAuthSchema = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

/** How much the sidecar says about itself, as the Collector's `level`. */
export const TELEMETRY_LEVELS = ['none', 'basic', 'normal', 'detailed'] as const;
export type TelemetryLevel = (typeof TELEMETRY_LEVELS)[number];

const metricsSchema = z
  .strictObject({
    /** none: no metrics at all; basic: the Collector's own names only; normal (default) and detailed: ours too. */
    level: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(TELEMETRY_LEVELS)).default('normal'),
    /** Shorthand for one Prometheus pull reader on host:port. */
    address: hostPort.optional(),
    readers: z.array(readerSchema).default([]),
    /** Asked of every pull reader; required when one listens on an address other machines reach. */
    basic_auth: basicAuthSchema.optional(),
  })
  .superRefine((metrics, ctx) => {
    const open = (host: string, port: number, path: Array<string | number>) => {
      if (metrics.basic_auth !== undefined || isLoopback(host)) return;
      ctx.addIssue({
        code: 'custom',
        path,
        message: `would serve the sidecar's counters (drain names, volumes) to anyone who reaches ${host}:${port}; set metrics.basic_auth or a loopback address`,
      });
    };
    if (metrics.address !== undefined) open(metrics.address.host, metrics.address.port, ['address']);
    metrics.readers.forEach((r, i) => {
      const p = r.pull?.exporter.prometheus;
      if (p !== undefined) open(p.host, p.port, ['readers', i, 'pull', 'exporter', 'prometheus', 'host']);
    });
  })
  .prefault({});

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A log record processor of the sidecar's own log (otelconf's): `batch` or `simple`, to OTLP. */
const logProcessorSchema = z
  .strictObject({
    batch: z
      .strictObject({
        exporter: z.strictObject({ otlp: otlpExporterSchema }),
        /** otelconf's batch settings, in milliseconds or durations. */
        schedule_delay: positiveDuration('it would export without pause').default(1000),
        export_timeout: positiveDuration('every export would time out').default(30_000),
        max_queue_size: z.number().int().positive().default(2048),
        max_export_batch_size: z.number().int().positive().default(512),
      })
      .optional(),
    simple: z.strictObject({ exporter: z.strictObject({ otlp: otlpExporterSchema }) }).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.batch === undefined) === (p.simple === undefined)) ctx.addIssue({ code: 'custom', message: 'a processor is either batch or simple, with an otlp exporter' });
  });
export type LogProcessorConfig = z.output<typeof logProcessorSchema>;

const logsSchema = z
  .strictObject({
    /** The threshold of the log on stderr and of its OTLP copy; unset: LOG_LEVEL, else info. */
    level: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(LOG_LEVELS)).optional(),
    /** The log is JSON lines whatever this says (`console` is accepted, with a warning). */
    encoding: z.enum(['json', 'console']).optional(),
    /** Where copies of the log lines go over OTLP; none by default. */
    processors: z.array(logProcessorSchema).default([]),
  })
  .prefault({});

export const telemetrySchema = z.strictObject({
  metrics: metricsSchema,
  logs: logsSchema,
  /** Resource attributes of the sidecar's own telemetry, beside service.name, service.version and service.instance.id; null removes one. */
  resource: z.record(z.string().min(1), z.union([z.string(), z.null()])).default({}),
  /** The status page, on the logplex receivers' port, behind their basic auth. Off by default. */
  status: z.strictObject({ enabled: z.boolean().default(false), path: z.string().startsWith('/', 'a path starts with /').default('/') }).prefault({}),
});
export type TelemetryConfig = z.output<typeof telemetrySchema>;

