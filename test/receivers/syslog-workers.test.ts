/**
 * Syslog drains with several workers (service.workers), the real process: node:cluster's primary
 * hands each new TCP connection to the next worker (round-robin), so drains on several
 * connections are read on several cores, each connection whole by one worker. Every line must
 * arrive once, whichever worker read it, and SIGTERM must flush what each worker read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sidecarsWithSink } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;
const line = (conn: number, i: number) => `<190>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 ${TOKEN} app web.${conn} - - conn-${conn} line-${i}`;

const ctx = sidecarsWithSink();

function config(endpoint: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'syslog-workers-')), 'config.yaml');
  writeFileSync(
    path,
    `receivers:
  syslog:
    tcp: { endpoint: "127.0.0.1:0" }
    drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ]
processors:
  batch: { timeout: 50ms, send_batch_size: 200 }
exporters:
  otlphttp: { endpoint: ${endpoint}, compression: none }
service:
  workers: 2
  pipelines:
    logs: { receivers: [syslog], processors: [batch], exporters: [otlphttp] }
`,
  );
  return path;
}

/** Sends `lines` octet-counted lines on a connection of its own and closes it. */
async function send(port: number, conn: number, lines: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const text = Array.from({ length: lines }, (_, i) => frame(line(conn, i))).join('');
  await new Promise<void>((r) => socket.end(text, () => r()));
  await new Promise((r) => socket.once('close', r));
}

describe('syslog with workers', () => {
  it('reads connections on both workers; every line arrives once, and SIGTERM flushes each worker', async () => {
    const s = await ctx.start(['start', '--config', config(ctx.sink.url)], { WEB_CONCURRENCY: '' });
    // Both workers listen, on the one port the primary holds.
    const ports = await s.ports(2);
    expect(ports.length).toBe(2);
    expect(new Set(ports).size).toBe(1);
    const connections = 6;
    const lines = 500;
    await Promise.all(Array.from({ length: connections }, (_, c) => send(s.port, c, lines)));
    await until(() => ctx.sink.logRecords().length >= connections * lines, { timeoutMs: 30_000 });
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const bodies = ctx.sink.logRecords().map((r) => r.body.stringValue as string);
    expect(bodies).toHaveLength(connections * lines);
    expect(new Set(bodies).size).toBe(connections * lines);
    // Each worker logs its receiver's counters when it stops: both read some connections.
    const stopped = s.logLines().filter((l) => l.msg === 'syslog: stopped') as Array<{ worker: number; acceptedLines: number; connections: number }>;
    expect(new Set(stopped.map((l) => l.worker))).toEqual(new Set([0, 1]));
    for (const w of stopped) expect(w.acceptedLines).toBeGreaterThan(0);
    expect(stopped.reduce((n, w) => n + w.acceptedLines, 0)).toBe(connections * lines);
    // Round-robin: each connection whole on one worker, lines counted in multiples of a connection's.
    for (const w of stopped) expect(w.acceptedLines % lines).toBe(0);
  }, 60_000);
});
