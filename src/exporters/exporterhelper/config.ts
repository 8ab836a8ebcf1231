/**
 * The exporter helper's settings, with the Collector's keys and meanings (`exporterhelper`):
 * `timeout` per request, `retry_on_failure` and `sending_queue`. Every exporter that sends over
 * the network takes them; each exporter (per signal) has its own queue and its own retries, so a
 * slow or dead backend fills only its own queue.
 */
import { z } from 'zod';
import { duration, positiveDuration } from '../../config/units.ts';

/**
 * As the Collector's, with its checks; and intervals of 0, which would retry back to back, are
 * refused. max_elapsed_time 0 retries without limit (the shutdown deadline still ends it).
 */
export const retryOnFailureSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** The first wait. Default 5s. */
    initial_interval: duration.default(5_000),
    /** Each wait is the interval times 1 ± this, at random, so instances do not retry in step. Default 0.5. */
    randomization_factor: z.number().min(0).max(1).default(0.5),
    /** The interval grows by this factor after each try. Default 1.5. */
    multiplier: z.number().min(1).default(1.5),
    /** The interval grows no further. Default 30s. */
    max_interval: duration.default(30_000),
    /** A batch is given up after retrying this long (counted and logged as failed); 0: never. Default 5m. */
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
  .prefault({});

export type RetryOnFailureConfig = z.output<typeof retryOnFailureSchema>;

/**
 * What this exporter holds (waiting, being batched, sent or retried) before it stops taking more.
 * With `storage`, it holds it on disk (a `file_storage` extension) and only its index in memory.
 */
export const sendingQueueSchema = z
  .strictObject({
    /** Off: the exporter holds one batch at a time, the one it is sending. Default on. */
    enabled: z.boolean().default(true),
    /** Requests sent at once. Default 10. */
    num_consumers: z.number().int().positive().default(10),
    /**
     * How much it holds, in `sizer` units. Default: 20 requests, 20480 items or 20 MiB in
     * memory (a Heroku record takes ~1 KB there); with `storage`, no limit but the storage's
     * `max_size_mib`.
     */
    queue_size: z.number().int().positive().optional(),
    /** What queue_size counts: `requests` (the Collector's default), `items` (records or points) or `bytes`. */
    sizer: z.enum(['requests', 'items', 'bytes']).default('requests'),
    /**
     * Full: true (our default) makes the receiver answer 503, so Logplex keeps the data and sends
     * it again; false drops what does not fit for this exporter alone, counted
     * (`otelcol_exporter_enqueue_failed_*`) and logged, and never holds back the others: for a
     * backup backend. (The Collector's default is false, but there a full queue refuses the data
     * for every exporter, which Logplex would then send again to all of them.)
     */
    block_on_overflow: z.boolean().default(true),
    /** A `file_storage` extension's id: what is queued is kept on disk and survives restarts. */
    storage: z.string().min(1).optional(),
  })
  .transform((q) => ({
    ...q,
    queue_size: q.queue_size ?? (q.storage !== undefined ? Number.POSITIVE_INFINITY : q.sizer === 'items' ? 20_480 : q.sizer === 'bytes' ? 20 * 1024 * 1024 : 20),
  }))
  .prefault({});

export type SendingQueueConfig = z.output<typeof sendingQueueSchema>;

/** Per request. Default 10s. Not 0: the Collector reads 0 as no timeout, which would let a backend that never answers hold the queue. */
export const timeoutSchema = positiveDuration('every request would time out before it is sent').default(10_000);
