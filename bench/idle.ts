/**
 * `idle-footprint`: the sidecar on the embedded default before any data, as the Procfile starts it
 * (`PORT=0 node <Procfile flags> bin/heroku-otel-drain.js start`): CPU to start (until it logs
 * "listening"), then, after a second of nothing, VmRSS, RssAnon and RssFile (/proc/PID/status) and
 * the JS heap used after a forced full GC (bench/idle-probe.ts, loaded with `--import` and
 * `--expose-gc` into every run alike). Modes: `debug` (no OTLP endpoint: the debug exporter) and
 * `otlp` (OTEL_EXPORTER_OTLP_ENDPOINT set, the queue on disk, as bench/e2e-default.ts runs it).
 *
 * `IDLE_ROOTS=a,b` (default `.`) starts each checkout's sidecar in turn, `IDLE_ROUNDS` times
 * (default 5) interleaved, after one unmeasured start each (Node's compile cache warm, as on a
 * restarted dyno); one JSON line per start, then the medians per root and mode.
 * `IDLE_MODES` (default `debug,otlp`), `IDLE_PROBE_MODULES=1` (also count the modules loaded and
 * their source bytes per package; the hook costs a little, so medians are not comparable then).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, shippedNodeFlags } from './proc.ts';

const PROBE = new URL('./idle-probe.ts', import.meta.url).pathname;
const ROOTS = (process.env.IDLE_ROOTS ?? '.').split(',').map((r) => resolve(r));
const ROUNDS = Number(process.env.IDLE_ROUNDS ?? 5);
const MODES = (process.env.IDLE_MODES ?? 'debug,otlp').split(',') as ('debug' | 'otlp')[];

function statusKb(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of readFileSync(`/proc/${pid}/status`, 'utf8').matchAll(/^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

const mb = (kb: number | undefined) => Number(((kb ?? NaN) / 1024).toFixed(1));

async function once(root: string, mode: 'debug' | 'otlp') {
  const dir = mkdtempSync(join(tmpdir(), 'hod-idle-'));
  const probeOut = join(dir, 'probe.json');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', WEB_CONCURRENCY: '1', LOG_LEVEL: 'info', IDLE_PROBE_OUT: probeOut };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (mode === 'otlp') Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', DRAIN_QUEUE_DIRECTORY: join(dir, 'queue') });
  const started = performance.now();
  const proc = spawn(process.execPath, [...shippedNodeFlags(root), '--expose-gc', '--import', PROBE, 'bin/heroku-otel-drain.js', 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = proc.pid!;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    let text = '';
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${root}: no "listening" in 30 s: ${text}`)), 30_000);
      const onData = (d: Buffer) => {
        text += d;
        if (/listening on /.test(text)) {
          clearTimeout(timer);
          res();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => rej(new Error(`${root}: exited ${code}: ${text}`)));
    });
    const readyMs = Math.round(performance.now() - started);
    const startupCpu = cpuSeconds(pid);
    await sleep(1000);
    const st = statusKb(pid);
    proc.kill('SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!existsSync(probeOut) && Date.now() < deadline) await sleep(20);
    await sleep(20);
    const probe = JSON.parse(readFileSync(probeOut, 'utf8')) as Record<string, unknown>;
    const round = (v: unknown) => (typeof v === 'number' ? Number(v.toFixed(1)) : v);
    return {
      root,
      mode,
      rss_mb: mb(st.VmRSS),
      rss_anon_mb: mb(st.RssAnon),
      rss_file_mb: mb(st.RssFile),
      hwm_mb: mb(st.VmHWM),
      startup_cpu_s: startupCpu,
      ready_ms: readyMs,
      ...Object.fromEntries(Object.entries(probe).map(([k, v]) => [k, round(v)])),
    };
  } finally {
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Number(((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2).toFixed(2));
}

const results: Awaited<ReturnType<typeof once>>[] = [];
for (const mode of MODES) for (const root of ROOTS) await once(root, mode); // compile cache warm
for (let i = 0; i < ROUNDS; i++) {
  for (const mode of MODES) {
    for (const root of i % 2 === 0 ? ROOTS : [...ROOTS].reverse()) {
      const r = await once(root, mode);
      if (process.env.IDLE_PROBE_MODULES !== '1' || i === 0) console.log(JSON.stringify({ run: i, ...r }));
      results.push(r);
    }
  }
}
const KEYS = ['rss_mb', 'rss_anon_mb', 'rss_file_mb', 'hwm_mb', 'heap_used_mb', 'heap_total_mb', 'external_mb', 'startup_cpu_s', 'ready_ms'] as const;
for (const mode of MODES) {
  for (const root of ROOTS) {
    const rs = results.filter((r) => r.root === root && r.mode === mode);
    const med = Object.fromEntries(KEYS.map((k) => [k, median(rs.map((r) => (r as Record<string, unknown>)[k] as number))]));
    console.log(JSON.stringify({ bench: 'idle-footprint', root, mode, runs: rs.length, ...med }));
  }
}
