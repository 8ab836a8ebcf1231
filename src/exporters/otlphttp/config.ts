/**
 * Config of the `otlphttp` exporter, with the Collector's otlphttp option names.
 */
import { z } from 'zod';
import { duration, httpUrl } from '../../config/units.ts';

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
    timeout: duration.default(10_000),
    retry_on_failure: z
      .strictObject({
        enabled: z.boolean().default(true),
        initial_interval: duration.default(5_000),
        max_interval: duration.default(30_000),
        max_elapsed_time: duration.default(300_000),
      })
      .prefault({}),
    sending_queue: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Batches held while the backend is slow or down. Default 1000. */
        queue_size: z.number().int().positive().default(1000),
        /** Requests in flight to the backend at once. Default 10. */
        num_consumers: z.number().int().positive().default(10),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.endpoint === undefined && (config.logs_endpoint === undefined || config.metrics_endpoint === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'an endpoint is required (or both logs_endpoint and metrics_endpoint)' });
    }
  });

export type OtlphttpConfig = z.output<typeof otlphttpConfigSchema>;
