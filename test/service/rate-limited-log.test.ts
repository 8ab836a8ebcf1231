import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/service/log.ts';
import { RateLimitedLog } from '../../src/service/rate-limited-log.ts';

function capture() {
  const lines: Array<{ level: Level; message: string; fields?: Record<string, unknown> }> = [];
  let clock = 1_000_000;
  const log = new RateLimitedLog((level, message, fields) => lines.push({ level, message, ...(fields ? { fields } : {}) }), 30_000, () => clock);
  return { lines, log, advance: (ms: number) => (clock += ms) };
}

describe('RateLimitedLog', () => {
  it('writes the first report at once, counts the next ones, and writes the count with the first report after the interval', () => {
    const { lines, log, advance } = capture();
    log.report('warn', 'msg-count', 'Logplex-Msg-Count mismatch', { drain: 'a' });
    for (let i = 0; i < 99; i++) {
      advance(100);
      log.report('warn', 'msg-count', 'Logplex-Msg-Count mismatch', { drain: 'a' });
    }
    expect(lines).toEqual([{ level: 'warn', message: 'Logplex-Msg-Count mismatch', fields: { drain: 'a' } }]);
    // 9.9 s have passed since the first line; 30 s after it, the next report carries the count.
    advance(20_100);
    log.report('warn', 'msg-count', 'Logplex-Msg-Count mismatch', { drain: 'b' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ level: 'warn', message: 'Logplex-Msg-Count mismatch (99 more in the last 30s)', fields: { drain: 'b' } });
    // A new interval: the next report is counted again.
    advance(1);
    log.report('warn', 'msg-count', 'Logplex-Msg-Count mismatch');
    expect(lines).toHaveLength(2);
  });

  it('keeps keys apart', () => {
    const { lines, log } = capture();
    log.report('warn', 'a', 'first a');
    log.report('warn', 'b', 'first b');
    log.report('warn', 'a', 'second a');
    expect(lines.map((l) => l.message)).toEqual(['first a', 'first b']);
  });

  it('flush writes what is counted, once, with the last message and its level', () => {
    const { lines, log, advance } = capture();
    log.report('warn', 'k', 'one');
    advance(5_000);
    log.report('warn', 'k', 'two');
    log.report('error', 'k', 'three', { n: 3 });
    log.flush();
    log.flush();
    expect(lines).toEqual([
      { level: 'warn', message: 'one' },
      { level: 'error', message: 'three (1 more in the last 5s)', fields: { n: 3 } },
    ]);
  });

  it('a single suppressed report is flushed as it is', () => {
    const { lines, log } = capture();
    log.report('info', 'k', 'one');
    log.report('info', 'k', 'two');
    log.flush();
    expect(lines.map((l) => l.message)).toEqual(['one', 'two']);
  });

  it('writes a count at the end of the interval even when no report follows', async () => {
    const lines: string[] = [];
    const log = new RateLimitedLog((_level, message) => lines.push(message), 20);
    log.report('warn', 'k', 'first');
    log.report('warn', 'k', 'again');
    log.report('warn', 'k', 'again');
    for (let i = 0; i < 200 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual(['first', 'again (1 more in the last 1s)']);
  });

  it('stays bounded with endless distinct keys: past 1024 keys, new ones share one count', () => {
    const { lines, log } = capture();
    for (let i = 0; i < 5000; i++) log.report('warn', `client-${i}`, `bad request from client ${i}`);
    expect(lines).toHaveLength(1025);
    log.flush();
    expect(lines.at(-1)!.message).toBe('bad request from client 4999 (3974 more in the last 1s)');
  });
});
