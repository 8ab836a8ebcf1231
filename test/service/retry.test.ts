/** retry_on_failure's schedule, with a recorded sleep: what a failing backend is asked, and when. */
import { describe, expect, it } from 'vitest';
import type { ExportBatch, ExportResult, Exporter } from '../../src/exporters/exporter.ts';
import { exportWithRetry } from '../../src/service/retry.ts';

const batch: ExportBatch = { resource: {}, logs: [], metrics: [] };

function failing(result: ExportResult, times = Infinity): Exporter & { calls: number } {
  const exporter = {
    id: 'otlphttp/test',
    calls: 0,
    async export(): Promise<ExportResult> {
      exporter.calls++;
      return exporter.calls > times ? { ok: true } : result;
    },
    async shutdown() {},
  };
  return exporter as unknown as Exporter & { calls: number };
}

describe('exportWithRetry', () => {
  it('backs off from a dead backend even while shutting down: 1 s, 2 s, 4 s..., never a tight loop', async () => {
    const waits: number[] = [];
    let clock = 0;
    const controller = new AbortController();
    const exporter = failing({ ok: false, retryable: true, error: 'connect ECONNREFUSED' });
    const outcome = await exportWithRetry(
      exporter,
      batch,
      { enabled: true, initialIntervalMs: 5000, maxIntervalMs: 30_000, maxElapsedMs: 0 },
      {
        stopping: () => true,
        deadline: controller.signal,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(Math.round(ms));
          clock += ms;
          // The shutdown deadline (25 s) ends the waiting.
          if (clock >= 25_000) controller.abort();
        },
      },
    );
    expect(outcome.gaveUp).toBe('the shutdown deadline passed');
    expect(waits.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(exporter.calls).toBeLessThanOrEqual(6);
  });

  it('retries on its own schedule until it succeeds when not shutting down', async () => {
    const waits: number[] = [];
    const exporter = failing({ ok: false, retryable: true, error: '503' }, 3);
    const outcome = await exportWithRetry(
      exporter,
      batch,
      { enabled: true, initialIntervalMs: 1000, multiplier: 2, randomizationFactor: 0.2, maxIntervalMs: 4000, maxElapsedMs: 60_000 },
      { stopping: () => false, sleep: async (ms) => void waits.push(ms) },
    );
    expect(outcome.result.ok).toBe(true);
    expect(exporter.calls).toBe(4);
    // 1 s, 2 s, 4 s (multiplier 2, capped by max_interval), each within ±20 % (randomization_factor).
    expect(waits[0]).toBeGreaterThanOrEqual(800);
    expect(waits[0]).toBeLessThanOrEqual(1200);
    expect(waits[1]).toBeGreaterThanOrEqual(1600);
    expect(waits[1]).toBeLessThanOrEqual(2400);
    expect(waits[2]).toBeGreaterThanOrEqual(3200);
    expect(waits[2]).toBeLessThanOrEqual(4800);
  });

  it("follows the Collector's defaults: 5 s growing by 1.5, each wait within ±50 %", async () => {
    const waits: number[] = [];
    const exporter = failing({ ok: false, retryable: true, error: '503' }, 200);
    // Many runs: the spread covers both halves of ±50 % and never leaves it.
    for (let run = 0; run < 50; run++) {
      exporter.calls = 0;
      const seen: number[] = [];
      await exportWithRetry(exporter, batch, { enabled: true, initialIntervalMs: 5000, maxIntervalMs: 30_000, maxElapsedMs: 0 }, {
        stopping: () => false,
        sleep: async (ms) => void seen.push(ms),
      }).catch(() => {});
      waits.push(seen[0]!, seen[1]! / 1.5);
    }
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(2500);
    expect(Math.max(...waits)).toBeLessThanOrEqual(7500);
    expect(Math.min(...waits)).toBeLessThan(4000);
    expect(Math.max(...waits)).toBeGreaterThan(6000);
  });
});
