/**
 * Workers 1 vs N (issue 18 item 3): the e2e scenario's load (Logplex POSTs of ~100 lines of the
 * router-heavy mix, 8 kept-alive connections, 503s retried) into the sidecar with
 * `service.workers: N`, a logs pipeline (batch, otlphttp protobuf+gzip) into bench/e2e-sink.ts.
 * Lines per CPU-second counts the primary's and every worker's CPU from the first measured POST
 * until the sink holds every line; runs alternate 1, N, 1, N... so that a neighbour's load on a
 * shared machine falls on both. One JSON line per run, then the medians.
 *
 * Fair to both: each process compiles its hot code once (JIT, inline caches, the first gzip
 * streams), so N workers pay that N times, which a long-running sidecar does not notice. A
 * warm-up of BENCH_WARMUP_LINES per process (other frame ids, the same 8 connections, which the
 * primary deals round the workers; never paced, so that every connection, and so every worker,
 * is busy) runs first and is delivered before the measured window opens,
 * for 1 and for N alike; both then send the same BENCH_LINES.
 *
 * Unpaced, N busy workers share the cores with this load generator and the sink (on a 2-core
 * machine four busy processes on two cores): their CPU per line grows with the contention, not
 * with anything the workers share. BENCH_RATE under what one worker takes (20000 here) compares
 * the same work at the same rate; undici's pool then reuses its first free connections, so one
 * worker takes more of the load than the other (worker_cpu_s shows how much).
 *
 * Per process: the primary's CPU and each worker's. Memory: peak RSS summed over the processes
 * (which counts the node binary's and shared libraries' file pages once per process, ~55 MB each),
 * and PSS (/proc/PID/smaps_rollup: shared pages divided among the processes that map them), the
 * tree's sum at its highest sample (every 250 ms).
 *
 *   node_modules/.bin/node bench/workers.ts   (BENCH_WORKERS=2, BENCH_RUNS=3, BENCH_LINES=100000,
 *   BENCH_WARMUP_LINES=20000, BENCH_RATE=lines/s, BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p":
 *   extra flags for the sidecar, which each worker inherits)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { cpuSeconds, peakRssMb, shippedNodeFlags } from './proc.ts';
import { generateMix, toLogplexBodies, type Body } from './mix.ts';

const NODE = process.execPath;
const ROOT = new URL('../', import.meta.url).pathname;
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
/** Lines per second to send at, at most; unset: as fast as the sidecar answers. A paced load keeps a busy shared machine from being oversubscribed. */
const RATE = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE);
const WARMUP_LINES = Number(process.env.BENCH_WARMUP_LINES ?? 20_000);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

/** Proportional set size of a process in MB (smaps_rollup's Pss); 0 when it is gone. */
function pssMb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function child(args: string[], portFrom: 'stdout' | 'stderr', listening = 1): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(NODE, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no port from ${args.join(' ')}: ${text}`)), 30_000);
    (portFrom === 'stdout' ? proc.stdout! : proc.stderr!).on('data', (d) => {
      text += d;
      const ports = portFrom === 'stdout' ? [.../^(\d+)\n/.exec(text) ?? []].slice(1) : [...text.matchAll(/listening on [^:]+:(\d+)/g)].map((m) => m[1]);
      if (ports.length >= listening) {
        clearTimeout(timer);
        resolve({ proc, port: Number(ports[0]) });
      }
    });
  });
}

/** The process and its children (the cluster's workers), from /proc. */
function tree(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...kids.flatMap(tree)];
  } catch {
    return [pid];
  }
}

async function load(url: string, bodies: readonly Body[], concurrency: number, idPrefix: string, rate = RATE): Promise<{ seconds: number; sent: number; latencies: number[] }> {
  const pool = new Pool(new URL(url).origin, { connections: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let sent = 0;
  let scheduled = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const body = bodies[i]!;
        if (rate !== undefined) {
          const due = started + (scheduled / rate) * 1000;
          scheduled += body.lines;
          if (due > performance.now()) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
        }
        for (let attempt = 0; ; attempt++) {
          const t = performance.now();
          const res = await request(url, { method: 'POST', body: body.buf, dispatcher: pool, headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(body.lines), 'logplex-frame-id': `${idPrefix}${i}` } });
          await res.body.dump();
          latencies.push(performance.now() - t);
          if (res.statusCode === 200) {
            sent += body.lines;
            break;
          }
          await new Promise((r) => setTimeout(r, 50 * Math.min(attempt + 1, 10)));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { seconds, sent, latencies };
}

async function count(port: number): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${port}/count`)).json()) as { records: number }).records;
}

async function run(workers: number, bodies: readonly Body[], warmup: readonly Body[], dir: string): Promise<Record<string, number | string>> {
  const sink = await child(['bench/e2e-sink.ts'], 'stdout');
  const config = join(dir, `workers-${workers}.yaml`);
  writeFileSync(
    config,
    `receivers:\n  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }\nprocessors:\n  batch: {}\nexporters:\n  otlphttp: { endpoint: "http://127.0.0.1:${sink.port}", encoding: proto, compression: gzip }\nservice:\n  workers: ${workers}\n  pipelines:\n    logs: { receivers: [logplex], processors: [batch], exporters: [otlphttp] }\n`,
  );
  const server = await child([...shippedNodeFlags(ROOT), ...NODE_ARGS, 'bin/heroku-otel-drain.js', 'start', '--config', config], 'stderr', workers);
  const url = `http://127.0.0.1:${server.port}/logs`;
  const delivered = async (lines: number) => {
    const deadline = Date.now() + 60_000;
    while ((await count(sink.port)) < lines && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    return count(sink.port);
  };
  let peakPss = 0;
  const pssTimer = setInterval(() => (peakPss = Math.max(peakPss, tree(server.proc.pid!).reduce((n, pid) => n + pssMb(pid), 0))), 250);
  try {
    const warm = WARMUP_LINES > 0 ? await load(url, warmup, 8, 'w-', undefined) : { sent: 0 };
    const warmed = await delivered(warm.sent);
    // CPU from here on: each process's start and warm-up are not the load's.
    const pids = tree(server.proc.pid!);
    const before = pids.map(cpuSeconds);
    const r = await load(url, bodies, 8, 'f-');
    const received = (await delivered(warmed + r.sent)) - warmed;
    const used = pids.map((pid, i) => cpuSeconds(pid) - before[i]!);
    const cpu = used.reduce((a, b) => a + b, 0);
    const sorted = r.latencies.sort((a, b) => a - b);
    peakPss = Math.max(peakPss, pids.reduce((n, pid) => n + pssMb(pid), 0));
    return {
      bench: `workers ${workers}`,
      lines_per_s: Math.round(r.sent / r.seconds),
      lines_per_cpu_s: Math.round(r.sent / cpu),
      server_cpu_s: Number(cpu.toFixed(2)),
      primary_cpu_s: workers === 1 ? 0 : Number(used[0]!.toFixed(2)),
      worker_cpu_s: (workers === 1 ? used : used.slice(1)).map((c) => Number(c.toFixed(2))).join(' '),
      processes: pids.length,
      p99_ms: Number(sorted[Math.floor(0.99 * (sorted.length - 1))]!.toFixed(1)),
      peak_rss_mb_sum: pids.reduce((n, pid) => n + peakRssMb(pid), 0),
      peak_pss_mb_sum: Math.round(peakPss),
      warmup_lines: warm.sent,
      lines_lost: r.sent - Math.min(received, r.sent),
    };
  } finally {
    clearInterval(pssTimer);
    server.proc.kill('SIGTERM');
    await new Promise((res) => server.proc.once('exit', res));
    sink.proc.kill('SIGKILL');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bodies = toLogplexBodies(generateMix(LINES, 7), 100 * 300);
const warmupOf = (processes: number) => (WARMUP_LINES > 0 ? toLogplexBodies(generateMix(WARMUP_LINES * processes, 11), 100 * 300) : []);
const warmups = new Map([[1, warmupOf(1)], [WORKERS, warmupOf(WORKERS)]]);
const dir = mkdtempSync(join(tmpdir(), 'hod-workers-'));
const results = new Map<number, Array<Record<string, number | string>>>([[1, []], [WORKERS, []]]);
for (let i = 0; i < RUNS; i++) {
  for (const w of [1, WORKERS]) {
    const r = await run(w, bodies, warmups.get(w)!, dir);
    results.get(w)!.push(r);
    console.log(JSON.stringify(r));
  }
}
for (const [w, rs] of results) {
  console.log(JSON.stringify({ bench: `workers ${w} (median of ${rs.length})`, lines_per_s: median(rs.map((r) => r.lines_per_s as number)), lines_per_cpu_s: median(rs.map((r) => r.lines_per_cpu_s as number)), p99_ms: median(rs.map((r) => r.p99_ms as number)), peak_pss_mb_sum: median(rs.map((r) => r.peak_pss_mb_sum as number)) }));
}
if (RUNS > 0) {
  const perCpu = (w: number) => median(results.get(w)!.map((r) => r.lines_per_cpu_s as number));
  console.log(JSON.stringify({ bench: `workers ${WORKERS} vs 1`, per_cpu_s_ratio: Number((perCpu(WORKERS) / perCpu(1)).toFixed(3)) }));
}
