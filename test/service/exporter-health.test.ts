import { describe, expect, it } from 'vitest';
import { ExporterHealth, type FailedAttempt } from '../../src/service/exporter-health.ts';
import type { Level } from '../../src/service/log.ts';

function setup() {
  const lines: string[] = [];
  let clock = 0;
  const health = new ExporterHealth('otlphttp/x', (level: Level, message: string) => lines.push(`${level} ${message}`), 30_000, () => clock);
  return { lines, health, advance: (ms: number) => (clock += ms) };
}

const refused = (over: Partial<FailedAttempt> = {}): FailedAttempt => ({
  pipeline: 'logs',
  endpoint: 'https://otlp.example.com/v1/logs',
  error: '503 Service Unavailable',
  status: 503,
  retryInMs: 5000,
  lost: 0,
  unit: 'records',
  reason: undefined,
  ...over,
});

describe('ExporterHealth', () => {
  it('a long outage: the first failure at once, one summary per 30 s with what was lost and why, then the recovery', () => {
    const { lines, health, advance } = setup();
    health.failed(refused());
    for (let i = 0; i < 12; i++) {
      advance(5_000);
      health.failed(i === 11 ? refused({ lost: 10, retryInMs: undefined, reason: 'retried for 5m (max_elapsed_time 5m)' }) : refused());
    }
    advance(1_000);
    health.succeeded();
    expect(lines).toEqual([
      'warn otlphttp/x: export to https://otlp.example.com/v1/logs failed: 503 Service Unavailable; retrying in 5s',
      'warn otlphttp/x: 6 failures in the last 30s, last: 503 Service Unavailable',
      'error otlphttp/x: 6 failures in the last 30s, 10 records lost (retried for 5m (max_elapsed_time 5m)), last: 503 Service Unavailable',
      'info otlphttp/x: recovered after 13 failures / 1m1s; 10 records lost meanwhile',
    ]);
  });

  it('a flapping backend writes at most one failure line and one recovery line per 30 s', () => {
    const { lines, health, advance } = setup();
    for (let i = 0; i < 600; i++) {
      health.failed(refused());
      advance(50);
      health.succeeded();
      advance(50);
    }
    // 60 s of flapping.
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines[0]).toMatch(/^warn .* failed: 503/);
    expect(lines[1]).toMatch(/^info otlphttp\/x: recovered after 1 failure \/ 50ms$/);
    expect(lines[2]).toMatch(/^warn otlphttp\/x: \d+ failures in the last 30s, last: 503 Service Unavailable$/);
  });

  it('flush writes what is counted; nothing when all was told', () => {
    const { lines, health, advance } = setup();
    health.failed(refused({ lost: 3, retryInMs: undefined, reason: 'not retryable', error: '400 bad', status: 400 }));
    advance(10);
    health.failed(refused({ lost: 4, retryInMs: undefined, reason: 'not retryable', error: '400 bad', status: 400 }));
    health.flush();
    health.flush();
    expect(lines).toEqual([
      'error otlphttp/x: export to https://otlp.example.com/v1/logs failed: 400 bad; 3 records lost (not retryable)',
      'error otlphttp/x: 1 failure in the last 10ms, 4 records lost (not retryable), last: 400 bad',
    ]);
  });
});
