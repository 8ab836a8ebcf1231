/**
 * Syslog TCP throughput: the router-heavy mix as a Heroku syslog drain sends it (octet-counted,
 * the drain token as HOSTNAME) from this process
 * - into heroku-otel-drain's syslog receiver, through a logs pipeline (batch processor), into the
 *   local OTLP sink (bench/e2e-sink.ts: protobuf, gzip), lines/s until the sink holds every line;
 * - into rsyslog's imtcp, written to a file by omfile (a native reference), lines/s until the file
 *   holds every line.
 * Prints one JSON line per run, then per checkout the medians and the ratio to rsyslog.
 *
 * The two do not do the same work, and the JSON says so (`work`): rsyslog reads the syslog header
 * and appends the message to a file as it came; we also read every router line's fields into
 * attributes, encode OTLP protobuf, gzip it and POST it to a sink, a third process on the same
 * cores (its CPU is `sink_cpu_s`). `server_cpu_s` is the server's CPU from the first byte sent until
 * the last line arrived (its start-up, module loading included, is `startup_cpu_s`), summed over
 * its worker processes; `client_cpu_s` is this process's, which writes the stream: when it is
 * close to the wall time, the sender and not the server sets that side's lines/s.
 *
 * `node bench/syslog.ts`. Environment: `BENCH_SYSLOG_LINES` (200000), `BENCH_SYSLOG_ROOTS` (checkouts
 * whose sidecar runs, comma-separated, in turn: a before/after in one run; default this one),
 * `BENCH_SYSLOG_ROUNDS` (1; 3 with several roots: rsyslog and every root each round, their order
 * alternating), `BENCH_SYSLOG_CONNECTIONS` (1: the stream cut in that many parts, each on its own
 * connection, all at once), `BENCH_SYSLOG_WORKERS` (`service.workers`, or counts run in turn as roots are: `1,2`;
 * unset, one process),
 * `BENCH_SYSLOG_PROFILE` (a directory for the sidecar's CPU profile), `BENCH_SYSLOG_NODE_ARGS`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuSeconds, processTree, shippedNodeFlags, treeCpuSeconds } from './proc.ts';
import { generateMix } from './mix.ts';

const NODE = process.execPath;
const HERE = new URL('../', import.meta.url).pathname;
const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

const OURS_WORK = 'reads each line\'s syslog header and its router/app fields into attributes, logs pipeline with the batch processor, OTLP/HTTP protobuf + gzip POSTed to a local sink (another process on the same cores)';
const RSYSLOG_WORK = 'reads each line\'s syslog header, appends the message re-rendered (RSYSLOG_SyslogProtocol23Format) to a local file (omfile, asyncWriting, 256 KiB buffer, no compression); no field parsing, no network';

export interface SyslogBenchResult {
  bench: string;
  /** The checkout whose sidecar ran (ours only). */
  root?: string;
  lines_per_s: number;
  lines_sent: number;
  lines_received: number;
  lines_lost: number;
  /** Server CPU from the first byte sent until the last line arrived (its processes summed). */
  server_cpu_s: number;
  /** That CPU per line, in microseconds. */
  cpu_us_per_line: number;
  /** Server CPU before the load: start-up, module loading. */
  startup_cpu_s: number;
  /** The sink's CPU meanwhile (ours only: rsyslog has no sink). */
  sink_cpu_s?: number;
  /** This process's CPU meanwhile: it writes the stream. */
  client_cpu_s: number;
  /** Each server process's peak RSS, summed. */
  peak_rss_mb: number;
  connections: number;
  workers: number;
  work: string;
}

/** The mix as octet-counted frames, HOSTNAME = the drain token. */
export function syslogFrames(lines: number): Buffer[] {
  const frames: Buffer[] = [];
  for (const { message } of generateMix(lines, 11)) {
    const m = message.replace(' host ', ` ${TOKEN} `);
    frames.push(Buffer.from(`${Buffer.byteLength(m)} ${m}`, 'utf8'));
  }
  return frames;
}

/** The mix as one octet-counted stream. */
export function syslogStream(lines: number): Buffer {
  return Buffer.concat(syslogFrames(lines));
}

/** The frames in `parts` streams of consecutive frames, one per connection. */
function streams(frames: Buffer[], parts: number): Buffer[] {
  const out: Buffer[] = [];
  const per = Math.ceil(frames.length / parts);
  for (let i = 0; i < frames.length; i += per) out.push(Buffer.concat(frames.slice(i, i + per)));
  return out;
}

function child(
  args: string[],
  cwd: string,
  ready: RegExp,
  from: 'stdout' | 'stderr',
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ proc: ChildProcess; match: RegExpExecArray; text: () => string }> {
  const proc = spawn(args[0]!, args.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`not ready: ${args.join(' ')}: ${text}`)), 20_000);
    const stream = from === 'stdout' ? proc.stdout! : proc.stderr!;
    stream.on('data', (d) => {
      text += d;
      const m = found ? null : ready.exec(text);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolve({ proc, match: m, text: () => text });
      }
    });
  });
}

/** Writes each stream on its own connection, all at once, honouring TCP flow control. */
async function send(port: number, parts: Buffer[]): Promise<void> {
  await Promise.all(
    parts.map(async (stream) => {
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const chunk = 64 * 1024;
      for (let i = 0; i < stream.length; i += chunk) {
        if (!socket.write(stream.subarray(i, i + chunk))) await new Promise((r) => socket.once('drain', r));
      }
      await new Promise<void>((r) => socket.end(() => r()));
    }),
  );
}

async function waitFor(count: () => Promise<number> | number, expected: number, quietMs = 5000): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await count();
    if (n >= expected) return n;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > quietMs) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each process's peak RSS (VmHWM) in the tree under `pid`, summed, in MB. */
function treePeakRssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      kb += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return Math.round(kb / 1024);
}

/** Times the load from the first byte to the last line counted; CPU of the server tree and of this process meanwhile. */
async function measure(serverPid: number, port: number, parts: Buffer[], lines: number, count: () => Promise<number> | number, sinkPid?: number) {
  const startup = treeCpuSeconds(serverPid);
  const sink0 = sinkPid === undefined ? 0 : cpuSeconds(sinkPid);
  const client0 = process.cpuUsage();
  const started = performance.now();
  await send(port, parts);
  const received = await waitFor(count, lines);
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(client0);
  const cpu = treeCpuSeconds(serverPid) - startup;
  return {
    lines_per_s: Math.round(received / seconds),
    lines_sent: lines,
    lines_received: received,
    lines_lost: lines - received,
    server_cpu_s: Number(cpu.toFixed(2)),
    cpu_us_per_line: Number(((cpu / Math.max(1, received)) * 1e6).toFixed(1)),
    startup_cpu_s: startup,
    ...(sinkPid === undefined ? {} : { sink_cpu_s: Number((cpuSeconds(sinkPid) - sink0).toFixed(2)) }),
    client_cpu_s: Number(((client.user + client.system) / 1e6).toFixed(2)),
    peak_rss_mb: treePeakRssMb(serverPid),
  };
}

export interface SyslogBenchOptions {
  /** The checkout whose sidecar runs (default this one). */
  root?: string;
  connections?: number;
  /** `service.workers`; undefined: one process. */
  workers?: number;
}

async function ours(frames: Buffer[], options: SyslogBenchOptions = {}): Promise<SyslogBenchResult> {
  const root = options.root ?? HERE;
  const connections = options.connections ?? 1;
  const sink = await child([NODE, 'bench/e2e-sink.ts'], HERE, /^(\d+)\n/, 'stdout');
  const sinkUrl = `http://127.0.0.1:${sink.match[1]}`;
  const dir = mkdtempSync(join(tmpdir(), 'hod-syslog-bench-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      `  syslog: { tcp: { endpoint: "127.0.0.1:0" }, drains: [ { token: "${TOKEN}", resource: { service.name: bench } } ] }`,
      'processors:',
      '  batch: {}',
      'exporters:',
      `  otlphttp: { endpoint: "${sinkUrl}", encoding: proto, compression: gzip }`,
      'service:',
      ...(options.workers !== undefined ? [`  workers: ${options.workers}`] : []),
      '  pipelines:',
      '    logs: { receivers: [syslog], processors: [batch], exporters: [otlphttp] }',
      '',
    ].join('\n'),
  );
  const nodeArgs = [
    // What users run: that checkout's Procfile flags.
    ...shippedNodeFlags(root),
    // BENCH_SYSLOG_PROFILE=DIR writes the sidecar's CPU profile there when it exits.
    ...(process.env.BENCH_SYSLOG_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SYSLOG_PROFILE}`] : []),
    ...(process.env.BENCH_SYSLOG_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  // WEB_CONCURRENCY is left out: only BENCH_SYSLOG_WORKERS decides how many processes serve.
  const env = { ...process.env };
  delete env.WEB_CONCURRENCY;
  const server = await child([NODE, ...nodeArgs, 'bin/heroku-otel-drain.js', 'start', '--config', config], root, /listening on [^:]+:(\d+) \(tcp\)/, 'stderr', env);
  try {
    // With workers, every one of them listens before the load starts (the primary hands
    // connections only to workers that listen).
    if (options.workers !== undefined && options.workers > 1) {
      await waitFor(() => server.text().match(/listening on [^:]+:\d+ \(tcp\)/g)?.length ?? 0, options.workers, 20_000);
    }
    const r = await measure(
      server.proc.pid!,
      Number(server.match[1]),
      streams(frames, connections),
      frames.length,
      async () => ((await (await fetch(`${sinkUrl}/count`)).json()) as { records: number }).records,
      sink.proc.pid!,
    );
    return { bench: 'syslog tcp heroku-otel-drain', root, ...r, connections, workers: options.workers ?? 1, work: OURS_WORK };
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    sink.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Newlines in a file, read incrementally. */
function lineCounter(file: string): () => number {
  let offset = 0;
  let lines = 0;
  const buf = Buffer.alloc(1 << 20);
  return () => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return lines;
    }
    if (size <= offset) return lines;
    const fd = openSync(file, 'r');
    try {
      while (offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
        if (n <= 0) break;
        for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
        offset += n;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

export function rsyslogInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v rsyslogd']).status === 0;
}

async function rsyslog(frames: Buffer[], connections = 1): Promise<SyslogBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-rsyslog-bench-'));
  mkdirSync(join(dir, 'work'));
  const out = join(dir, 'out.log');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = join(dir, 'rsyslog.conf');
  writeFileSync(
    config,
    [
      `global(workDirectory="${join(dir, 'work')}")`,
      'module(load="imtcp")',
      `input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="file")`,
      'ruleset(name="file") {',
      `  action(type="omfile" file="${out}" template="RSYSLOG_SyslogProtocol23Format" asyncWriting="on" ioBufferSize="256k" flushOnTXEnd="off")`,
      '}',
      '',
    ].join('\n'),
  );
  const proc = spawn('rsyslogd', ['-n', '-f', config, '-i', join(dir, 'pid')], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (i > 150) throw new Error('rsyslogd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await measure(proc.pid!, port, streams(frames, connections), frames.length, lineCounter(out));
    return { bench: 'syslog tcp rsyslog imtcp to file', ...r, connections, workers: 1, work: RSYSLOG_WORK };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ours, then rsyslog when installed: what bench/run.ts prints. */
export async function runSyslogBench(lines: number, options: SyslogBenchOptions = {}): Promise<SyslogBenchResult[]> {
  const frames = syslogFrames(lines);
  const results: SyslogBenchResult[] = [await ours(frames, options)];
  if (rsyslogInstalled()) results.push(await rsyslog(frames, options.connections));
  return results;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = Number(process.env.BENCH_SYSLOG_LINES ?? 200_000);
  const roots = (process.env.BENCH_SYSLOG_ROOTS ?? HERE).split(',').map((r) => resolve(r));
  const rounds = Number(process.env.BENCH_SYSLOG_ROUNDS ?? (roots.length > 1 || (process.env.BENCH_SYSLOG_WORKERS ?? '').includes(',') ? 3 : 1));
  const connections = Number(process.env.BENCH_SYSLOG_CONNECTIONS ?? 1);
  // `1,2`: each count in turn, as roots are.
  const workerCounts = process.env.BENCH_SYSLOG_WORKERS === undefined ? [undefined] : process.env.BENCH_SYSLOG_WORKERS.split(',').map(Number);
  const variants = roots.flatMap((root) => workerCounts.map((workers) => ({ root, workers, key: workers === undefined ? root : `${root} workers=${workers}` })));
  const frames = syslogFrames(lines);
  const native = rsyslogInstalled();
  if (!native) console.error('rsyslogd not installed: no native reference (scripts/install-test-deps.sh installs it)');
  const runs = new Map<string, SyslogBenchResult[]>();
  const keep = (key: string, r: SyslogBenchResult) => {
    console.log(JSON.stringify({ ...r, work: undefined }));
    runs.set(key, [...(runs.get(key) ?? []), r]);
  };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    if (native && round % 2 === 0) keep('rsyslog', await rsyslog(frames, connections));
    for (const v of order) keep(v.key, await ours(frames, { root: v.root, connections, ...(v.workers !== undefined ? { workers: v.workers } : {}) }));
    if (native && round % 2 === 1) keep('rsyslog', await rsyslog(frames, connections));
  }
  const reference = runs.get('rsyslog');
  const summary = (rs: SyslogBenchResult[]) => ({
    bench: rs[0]!.bench,
    median_of: rs.length,
    lines_per_s: median(rs.map((r) => r.lines_per_s)),
    cpu_us_per_line: median(rs.map((r) => r.cpu_us_per_line)),
    lines_per_cpu_s: Math.round(1e6 / median(rs.map((r) => r.cpu_us_per_line))),
    peak_rss_mb: median(rs.map((r) => r.peak_rss_mb)),
    lines_lost: Math.max(...rs.map((r) => r.lines_lost)),
    client_cpu_s: median(rs.map((r) => r.client_cpu_s)),
    connections,
    workers: rs[0]!.workers,
  });
  if (reference) console.log(JSON.stringify({ ...summary(reference), work: RSYSLOG_WORK }));
  for (const { root, key } of variants) {
    const rs = runs.get(key)!;
    const s = summary(rs);
    const vs = reference ? { vs_rsyslog: Number((s.lines_per_s / summary(reference).lines_per_s).toFixed(2)), cpu_per_line_vs_rsyslog: Number((s.cpu_us_per_line / summary(reference).cpu_us_per_line).toFixed(1)) } : {};
    console.log(JSON.stringify({ ...s, root, sink_cpu_s: median(rs.map((r) => r.sink_cpu_s ?? 0)), ...vs, work: OURS_WORK }));
  }
}
