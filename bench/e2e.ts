/**
 * End to end: Logplex POSTs of ~100 lines (the router-heavy mix) from this process, through a
 * server in its own process, into a local OTLP sink (protobuf, gzip) in a third. For
 * heroku-otel-drain, for the OpenTelemetry SDK's defaults behind a Logplex endpoint, and for a
 * server that discards what it receives (the ceiling). Prints lines/s, p50/p99 POST latency, the
 * server's peak RSS and the lines lost, and one JSON line per scenario. With BENCH_PREVIOUS
 * (bench/previous.ts) each heroku-otel-drain scenario runs again against the previous release
 * right after ours: `vs_previous` is ours over its lines per server CPU-second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { cpuSeconds, peakRssMb, shippedNodeFlags } from './proc.ts';
import { percentile } from './logplex-drains.ts';
import { generateMix, toLogplexBodies, type Body } from './mix.ts';
import { factoryOf } from '../src/components.ts';
import { openPrevious, ratio } from './previous.ts';

const NODE = process.execPath;
const ROOT = new URL('../', import.meta.url).pathname;

export interface E2eResult {
  bench: string;
  lines_per_s: number;
  p50_ms: number;
  p99_ms: number;
  peak_rss_mb: number;
  lines_sent: number;
  lines_received: number;
  lines_lost: number;
  /** Records beyond one per line (the alerts processor's heroku.alert records). */
  extra_records: number;
  retried_posts: number;
  /** CPU seconds the server and the sink used: on 2 cores, the sink's share is taken from the server. */
  /** CPU seconds the server used from its first POST until the sink held the lines (its start-up excluded). */
  server_cpu_s: number;
  /** CPU seconds the server used starting, before it listened (TypeScript stripping, module loading): once per process. */
  startup_cpu_s: number;
  /** Lines per CPU-second of the server (all its threads) under load: what one core of it gets through. */
  lines_per_cpu_s: number;
  sink_cpu_s: number;
  /** Lines per server CPU-second over the previous release's, with BENCH_PREVIOUS. */
  vs_previous?: number;
}


/** Starts a child that prints its port first (a sink) or logs it (a server); resolves with the process and the port. */
export function child(args: string[], env: NodeJS.ProcessEnv = {}, portFrom: 'stdout' | 'stderr' = 'stdout', cwd = ROOT): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(NODE, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no port from ${args.join(' ')}: ${text}`)), 20_000);
    const stream = portFrom === 'stdout' ? proc.stdout! : proc.stderr!;
    stream.on('data', (d) => {
      text += d;
      const m = portFrom === 'stdout' ? /^(\d+)\n/.exec(text) : /listening on [^:]+:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
  });
}


async function sinkCount(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/count`);
  return ((await res.json()) as { records: number }).records;
}

/** Sends every body with `concurrency` POSTs in flight; a 503 is retried as Logplex would. */
export async function load(url: string, bodies: readonly Body[], concurrency: number): Promise<{ seconds: number; latencies: number[]; sent: number; retried: number }> {
  const pool = new Pool(new URL(url).origin, { connections: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let sent = 0;
  let retried = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      for (let attempt = 0; ; attempt++) {
        const t = performance.now();
        // undici's request on a kept-alive pool: lighter than fetch, so the sender takes less
        // of the two cores the sidecar runs on.
        const res = await request(url, {
          method: 'POST',
          body: body.buf,
          dispatcher: pool,
          headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(body.lines), 'logplex-frame-id': `f${body.buf.length}-${next}` },
        });
        await res.body.dump();
        latencies.push(performance.now() - t);
        if (res.statusCode === 200) {
          sent += body.lines;
          break;
        }
        retried++;
        await new Promise((r) => setTimeout(r, 50 * Math.min(attempt + 1, 10)));
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { seconds, latencies, sent, retried };
}

/** Waits until the sink holds `expected` records, or its count stops moving for `quietMs`. */
export async function drained(sinkPort: number, expected: number, quietMs = 3000, maxMs = 60_000): Promise<number> {
  const start = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await sinkCount(sinkPort);
    if (n >= expected) return n;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > quietMs || Date.now() - start > maxMs) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scenario(name: string, bodies: readonly Body[], start: (sinkUrl: string) => Promise<{ proc: ChildProcess; port: number; path: string }>, hasSink: boolean, filterName = name): Promise<E2eResult | undefined> {
  // BENCH_E2E_FILTER, a regular expression over scenario names, runs only those (and their previous-release twins).
  if (process.env.BENCH_E2E_FILTER && !new RegExp(process.env.BENCH_E2E_FILTER).test(filterName)) return undefined;
  const sink = await child(['bench/e2e-sink.ts']);
  const sinkUrl = `http://127.0.0.1:${sink.port}`;
  const server = await start(sinkUrl).catch((error: unknown) => {
    sink.proc.kill('SIGKILL');
    throw error;
  });
  try {
    // A sidecar runs for days: the per-line figure leaves out what starting cost, printed beside it.
    const startupCpu = cpuSeconds(server.proc.pid!);
    const r = await load(`http://127.0.0.1:${server.port}${server.path}`, bodies, 8);
    // Lines/s is what made it through: until the sink holds them (the ceiling keeps nothing).
    const received = hasSink ? await drained(sink.port, r.sent) : r.sent;
    const sorted = r.latencies.sort((a, b) => a - b);
    const serverCpu = Number((cpuSeconds(server.proc.pid!) - startupCpu).toFixed(2));
    return {
      bench: name,
      lines_per_s: Math.round(r.sent / r.seconds),
      p50_ms: Number(percentile(sorted, 50).toFixed(1)),
      p99_ms: Number(percentile(sorted, 99).toFixed(1)),
      peak_rss_mb: peakRssMb(server.proc.pid!),
      lines_sent: r.sent,
      lines_received: received,
      // The sink counts every log record: with alerts on, their heroku.alert records come on top.
      lines_lost: Math.max(0, r.sent - received),
      extra_records: Math.max(0, received - r.sent),
      retried_posts: r.retried,
      server_cpu_s: serverCpu,
      startup_cpu_s: startupCpu,
      lines_per_cpu_s: Math.round(r.sent / serverCpu),
      sink_cpu_s: cpuSeconds(sink.proc.pid!),
    };
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    sink.proc.kill('SIGKILL');
  }
}

export async function runE2e(lines: number): Promise<E2eResult[]> {
  const bodies = toLogplexBodies(generateMix(lines, 7), 100 * 300); // ~100 lines per POST
  const dir = mkdtempSync(join(tmpdir(), 'hod-e2e-'));
  const results: (E2eResult | undefined)[] = [];
  const previous = openPrevious();
  // The sidecar with a logs pipeline (what the SDK-defaults server does), then with the embedded
  // default's logs and metrics pipelines.
  // Then with the alerts processor's built-in pack in both pipelines. Then logs and traces (a span
  // per router request; the sink takes /v1/traces and counts log records only), once otlphttp
  // takes traces.
  const traces = factoryOf('exporters', 'otlphttp')!.signals.includes('traces');
  for (const [metrics, alerts, withTraces] of [
    [false, false, false],
    [true, false, false],
    [true, true, false],
    ...(traces ? [[false, false, true] as const] : []),
  ] as const) {
    const name = withTraces ? 'e2e heroku-otel-drain (logs + traces)' : alerts ? 'e2e heroku-otel-drain (logs + metrics + alerts)' : metrics ? 'e2e heroku-otel-drain (logs + metrics)' : 'e2e heroku-otel-drain';
    const sidecarAt = (root: string) => async (sinkUrl: string) => {
      const config = join(dir, 'config.yaml');
      const pipelines = metrics ? ['logs', 'metrics'] : withTraces ? ['logs', 'traces'] : ['logs'];
      const processors = alerts ? '[alerts, batch]' : '[batch]';
      writeFileSync(
        config,
        [
          'receivers:',
          '  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }',
          'processors:',
          `  batch: ${process.env.BENCH_E2E_BATCH ?? '{}'}`,
          ...(alerts ? ['  alerts: {}'] : []),
          'exporters:',
          `  otlphttp: { endpoint: "${sinkUrl}", encoding: ${process.env.BENCH_E2E_ENCODING ?? 'proto'}, compression: ${process.env.BENCH_E2E_COMPRESSION ?? 'gzip'} }`,
          'service:',
          '  pipelines:',
          ...pipelines.map((p) => `    ${p}: { receivers: [logplex], processors: ${processors}, exporters: [otlphttp] }`),
          '',
        ].join('\n'),
      );
      // BENCH_E2E_PROFILE=DIR writes the server's CPU profile there when it exits;
      // BENCH_E2E_NODE_ARGS: more Node flags for the server (e.g. --max-semi-space-size=32).
      const nodeArgs = [
        ...shippedNodeFlags(root),
        ...(process.env.BENCH_E2E_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_E2E_PROFILE}`] : []),
        ...(process.env.BENCH_E2E_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ];
      const c = await child([...nodeArgs, 'bin/heroku-otel-drain.js', 'start', '--config', config], { LOG_LEVEL: 'info' }, 'stderr', root);
      // BENCH_E2E_VERBOSE=1 shows the server's own log.
      if (process.env.BENCH_E2E_VERBOSE === '1') c.proc.stderr!.on('data', (d) => process.stderr.write(d));
      return { ...c, path: '/logs' };
    };
    const ours = await scenario(name, bodies, sidecarAt(ROOT), true);
    results.push(ours);
    if (ours !== undefined && previous !== undefined) {
      // A release older than a pipeline (traces) refuses its config: no ratio for that one.
      const theirs = await scenario(`${name} (previous)`, bodies, sidecarAt(previous.root), true, name).catch((error: Error) => void console.error(`${name} on ${previous.label}: ${error.message.slice(0, 300)}`));
      if (theirs) {
        ours.vs_previous = ratio(ours.lines_per_cpu_s, theirs.lines_per_cpu_s);
        results.push(theirs);
      }
    }
  }
  previous?.close();
  results.push(await scenario('e2e SDK-defaults pipeline', bodies, async (sinkUrl) => ({ ...(await child(['bench/e2e-sdk-defaults.ts', sinkUrl])), path: '/logs' }), true));
  results.push(await scenario('e2e ceiling (receive and discard)', bodies, async () => ({ ...(await child(['bench/e2e-ceiling.ts'])), path: '/logs' }), false));
  return results.filter((r) => r !== undefined);
}

/**
 * runE2e in a fresh process: the sender then has none of the parse benchmarks' heap, whose
 * garbage collection would take CPU from the two cores the sidecar runs on.
 */
export async function runE2eInChild(lines: number): Promise<E2eResult[]> {
  const proc = spawn(NODE, ['bench/e2e.ts'], { cwd: ROOT, env: { ...process.env, BENCH_E2E_LINES: String(lines) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/e2e.ts exited with ${code}`);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as E2eResult);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runE2e(Number(process.env.BENCH_E2E_LINES ?? 200_000))) console.log(JSON.stringify(r));
}
