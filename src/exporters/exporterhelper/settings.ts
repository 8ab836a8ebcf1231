/** The exporter helper's config, as the queue and the retry loop take it. */
import type { RetrySettings } from '../../service/retry.ts';
import { sendingQueueSchema, type RetryOnFailureConfig, type SendingQueueConfig } from './config.ts';

export function retrySettings(r: RetryOnFailureConfig): RetrySettings {
  return {
    enabled: r.enabled,
    initialIntervalMs: r.initial_interval,
    randomizationFactor: r.randomization_factor,
    multiplier: r.multiplier,
    maxIntervalMs: r.max_interval,
    maxElapsedMs: r.max_elapsed_time,
  };
}

/**
 * The queue of an exporter whose config has no sending_queue (file, debug): in memory, one
 * request at a time, so what it writes stays in order.
 */
export const LOCAL_QUEUE: SendingQueueConfig = sendingQueueSchema.parse({ num_consumers: 1 });
