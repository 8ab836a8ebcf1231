/**
 * Retry with exponential backoff, as the Collector's retry_on_failure: a retryable failure is
 * tried again after initial_interval, doubling (with jitter) up to max_interval, until
 * max_elapsed_time; a backend's Retry-After is honoured.
 */
import type { ExportBatch, ExportResult, Exporter } from '../exporters/exporter.ts';

export interface RetrySettings {
  enabled: boolean;
  initialIntervalMs: number;
  maxIntervalMs: number;
  maxElapsedMs: number;
}

export const NO_RETRY: RetrySettings = { enabled: false, initialIntervalMs: 0, maxIntervalMs: 0, maxElapsedMs: 0 };

export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exports `batch`, retrying retryable failures; the last result when it gives up. */
export async function exportWithRetry(
  exporter: Exporter,
  batch: ExportBatch,
  retry: RetrySettings,
  stopping: () => boolean,
  sleep: Sleep = realSleep,
  now: () => number = Date.now,
): Promise<ExportResult> {
  const started = now();
  let interval = retry.initialIntervalMs;
  for (;;) {
    let result: ExportResult;
    try {
      result = await exporter.export(batch);
    } catch (error) {
      // An exporter that throws has a bug, not a backend problem: trying again would throw again.
      return { ok: false, retryable: false, error: `${exporter.id} threw: ${(error as Error)?.stack ?? String(error)}` };
    }
    if (result.ok || !result.retryable || !retry.enabled) return result;
    // Jitter of +-20 % keeps many sidecars from retrying in step.
    let wait = result.retryAfterMs ?? interval * (0.8 + Math.random() * 0.4);
    const left = retry.maxElapsedMs - (now() - started);
    if (left <= 0) return result;
    if (stopping()) {
      // Shutting down: one quick last try rather than the full schedule.
      wait = Math.min(wait, 1000);
    }
    await sleep(Math.min(wait, left));
    interval = Math.min(interval * 2, retry.maxIntervalMs);
  }
}
