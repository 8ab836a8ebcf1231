/**
 * A short run of bench/hostile.ts in CI: the real sidecar process under hostile traffic (fuzzed
 * frames, deep and huge JSON, malformed requests, bombs, stalled and idle connections) beside
 * healthy Logplex and syslog drains, and under overload. What a drain was answered 200 for (or
 * wrote on a cleanly closed syslog connection) must arrive exactly once, and the process must
 * live through it. The full run (1,000,000 frames) is `node bench/hostile.ts fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { fuzzScenario, overloadScenario } from '../../bench/hostile.ts';

describe('hostile traffic against the real process', () => {
  it('fuzz: no crash, nothing lost after a 200, nothing delivered twice', async () => {
    const result = await fuzzScenario(30_000);
    expect(result.crashes).toBe(0);
    expect(result.exit_code).toBe('0');
    expect(result.http_lines_acked).toBeGreaterThan(0);
    expect(result.syslog_lines_sent).toBeGreaterThan(0);
    expect(result.http_lost_after_200).toBe(0);
    expect(result.http_duplicates).toBe(0);
    expect(result.syslog_lost).toBe(0);
    expect(result.syslog_duplicates).toBe(0);
  }, 120_000);

  it('overload: most requests refused with 503, every acknowledged line delivered once', async () => {
    const result = await overloadScenario(5);
    expect(result.answered_503).toBeGreaterThan(0);
    expect(result.lines_acked).toBeGreaterThan(0);
    expect(result.lost_after_200).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.exit_code).toBe('0');
  }, 120_000);
});
