/**
 * Config of the `otlphttp` exporter, with the Collector's otlphttp option names.
 */
import { z } from 'zod';
import { httpUrl } from '../../config/units.ts';
import { retryOnFailureSchema, sendingQueueSchema, timeoutSchema } from '../exporterhelper/config.ts';

export const OTLPHTTP_TYPE = 'otlphttp';

export const otlphttpConfigSchema = z
  .strictObject({
    /** Base URL: `/v1/logs` and `/v1/metrics` are appended, as the Collector does. */
    endpoint: httpUrl.optional(),
    /** Full URLs per signal, used as given. */
    logs_endpoint: httpUrl.optional(),
    metrics_endpoint: httpUrl.optional(),
    /** `proto` (default) or `json`. */
    encoding: z.enum(['proto', 'json']).default('proto'),
    /** `gzip` (default: every OTLP backend takes it), `zstd` (a third of gzip's CPU; the Collector takes it) or `none`. */
    compression: z.enum(['gzip', 'zstd', 'none']).default('gzip'),
    /** The compression level: 1 (fastest, the default) to 9 (smallest; zstd goes to 19 but 9 is plenty). */
    compression_params: z.strictObject({ level: z.number().int().min(1).max(9).default(1) }).prefault({}),
    headers: z.record(z.string(), z.string()).default({}),
    /** Per request. Default 10s. */
    timeout: timeoutSchema,
    /** The exporter helper's retries, with the Collector's keys (see exporterhelper/config.ts). */
    retry_on_failure: retryOnFailureSchema,
    /** This exporter's own queue (per signal), with the Collector's keys (see exporterhelper/config.ts). */
    sending_queue: sendingQueueSchema,
  })
  .superRefine((config, ctx) => {
    if (config.endpoint === undefined && (config.logs_endpoint === undefined || config.metrics_endpoint === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'an endpoint is required (or both logs_endpoint and metrics_endpoint)' });
    }
  });

export type OtlphttpConfig = z.output<typeof otlphttpConfigSchema>;
