/**
 * Hostile traffic against the real sidecar process, and an account of what was answered 200 and
 * what arrived. Two scenarios, each printing one JSON line:
 *
 * - `overload`: healthy Logplex drains only, with large bodies, into a backend that takes a tenth
 *   of what they offer (SINK_RECORDS_PER_S). Every answer's latency is measured against Logplex's
 *   5 s timeout: p50, p99, the worst, and how many went past 5 s.
 * - `fuzz`: healthy drains (Logplex HTTP and syslog TCP, their lines numbered) beside hostile
 *   clients: random and malformed frames (wrong octet counts, NUL and invalid UTF-8, JSON nested
 *   4,500 deep, lines of 60 KB), malformed request targets and headers, wrong tokens, gzip bombs,
 *   stalled and idle connections, syslog strangers. Until HOSTILE_FRAMES frames were sent.
 *
 * Healthy drains behave as Logplex does (Heroku Dev Center, "Log Drains"; logplex_http_drain.erl):
 * one request in flight per drain, a 5 s timeout, a retry after any non-200 or timeout with the
 * same Logplex-Frame-Id, and now and then a batch re-sent after its 200 (the answer was lost).
 * At the end the sidecar gets SIGTERM; the sink's count per line id gives the lines lost after
 * a 200 and the lines delivered twice.
 *
 * `node bench/hostile.ts [overload|fuzz]` (both by default). Environment: HOSTILE_FRAMES (fuzz,
 * default 1000000), HOSTILE_SECONDS (overload, default 30), HOSTILE_DRAINS (overload: drains at once, default 64),
 * HOSTILE_BATCH (overload: lines per request, default 1000, ~1 MB with the long lines), HOSTILE_SINK_RATE (overload: records/s
 * the backend takes, default 2000), HOSTILE_NODE_ARGS (Node flags for the sidecar: `--cpu-prof`),
 * HOSTILE_LOG (1: a tally of the sidecar's own log lines after the fuzz run), HOSTILE_ROOT (the checkout whose
 * sidecar to run, default this one: point it at an older release to compare).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { prng } from './mix.ts';
import { shippedNodeFlags } from './proc.ts';

const NODE = process.execPath;
const HERE = new URL('./', import.meta.url).pathname;
const ROOT = process.env.HOSTILE_ROOT ?? new URL('../', import.meta.url).pathname;
const LOGPLEX_TIMEOUT_MS = 5000;

export interface HostileResult {
  bench: string;
  lines_per_s: number;
  [key: string]: number | string;
}

/** Line ids are written with a fixed width, so that a batch's frames keep their lengths. */
const ID_WIDTH = 10;
const ID_PLACEHOLDER = 9_999_999_999;

const frame = (msg: string | Buffer) => {
  const b = typeof msg === 'string' ? Buffer.from(msg) : msg;
  return Buffer.concat([Buffer.from(`${b.length + 1} `), b, Buffer.from('\n')]);
};
const stamp = () => new Date().toISOString().replace('Z', '000+00:00');

/** A healthy line carrying its id: router lines mostly, app lines, some deep or huge JSON. */
function healthyLine(id: number, host: string, r: () => number, ts = stamp()): string {
  const x = r();
  if (x < 0.7)
    return `<158>1 ${ts} ${host} heroku router - at=info method=POST path="/orders?hid=${id}" host=shop.example.com request_id=r${id} fwd="203.0.113.${id % 250}" dyno=web.${1 + (id % 4)} connect=0ms service=${id % 900}ms status=${x < 0.65 ? 200 : 503} bytes=${id % 5000} protocol=https`;
  if (x < 0.97) return `<190>1 ${ts} ${host} app web.${1 + (id % 4)} - {"level":"info","msg":"hid=${id} order placed","user":{"id":${id}}}`;
  if (x < 0.985) return `<190>1 ${stamp()} ${host} app web.1 - ["hid=${id}",${'['.repeat(4500)}${']'.repeat(4500)}]`;
  return `<190>1 ${stamp()} ${host} app web.1 - {"msg":"hid=${id}","blob":"${'y'.repeat(60_000)}"}`;
}

/** A frame as a fuzzer makes it: random bytes, lies about its length, deep JSON, huge, broken UTF-8. */
function fuzzFrame(r: () => number, host: string): Buffer {
  const kind = Math.floor(r() * 8);
  const size = Math.floor(r() * 300);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(r() * 256);
  switch (kind) {
    case 0:
      return frame(bytes);
    case 1:
      return Buffer.concat([Buffer.from(`${Math.floor(r() * 2_000_000)} `), bytes, Buffer.from('\n')]);
    case 2:
      return frame(`<190>1 ${stamp()} ${host} app web.1 - ${'{"a":'.repeat(4500)}1${'}'.repeat(4500)}`);
    case 3:
      return frame(Buffer.concat([Buffer.from(`<190>1 ${stamp()} ${host} app web.1 - `), bytes, Buffer.from([0, 0xc3, 0x28, 0xed, 0xa0, 0x80])]));
    case 4:
      return frame(`<${Math.floor(r() * 999)}>${Math.floor(r() * 9)} ${'-'.repeat(Math.floor(r() * 3))} ${host} ${bytes.toString('latin1')}`);
    case 5:
      return frame(`<158>1 ${stamp()} ${host} heroku router - at=error code=H12 desc="x" method=GET path="${'%'.repeat(size)}" fwd="${bytes.toString('hex')}" connect=ms service=-1ms status=abc bytes=`);
    case 6:
      return frame(`<190>1 ${stamp()} ${host} app web.1 - ${'k=v '.repeat(size * 10)}"unterminated`);
    default:
      return Buffer.from(`${bytes.toString('latin1')}\n`);
  }
}

function child(args: string[], env: NodeJS.ProcessEnv, portFrom: 'stdout' | 'stderr', cwd = ROOT): Promise<{ proc: ChildProcess; ports: () => number[]; text: () => string }> {
  const proc = spawn(NODE, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const ports = () => (portFrom === 'stdout' ? [...out.matchAll(/^(\d+)$/gm)] : [...err.matchAll(/listening on [^"]*?:(\d+)/g)]).map((m) => Number(m[1]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port from ${args.join(' ')}: ${out}${err}`)), 20_000);
    const check = () => {
      if (ports().length > 0) {
        clearTimeout(timer);
        resolve({ proc, ports, text: () => err });
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.on('exit', (code) => reject(new Error(`exited early (${code}): ${err}`)));
  });
}

async function sinkCounts(port: number): Promise<{ records: number; counts: Uint8Array }> {
  const res = await fetch(`http://127.0.0.1:${port}/counts`);
  const body = (await res.json()) as { records: number; counts: string };
  return { records: body.records, counts: new Uint8Array(Buffer.from(body.counts, 'base64')) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  sidecar: ChildProcess;
  httpPort: number;
  syslogPort: number;
  sinkPort: number;
  sink: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

async function startAll(tokens: string[], sinkEnv: NodeJS.ProcessEnv, queue: string): Promise<Run> {
  const sink = await child([join(HERE, 'counting-sink.ts')], sinkEnv, 'stdout');
  const sinkPort = sink.ports()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'hod-hostile-'));
  const config = join(dir, 'config.yaml');
  const drains = tokens.map((t) => `{ token: "${t}" }`).join(', ');
  writeFileSync(
    config,
    `receivers:
  logplex: { endpoint: 127.0.0.1:0, drains: [ ${drains} ] }
  syslog: { tcp: { endpoint: 127.0.0.1:0, max_connections: 200, handshake_timeout: 5s }, drains: [ ${drains} ] }
processors:
  batch: { timeout: 200ms, send_batch_size: 1024 }
exporters:
  otlphttp: { endpoint: "http://127.0.0.1:${sinkPort}", encoding: json, compression: none, ${queue} }
service:
  pipelines:
    logs: { receivers: [logplex, syslog], processors: [batch], exporters: [otlphttp] }
`,
  );
  const nodeArgs = [...shippedNodeFlags(ROOT), ...(process.env.HOSTILE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
  const sidecar = await child([...nodeArgs, 'bin/heroku-otel-drain.js', 'start', '--config', config], { LOG_LEVEL: 'info' }, 'stderr');
  for (let i = 0; i < 500 && sidecar.ports().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  const [httpPort, syslogPort] = sidecar.ports();
  const exited = new Promise<number | null>((resolve) => sidecar.proc.on('exit', (code) => resolve(code)));
  return { sidecar: sidecar.proc, httpPort: httpPort!, syslogPort: syslogPort ?? 0, sinkPort, sink: sink.proc, log: sidecar.text, exited };
}

/** One healthy Logplex drain: batches of numbered lines, Logplex's retry rules; resolves when told to stop. */
class HealthyDrain {
  acked: number[] = [];
  latencies: number[] = [];
  /** Latencies of the 200 answers alone. */
  okLatencies: number[] = [];
  answers = { ok: 0, retry: 0, timeout: 0, error: 0, other: 0 };
  lines = 0;
  private _frame = 0;
  private static _count = 0;
  private readonly _name = `drain${HealthyDrain._count++}`;
  private readonly _port: number;
  private readonly _token: string;
  private readonly _nextId: () => number;
  private readonly _linesPerBatch: number;
  private readonly _r: () => number;
  private readonly _stopped: () => boolean;

  constructor(port: number, token: string, nextId: () => number, linesPerBatch: number, r: () => number, stopped: () => boolean) {
    this._port = port;
    this._token = token;
    this._nextId = nextId;
    this._linesPerBatch = linesPerBatch;
    this._r = r;
    this._stopped = stopped;
  }

  /** One batch's body, made once; each batch is a copy with its ids written in (cheap for the client). */
  private _template: { body: Buffer; offsets: number[] } | undefined;

  private _body(ids: number[]): Buffer {
    if (this._template === undefined) {
      const parts: Buffer[] = [];
      const offsets: number[] = [];
      let at = 0;
      for (let i = 0; i < ids.length; i++) {
        const line = frame(healthyLine(ID_PLACEHOLDER, 'host', this._r));
        offsets.push(at + line.indexOf(`hid=${ID_PLACEHOLDER}`) + 4);
        parts.push(line);
        at += line.length;
      }
      this._template = { body: Buffer.concat(parts), offsets };
    }
    const body = Buffer.from(this._template.body);
    this._template.offsets.forEach((offset, i) => body.write(String(ids[i]).padStart(ID_WIDTH, '0'), offset, 'latin1'));
    return body;
  }

  async run(): Promise<void> {
    while (!this._stopped()) {
      const ids = Array.from({ length: this._linesPerBatch }, () => this._nextId());
      const body = this._body(ids);
      // Unique per drain, as Logplex's are (several workers may share one token here).
      const frameId = `${this._name}-${this._frame++}`;
      // Until it is answered 200: Logplex keeps the batch and sends it again with its frame id.
      for (let attempt = 0; !this._stopped() || attempt > 0; attempt++) {
        const status = await this._post(body, frameId, ids.length);
        if (status === 200) {
          this.acked.push(...ids);
          this.lines += ids.length;
          // Now and then the 200 is "lost": Logplex sends the batch again.
          if (this._r() < 0.05) await this._post(body, frameId, ids.length);
          break;
        }
        if (this._stopped() && attempt > 3) break;
        await new Promise((r) => setTimeout(r, status === 503 ? 1000 : 500));
      }
    }
  }

  private async _post(body: Buffer, frameId: string, count: number): Promise<number> {
    const started = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${this._port}/logs`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/logplex-1', 'logplex-drain-token': this._token, 'logplex-frame-id': frameId, 'logplex-msg-count': String(count), 'user-agent': 'Logplex/v72' },
        signal: AbortSignal.timeout(LOGPLEX_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      this.latencies.push(performance.now() - started);
      if (res.status === 200) {
        this.answers.ok++;
        this.okLatencies.push(performance.now() - started);
      }
      else if (res.status === 503 || res.status === 500 || res.status === 429) this.answers.retry++;
      else this.answers.other++;
      return res.status;
    } catch (error) {
      this.latencies.push(performance.now() - started);
      if ((error as Error).name === 'TimeoutError') this.answers.timeout++;
      else this.answers.error++;
      return 0;
    }
  }
}

/** Compares what was acknowledged with what arrived. */
function account(acked: Iterable<number>, counts: Uint8Array) {
  let lost = 0;
  let duplicates = 0;
  let ackedCount = 0;
  const seen = new Uint8Array(counts.length);
  for (const id of acked) {
    ackedCount++;
    seen[id] = 1;
    if (counts[id] === 0) lost++;
    else if (counts[id]! > 1) duplicates += counts[id]! - 1;
  }
  // Lines delivered although never acknowledged (a 503'd batch half-taken) are duplicates too,
  // once the retry lands.
  let unacked = 0;
  for (let id = 0; id < counts.length; id++) if (seen[id] === 0 && counts[id]! > 0) unacked++;
  return { acked: ackedCount, lost, duplicates, delivered_unacked: unacked };
}

async function stopAll(run: Run): Promise<{ exitCode: number | null; sigtermMs: number }> {
  const started = Date.now();
  run.sidecar.kill('SIGTERM');
  const exitCode = await run.exited;
  return { exitCode, sigtermMs: Date.now() - started };
}

export async function overloadScenario(seconds = Number(process.env.HOSTILE_SECONDS ?? 30)): Promise<HostileResult> {
  const drains = Number(process.env.HOSTILE_DRAINS ?? 64);
  const linesPerBatch = Number(process.env.HOSTILE_BATCH ?? 1000);
  // The backend takes a tenth of what the drains offer (measured below, offered_vs_taken).
  const rate = Number(process.env.HOSTILE_SINK_RATE ?? 2000);
  const tokens = Array.from({ length: drains }, (_, i) => `d.00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const run = await startAll(tokens, { SINK_RECORDS_PER_S: String(rate), SINK_MAX_ID: '20000000' }, 'sending_queue: { queue_size: 10, num_consumers: 2 }');
  let next = 0;
  const until = Date.now() + seconds * 1000;
  const r = prng(7);
  const workers = tokens.map((t) => new HealthyDrain(run.httpPort, t, () => next++, linesPerBatch, r, () => Date.now() > until));
  const started = Date.now();
  // The drains' own event loop: a late timer here would be counted as a slow answer.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await Promise.all(workers.map((w) => w.run()));
  lag.disable();
  const elapsed = (Date.now() - started) / 1000;
  const stop = await stopAll(run);
  const { counts, records } = await sinkCounts(run.sinkPort);
  run.sink.kill();
  const latencies = workers.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const answers = workers.reduce((a, w) => ({ ok: a.ok + w.answers.ok, retry: a.retry + w.answers.retry, timeout: a.timeout + w.answers.timeout, error: a.error + w.answers.error }), { ok: 0, retry: 0, timeout: 0, error: 0 });
  const attempted = latencies.length * linesPerBatch;
  const acc = account(workers.flatMap((w) => w.acked), counts);
  return {
    bench: 'overload',
    lines_per_s: Math.round(acc.acked / elapsed),
    offered_lines_per_s: Math.round(attempted / elapsed),
    offered_vs_taken: Number((attempted / Math.max(1, acc.acked)).toFixed(1)),
    requests: latencies.length,
    answered_200: answers.ok,
    answered_503: answers.retry,
    over_5s: answers.timeout,
    errors: answers.error,
    p99_200_ms: Math.round(percentile(workers.flatMap((w) => w.okLatencies).sort((a, b) => a - b), 99)),
    p50_ms: Math.round(percentile(latencies, 50)),
    p99_ms: Math.round(percentile(latencies, 99)),
    worst_ms: Math.round(latencies.at(-1) ?? 0),
    client_loop_lag_p99_ms: Math.round(lag.percentile(99) / 1e6),
    client_loop_lag_max_ms: Math.round(lag.max / 1e6),
    lines_acked: acc.acked,
    lost_after_200: acc.lost,
    duplicates: acc.duplicates,
    records_at_sink: records,
    exit_code: String(stop.exitCode),
    sigterm_ms: stop.sigtermMs,
  };
}

/** Hostile HTTP requests on raw sockets: what fetch would not send. */
function hostileRequest(r: () => number, goodToken: string): Buffer {
  const body = Buffer.concat(Array.from({ length: 1 + Math.floor(r() * 20) }, () => fuzzFrame(r, 'host')));
  const targets = ['//[', 'http://[', '//:99999', '//%zz', '/logs?app=%ff%fe', '/logs', `/${'a'.repeat(9000)}`, '*', '/logs#x'];
  const target = targets[Math.floor(r() * targets.length)]!;
  const token = r() < 0.5 ? goodToken : `d.${Math.floor(r() * 1e9)}`;
  const kind = Math.floor(r() * 6);
  if (kind === 0) return Buffer.from(`GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`);
  if (kind === 1) return Buffer.concat([Buffer.from(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${token}\r\ncontent-encoding: gzip\r\ncontent-length: `), Buffer.from(String(BOMB.length)), Buffer.from('\r\n\r\n'), BOMB]);
  if (kind === 2) return Buffer.concat([Buffer.from(`POST ${target} HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${token}\r\nlogplex-msg-count: ${Math.floor(r() * 1e6)}\r\ncontent-length: ${body.length}\r\n\r\n`), body]);
  if (kind === 3) return Buffer.from(`POST /logs HTTP/1.1\r\nhost: x\r\n${'x-junk: '.repeat(Math.floor(r() * 3))}\u0000\r\n\r\n`, 'latin1');
  if (kind === 4) return Buffer.from(`POST /logs HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nlogplex-drain-token: ${token}\r\n\r\nzz\r\n`);
  return Buffer.from(`POST /logs HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\nauthorization: Basic ${Buffer.from('a:b').toString('base64')}\r\n\r\npartial`);
}
const BOMB = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x41));

function fire(port: number, data: Buffer, holdMs: number, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(data));
    sockets.add(s);
    const done = () => {
      sockets.delete(s);
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.resume();
    setTimeout(done, holdMs).unref();
  });
}

export async function fuzzScenario(totalFrames = Number(process.env.HOSTILE_FRAMES ?? 1_000_000)): Promise<HostileResult> {
  const healthyToken = 'd.11111111-2222-4333-8444-555555555555';
  const fuzzToken = 'd.99999999-8888-4777-8666-555555555555';
  const run = await startAll([healthyToken, fuzzToken], { SINK_MAX_ID: String(totalFrames * 2 + 100_000) }, 'sending_queue: { queue_size: 40, num_consumers: 4 }');
  const r = prng(42);
  let frames = 0;
  let next = 0;
  const stopped = () => frames >= totalFrames;
  const take = () => {
    frames++;
    return next++;
  };
  const sockets = new Set<Socket>();
  const started = Date.now();
  let crashes = 0;
  const crashed = run.exited.then((code) => {
    if (!stopped()) crashes++;
    return code;
  });

  // Healthy Logplex drains: 4 at once, batches of 500 numbered lines.
  const logplex = Array.from({ length: 4 }, () => new HealthyDrain(run.httpPort, healthyToken, take, 500, r, stopped));
  // Healthy syslog drains: numbered lines on long connections, the token as HOSTNAME.
  const syslogAcked: number[] = [];
  let syslogRefused = 0;
  let syslogReset = 0;
  const syslogDrain = async () => {
    while (!stopped()) {
      const s = connect(run.syslogPort, '127.0.0.1');
      let failed = false;
      s.on('error', () => (failed = true));
      const connected = await new Promise<boolean>((resolve) => {
        s.once('connect', () => resolve(true));
        s.once('close', () => resolve(false));
      });
      if (!connected) {
        syslogRefused++;
        await new Promise((res) => setTimeout(res, 100));
        continue;
      }
      const ids: number[] = [];
      for (let b = 0; b < 20 && !stopped() && !failed; b++) {
        const batch = Array.from({ length: 200 }, () => take());
        ids.push(...batch);
        const ok = s.write(Buffer.concat(batch.map((id) => frame(healthyLine(id, healthyToken, r)))));
        if (!ok) await new Promise((res) => (s.once('drain', res), s.once('close', res)));
      }
      // Written and cleanly closed: every line was the receiver's to take. A reset connection's
      // lines are not counted either way (TCP syslog has no acknowledgement), only the reset.
      await new Promise<void>((resolve) => {
        if (s.destroyed) return resolve();
        s.once('close', () => resolve());
        s.end();
      });
      if (failed) syslogReset++;
      else syslogAcked.push(...ids);
    }
  };
  // Hostile clients: fuzzed frames under a valid token (HTTP and syslog), malformed requests,
  // strangers holding connections.
  let hostileRequests = 0;
  const fuzzDrain = async () => {
    while (!stopped()) {
      const n = 50 + Math.floor(r() * 200);
      frames += n;
      const body = Buffer.concat(Array.from({ length: n }, () => fuzzFrame(r, 'host')));
      await fetch(`http://127.0.0.1:${run.httpPort}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': fuzzToken, 'logplex-msg-count': String(n) }, signal: AbortSignal.timeout(LOGPLEX_TIMEOUT_MS) }).then(
        (res) => res.arrayBuffer(),
        () => undefined,
      );
    }
  };
  const syslogFuzz = async () => {
    while (!stopped()) {
      const n = 50 + Math.floor(r() * 200);
      frames += n;
      const trusted = r() < 0.5;
      const first = trusted ? frame(`<190>1 ${stamp()} ${fuzzToken} app web.1 - hello`) : Buffer.alloc(0);
      await fire(run.syslogPort, Buffer.concat([first, ...Array.from({ length: n }, () => fuzzFrame(r, trusted ? fuzzToken : 'd.stranger'))]), 300, sockets);
    }
  };
  const malformed = async () => {
    while (!stopped()) {
      hostileRequests++;
      frames++;
      await fire(run.httpPort, hostileRequest(r, fuzzToken), r() < 0.1 ? 3000 : 200, sockets);
    }
  };
  const idlers = async () => {
    while (!stopped()) {
      // Bursts of silent connections, on both receivers.
      await Promise.all(Array.from({ length: 50 }, (_, i) => fire(i % 2 ? run.httpPort : run.syslogPort, Buffer.alloc(0), 2000, sockets)));
    }
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let lastReport = 0;
  const progress = setInterval(() => {
    if (frames - lastReport >= 100_000) {
      lastReport = frames - (frames % 100_000);
      process.stderr.write(`fuzz: ${frames} frames sent\n`);
    }
  }, 1000);
  await Promise.all([...logplex.map((d) => d.run()), syslogDrain(), syslogDrain(), fuzzDrain(), fuzzDrain(), syslogFuzz(), malformed(), malformed(), idlers()]);
  clearInterval(progress);
  lag.disable();
  for (const s of sockets) s.destroy();
  const elapsed = (Date.now() - started) / 1000;
  // Lines the sidecar read from syslog connections are in its pipeline before SIGTERM's flush.
  const stop = crashes > 0 ? { exitCode: await crashed, sigtermMs: 0 } : await stopAll(run);
  if (process.env.HOSTILE_LOG) {
    const counts = new Map<string, number>();
    for (const line of run.log().split('\n')) {
      const msg = /"msg":"([^"]{0,80})/.exec(line)?.[1] ?? line.slice(0, 80);
      counts.set(msg, (counts.get(msg) ?? 0) + 1);
    }
    process.stderr.write(`sidecar log: ${run.log().length} bytes\n${[...counts].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([m, n]) => `${n}\t${m}`).join('\n')}\n`);
  }
  if (crashes > 0) process.stderr.write(`fuzz: the sidecar exited during the run; its last words:\n${run.log().slice(-3000)}\n`);
  const { counts, records } = await sinkCounts(run.sinkPort);
  run.sink.kill();
  const httpAcc = account(logplex.flatMap((d) => d.acked), counts);
  const syslogAcc = account(syslogAcked, counts);
  const latencies = logplex.flatMap((d) => d.latencies).sort((a, b) => a - b);
  return {
    bench: 'fuzz',
    lines_per_s: Math.round(frames / elapsed),
    frames,
    crashes,
    exit_code: String(stop.exitCode),
    sigterm_ms: stop.sigtermMs,
    http_lines_acked: httpAcc.acked,
    http_lost_after_200: httpAcc.lost,
    http_duplicates: httpAcc.duplicates,
    syslog_lines_sent: syslogAcc.acked,
    syslog_lost: syslogAcc.lost,
    syslog_duplicates: syslogAcc.duplicates,
    syslog_connections_refused: syslogRefused,
    syslog_connections_reset: syslogReset,
    hostile_requests: hostileRequests,
    healthy_p99_ms: Math.round(percentile(latencies, 99)),
    healthy_worst_ms: Math.round(latencies.at(-1) ?? 0),
    healthy_over_5s: logplex.reduce((n, d) => n + d.answers.timeout, 0),
    client_loop_lag_max_ms: Math.round(lag.max / 1e6),
    records_at_sink: records,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2];
  if (which === undefined || which === 'overload') console.log(JSON.stringify(await overloadScenario()));
  if (which === undefined || which === 'fuzz') console.log(JSON.stringify(await fuzzScenario()));
}
