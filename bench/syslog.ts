/**
 * Syslog TCP throughput: the router-heavy mix as a Heroku syslog drain sends it (octet-counted,
 * the drain token as HOSTNAME) over one TCP connection from this process
 * - into heroku-otel-drain's syslog receiver, through its logs pipeline, into the local OTLP
 *   sink (protobuf, gzip), lines/s until the sink holds every line;
 * - into rsyslog's imtcp, written to a file by omfile (a native reference: it parses and writes,
 *   no OTLP), lines/s until the file holds every line.
 * Prints both, their ratio, and one JSON line per scenario. Run alone: `node bench/syslog.ts`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, peakRssMb } from './proc.ts';
import { generateMix } from './mix.ts';

const NODE = process.execPath;
const ROOT = new URL('../', import.meta.url).pathname;
const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

export interface SyslogBenchResult {
  bench: string;
  lines_per_s: number;
  lines_sent: number;
  lines_received: number;
  lines_lost: number;
  server_cpu_s: number;
  peak_rss_mb: number;
}



/** The mix as one octet-counted stream, HOSTNAME = the drain token. */
export function syslogStream(lines: number): Buffer {
  const parts: string[] = [];
  for (const { message } of generateMix(lines, 11)) {
    const m = message.replace(' host ', ` ${TOKEN} `);
    parts.push(`${Buffer.byteLength(m)} ${m}`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

function child(args: string[], ready: RegExp, from: 'stdout' | 'stderr'): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(args[0]!, args.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`not ready: ${args.join(' ')}: ${text}`)), 20_000);
    const stream = from === 'stdout' ? proc.stdout! : proc.stderr!;
    stream.on('data', (d) => {
      text += d;
      const m = ready.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m });
      }
    });
  });
}

/** Writes the stream on one connection, honouring TCP flow control. */
async function send(port: number, stream: Buffer): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const chunk = 64 * 1024;
  for (let i = 0; i < stream.length; i += chunk) {
    if (!socket.write(stream.subarray(i, i + chunk))) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise<void>((r) => socket.end(() => r()));
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

async function ours(stream: Buffer, lines: number): Promise<SyslogBenchResult> {
  const sink = await child([NODE, 'bench/e2e-sink.ts'], /^(\d+)\n/, 'stdout');
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
      '  pipelines:',
      '    logs: { receivers: [syslog], processors: [batch], exporters: [otlphttp] }',
      '',
    ].join('\n'),
  );
  // BENCH_SYSLOG_PROFILE=DIR writes the sidecar's CPU profile there when it exits.
  const profile = process.env.BENCH_SYSLOG_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SYSLOG_PROFILE}`] : [];
  const server = await child([NODE, ...profile, 'bin/heroku-otel-drain.js', 'start', '--config', config], /listening on [^:]+:(\d+) \(tcp\)/, 'stderr');
  try {
    const started = performance.now();
    await send(Number(server.match[1]), stream);
    const received = await waitFor(async () => ((await (await fetch(`${sinkUrl}/count`)).json()) as { records: number }).records, lines);
    const seconds = (performance.now() - started) / 1000;
    return {
      bench: 'syslog tcp heroku-otel-drain',
      lines_per_s: Math.round(received / seconds),
      lines_sent: lines,
      lines_received: received,
      lines_lost: lines - received,
      server_cpu_s: cpuSeconds(server.proc.pid!),
      peak_rss_mb: peakRssMb(server.proc.pid!),
    };
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    sink.proc.kill('SIGKILL');
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

async function rsyslog(stream: Buffer, lines: number): Promise<SyslogBenchResult | undefined> {
  if (spawnSync('sh', ['-c', 'command -v rsyslogd']).status !== 0) return undefined;
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
    const count = lineCounter(out);
    const started = performance.now();
    await send(port, stream);
    const received = await waitFor(count, lines);
    const seconds = (performance.now() - started) / 1000;
    return {
      bench: 'syslog tcp rsyslog imtcp to file',
      lines_per_s: Math.round(received / seconds),
      lines_sent: lines,
      lines_received: received,
      lines_lost: lines - received,
      server_cpu_s: cpuSeconds(proc.pid!),
      peak_rss_mb: peakRssMb(proc.pid!),
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

export async function runSyslogBench(lines: number): Promise<SyslogBenchResult[]> {
  const stream = syslogStream(lines);
  const results: SyslogBenchResult[] = [await ours(stream, lines)];
  const native = await rsyslog(stream, lines);
  if (native) results.push(native);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runSyslogBench(Number(process.env.BENCH_SYSLOG_LINES ?? 200_000))) console.log(JSON.stringify(r));
}
