/**
 * Config of the `otlphttp` exporter, with the Collector's otlphttp option names.
 */
import { z } from 'zod';
import { duration, httpUrl, positiveDuration } from '../../config/units.ts';

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
    /**
     * Per request. Default 10s. Not 0: the Collector reads 0 as no timeout, which here would let
     * a backend that never answers hold the queue until Logplex gets 503s.
     */
    timeout: positiveDuration('every request would time out before it is sent').default(10_000),
    /**
     * As the Collector's, with its checks; and intervals of 0, which would retry back to back,
     * are refused. max_elapsed_time 0 retries without limit (the shutdown deadline still ends it).
     */
    retry_on_failure: z
      .strictObject({
        enabled: z.boolean().default(true),
        initial_interval: duration.default(5_000),
        max_interval: duration.default(30_000),
        max_elapsed_time: duration.default(300_000),
      })
      .superRefine((retry, ctx) => {
        if (!retry.enabled) return;
        for (const key of ['initial_interval', 'max_interval'] as const) {
          if (retry[key] === 0) ctx.addIssue({ code: 'custom', path: [key], message: 'must be more than 0: failed requests would be retried back to back' });
        }
        if (retry.max_elapsed_time > 0) {
          for (const key of ['initial_interval', 'max_interval'] as const) {
            if (retry.max_elapsed_time < retry[key]) ctx.addIssue({ code: 'custom', path: ['max_elapsed_time'], message: `must not be less than ${key} (0: no limit)` });
          }
        }
      })
      .prefault({}),
    /**
     * How much the pipeline holds for this exporter (batching, queued, being sent or retried)
     * before the receiver answers 503: `queue_size` batches (`sizer: requests`, the Collector's
     * default sizer) or items. Our default is 20 batches, not the Collector's 1000: a Heroku
     * record takes ~1 KB of memory, and Logplex keeps what we refuse and sends it again.
     */
    sending_queue: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Default 20 batches (sizer: requests) or 20480 items (sizer: items). */
        queue_size: z.number().int().positive().optional(),
        sizer: z.enum(['requests', 'items']).default('requests'),
        /** Requests in flight to the backend at once. Default 10. */
        num_consumers: z.number().int().positive().default(10),
      })
      .transform((q) => ({ ...q, queue_size: q.queue_size ?? (q.sizer === 'items' ? 20_480 : 20) }))
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.endpoint === undefined && (config.logs_endpoint === undefined || config.metrics_endpoint === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'an endpoint is required (or both logs_endpoint and metrics_endpoint)' });
    }
  });

export type OtlphttpConfig = z.output<typeof otlphttpConfigSchema>;
