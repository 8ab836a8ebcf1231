/**
 * Retry with exponential backoff, as the Collector's retry_on_failure: a retryable failure is
 * tried again after initial_interval, growing by `multiplier` up to max_interval, each wait
 * randomised by ± randomization_factor, until
 * max_elapsed_time (0: no limit, as in the Collector); a backend's Retry-After is honoured.
 * Every attempt is reported as it ends, so a failing backend shows in the log at once rather
 * than when the retries give up; the shutdown deadline ends any wait and any request in flight.
 */
import type { ExportBatch, ExportResult, Exporter } from '../exporters/exporter.ts';

export interface RetrySettings {
  enabled: boolean;
  initialIntervalMs: number;
  /** The interval grows by this after each try (the Collector's default 1.5). */
  multiplier?: number;
  /** Each wait is the interval times 1 ± this, at random (the Collector's default 0.5). */
  randomizationFactor?: number;
  maxIntervalMs: number;
  /** 0: retry until it succeeds or the shutdown deadline passes. */
  maxElapsedMs: number;
}

export const NO_RETRY: RetrySettings = { enabled: false, initialIntervalMs: 0, maxIntervalMs: 0, maxElapsedMs: 0 };

/** Resolves after `ms`, or at once when `signal` is aborted. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** How one attempt went, besides its result. */
export interface Attempt {
  /** 1 for the first try. */
  number: number;
  durationMs: number;
  /** Set when it will be tried again: the wait before the next try. */
  retryInMs?: number;
}

export interface RetryHooks {
  /** Whether the pipeline is shutting down: retries then come quickly, for one last chance. */
  stopping(): boolean;
  /** Aborted when the shutdown deadline passes: waiting and sending stop at once. */
  deadline?: AbortSignal;
  /** Called as each attempt ends, before any wait. */
  onAttempt?(result: ExportResult, attempt: Attempt): void;
  sleep?: Sleep;
  now?: () => number;
}

export interface RetryOutcome {
  /** The last attempt's result. */
  result: ExportResult;
  attempts: number;
  /** When it failed: why it was not tried again, for the log line saying what was lost. */
  gaveUp?: string;
}

/** Exports `batch`, retrying retryable failures; the last result when it gives up. */
export async function exportWithRetry(exporter: Exporter, batch: ExportBatch, retry: RetrySettings, hooks: RetryHooks): Promise<RetryOutcome> {
  const sleep = hooks.sleep ?? realSleep;
  const now = hooks.now ?? Date.now;
  const deadline = hooks.deadline;
  const started = now();
  let interval = retry.initialIntervalMs;
  let quick = 1000;
  for (let number = 1; ; number++) {
    const attemptStarted = now();
    let result: ExportResult;
    try {
      result = await exporter.export(batch, deadline);
    } catch (error) {
      // An exporter that throws has a bug, not a backend problem: trying again would throw again.
      result = { ok: false, retryable: false, error: `${exporter.id} threw: ${(error as Error)?.stack ?? String(error)}` };
    }
    const durationMs = now() - attemptStarted;
    let gaveUp: string | undefined;
    let wait = 0;
    if (!result.ok) {
      if (deadline?.aborted) gaveUp = 'the shutdown deadline passed';
      else if (!result.retryable) gaveUp = 'not retryable';
      else if (!retry.enabled) gaveUp = 'retry_on_failure is disabled';
      else {
        // Randomised, so many sidecars do not retry in step.
        const spread = retry.randomizationFactor ?? 0.5;
        wait = result.retryAfterMs ?? interval * (1 - spread + Math.random() * 2 * spread);
        // Shutting down: quicker last tries than the full schedule, until the deadline, still
        // backing off (1 s, 2 s, 4 s...): a dead backend is not asked hundreds of times a second.
        if (hooks.stopping()) {
          wait = Math.min(wait, quick);
          quick *= 2;
        }
        if (retry.maxElapsedMs > 0) {
          const left = retry.maxElapsedMs - (now() - started);
          if (left <= 0) gaveUp = `retried for ${formatDuration(now() - started)} (max_elapsed_time ${formatDuration(retry.maxElapsedMs)})`;
          else wait = Math.min(wait, left);
        }
      }
    }
    hooks.onAttempt?.(result, result.ok || gaveUp !== undefined ? { number, durationMs } : { number, durationMs, retryInMs: Math.round(wait) });
    if (result.ok) return { result, attempts: number };
    if (gaveUp !== undefined) return { result, attempts: number, gaveUp };
    await sleep(wait, deadline);
    if (deadline?.aborted) return { result, attempts: number, gaveUp: 'the shutdown deadline passed' };
    interval = Math.min(interval * (retry.multiplier ?? 1.5), retry.maxIntervalMs);
  }
}

/** `1m30s`, `4.5s`, `200ms`: as config durations are written. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s % 60 > 0 ? `${s % 60}s` : ''}`;
}
