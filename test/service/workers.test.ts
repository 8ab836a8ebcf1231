/**
 * Several workers (service.workers), with the real process: the primary hands each new
 * connection to the next worker (round-robin), so a batch Logplex re-sends on a new connection
 * reaches another worker; it must still be taken once. SIGTERM flushes every worker; a worker
 * that dies is started again, and recovers its own on-disk queue.
 *
 * Logplex's rules these tests rely on: it re-sends a batch with the same Logplex-Frame-Id when
 * our answer was lost or late, and retries one answered 503; one answered 200 is ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { freePort, hasCommand } from '../support/syslog-tools.ts';
import { until } from '../support/wait.ts';

const HAVE_REDIS = hasCommand('redis-server') || process.env.CI === 'true' || process.env.CI === '1';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const body = (batch: number, lines: number) =>
  Array.from({ length: lines }, (_, i) => frame(`<190>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host app web.1 - batch-${batch} line-${i}`)).join('');

let sidecar: RunningSidecar | undefined;
let backend: OtlpTestServer | undefined;
let redis: ChildProcess | undefined;
afterEach(async () => {
  redis?.kill('SIGKILL');
  redis = undefined;
  // SIGKILL to the primary: its workers' channel closes and they end too.
  sidecar?.proc.kill('SIGKILL');
  await sidecar?.exited;
  await backend?.stop();
  sidecar = backend = undefined;
});

interface Extra {
  /** A file_storage queue. */
  storage?: boolean;
  /** An alerts processor on the redis-server at this port. */
  alertsOnRedis?: number;
  /** An alerts processor with no store: its windows add up through the primary. */
  alerts?: boolean;
  /** The sidecar's own metrics to this OTLP endpoint. */
  selfTelemetry?: string;
}

function config(dir: string, endpoint: string, extra: Extra = {}): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ]
processors:
  batch: { timeout: 50ms, send_batch_size: 200 }
${extra.alertsOnRedis !== undefined ? '  alerts: { storage: redis, evaluation_interval: 200ms, builtin_rules: false, rules: [ { name: RouterH12Storm } ] }\n' : ''}${extra.alerts ? '  alerts: { evaluation_interval: 200ms, builtin_rules: false, rules: [ { name: RouterH12Storm } ] }\n' : ''}${extra.storage ? `extensions:\n  file_storage: { directory: ${join(dir, 'queue')}, create_directory: true }\n` : ''}${extra.alertsOnRedis !== undefined ? `extensions:\n  redis: { url: "redis://127.0.0.1:${extra.alertsOnRedis}", timeout: 300ms }\n` : ''}exporters:
  otlphttp:
    endpoint: ${endpoint}
    compression: none
    retry_on_failure: { initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 0 }
${extra.storage ? '    sending_queue: { storage: file_storage }\n' : ''}service:
  workers: 2
${extra.selfTelemetry !== undefined ? `  telemetry: { metrics: { readers: [ { periodic: { interval: 300, exporter: { otlp: { protocol: http/protobuf, endpoint: "${extra.selfTelemetry}" } } } } ] } }\n` : ''}${extra.storage ? '  extensions: [file_storage]\n' : ''}${extra.alertsOnRedis !== undefined ? '  extensions: [redis]\n' : ''}  pipelines:
    logs: { receivers: [logplex], processors: [${extra.alertsOnRedis !== undefined || extra.alerts ? 'alerts, ' : ''}batch], exporters: [otlphttp] }
`,
  );
  return path;
}

/** One POST on a connection of its own (no keep-alive agent): the primary gives it to the next worker. */
function post(port: number, text: string, frameId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/logs', method: 'POST', agent: false, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': frameId, 'logplex-msg-count': String(text.split('\n').length - 1), 'content-type': 'application/logplex-1', connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** As Logplex does: a batch answered 503 is sent again until it is taken. */
async function deliver(port: number, text: string, frameId: string): Promise<void> {
  for (;;) {
    const status = await post(port, text, frameId);
    if (status === 200) return;
    expect(status).toBe(503);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each worker's receiver counters, from the lines they log when they stop. */
function stoppedReceivers(s: RunningSidecar): Map<number, { acceptedLines: number; duplicateLines: number }> {
  const out = new Map<number, { acceptedLines: number; duplicateLines: number }>();
  for (const l of s.logLines()) if (l.msg === 'logplex: stopped') out.set(l.worker as number, l as never);
  return out;
}

/** The log records' bodies the backend received. */
const bodies = (b: OtlpTestServer) => b.logRecords().map((r) => r.body.stringValue as string);

async function start(dir: string, endpoint: string, extra: Extra = {}): Promise<RunningSidecar> {
  const s = await startSidecar(['start', '--config', config(dir, endpoint, extra)], {});
  sidecar = s;
  // Both workers listen (on the one port the primary holds).
  const ports = await s.ports(2);
  expect(ports.length).toBe(2);
  expect(new Set(ports).size).toBe(1);
  return s;
}

describe('workers', () => {
  it('a batch re-sent on new connections, which reach the other worker, is taken once; every line arrives once', async () => {
    backend = new OtlpTestServer();
    const s = await start(mkdtempSync(join(tmpdir(), 'workers-')), await backend.start());
    const batches = 120;
    const lines = 5;
    // Each batch three times, two at once (the second is in progress or done elsewhere), then
    // again: nine connections per three batches, so copies fall on both workers.
    await Promise.all(
      Array.from({ length: batches }, async (_, b) => {
        const text = body(b, lines);
        await Promise.all([deliver(s.port, text, `frame-${b}`), deliver(s.port, text, `frame-${b}`)]);
        await deliver(s.port, text, `frame-${b}`);
      }),
    );
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const got = bodies(backend);
    expect(got.length).toBe(batches * lines);
    expect(new Set(got).size).toBe(batches * lines);
    const receivers = stoppedReceivers(s);
    expect([...receivers.keys()].sort()).toEqual([0, 1]);
    // Both took batches, and together exactly one copy of each: a worker alone would have taken
    // every copy it was the first to see.
    for (const r of receivers.values()) expect(r.acceptedLines).toBeGreaterThan(0);
    expect([...receivers.values()].reduce((n, r) => n + r.acceptedLines, 0)).toBe(batches * lines);
    expect([...receivers.values()].reduce((n, r) => n + r.duplicateLines, 0)).toBe(2 * batches * lines);
  }, 60_000);

  it('SIGTERM: every worker flushes; every line answered 200 arrives, and the primary exits 0', async () => {
    backend = new OtlpTestServer();
    // A slow backend: at SIGTERM, the workers' queues still hold what they answered 200.
    backend.script = Array.from({ length: 20 }, () => ({ status: 200, delayMs: 150 }));
    const s = await start(mkdtempSync(join(tmpdir(), 'workers-')), await backend.start());
    const answers = await Promise.all(Array.from({ length: 60 }, (_, b) => post(s.port, body(b, 10), `frame-${b}`)));
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const taken = answers.flatMap((status, b) => (status === 200 ? [b] : []));
    expect(taken.length).toBe(60);
    const got = new Set(bodies(backend));
    expect(got.size).toBe(600);
    for (const b of taken) for (let i = 0; i < 10; i++) expect(got.has(`batch-${b} line-${i}`)).toBe(true);
    expect(s.logLines().filter((l) => /^worker \d exited \(code 0\)$/.test(String(l.msg))).length).toBe(2);
  }, 60_000);

  it('a worker killed during an outage is started again and sends what it queued on disk, exactly once', async () => {
    backend = new OtlpTestServer();
    // The backend is down for now: what the workers take waits in their queues on disk.
    backend.script = Array.from({ length: 100_000 }, () => ({ status: 503 }));
    const dir = mkdtempSync(join(tmpdir(), 'workers-'));
    const s = await start(dir, await backend.start(), { storage: true });
    // One sub-directory per worker, each with its own lock.
    expect(readdirSync(join(dir, 'queue')).sort()).toEqual(['worker-0', 'worker-1']);
    for (let b = 0; b < 40; b++) expect(await post(s.port, body(b, 5), `frame-${b}`)).toBe(200);
    const pidOf = (worker: number) => s.logLines().find((l) => l.worker === worker && typeof l.pid === 'number' && String(l.msg).includes('listening'))!.pid as number;
    const first = pidOf(1);
    process.kill(first, 'SIGKILL');
    await until(() => s.logLines().some((l) => /^worker 1 died \(signal SIGKILL\)/.test(String(l.msg))), { timeoutMs: 10_000 });
    // Its replacement listens (a third listening line), with a pid of its own.
    await until(async () => (await s.ports(3)).length === 3, { timeoutMs: 15_000 });
    const second = s.logLines().filter((l) => l.worker === 1 && String(l.msg).includes('listening')).at(-1)!.pid;
    expect(second).not.toBe(first);
    backend.script = [];
    await until(() => new Set(bodies(backend!)).size === 200, { timeoutMs: 20_000, what: 'the 200 lines answered 200' });
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(bodies(backend).length).toBe(200);
    // Worker 0 took only its share: the rest was the killed worker's, sent by its replacement.
    expect(stoppedReceivers(s).get(0)!.acceptedLines).toBeLessThan(200);
  }, 60_000);

  /** Twelve H12 timeouts (the rule fires above 10), one per connection, so each worker sees its share; the storm fires once. */
  async function h12Storm(extra: Extra): Promise<void> {
    backend = new OtlpTestServer();
    const s = await start(mkdtempSync(join(tmpdir(), 'workers-')), await backend.start(), extra);
    const h12 = (i: number) =>
      frame(`<158>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=GET path="/s/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`);
    for (let i = 0; i < 12; i++) expect(await post(s.port, h12(i), `h12-${i}`)).toBe(200);
    const alertState = (r: any) => r.attributes.find((x: any) => x.key === 'heroku.alert.state')?.value.stringValue;
    await until(() => backend!.logRecords().some((r) => alertState(r) === 'firing'), { timeoutMs: 15_000, what: 'the storm to fire' });
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    // Neither worker alone passed the threshold, and the alert went out once.
    const receivers = stoppedReceivers(s);
    for (const r of receivers.values()) expect(r.acceptedLines).toBeLessThanOrEqual(10);
    expect([...receivers.values()].reduce((n, r) => n + r.acceptedLines, 0)).toBe(12);
    const firing = backend.logRecords().filter((r) => alertState(r) === 'firing');
    expect(firing).toHaveLength(1);
    // Rules are judged every 200 ms while the 12 lines arrive one POST after another: the alert
    // fires on the sum of both workers' windows once it passes 10 (after the 11th or the 12th).
    const seen = /^H12 \(request timeout\) storm: (\d+) in 5 minutes on shop-web$/.exec(firing[0].body.stringValue);
    expect(seen).not.toBeNull();
    expect(Number(seen![1])).toBeGreaterThan(10);
    expect(Number(seen![1])).toBeLessThanOrEqual(12);
  }

  it('alerts: an H12 storm split between the workers is seen whole (windows added up through the primary) and fires once', async () => {
    await h12Storm({ alerts: true });
  }, 60_000);

  it.skipIf(!HAVE_REDIS)('alerts on a redis store: an H12 storm split between the workers is seen whole and fires once', async () => {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    redis = proc;
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    await until(() => /Ready to accept connections/i.test(out), { timeoutMs: 15_000, what: 'redis-server to be ready' });
    await h12Storm({ alertsOnRedis: port });
  }, 60_000);

  it("self-telemetry: each worker exports its own counters under its own service.instance.id; together they count every line once", async () => {
    backend = new OtlpTestServer();
    const self = new OtlpTestServer();
    const s = await start(mkdtempSync(join(tmpdir(), 'workers-')), await backend.start(), { selfTelemetry: await self.start() });
    for (let b = 0; b < 40; b++) expect(await post(s.port, body(b, 5), `frame-${b}`)).toBe(200);
    // A re-send on a new connection: a duplicate, not counted as accepted again.
    expect(await post(s.port, body(0, 5), 'frame-0')).toBe(200);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    await self.stop();
    // The last export of each instance carries its final count (cumulative).
    const last = new Map<string, number>();
    for (const r of self.requests) {
      if (r.path !== '/v1/metrics') continue;
      for (const rm of r.body.resourceMetrics) {
        const instance = rm.resource.attributes.find((a: any) => a.key === 'service.instance.id').value.stringValue as string;
        for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.name === 'otelcol_receiver_accepted_log_records') last.set(instance, Number(m.sum.dataPoints[0].asInt));
      }
    }
    expect(last.size).toBe(2);
    for (const n of last.values()) expect(n).toBeGreaterThan(0);
    expect([...last.values()].reduce((a, b) => a + b, 0)).toBe(200);
    expect(new Set(bodies(backend)).size).toBe(200);
  }, 60_000);

  it('a primary killed outright: each worker flushes what it accepted and exits', async () => {
    backend = new OtlpTestServer();
    backend.script = Array.from({ length: 20 }, () => ({ status: 200, delayMs: 150 }));
    const s = await start(mkdtempSync(join(tmpdir(), 'workers-')), await backend.start());
    for (let b = 0; b < 30; b++) expect(await post(s.port, body(b, 5), `frame-${b}`)).toBe(200);
    const pids = [...new Set(s.logLines().filter((l) => typeof l.pid === 'number' && String(l.msg).includes('listening')).map((l) => l.pid as number))];
    expect(pids.length).toBe(2);
    s.proc.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => pids.every((pid) => !alive(pid)), { timeoutMs: 20_000, what: 'both workers to exit' });
    expect(new Set(bodies(backend)).size).toBe(150);
    expect(s.logLines().filter((l) => l.msg === 'the primary is gone: stopping; flushing what was accepted').length).toBe(2);
  }, 60_000);

  // WEB_CONCURRENCY is capped at the cores: a one-core machine runs one process.
  it.skipIf(availableParallelism() < 2)('the embedded default follows WEB_CONCURRENCY: 2 workers, each with its own queue directory, every line once', async () => {
    backend = new OtlpTestServer();
    const queue = mkdtempSync(join(tmpdir(), 'workers-queue-'));
    const s = await startSidecar([], { PORT: '0', WEB_CONCURRENCY: '2', DRAIN_TOKENS: `${TOKEN}=shop`, DRAIN_QUEUE_DIRECTORY: queue, OTEL_EXPORTER_OTLP_ENDPOINT: await backend.start() });
    sidecar = s;
    expect((await s.ports(2)).length).toBe(2);
    expect(s.logLines().some((l) => l.msg === 'running 2 workers (WEB_CONCURRENCY=2)')).toBe(true);
    for (let b = 0; b < 20; b++) expect(await post(s.port, body(b, 5), `frame-${b}`)).toBe(200);
    expect(await post(s.port, body(3, 5), 'frame-3')).toBe(200);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(readdirSync(queue).sort()).toEqual(['worker-0', 'worker-1']);
    const got = bodies(backend).filter((b) => b.startsWith('batch-'));
    expect(got.length).toBe(100);
    expect(new Set(got).size).toBe(100);
  }, 60_000);
});
