/**
 * Logplex-like load against the real sidecar process running the embedded default (no config
 * file: the environment alone, as the Deploy button sets it up: memory_limiter, redact, alerts,
 * the metrics aggregation, batch, otlphttp proto+gzip with its queue on disk) into
 * bench/e2e-sink.ts. The drains are bench/logplex-drains.ts: one request in flight each, 5 s
 * timeout, retries with the same frame id. Four scenarios, one JSON line each:
 *
 * - `logplex-50-drains`: 50 drains, 100-line POSTs, together BENCH_LOGPLEX_RATE lines/s (default
 *   10,000, under what the sidecar takes here: its p99 is then answer time, not a queue; 0 sends
 *   each batch as soon as the previous is answered, when p50 is drains x lines / throughput),
 *   measured after BENCH_WARMUP_SECONDS of the same load (Logplex meets a sidecar that has run for
 *   hours, its hot code compiled); that warm-up's own p99 is printed beside it (`warmup_p99_ms`:
 *   the first second after a start, when V8 compiles, answers 30-45 ms late).
 * - `logplex-1000-drains-1-line`: 1,000 drains, one-line POSTs, each sent as soon as the
 *   previous is answered (BENCH_LOGPLEX_1LINE_RATE paces them): requests/s per CPU-second.
 * - `burst-memory`: the 50 drains as fast as answered for the run's seconds, then nothing for BENCH_BURST_IDLE_SECONDS
 *   (default 20): RSS before, at its peak, and at the end of the idle time.
 * - `workers`: the 50 drains, as fast as answered, with WEB_CONCURRENCY=1 and with BENCH_WORKERS (default 2), each
 *   after a warm-up of BENCH_WARMUP_SECONDS (default 3) of the same load, delivered before the
 *   measured window (every process compiles its hot code once: N workers would pay it N times
 *   within the window, a long-running sidecar never notices); CPU per process (primary_cpu_s,
 *   worker_cpu_s) and the peak PSS summed over the processes (peak_pss_mb; the RSS sum counts the
 *   node binary's pages once per process) beside the peak RSS. As fast as answered, N busy workers
 *   share a small machine's cores with the drains and the sink, which costs them CPU per line;
 *   BENCH_LOGPLEX_WORKERS_RATE (lines/s, under one worker's) compares the same work at the same
 *   rate. A sidecar
 *   that starts no worker process for WEB_CONCURRENCY prints the 1-worker figures and
 *   `"workers_supported":false`. The embedded default follows WEB_CONCURRENCY (capped at the
 *   cores) since its alerts are shared across workers (src/service/workers/).
 *
 * Figures: lines_per_s (answered 200, over the load's seconds), lines and requests per server
 * CPU-second (the sidecar and its worker processes, from the load's start until the sink holds
 * what was answered 200), p50/p99 answer time (a timeout counts 5 s), peak RSS (the process
 * tree's, sampled every 250 ms), lines lost (answered 200, not at the sink; the alerts
 * processor's own records come on top as extra_records). Every scenario but `workers` pins
 * WEB_CONCURRENCY=1, so that figures compare across releases whatever the machine's cores.
 *
 * `node bench/logplex.ts [name...]` (all by default). Environment: BENCH_LOGPLEX_SECONDS (each
 * load, default 20), BENCH_LOGPLEX_CONNECTIONS (sockets the drains share, as the Heroku router
 * does; default 256, the sidecar's max_connections being 512), BENCH_LOGPLEX_RATE,
 * BENCH_LOGPLEX_1LINE_RATE, BENCH_BURST_IDLE_SECONDS, BENCH_WORKERS, BENCH_WARMUP_SECONDS, BENCH_LOGPLEX_WORKERS_RATE, BENCH_PREVIOUS
 * (bench/previous.ts: the same load against the previous release; `vs_previous` is ours over
 * its lines or requests per CPU-second, or peak RSS for burst-memory).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { child, drained } from './e2e.ts';
import { percentile, sendAsDrains, type DrainsOptions } from './logplex-drains.ts';
import { generateMix, toBatches } from './mix.ts';
import { openPrevious, ratio } from './previous.ts';
import { cpuSeconds, processTree, shippedNodeFlags, treeRssMb } from './proc.ts';

/** Proportional set size of a process tree in MB: what RSS counts once per process (the node binary's pages), divided among them. */
function treePssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return kb / 1024;
}

const ROOT = new URL('../', import.meta.url).pathname;
const env = (name: string, fallback: number): number => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = env('BENCH_LOGPLEX_SECONDS', 20);
const CONNECTIONS = env('BENCH_LOGPLEX_CONNECTIONS', 256);
const IDLE_SECONDS = env('BENCH_BURST_IDLE_SECONDS', 20);
const WORKERS = env('BENCH_WORKERS', 2);
const RATE = env('BENCH_LOGPLEX_RATE', 10_000);
const ONE_LINE_RATE = env('BENCH_LOGPLEX_1LINE_RATE', 0);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const WORKERS_RATE = env('BENCH_LOGPLEX_WORKERS_RATE', 0);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Figures = Record<string, number | string | boolean>;

/** The sidecar at `root` on the embedded default, exporting to the sink; its queue in a fresh directory. */
async function startDefault(root: string, sinkPort: number, workers: number): Promise<{ proc: ChildProcess; port: number; stop: () => Promise<void> }> {
  const queue = mkdtempSync(join(tmpdir(), 'hod-logplex-queue-'));
  const sidecar = await child(
    [...shippedNodeFlags(root), 'bin/heroku-otel-drain.js', 'start'],
    { PORT: '0', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, DRAIN_QUEUE_DIRECTORY: queue, WEB_CONCURRENCY: String(workers), LOG_LEVEL: 'info', DRAIN_TOKENS: '', DRAIN_BASIC_AUTH: '' },
    'stderr',
    root,
  );
  return {
    ...sidecar,
    stop: async () => {
      sidecar.proc.kill('SIGTERM');
      await new Promise((r) => sidecar.proc.once('exit', r));
      rmSync(queue, { recursive: true, force: true });
    },
  };
}

/** The process tree's RSS (and PSS: shared pages divided among the processes, smaps_rollup) every 250 ms while a load runs. */
function rssSampler(pid: number): { peak: () => number; peakPss: () => number; now: () => number; stop: () => void } {
  let peak = 0;
  let peakPss = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRssMb(pid));
    peakPss = Math.max(peakPss, treePssMb(pid));
  }, 250);
  return { peak: () => Math.max(peak, treeRssMb(pid)), peakPss: () => Math.max(peakPss, treePssMb(pid)), now: () => treeRssMb(pid), stop: () => clearInterval(timer) };
}

interface LoadRun {
  root: string;
  drains: number;
  linesPerPost: number;
  workers: number;
  /** Lines/s of all drains together; 0: each batch as soon as the previous is answered. */
  rate: number;
  /** Seconds of nothing after the load (burst-memory). */
  idleSeconds?: number;
  /** No load when the sidecar started no worker process: `processes` alone. */
  onlyWithWorkers?: boolean;
  /** The same load this long first, delivered before the measured one starts (each process compiles its hot code once). */
  warmupSeconds?: number;
}

const bodyCache = new Map<number, DrainsOptions['bodies']>();
/** The e2e mix in POSTs of `perPost` lines, 20,000 lines gone round as long as the load lasts. */
function bodies(perPost: number): DrainsOptions['bodies'] {
  if (!bodyCache.has(perPost)) bodyCache.set(perPost, toBatches(generateMix(20_000, 7), perPost));
  return bodyCache.get(perPost)!;
}

/** One load against a fresh sink and sidecar: the figures every scenario prints. */
async function runLoad(o: LoadRun): Promise<Figures> {
  const sink = await child(['bench/e2e-sink.ts']);
  const sidecar = await startDefault(o.root, sink.port, o.workers);
  try {
    await sleep(1000);
    const processes = processTree(sidecar.proc.pid!).length;
    if (o.onlyWithWorkers && processes <= 1) return { processes };
    const load = { drains: o.drains, bodies: bodies(o.linesPerPost), connections: Math.min(o.drains, CONNECTIONS), ...(o.rate > 0 ? { linesPerSecond: o.rate } : {}) };
    let warmed = 0;
    let warmupP99 = 0;
    if (o.warmupSeconds !== undefined && o.warmupSeconds > 0) {
      const w = await sendAsDrains(sidecar.port, { ...load, seconds: o.warmupSeconds, frameIdPrefix: 'warmup-' });
      warmed = await drained(sink.port, w.acked);
      warmupP99 = percentile(w.latencies, 99);
    }
    const rssBefore = treeRssMb(sidecar.proc.pid!);
    const pids = processTree(sidecar.proc.pid!);
    const cpuBefore = pids.map(cpuSeconds);
    const rss = rssSampler(sidecar.proc.pid!);
    const r = await sendAsDrains(sidecar.port, { ...load, seconds: SECONDS });
    const received = (await drained(sink.port, warmed + r.acked)) - warmed;
    const used = pids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]!);
    const cpu = used.reduce((a, b) => a + b, 0);
    let idle: Figures = {};
    if (o.idleSeconds !== undefined) {
      await sleep(o.idleSeconds * 1000);
      idle = { rss_before_mb: rssBefore, rss_after_idle_mb: rss.now(), idle_s: o.idleSeconds };
    }
    rss.stop();
    return {
      lines_per_s: Math.round(r.acked / r.seconds),
      lines_per_cpu_s: Math.round(r.acked / cpu),
      requests_per_s: Math.round(r.ackedPosts / r.seconds),
      requests_per_cpu_s: Math.round(r.ackedPosts / cpu),
      p50_ms: Number(percentile(r.latencies, 50).toFixed(1)),
      p99_ms: Number(percentile(r.latencies, 99).toFixed(1)),
      peak_rss_mb: rss.peak(),
      ...idle,
      lines_sent: r.acked,
      lines_received: received,
      lines_lost: Math.max(0, r.acked - received),
      extra_records: Math.max(0, received - r.acked),
      timeouts: r.timeouts,
      retried_posts: r.retried,
      lines_given_up: r.givenUp,
      server_cpu_s: Number(cpu.toFixed(2)),
      seconds: Number(r.seconds.toFixed(1)),
      drains: o.drains,
      lines_per_post: o.linesPerPost,
      offered_lines_per_s: o.rate > 0 ? o.rate : 'as answered',
      behind_schedule_max_ms: Math.round(r.behindMs),
      workers: o.workers,
      processes,
      ...(processes > 1 ? { primary_cpu_s: Number(used[0]!.toFixed(2)), worker_cpu_s: used.slice(1).map((c) => c.toFixed(2)).join(' ') } : {}),
      ...(o.warmupSeconds !== undefined ? { warmup_s: o.warmupSeconds, warmup_p99_ms: Number(warmupP99.toFixed(1)), peak_pss_mb: Math.round(rss.peakPss()) } : {}),
    };
  } finally {
    await sidecar.stop();
    sink.proc.kill('SIGKILL');
  }
}

/** The run here and, with BENCH_PREVIOUS, the same against the previous release: `key` compared. */
async function withPrevious(name: string, run: Omit<LoadRun, 'root'>, key: string): Promise<Figures> {
  const ours = await runLoad({ ...run, root: ROOT });
  const previous = openPrevious();
  if (previous === undefined) return { bench: name, ...ours };
  try {
    const theirs = await runLoad({ ...run, root: previous.root });
    return { bench: name, ...ours, vs_previous: ratio(Number(ours[key]), Number(theirs[key])), vs_previous_of: key, previous: previous.label, [`previous_${key}`]: theirs[key]!, previous_p99_ms: theirs.p99_ms!, previous_peak_rss_mb: theirs.peak_rss_mb! };
  } finally {
    previous.close();
  }
}

export const logplexScenarios: Record<string, () => Promise<Figures>> = {
  'logplex-50-drains': () => withPrevious('logplex-50-drains', { drains: 50, linesPerPost: 100, workers: 1, rate: RATE, warmupSeconds: WARMUP_SECONDS }, 'lines_per_cpu_s'),
  'logplex-1000-drains-1-line': () => withPrevious('logplex-1000-drains-1-line', { drains: 1000, linesPerPost: 1, workers: 1, rate: ONE_LINE_RATE }, 'requests_per_cpu_s'),
  'burst-memory': () => withPrevious('burst-memory', { drains: 50, linesPerPost: 100, workers: 1, rate: 0, idleSeconds: IDLE_SECONDS }, 'peak_rss_mb'),
  workers: async () => {
    const many = await runLoad({ root: ROOT, drains: 50, linesPerPost: 100, workers: WORKERS, rate: WORKERS_RATE, onlyWithWorkers: true, warmupSeconds: WARMUP_SECONDS });
    const one = await runLoad({ root: ROOT, drains: 50, linesPerPost: 100, workers: 1, rate: WORKERS_RATE, warmupSeconds: WARMUP_SECONDS });
    if (Number(many.processes) <= 1) return { bench: 'workers', ...one, workers_supported: false, workers_asked: WORKERS };
    return { bench: 'workers', ...many, workers_supported: true, one_worker_lines_per_s: one.lines_per_s!, one_worker_lines_per_cpu_s: one.lines_per_cpu_s!, one_worker_p99_ms: one.p99_ms!, one_worker_peak_rss_mb: one.peak_rss_mb!, one_worker_peak_pss_mb: one.peak_pss_mb!, per_cpu_s_vs_one_worker: ratio(Number(many.lines_per_cpu_s), Number(one.lines_per_cpu_s)) };
  },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(logplexScenarios)) {
    const scenario = logplexScenarios[name];
    if (scenario === undefined) throw new Error(`no scenario ${name}: ${Object.keys(logplexScenarios).join(', ')}`);
    console.log(JSON.stringify(await scenario()));
  }
}
