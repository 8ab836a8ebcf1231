/**
 * An unreachable or refusing backend shows in our log at once, through the pipeline every exporter
 * passes: real otlphttp requests to a local backend answering 503, 400 or 401, and to a closed port;
 * our log captured as the JSON lines jsonLogger writes. No credential reaches a line.
 */
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { otlphttpConfigSchema } from '../../src/exporters/otlphttp/config.ts';
import { OtlphttpExporter } from '../../src/exporters/otlphttp/exporter.ts';
import { SendingQueue } from '../../src/exporters/exporterhelper/queue.ts';
import { sendingQueueSchema } from '../../src/exporters/exporterhelper/config.ts';
import { jsonLogger, type Level } from '../../src/service/log.ts';
import { Pipeline } from '../../src/service/pipeline.ts';
import type { RetrySettings } from '../../src/service/retry.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { settle, until } from '../support/wait.ts';

const HEADER_SECRET = 'glc_eyJvIjoiMTIzNDU2Nzg5In0-header-secret';
const PASSWORD = 's3cr3t-pa55word';

function record(n: number): LogRecordData {
  return { timeUnixMicros: n, observedUnixMicros: n, severityNumber: 9, severityText: 'INFO', body: `line ${n}`, eventName: 'heroku.app.log', attributes: {}, traceId: undefined, spanId: undefined, traceFlags: 0 };
}
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => record(from + i));

interface Line {
  level: Level;
  msg: string;
  [field: string]: unknown;
}

/** Our logger, writing its JSON lines into an array. */
function capturedLog(level: Level = 'info') {
  const raw: string[] = [];
  const log = jsonLogger(level, { write: (text: string) => raw.push(...text.split('\n').filter((l) => l !== '')) });
  return { raw, lines: () => raw.map((l) => JSON.parse(l) as Line), log };
}

const QUICK_RETRY: RetrySettings = { enabled: true, initialIntervalMs: 1, maxIntervalMs: 2, maxElapsedMs: 0 };

let server: OtlpTestServer | undefined;
let exporter: OtlphttpExporter | undefined;
let pipeline: Pipeline | undefined;
let queue: SendingQueue | undefined;
/** As the service stops them: the pipeline takes nothing more, then its exporter's queue sends what it holds, up to the deadline. */
async function shutdown(deadlineMs: number): Promise<void> {
  pipeline?.stop();
  await queue?.shutdown(deadlineMs);
}
afterEach(async () => {
  await shutdown(100);
  await exporter?.shutdown();
  await server?.stop();
  pipeline = exporter = server = queue = undefined;
});

function build(settings: Record<string, unknown>, log: ReturnType<typeof jsonLogger>, retry: RetrySettings = QUICK_RETRY): Pipeline {
  exporter = new OtlphttpExporter('otlphttp/backend', otlphttpConfigSchema.parse({ encoding: 'json', compression: 'none', headers: { authorization: `Bearer ${HEADER_SECRET}` }, ...settings }));
  queue = new SendingQueue({ exporter, signal: 'logs', queue: sendingQueueSchema.parse({ sizer: 'items', queue_size: 100_000 }), retry, log });
  pipeline = new Pipeline({ id: 'logs', signal: 'logs', queues: [queue], batch: undefined });
  return pipeline;
}

function expectNoSecret(raw: string[]): void {
  for (const line of raw) {
    expect(line).not.toContain(HEADER_SECRET);
    expect(line).not.toContain(PASSWORD);
    expect(line).not.toContain('api_key');
  }
}

/** A port nobody listens on: connection refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('export failures in our log', () => {
  it('a backend answering 503 100 times: its first failure at once, then nothing until it recovers, and the recovery', async () => {
    server = new OtlpTestServer();
    const base = await server.start();
    server.script = Array.from({ length: 100 }, () => ({ status: 503, body: `unavailable, your key ${HEADER_SECRET} is fine` }));
    const { raw, lines, log } = capturedLog();
    const p = build({ endpoint: base.replace('http://', `http://shop:${PASSWORD}@`) }, log);
    p.offer({}, 'a', records(0, 5));
    await until(() => raw.length > 0);
    const first = lines()[0]!;
    expect(first).toMatchObject({ level: 'warn', exporter: 'otlphttp/backend', pipeline: 'logs', endpoint: `${base}/v1/logs`, status: 503 });
    expect(first.msg).toMatch(new RegExp(`^otlphttp/backend: export to ${base}/v1/logs failed: 503 unavailable, your key \\[REDACTED\\] is fine; retrying in \\d+ms$`));
    await until(() => p.counters.exported['otlphttp/backend'] === 5);
    const all = lines();
    expect(all.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(all[1]!.msg).toMatch(/^otlphttp\/backend: recovered after 100 failures \/ [\d.]+m?s$/);
    expect(all[1]).toMatchObject({ failures: 100 });
    // A configured Authorization header wins over the endpoint's userinfo.
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${HEADER_SECRET}`);
    expectNoSecret(raw);
  });

  it('a backend refusing everything (400): the first loss at once with the reason, the rest counted in one line, exactly', async () => {
    server = new OtlpTestServer();
    const base = await server.start();
    server.script = Array.from({ length: 100 }, () => ({ status: 400, body: 'resource is missing service.name' }));
    const { raw, lines, log } = capturedLog();
    const p = build({ endpoint: base }, log);
    for (let i = 0; i < 100; i++) p.offer({}, `drain-${i}`, records(i * 3, 3));
    await until(() => p.held === 0);
    expect(p.counters.failed['otlphttp/backend']).toBe(300);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({
      level: 'error',
      msg: `otlphttp/backend: export to ${base}/v1/logs failed: 400 resource is missing service.name; 3 records lost (not retryable)`,
      status: 400,
    });
    await shutdown(100);
    const all = lines();
    expect(all).toHaveLength(2);
    expect(all[1]!.msg).toMatch(/^otlphttp\/backend: 99 failures in the last [\d.]+m?s, 297 records lost \(not retryable\), last: 400 resource is missing service.name$/);
    expect(all[1]).toMatchObject({ level: 'error', failures: 99, lost_records: 297 });
    expectNoSecret(raw);
  });

  it('a backend refusing our key (401): the status and the endpoint without userinfo or query; the key it echoes is masked', async () => {
    server = new OtlpTestServer();
    const base = await server.start();
    server.script = [{ status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 16, message: `invalid API key "${HEADER_SECRET}"` }) }];
    const { raw, lines, log } = capturedLog();
    const port = new URL(base).port;
    const p = build(
      { logs_endpoint: `http://shop:${PASSWORD}@127.0.0.1:${port}/v1/logs?api_key=${PASSWORD}`, metrics_endpoint: `http://127.0.0.1:${port}/v1/metrics` },
      log,
    );
    p.offer({}, 'a', records(0, 2));
    await until(() => raw.length > 0);
    expect(lines()[0]).toMatchObject({
      level: 'error',
      msg: `otlphttp/backend: export to http://127.0.0.1:${port}/v1/logs failed: 401 invalid API key "[REDACTED]"; 2 records lost (not retryable)`,
      endpoint: `http://127.0.0.1:${port}/v1/logs`,
      status: 401,
    });
    expectNoSecret(raw);
  });

  it('a closed port (connection refused): logged at once, 100 refused attempts write one line, and recovery when it listens', async () => {
    const port = await closedPort();
    const { raw, lines, log } = capturedLog('debug');
    const p = build({ endpoint: `http://shop:${PASSWORD}@127.0.0.1:${port}` }, log);
    p.offer({}, 'a', records(0, 4));
    await until(() => lines().some((l) => l.level !== 'debug'));
    const first = lines().find((l) => l.level !== 'debug')!;
    expect(first).toMatchObject({ level: 'warn', endpoint: `http://127.0.0.1:${port}/v1/logs` });
    expect(first.msg).toMatch(new RegExp(`^otlphttp/backend: export to http://127\\.0\\.0\\.1:${port}/v1/logs failed: .*ECONNREFUSED.*; retrying in \\d+ms$`));
    await until(() => lines().filter((l) => l.level === 'debug').length >= 100);
    expect(lines().filter((l) => l.level !== 'debug')).toHaveLength(1);
    // At debug level, each attempt with its size, outcome and duration.
    const attempt = lines().find((l) => l.level === 'debug')!;
    expect(attempt).toMatchObject({ msg: 'otlphttp/backend: export failed', pipeline: 'logs', attempt: 1, items: 4, bytes: expect.any(Number), duration_ms: expect.any(Number) });
    expect(attempt.error).toContain('ECONNREFUSED');
    // The backend comes up on that port: the retries get through, and it says so.
    server = new OtlpTestServer();
    const proxy = await forwardPort(port, server);
    try {
      await until(() => p.counters.exported['otlphttp/backend'] === 4);
      const told = lines().filter((l) => l.level !== 'debug');
      expect(told).toHaveLength(2);
      expect(told[1]).toMatchObject({ level: 'info', msg: expect.stringMatching(/^otlphttp\/backend: recovered after \d+ failures \/ [\d.]+m?s$/) });
      expectNoSecret(raw);
    } finally {
      await shutdown(100);
      await exporter!.shutdown();
      proxy.close();
      proxy.closeAll();
    }
  });

  it('a backend that never answers: the shutdown deadline ends the request in flight, and its records are counted dropped once', async () => {
    server = new OtlpTestServer();
    const base = await server.start();
    server.script = [{ status: 200, delayMs: 60_000 }];
    const { raw, lines, log } = capturedLog();
    const p = build({ endpoint: base, timeout: '30s' }, log);
    p.offer({}, 'a', records(0, 6));
    await settle(50);
    await shutdown(50);
    // Had the request gone on, the records would stay held for the 30 s timeout.
    await until(() => p.held === 0);
    expect(p.counters).toMatchObject({ droppedAtShutdown: 6, failed: { 'otlphttp/backend': 0 }, exported: { 'otlphttp/backend': 0 } });
    expect(queue!.counters).toMatchObject({ droppedAtShutdown: 6, sendFailed: 0, sent: 0 });
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'otlphttp/backend: shutdown deadline passed: 6 records not exported', exporter: 'otlphttp/backend', dropped: 6, pipelines: { logs: 6 } }),
    ]);
    expectNoSecret(raw);
  });

  it('at info level, a healthy backend writes nothing; at debug level, each export with items, bytes, status and duration', async () => {
    server = new OtlpTestServer();
    const base = await server.start();
    const info = capturedLog('info');
    const p = build({ endpoint: base }, info.log);
    p.offer({}, 'a', records(0, 3));
    await until(() => p.counters.exported['otlphttp/backend'] === 3);
    expect(info.raw).toEqual([]);
    await shutdown(100);
    await exporter!.shutdown();
    const debug = capturedLog('debug');
    const q = build({ endpoint: base }, debug.log);
    q.offer({}, 'a', records(0, 3));
    await until(() => q.counters.exported['otlphttp/backend'] === 3);
    expect(debug.lines()).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'otlphttp/backend: export ok', pipeline: 'logs', exporter: 'otlphttp/backend', attempt: 1, items: 3, bytes: expect.any(Number), status: 200, duration_ms: expect.any(Number) }),
    ]);
    expectNoSecret(debug.raw);
  });
});

/** Starts the test backend, reachable on `port` (the one the exporter has been failing on) through a TCP relay. */
async function forwardPort(port: number, backend: OtlpTestServer) {
  await backend.start();
  const target = Number(new URL(backend.url).port);
  const sockets = new Set<Socket>();
  const relay = createServer((socket) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', () => resolve()));
  return Object.assign(relay, { closeAll: () => sockets.forEach((s) => s.destroy()) });
}
