/**
 * Profiling helper: the embedded default (no config file, the environment alone: logs and metrics
 * pipelines with memory_limiter, redact, alerts, interval, batch, and its on-disk queue) end to
 * end, as bench/e2e.ts runs its own configs: ~100-line Logplex POSTs, 8 in flight, into
 * bench/e2e-sink.ts (protobuf, gzip). With `E2E_DEFAULT_ROOTS=a,b` the same load runs through each
 * checkout's sidecar in turn, `E2E_DEFAULT_ROUNDS` times (default 3) interleaved, for a fair
 * before/after on a shared machine; prints one JSON line per run, then the medians per root.
 *
 * `E2E_DEFAULT_LINES` (default 100000), `E2E_DEFAULT_PROFILE=DIR` (the sidecar's CPU profile),
 * `E2E_DEFAULT_NODE_ARGS` (more Node flags for the sidecar), `E2E_DEFAULT_QUEUE_MIB` (passed as
 * DRAIN_QUEUE_MAX_SIZE_MIB; `0` keeps the queue in memory), `E2E_DEFAULT_STDOUT=PREFIX` (the sidecar's
 * stdout, e.g. `--trace-gc-nvp` lines, kept in PREFIX-<run>.txt).
 */
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { child, drained, load } from './e2e.ts';
import { cpuSeconds, peakRssMb, shippedNodeFlags } from './proc.ts';
import { generateMix, toLogplexBodies, type Body } from './mix.ts';

const HERE = new URL('../', import.meta.url).pathname;

function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '').trim();
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = Number(((out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100).toFixed(2));
    }
  } catch {
    // gone
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let runNumber = 0;

async function run(root: string, bodies: readonly Body[]) {
  const sink = await child(['bench/e2e-sink.ts'], {}, 'stdout', HERE);
  const queueDir = mkdtempSync(join(tmpdir(), 'hod-e2e-default-'));
  const nodeArgs = [
    ...shippedNodeFlags(root),
    ...(process.env.E2E_DEFAULT_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.E2E_DEFAULT_PROFILE}`] : []),
    ...(process.env.E2E_DEFAULT_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const server = await child(
    [...nodeArgs, 'bin/heroku-otel-drain.js', 'start'],
    {
      PORT: '0',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
      DRAIN_QUEUE_DIRECTORY: queueDir,
      ...(process.env.E2E_DEFAULT_QUEUE_MIB !== undefined ? { DRAIN_QUEUE_MAX_SIZE_MIB: process.env.E2E_DEFAULT_QUEUE_MIB } : {}),
    },
    'stderr',
    root,
  );
  // The sidecar's stdout (V8's --trace-gc lines) is read so a full pipe never blocks it; kept in
  // E2E_DEFAULT_STDOUT-<n>.txt when that is set.
  const stdoutFile = process.env.E2E_DEFAULT_STDOUT ? `${process.env.E2E_DEFAULT_STDOUT}-${++runNumber}.txt` : undefined;
  if (stdoutFile) server.proc.stdout!.pipe(createWriteStream(stdoutFile));
  else server.proc.stdout!.resume();
  try {
    // Start-up (TypeScript stripping, module loading) is printed apart: a sidecar runs for days.
    const startupCpu = cpuSeconds(server.proc.pid!);
    const r = await load(`http://127.0.0.1:${server.port}/logs`, bodies, 8);
    // Until the sink holds every line (alerts add records on top), or stops moving for 3 s.
    const received = await drained(sink.port, r.sent);
    const sorted = r.latencies.sort((a, b) => a - b);
    const cpu = Number((cpuSeconds(server.proc.pid!) - startupCpu).toFixed(2));
    return {
      root,
      lines_per_s: Math.round(r.sent / r.seconds),
      lines_per_cpu_s: Math.round(r.sent / cpu),
      p50_ms: Number(percentile(sorted, 50).toFixed(1)),
      p99_ms: Number(percentile(sorted, 99).toFixed(1)),
      peak_rss_mb: peakRssMb(server.proc.pid!),
      server_cpu_s: cpu,
      startup_cpu_s: startupCpu,
      lines_lost: Math.max(0, r.sent - received),
      threads_cpu_s: threadCpu(server.proc.pid!),
    };
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    sink.proc.kill('SIGKILL');
    rmSync(queueDir, { recursive: true, force: true });
  }
}

const roots = (process.env.E2E_DEFAULT_ROOTS ?? HERE).split(',').map((r) => resolve(r));
const rounds = Number(process.env.E2E_DEFAULT_ROUNDS ?? (roots.length > 1 ? 3 : 1));
const bodies = toLogplexBodies(generateMix(Number(process.env.E2E_DEFAULT_LINES ?? 100_000), 7), 100 * 300);
const results = new Map<string, Awaited<ReturnType<typeof run>>[]>();
for (let round = 0; round < rounds; round++) {
  for (const root of round % 2 === 0 ? roots : [...roots].reverse()) {
    const r = await run(root, bodies);
    console.log(JSON.stringify(r));
    results.set(root, [...(results.get(root) ?? []), r]);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [root, rs] of results) {
  console.log(
    JSON.stringify({
      median_of: rs.length,
      root,
      lines_per_s: median(rs.map((r) => r.lines_per_s)),
      lines_per_cpu_s: median(rs.map((r) => r.lines_per_cpu_s)),
      p50_ms: median(rs.map((r) => r.p50_ms)),
      p99_ms: median(rs.map((r) => r.p99_ms)),
      peak_rss_mb: median(rs.map((r) => r.peak_rss_mb)),
    }),
  );
}
