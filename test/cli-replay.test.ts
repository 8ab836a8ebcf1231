/**
 * `heroku-otel-drain replay`: a capture goes through the configured pipelines with its lines' own
 * timestamps, gzip or not, with a summary; a large capture streams in bounded memory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpTestServer } from './support/otlp-server.ts';
import { syslogTime } from './support/heroku-time.ts';

const BIN = new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname;
let backend: OtlpTestServer | undefined;
afterEach(async () => {
  await backend?.stop();
  backend = undefined;
});

function run(args: string[]): Promise<{ code: number | null; stderr: string; peakRssMb: number }> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let peak = 0;
  proc.stderr!.on('data', (d) => (stderr += d));
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]);
      if (kb > peak) peak = kb;
    } catch {
      // exited
    }
  }, 100);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stderr, peakRssMb: Math.round(peak / 1024) });
    }),
  );
}

async function config(dir: string): Promise<string> {
  backend = new OtlpTestServer();
  const endpoint = await backend.start();
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `receivers:\n  logplex: { endpoint: "127.0.0.1:0" }\nprocessors:\n  batch: {}\nexporters:\n  otlphttp: { endpoint: "${endpoint}", compression: gzip }\n` +
      `service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [batch], exporters: [otlphttp] }\n    metrics: { receivers: [logplex], processors: [batch], exporters: [otlphttp] }\n`,
  );
  return file;
}

describe('heroku-otel-drain replay', () => {
  it('backfills a capture, gzip too, keeping the lines timestamps, and sums up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-replay-'));
    const cfg = await config(dir);
    const capture = readFileSync(new URL('../examples/captures/heroku-logs.txt', import.meta.url));
    const gz = join(dir, 'capture.txt.gz');
    writeFileSync(gz, gzipSync(capture));
    const lines = capture.toString('utf8').trim().split('\n').length;
    const r = await run(['replay', '--config', cfg, '--resource', 'service.name=shop-web', gz]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${lines} lines read, ${lines} records and \\d+ points exported, 0 failed, 0 dropped`));
    const records = backend!.logRecords();
    expect(records).toHaveLength(lines);
    // The first line's own time, not the replay's.
    const firstTs = capture.toString('utf8').slice(0, 32).split(' ')[0]!;
    expect(Number(BigInt(records[0].timeUnixNano) / 1_000_000n)).toBe(Date.parse(firstTs));
    // Metrics may come first (an interval of the capture's clock can close before the first logs batch goes).
    const firstLogs = backend!.requests.find((r) => r.path === '/v1/logs')!;
    expect(firstLogs.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
  });

  it("exports the aggregated metrics interval by interval of the capture's own clock", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-replay-intervals-'));
    const cfg = await config(dir);
    // Five minutes of a dyno's runtime samples every 20 s and a router line every 10 s, replayed in a moment.
    const start = Date.parse('2024-05-01T12:00:05Z');
    const text: string[] = [];
    for (let s = 0; s < 300; s += 10) {
      const at = start + s * 1000;
      text.push(`${syslogTime(at)} heroku[router]: at=info method=GET path="/" host=shop.example.com request_id=r${s} fwd="203.0.113.9" dyno=web.1 connect=0ms service=${s + 1}ms status=200 bytes=10 protocol=https`);
      if (s % 20 === 0) text.push(`${syslogTime(at)} heroku[web.1]: source=web.1 dyno=heroku.1.abc sample#memory_rss=${100 + s}.00MB sample#memory_total=${100 + s}.00MB`);
    }
    writeFileSync(join(dir, 'capture.txt'), text.join('\n') + '\n');
    const r = await run(['replay', '--config', cfg, join(dir, 'capture.txt')]);
    expect(r.code, r.stderr).toBe(0);
    const points = (name: string) => backend!.metrics().filter((m: any) => m.name === name).flatMap((m: any) => (m.gauge ?? m.histogram).dataPoints);
    // The latest sample of each minute of the capture, each with its own time: 12:00:45 (rss 140), 12:01:45, ... 12:04:45.
    const rss = points('heroku.dyno.memory_rss');
    expect(rss.map((p: any) => new Date(Number(BigInt(p.timeUnixNano) / 1_000_000n)).toISOString())).toEqual([
      '2024-05-01T12:00:45.000Z',
      '2024-05-01T12:01:45.000Z',
      '2024-05-01T12:02:45.000Z',
      '2024-05-01T12:03:45.000Z',
      '2024-05-01T12:04:45.000Z',
    ]);
    // Router requests as a cumulative histogram exported at each minute's end of the capture, one start time.
    const durations = points('http.server.request.duration');
    expect(durations.map((p: any) => Number(p.count))).toEqual([6, 12, 18, 24, 30]);
    expect(new Set(durations.map((p: any) => p.startTimeUnixNano)).size).toBe(1);
    expect(durations.slice(0, 4).map((p: any) => new Date(Number(BigInt(p.timeUnixNano) / 1_000_000n)).toISOString())).toEqual([
      '2024-05-01T12:01:00.000Z',
      '2024-05-01T12:02:00.000Z',
      '2024-05-01T12:03:00.000Z',
      '2024-05-01T12:04:00.000Z',
    ]);
  });

  it('streams a large capture in bounded memory, losing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-replay-big-'));
    const cfg = await config(dir);
    const n = 100_000;
    const line = (i: number) => `2024-05-01T12:00:00.000000+00:00 app[web.1]: order ${i} shipped`;
    writeFileSync(join(dir, 'big.txt.gz'), gzipSync(Buffer.from(Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n')));
    const r = await run(['replay', '--config', cfg, join(dir, 'big.txt.gz')]);
    expect(r.code).toBe(0);
    expect(backend!.logRecords()).toHaveLength(n);
    expect(r.peakRssMb).toBeLessThan(400);
  }, 120_000);

  it('skips a line longer than 64 KiB, says so, and sends the lines around it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-replay-long-'));
    const cfg = await config(dir);
    const line = (text: string) => `2024-05-01T12:00:00.000000+00:00 app[web.1]: ${text}`;
    writeFileSync(join(dir, 'long.txt'), [line('before'), line('x'.repeat(200_000)), line('after')].join('\n') + '\n');
    const r = await run(['replay', '--config', cfg, join(dir, 'long.txt')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 lines read, 2 records');
    expect(r.stderr).toContain('1 line longer than 65536 bytes skipped');
    expect(backend!.logRecords().map((rec: any) => rec.body.stringValue)).toEqual(['before', 'after']);
  });

  it('says what is wrong with its arguments or its config', async () => {
    expect((await run(['replay', 'x.txt'])).code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'hod-replay-bad-'));
    writeFileSync(join(dir, 'bad.yaml'), 'receivers: {}\n');
    const bad = await run(['replay', '--config', join(dir, 'bad.yaml'), 'x.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('service: is required');
  });
});
