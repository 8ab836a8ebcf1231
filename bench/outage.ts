/**
 * Backend outages against the real sidecar process, its sending queue on disk (`file_storage`),
 * and an account of what was answered 200 and what arrived. Three scenarios, each printing one
 * JSON line (and a summary on stderr):
 *
 * - `outage`: the backend answers 503 for OUTAGE_SECONDS (default 600) while Logplex-like drains
 *   send OUTAGE_RATE lines/s (default 2000); then it comes back and the backlog drains while the
 *   load goes on. Lost and duplicated lines among those answered 200, the 503s the drains saw
 *   (none is right while the disk budget has room), the sidecar's RSS each second (peak, the
 *   first minute of the outage against its last), the queue's bytes on disk, and how long the
 *   backlog took to arrive once the backend was back.
 * - `sigkill`: the same with a shorter outage (SIGKILL_OUTAGE_SECONDS, default 120); the sidecar
 *   is killed with SIGKILL at SIGKILL_AT_SECONDS (default 60) into it and started again at once on
 *   the same directory and port. Nothing answered 200 may be lost; what the drains had sent but
 *   not yet seen answered comes again (the new process has no memory of frame ids) and may arrive
 *   twice: counted apart.
 * - `dead-second`: the first backend is up; a second exporter (`otlphttp/backup`, in memory) sends
 *   to a backend that is down for the whole run. Runs of DEAD_SECONDS each (default 180), one
 *   after the other in this process: the first exporter alone, the backup with
 *   `block_on_overflow: false`, the backup with the default (blocking), the first alone again
 *   (how far two identical runs differ: the noise). The first backend should get 100 % with no
 *   503 and no added latency when the backup does not block.
 *
 * The drains behave as Logplex does (Heroku Dev Center, "Log Drains"; logplex_http_drain.erl):
 * OUTAGE_DRAINS drains (default 4, one token and service each; OUTAGE_TOKENS fewer tokens makes
 * several drains one app's, as several Logplex workers are), one request in flight per drain,
 * OUTAGE_BATCH lines per POST (default 100), paced so that together they send OUTAGE_RATE lines/s
 * (a drain behind its schedule sends at once, as Logplex with a full buffer), a 5 s timeout, and
 * a batch answered anything but 200 (or nothing within 5 s) sent again with the same
 * Logplex-Frame-Id, 1 s after a 503 and 0.5 s after a timeout or a refused connection.
 *
 * The sidecar (`bin/heroku-otel-drain.js start --config`) has a logplex receiver, memory_limiter
 * as the embedded default (limit_percentage 85, spike_limit_percentage 15), batch, and otlphttp
 * (encoding json, compression gzip) into bench/counting-sink.ts in its own process, with
 * retry_on_failure { max_elapsed_time: 0, initial_interval: 1s, max_interval: 5s } and
 * sending_queue { storage: file_storage } (a fresh temporary directory, max_size_mib
 * OUTAGE_DISK_MIB, default 4096).
 *
 * `node bench/outage.ts [outage|sigkill|dead-second]` (all three by default). Environment:
 * OUTAGE_SECONDS, OUTAGE_RATE, OUTAGE_DRAINS, OUTAGE_BATCH, OUTAGE_DISK_MIB, OUTAGE_WARMUP_SECONDS
 * (healthy load before the outage, default 10), OUTAGE_TAIL_SECONDS (load after the backlog is
 * through, default 10), OUTAGE_DRAIN_MAX_SECONDS (how long the backlog may take before the run
 * ends without it, default 900), SIGKILL_OUTAGE_SECONDS, SIGKILL_AT_SECONDS, DEAD_SECONDS,
 * DEAD_VARIANTS (default `alone,nonblocking,blocking,alone`), DEAD_MODE (`503`, the default: the
 * backup answers 503 at once; `hang`: it never answers, each request ends at the exporter's 10 s
 * timeout), OUTAGE_NODE_ARGS (Node flags for the sidecar), OUTAGE_LOG (1: a tally of the
 * sidecar's own log lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from './mix.ts';
import { cpuSeconds, shippedNodeFlags } from './proc.ts';

const NODE = process.execPath;
const HERE = new URL('./', import.meta.url).pathname;
const ROOT = new URL('../', import.meta.url).pathname;
const LOGPLEX_TIMEOUT_MS = 5000;
const RETRY = { max_elapsed_time: '0', initial_interval: '1s', max_interval: '5s' };
const RETRY_TEXT = `max_elapsed_time ${RETRY.max_elapsed_time}, initial_interval ${RETRY.initial_interval}, max_interval ${RETRY.max_interval}`;

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
};
const RATE = env('OUTAGE_RATE', 2000);
const DRAINS = env('OUTAGE_DRAINS', 4);
/** Drain tokens (apps): bench drains share them in turn when fewer than the drains. */
const TOKENS = Math.min(DRAINS, env('OUTAGE_TOKENS', DRAINS));
const BATCH = env('OUTAGE_BATCH', 100);
const DISK_MIB = env('OUTAGE_DISK_MIB', 4096);
const WARMUP_S = env('OUTAGE_WARMUP_SECONDS', 10);
const TAIL_S = env('OUTAGE_TAIL_SECONDS', 10);
const DRAIN_MAX_S = env('OUTAGE_DRAIN_MAX_SECONDS', 900);

export type BenchResult = { bench: string; lines_per_s: number } & Record<string, number | string | number[]>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `condition` until it holds or `ms` passed; whether it held. */
async function until(condition: () => boolean | Promise<boolean>, ms: number, everyMs = 1000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------------------------------------
// The backend: bench/counting-sink.ts in its own process.

class Sink {
  readonly proc: ChildProcess;
  readonly port: number;

  private constructor(proc: ChildProcess, port: number) {
    this.proc = proc;
    this.port = port;
  }

  static async start(extra: NodeJS.ProcessEnv): Promise<Sink> {
    const proc = spawn(NODE, [join(HERE, 'counting-sink.ts')], { env: { ...process.env, ...extra }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sink printed no port: ${out}`)), 20_000);
      proc.stdout!.on('data', (d) => {
        out += d;
        const m = /^(\d+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.on('exit', (code) => reject(new Error(`the sink exited (${code})`)));
    });
    return new Sink(proc, port);
  }

  async down(mode: '503' | 'hang'): Promise<void> {
    await fetch(`http://127.0.0.1:${this.port}/down${mode === 'hang' ? '?mode=hang' : ''}`, { method: 'POST' }).then((r) => r.arrayBuffer());
  }

  async up(): Promise<void> {
    await fetch(`http://127.0.0.1:${this.port}/up`, { method: 'POST' }).then((r) => r.arrayBuffer());
  }

  async totals(): Promise<{ records: number; withId: number; requests: number; refused: number }> {
    return (await (await fetch(`http://127.0.0.1:${this.port}/totals`)).json()) as { records: number; withId: number; requests: number; refused: number };
  }

  async counts(): Promise<Uint8Array> {
    const body = (await (await fetch(`http://127.0.0.1:${this.port}/counts`)).json()) as { counts: string };
    return new Uint8Array(Buffer.from(body.counts, 'base64'));
  }

  /** When each id first arrived, in epoch ms (0: never). */
  async arrivals(): Promise<Float64Array> {
    const body = (await (await fetch(`http://127.0.0.1:${this.port}/arrivals`)).json()) as { origin: number; arrivals: string };
    const raw = Buffer.from(body.arrivals, 'base64');
    const rel = new Uint32Array(raw.buffer, raw.byteOffset, raw.length / 4);
    const out = new Float64Array(rel.length);
    for (let i = 0; i < rel.length; i++) out[i] = rel[i] === 0 ? 0 : body.origin + rel[i]! - 1;
    return out;
  }

  stop(): void {
    this.proc.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// The sidecar, the real process.

interface SidecarOptions {
  port: number;
  metricsPort: number;
  sinkPort: number;
  directory: string;
  /** A second exporter to a dead backend: its port, and whether its queue blocks. */
  backup?: { port: number; blocking: boolean };
}

function tokenOf(drain: number): string {
  return `d.0a7a9e00-0000-4000-8000-${String(drain).padStart(12, '0')}`;
}

function sidecarConfig(o: SidecarOptions): string {
  const drains = Array.from({ length: TOKENS }, (_, i) => `{ token: "${tokenOf(i)}", resource: { service.name: app-${i} } }`).join(', ');
  const retry = `{ max_elapsed_time: ${RETRY.max_elapsed_time}, initial_interval: ${RETRY.initial_interval}, max_interval: ${RETRY.max_interval} }`;
  const backup =
    o.backup === undefined
      ? ''
      : `  otlphttp/backup:
    endpoint: "http://127.0.0.1:${o.backup.port}"
    encoding: json
    compression: gzip
    retry_on_failure: ${retry}
    sending_queue: { block_on_overflow: ${o.backup.blocking} }
`;
  return `extensions:
  file_storage: { directory: "${o.directory}", max_size_mib: ${DISK_MIB} }
receivers:
  logplex: { endpoint: "127.0.0.1:${o.port}", drains: [ ${drains} ] }
processors:
  memory_limiter: { check_interval: 1s, limit_percentage: 85, spike_limit_percentage: 15 }
  batch: {}
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:${o.sinkPort}"
    encoding: json
    compression: gzip
    retry_on_failure: ${retry}
    sending_queue: { storage: file_storage }
${backup}service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "127.0.0.1:${o.metricsPort}" } }
  pipelines:
    logs: { receivers: [logplex], processors: [memory_limiter, batch], exporters: [otlphttp${o.backup === undefined ? '' : ', otlphttp/backup'}] }
`;
}

/** One sidecar process: its log (a tally and the tail), and what its log says it recovered. */
class Sidecar {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  readonly tally = new Map<string, number>();
  recovered = 0;
  torn = 0;
  /** The service's last word at shutdown ("stopped: ..."), with what was not exported. */
  stopLine = '';
  /** Records a queue kept on disk at shutdown, past its deadline: sent after the next start. */
  leftInStorage = 0;
  private _tail = '';
  private _partial = '';

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    this.pid = proc.pid!;
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1))));
    proc.stderr!.on('data', (d: Buffer) => this._read(String(d)));
    proc.stdout!.resume();
  }

  static async start(configPath: string, port: number): Promise<Sidecar> {
    const nodeArgs = [...shippedNodeFlags(ROOT), ...(process.env.OUTAGE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
    const proc = spawn(NODE, [...nodeArgs, 'bin/heroku-otel-drain.js', 'start', '--config', configPath], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const sidecar = new Sidecar(proc);
    let dead = false;
    void sidecar.exited.then(() => (dead = true));
    const listening = `listening on 127.0.0.1:${port}`;
    if (!(await until(() => dead || sidecar._tail.includes(listening), 30_000, 20)) || dead) {
      proc.kill('SIGKILL');
      throw new Error(`the sidecar did not start: ${sidecar._tail.slice(-3000)}`);
    }
    return sidecar;
  }

  private _read(text: string): void {
    this._tail = (this._tail + text).slice(-20_000);
    const lines = (this._partial + text).split('\n');
    this._partial = lines.pop()!;
    for (const line of lines) {
      const msg = /"msg":"([^"]{0,90})/.exec(line)?.[1] ?? line.slice(0, 90);
      this.tally.set(msg, (this.tally.get(msg) ?? 0) + 1);
      if (line.includes('found in storage')) this.recovered += Number(/"recovered":(\d+)/.exec(line)?.[1] ?? 0);
      if (line.includes('"msg":"stopped:')) this.stopLine = line;
      if (line.includes('stay in storage')) this.leftInStorage += Number(/"left_in_storage":(\d+)/.exec(line)?.[1] ?? 0);
      if (line.includes('cut short in storage')) this.torn += Number(/(\d+) entries cut short/.exec(line)?.[1] ?? 0);
    }
  }

  get log(): string {
    return this._tail;
  }

  /** SIGTERM, and how long it took to exit. */
  async stop(): Promise<{ exitCode: number | null; ms: number }> {
    const started = Date.now();
    this.proc.kill('SIGTERM');
    const exitCode = await this.exited;
    return { exitCode, ms: Date.now() - started };
  }

  tallyText(): string {
    return [...this.tally].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([m, n]) => `  ${n}\t${m}`).join('\n');
  }
}

/** Counters from the sidecar's Prometheus endpoint, `name{labels}` -> value, nonzero only. */
async function scrape(metricsPort: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('otelcol_receiver_requests') && !line.startsWith('otelcol_exporter_sent_') && !line.startsWith('otelcol_receiver_accepted_log_records')) continue;
      const space = line.lastIndexOf(' ');
      const value = Number(line.slice(space + 1));
      if (value !== 0) out[line.slice(0, space)] = value;
    }
  } catch {
    // Not answering (killed, or stopping): nothing.
  }
  return out;
}

/** The sum of the counters whose key contains every part. */
function metric(m: Record<string, number>, ...parts: string[]): number {
  let n = 0;
  for (const [k, v] of Object.entries(m)) if (parts.every((p) => k.includes(p))) n += v;
  return n;
}

// ---------------------------------------------------------------------------------------------
// What the machine sees: the sidecar's RSS and the queue's bytes on disk, every second.

interface Sample {
  at: number;
  phase: string;
  rssMb: number;
  diskMb: number;
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

function directoryBytes(dir: string): number {
  let n = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) n += directoryBytes(path);
      else {
        try {
          n += statSync(path).size;
        } catch {
          // deleted meanwhile
        }
      }
    }
  } catch {
    // gone
  }
  return n;
}

class Sampler {
  readonly samples: Sample[] = [];
  phase = 'start';
  pid = 0;
  private readonly _timer: NodeJS.Timeout;

  constructor(directory: string) {
    this._timer = setInterval(() => {
      this.samples.push({ at: Date.now(), phase: this.phase, rssMb: this.pid > 0 ? rssMb(this.pid) : NaN, diskMb: directoryBytes(directory) / 1048576 });
    }, 1000);
  }

  stop(): void {
    clearInterval(this._timer);
  }

  /** The highest sample, in MB (rounded unless `exact`). */
  peak(filter: (s: Sample) => boolean = () => true, field: 'rssMb' | 'diskMb' = 'rssMb', exact = false): number {
    let max = 0;
    for (const s of this.samples) if (filter(s) && s[field] > max) max = s[field];
    return exact ? max : Math.round(max);
  }

  /** The peak RSS of each minute from `from`. */
  byMinute(from: number): number[] {
    const out: number[] = [];
    for (const s of this.samples) {
      if (s.at < from || !(s.rssMb > 0)) continue;
      const m = Math.floor((s.at - from) / 60_000);
      out[m] = Math.max(out[m] ?? 0, Math.round(s.rssMb));
    }
    return Array.from(out, (v) => v ?? 0);
  }
}

// ---------------------------------------------------------------------------------------------
// The drains.

const ID_WIDTH = 10;
const ID_PLACEHOLDER = 9_999_999_999;

/**
 * A line as a Heroku app's drain carries it, `hid=N` in each: router lines mostly (a request id,
 * a client address, timings of their own, so that they compress as real ones do, not as copies),
 * app output in JSON and logfmt.
 */
function line(id: number, drain: number, r: () => number, ts: string): string {
  const host = `app-${drain % TOKENS}`;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const x = r();
  let msg: string;
  if (x < 0.75)
    msg = `<158>1 ${ts} host heroku router - at=info method=${r() < 0.8 ? 'GET' : 'POST'} path="/products/${Math.floor(r() * 100_000)}?hid=${id}&ref=${hex(6)}" host=${host}.herokuapp.com request_id=${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} fwd="${Math.floor(r() * 223)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}" dyno=web.${1 + Math.floor(r() * 8)} connect=${Math.floor(r() * 3)}ms service=${Math.floor(r() * 900)}ms status=${r() < 0.97 ? 200 : 404} bytes=${Math.floor(r() * 60_000)} protocol=https`;
  else if (x < 0.95)
    msg = `<190>1 ${ts} host app web.${1 + Math.floor(r() * 8)} - {"level":"info","msg":"order placed hid=${id}","order_id":"${hex(16)}","user":{"id":${Math.floor(r() * 1e6)}},"cart_items":${Math.floor(r() * 9)},"duration_ms":${(r() * 200).toFixed(2)}}`;
  else msg = `<190>1 ${ts} host app worker.${1 + Math.floor(r() * 3)} - job=mailer hid=${id} jid=${hex(24)} status=done elapsed=${(r() * 3).toFixed(3)} queue=default`;
  return `${Buffer.byteLength(msg) + 1} ${msg}\n`;
}

/** Bodies a drain sends in turn; each batch is one of them with its ids written in. */
const TEMPLATES = 16;

interface AckedBatch {
  first: number;
  count: number;
  at: number;
}

interface Answer {
  at: number;
  ms: number;
  /** HTTP status; 0: no answer within 5 s; -1: a connection error. */
  status: number;
  reason: string;
}

/** Where the drains send: the port may stay, the process behind it changes (sigkill). */
interface Target {
  port: number;
}

/** One Logplex drain: paced batches of numbered lines, one request in flight, Logplex's retries. */
class PacedDrain {
  readonly acked: AckedBatch[] = [];
  readonly answers: Answer[] = [];
  /** Lines in first attempts. */
  sent = 0;
  /** How far behind its schedule it fell, at worst. */
  behindMs = 0;
  private readonly _index: number;
  private readonly _token: string;
  private readonly _target: Target;
  private readonly _nextIds: (n: number) => number;
  private readonly _periodMs: number;
  private readonly _offsetMs: number;
  private readonly _stopped: () => boolean;
  private readonly _templates: Array<{ body: Buffer; offsets: number[] }> = [];
  private _frame = 0;
  private _nextDue = 0;

  constructor(index: number, target: Target, nextIds: (n: number) => number, periodMs: number, stopped: () => boolean) {
    this._index = index;
    this._token = tokenOf(index % TOKENS);
    this._target = target;
    this._nextIds = nextIds;
    this._periodMs = periodMs;
    this._offsetMs = (periodMs * index) / DRAINS;
    this._stopped = stopped;
    // Bodies made once; each batch is a copy of one with its ids written in (cheap for the client).
    const r = prng(1000 + index);
    const start = Date.now();
    for (let t = 0; t < TEMPLATES; t++) {
      const parts: Buffer[] = [];
      const offsets: number[] = [];
      let at = 0;
      for (let i = 0; i < BATCH; i++) {
        const ts = new Date(start + t * periodMs + (i * periodMs) / BATCH).toISOString().replace('Z', '000+00:00');
        const l = Buffer.from(line(ID_PLACEHOLDER, index, r, ts));
        offsets.push(at + l.indexOf(`hid=${ID_PLACEHOLDER}`) + 4);
        parts.push(l);
        at += l.length;
      }
      this._templates.push({ body: Buffer.concat(parts), offsets });
    }
  }

  async run(t0: number): Promise<void> {
    for (let k = 0; !this._stopped(); k++) {
      this._nextDue = t0 + this._offsetMs + k * this._periodMs;
      const late = Date.now() - this._nextDue;
      if (late < 0) await sleep(-late);
      else this.behindMs = Math.max(this.behindMs, late);
      if (this._stopped()) break;
      const first = this._nextIds(BATCH);
      const template = this._templates[k % TEMPLATES]!;
      const body = Buffer.from(template.body);
      for (let i = 0; i < BATCH; i++) body.write(String(first + i).padStart(ID_WIDTH, '0'), template.offsets[i]!, 'latin1');
      const frameId = `drain${this._index}-${this._frame++}`;
      this.sent += BATCH;
      // Until answered 200, as Logplex does; at the end of a run, a few more tries, then given up.
      for (let attempt = 0; ; attempt++) {
        const a = await this._post(body, frameId);
        if (a.status === 200) {
          this.acked.push({ first, count: BATCH, at: Date.now() });
          break;
        }
        if (this._stopped() && attempt > 3) break;
        await sleep(a.status === 503 ? 1000 : 500);
      }
    }
  }

  /** How far behind its schedule it is at `at` (a drain stuck on one batch never reaches the next). */
  behindAt(at: number): number {
    return Math.max(this.behindMs, at - this._nextDue);
  }

  private async _post(body: Buffer, frameId: string): Promise<Answer> {
    const started = performance.now();
    const at = Date.now();
    let answer: Answer;
    try {
      const res = await fetch(`http://127.0.0.1:${this._target.port}/logs`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/logplex-1', 'logplex-drain-token': this._token, 'logplex-frame-id': frameId, 'logplex-msg-count': String(BATCH), 'user-agent': 'Logplex/v72' },
        signal: AbortSignal.timeout(LOGPLEX_TIMEOUT_MS),
      });
      const text = res.status === 200 ? '' : (await res.text()).trim();
      if (res.status === 200) await res.arrayBuffer();
      answer = { at, ms: performance.now() - started, status: res.status, reason: text };
    } catch (error) {
      const name = (error as Error).name;
      answer = { at, ms: performance.now() - started, status: name === 'TimeoutError' ? 0 : -1, reason: name === 'TimeoutError' ? 'timeout' : String((error as Error).cause ?? error).slice(0, 60) };
    }
    this.answers.push(answer);
    return answer;
  }
}

/** The drains together: start, stop, and what they saw. */
class Load {
  readonly drains: PacedDrain[];
  readonly started = Date.now();
  private _next = 0;
  private _stop = false;
  private readonly _done: Promise<void[]>;
  stoppedAt = 0;

  constructor(target: Target) {
    const periodMs = (BATCH * DRAINS * 1000) / RATE;
    this.drains = Array.from({ length: DRAINS }, (_, i) => new PacedDrain(i, target, (n) => this._take(n), periodMs, () => this._stop));
    this._done = Promise.all(this.drains.map((d) => d.run(this.started)));
  }

  private _take(n: number): number {
    const first = this._next;
    this._next += n;
    return first;
  }

  get nextId(): number {
    return this._next;
  }

  async stop(): Promise<void> {
    this._stop = true;
    this.stoppedAt = Date.now();
    await this._done;
  }

  /** Lines answered 200 before `at` (all of them without). */
  ackedLines(at = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const d of this.drains) for (const b of d.acked) if (b.at < at) n += b.count;
    return n;
  }

  get sent(): number {
    return this.drains.reduce((n, d) => n + d.sent, 0);
  }

  answers(from = 0, to = Number.POSITIVE_INFINITY): Answer[] {
    return this.drains.flatMap((d) => d.answers.filter((a) => a.at >= from && a.at < to));
  }

  /** How far behind its schedule the furthest drain fell, up to the stop. */
  get behindMs(): number {
    return Math.max(...this.drains.map((d) => d.behindAt(this.stoppedAt || Date.now())));
  }
}

/** Statuses and latencies of a set of answers. */
function answerStats(answers: readonly Answer[]) {
  const ms = answers.filter((a) => a.status > 0).map((a) => a.ms).sort((a, b) => a - b);
  const ok = answers.filter((a) => a.status === 200).map((a) => a.ms).sort((a, b) => a - b);
  const reasons: Record<string, number> = {};
  for (const a of answers) if (a.status !== 200) reasons[`${a.status} ${a.reason}`] = (reasons[`${a.status} ${a.reason}`] ?? 0) + 1;
  return {
    requests: answers.length,
    answers_503: answers.filter((a) => a.status === 503).length,
    over_5s: answers.filter((a) => a.status === 0).length,
    connection_errors: answers.filter((a) => a.status === -1).length,
    p50_ms: Number(percentile(ms, 50).toFixed(1)),
    p99_ms: Number(percentile(ms, 99).toFixed(1)),
    p99_200_ms: Number(percentile(ok, 99).toFixed(1)),
    worst_ms: Math.round(ms.at(-1) ?? 0),
    reasons,
  };
}

/** What was answered 200 against what arrived, per line id. */
function account(load: Load, counts: Uint8Array) {
  const acked = new Uint8Array(Math.max(counts.length, load.nextId));
  let ackedLines = 0;
  let once = 0;
  let lost = 0;
  let duplicates = 0;
  let lostFirst = -1;
  for (const d of load.drains) {
    for (const b of d.acked) {
      for (let id = b.first; id < b.first + b.count; id++) {
        acked[id] = 1;
        ackedLines++;
        const c = counts[id] ?? 0;
        if (c === 0) {
          lost++;
          if (lostFirst < 0) lostFirst = id;
        } else if (c === 1) once++;
        else duplicates += c - 1;
      }
    }
  }
  // Delivered though never answered 200: batches whose drain gave up at the end of the run.
  let unacked = 0;
  let unackedDuplicates = 0;
  for (let id = 0; id < counts.length; id++) {
    if (acked[id] === 0 && counts[id]! > 0) {
      unacked++;
      unackedDuplicates += counts[id]! - 1;
    }
  }
  return { acknowledged: ackedLines, delivered_once: once, lost, first_lost_id: lostFirst, duplicates: duplicates + unackedDuplicates, delivered_unacked: unacked };
}

/** When the last of the lines answered 200 before `at` arrived (epoch ms; 0 when one never did). */
function lastArrival(load: Load, arrivals: Float64Array, at: number): number {
  let last = 0;
  for (const d of load.drains) {
    for (const b of d.acked) {
      if (b.at >= at) continue;
      for (let id = b.first; id < b.first + b.count; id++) {
        const t = arrivals[id] ?? 0;
        if (t === 0) return 0;
        if (t > last) last = t;
      }
    }
  }
  return last;
}

function summary(result: BenchResult): string {
  return Object.entries(result)
    .map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(' ') : typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/**
 * The end of every run: stops the load, gives the sink up to `flushMs` to hold every line answered
 * 200 (a backlog not through by then shows as lines not delivered), then reads the sidecar's
 * counters and CPU time before its SIGTERM, and stops the sampler.
 */
async function finishRun(run: { load: Load; sink: Sink; sidecar: Sidecar; sampler: Sampler; metricsPort: number; flushMs: number }) {
  const { load, sink, sidecar, sampler } = run;
  await load.stop();
  const loadSeconds = (load.stoppedAt - load.started) / 1000;
  sampler.phase = 'flush';
  const acked = load.ackedLines();
  await until(async () => (await sink.totals()).withId >= acked, run.flushMs);
  const metrics = await scrape(run.metricsPort);
  const cpu = cpuSeconds(sidecar.pid);
  const stopped = await sidecar.stop();
  sampler.stop();
  return { loadSeconds, acked, metrics, cpu, stopped };
}

interface OutageOptions {
  bench: 'outage' | 'sigkill';
  outageSeconds: number;
  /** Seconds into the outage when the sidecar gets SIGKILL (and is started again). */
  killAtSeconds?: number;
}

async function outageRun(o: OutageOptions): Promise<BenchResult> {
  const maxId = Math.ceil(RATE * (WARMUP_S + o.outageSeconds + DRAIN_MAX_S + TAIL_S + 120) * 1.1);
  const sink = await Sink.start({ SINK_MAX_ID: String(maxId), SINK_ARRIVALS: '1' });
  const dir = mkdtempSync(join(tmpdir(), `hod-${o.bench}-`));
  const storage = join(dir, 'queue');
  const target: Target = { port: await freePort() };
  const metricsPort = await freePort();
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, sidecarConfig({ port: target.port, metricsPort, sinkPort: sink.port, directory: storage }));
  mkdirSync(storage);
  const sampler = new Sampler(storage);
  let sidecar = await Sidecar.start(configPath, target.port);
  sampler.pid = sidecar.pid;
  const sidecars = [sidecar];
  const load = new Load(target);
  const progress = (what: string) => process.stderr.write(`${o.bench} +${Math.round((Date.now() - load.started) / 1000)}s: ${what}\n`);
  const ticker = setInterval(async () => {
    const t = await sink.totals().catch(() => undefined);
    const last = sampler.samples.at(-1);
    progress(`${sampler.phase}: sent ${load.sent}, acked ${load.ackedLines()}, at sink ${t?.withId ?? '?'}, rss ${Math.round(last?.rssMb ?? 0)} MB, disk ${Math.round(last?.diskMb ?? 0)} MB`);
  }, 30_000);

  sampler.phase = 'warmup';
  await sleep(WARMUP_S * 1000);
  await sink.down('503');
  const downAt = Date.now();
  sampler.phase = 'outage';
  progress('backend down');
  let killedAt = 0;
  let restartMs = 0;
  let before: Record<string, number> = {};
  let ackedBeforeKill = 0;
  if (o.killAtSeconds !== undefined) {
    await sleep(o.killAtSeconds * 1000);
    before = await scrape(metricsPort);
    killedAt = Date.now();
    ackedBeforeKill = load.ackedLines(killedAt);
    sidecar.proc.kill('SIGKILL');
    await sidecar.exited;
    progress('sidecar killed (SIGKILL); starting it again on the same directory');
    sidecar = await Sidecar.start(configPath, target.port);
    restartMs = Date.now() - killedAt;
    sampler.pid = sidecar.pid;
    sidecars.push(sidecar);
    sampler.phase = 'outage-after-restart';
    progress(`restarted in ${restartMs} ms; recovered ${sidecar.recovered} records from storage`);
  }
  await sleep(downAt + o.outageSeconds * 1000 - Date.now());
  const upAt = Date.now();
  const ackedAtUp = load.ackedLines(upAt);
  const ackedDuringOutage = ackedAtUp - load.ackedLines(downAt);
  await sink.up();
  sampler.phase = 'drain';
  progress(`backend up; ${ackedDuringOutage} lines answered 200 during the outage to deliver`);
  // Through when the sink holds as many lines as were answered 200 before it came back (the
  // queue is first in, first out); the exact moment is read from the arrivals afterwards.
  const through = await until(async () => (await sink.totals()).withId >= ackedAtUp, DRAIN_MAX_S * 1000);
  sampler.phase = 'tail';
  progress(through ? 'backlog through' : `backlog not through after ${DRAIN_MAX_S} s`);
  await sleep(TAIL_S * 1000);
  const { loadSeconds, metrics, cpu, stopped } = await finishRun({ load, sink, sidecar, sampler, metricsPort, flushMs: 120_000 });
  clearInterval(ticker);
  const counts = await sink.counts();
  const arrivals = await sink.arrivals();
  sink.stop();
  const last = lastArrival(load, arrivals, upAt);
  const acc = account(load, counts);
  const all = answerStats(load.answers());
  const outage = answerStats(load.answers(downAt, upAt));
  const drain = answerStats(load.answers(upAt));
  const inOutage = (s: Sample) => s.at >= downAt && s.at < upAt;
  const drainSeconds = last > 0 ? (last - upAt) / 1000 : NaN;
  const result: BenchResult = {
    bench: o.bench,
    lines_per_s: Math.round(load.sent / loadSeconds),
    outage_s: o.outageSeconds,
    drains: DRAINS,
    tokens: TOKENS,
    lines_per_post: BATCH,
    retry_on_failure: RETRY_TEXT,
    ...(o.killAtSeconds !== undefined ? { killed_at_s: o.killAtSeconds, restart_ms: restartMs, acked_before_kill: ackedBeforeKill, recovered_from_storage: sidecars.slice(1).reduce((n, s) => n + s.recovered, 0), torn_entries: sidecars.slice(1).reduce((n, s) => n + s.torn, 0) } : {}),
    acknowledged: acc.acknowledged,
    acknowledged_during_outage: ackedDuringOutage,
    delivered_once: acc.delivered_once,
    // Not delivered: on disk when the run ended (the backlog was not through), or lost.
    lost: acc.lost,
    left_in_storage: sidecar.leftInStorage,
    duplicates: acc.duplicates,
    delivered_unacked: acc.delivered_unacked,
    answers_503: all.answers_503,
    answers_503_in_outage: outage.answers_503,
    over_5s: all.over_5s,
    connection_errors: all.connection_errors,
    p50_ms: all.p50_ms,
    p99_ms: all.p99_ms,
    outage_p50_ms: outage.p50_ms,
    outage_p99_ms: outage.p99_ms,
    drain_p99_ms: drain.p99_ms,
    drain_worst_ms: drain.worst_ms,
    drain_over_5s: drain.over_5s,
    worst_ms: all.worst_ms,
    behind_schedule_max_ms: Math.round(load.behindMs),
    peak_rss_mb: sampler.peak(),
    rss_warmup_peak_mb: sampler.peak((s) => s.at < downAt),
    rss_outage_first_min_peak_mb: sampler.peak((s) => inOutage(s) && s.at < downAt + 60_000),
    rss_outage_last_min_peak_mb: sampler.peak((s) => inOutage(s) && s.at >= upAt - 60_000),
    rss_drain_peak_mb: sampler.peak((s) => s.at >= upAt),
    rss_by_minute_mb: sampler.byMinute(downAt),
    disk_peak_mb: sampler.peak(() => true, 'diskMb'),
    disk_bytes_per_line: Math.round((sampler.peak(() => true, 'diskMb', true) * 1048576) / Math.max(1, ackedDuringOutage)),
    disk_budget_mb: DISK_MIB,
    drain_after_outage_s: Number(drainSeconds.toFixed(1)),
    catch_up_lines_per_s: Math.round(ackedDuringOutage / drainSeconds),
    cpu_s: cpu,
    sigterm_ms: stopped.ms,
    exit_code: String(stopped.exitCode),
  };
  const reasons = { ...all.reasons };
  process.stderr.write(
    `\n${o.bench}: ${DRAINS} drains x ${BATCH} lines at ${RATE} lines/s, backend down ${o.outageSeconds} s${o.killAtSeconds !== undefined ? `, SIGKILL at ${o.killAtSeconds} s` : ''}\n` +
      `${summary(result)}\n  non-200 answers: ${JSON.stringify(reasons)}\n  sidecar counters${o.killAtSeconds !== undefined ? ' (before the kill, then at the end)' : ''}: ${o.killAtSeconds !== undefined ? `${JSON.stringify(before)}\n    ` : ''}${JSON.stringify(metrics)}\n` +
      (process.env.OUTAGE_LOG ? sidecars.map((s, i) => `  sidecar ${i + 1} log:\n${s.tallyText()}`).join('\n') + '\n' : ''),
  );
  if (acc.lost > 0) process.stderr.write(`  first lost id ${acc.first_lost_id}; sidecar log tail:\n${sidecar.log.slice(-4000)}\n`);
  rmSync(dir, { recursive: true, force: true });
  return result;
}

export function outageScenario(): Promise<BenchResult> {
  return outageRun({ bench: 'outage', outageSeconds: env('OUTAGE_SECONDS', 600) });
}

export function sigkillScenario(): Promise<BenchResult> {
  const outageSeconds = env('SIGKILL_OUTAGE_SECONDS', 120);
  return outageRun({ bench: 'sigkill', outageSeconds, killAtSeconds: env('SIGKILL_AT_SECONDS', outageSeconds / 2) });
}

type Variant = 'alone' | 'nonblocking' | 'blocking';

/** One run of the dead-second comparison: fresh sinks, directory and sidecar. */
async function deadSecondRun(variant: Variant, seconds: number, mode: '503' | 'hang') {
  const maxId = Math.ceil(RATE * (seconds + 60) * 1.2);
  const primary = await Sink.start({ SINK_MAX_ID: String(maxId) });
  const backup = variant === 'alone' ? undefined : await Sink.start({ SINK_MAX_ID: '1', SINK_DOWN: mode });
  const dir = mkdtempSync(join(tmpdir(), 'hod-dead-second-'));
  const storage = join(dir, 'queue');
  mkdirSync(storage);
  const target: Target = { port: await freePort() };
  const metricsPort = await freePort();
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, sidecarConfig({ port: target.port, metricsPort, sinkPort: primary.port, directory: storage, ...(backup !== undefined ? { backup: { port: backup.port, blocking: variant === 'blocking' } } : {}) }));
  const sampler = new Sampler(storage);
  const sidecar = await Sidecar.start(configPath, target.port);
  sampler.pid = sidecar.pid;
  sampler.phase = variant;
  const load = new Load(target);
  await sleep(seconds * 1000);
  const { loadSeconds, acked, metrics, cpu, stopped } = await finishRun({ load, sink: primary, sidecar, sampler, metricsPort, flushMs: 60_000 });
  const counts = await primary.counts();
  const backupTotals = backup === undefined ? undefined : await backup.totals();
  primary.stop();
  backup?.stop();
  rmSync(dir, { recursive: true, force: true });
  const acc = account(load, counts);
  const stats = answerStats(load.answers());
  return {
    lines_per_s: Math.round(load.sent / loadSeconds),
    acked_lines_per_s: Math.round(acked / loadSeconds),
    acknowledged: acc.acknowledged,
    primary_pct: Number(((100 * (acc.acknowledged - acc.lost)) / Math.max(1, acc.acknowledged)).toFixed(3)),
    lost: acc.lost,
    duplicates: acc.duplicates,
    answers_503: stats.answers_503,
    over_5s: stats.over_5s,
    p50_ms: stats.p50_ms,
    p99_ms: stats.p99_ms,
    worst_ms: stats.worst_ms,
    behind_schedule_max_ms: Math.round(load.behindMs),
    peak_rss_mb: sampler.peak(),
    cpu_s: cpu,
    backup_requests_refused: backupTotals?.refused ?? 0,
    backup_exported: metric(metrics, 'otelcol_exporter_sent_log_records', 'otlphttp/backup'),
    // What the backup's full queue dropped, and what it still held at shutdown: the service's last line.
    backup_queue_full: Number(/"queue_full":(\d+)/.exec(sidecar.stopLine)?.[1] ?? 0),
    backup_dropped_at_shutdown: Number(/"dropped_at_shutdown":(\d+)/.exec(sidecar.stopLine)?.[1] ?? 0),
    receiver_refused_queue_full: metric(metrics, 'otelcol_receiver_requests', 'queue_full'),
    sigterm_ms: stopped.ms,
    reasons: stats.reasons,
  };
}

export async function deadSecondScenario(): Promise<BenchResult> {
  const seconds = env('DEAD_SECONDS', 180);
  const mode = process.env.DEAD_MODE === 'hang' ? 'hang' : '503';
  const variants = (process.env.DEAD_VARIANTS ?? 'alone,nonblocking,blocking,alone').split(',').map((v) => v.trim()) as Variant[];
  const result: BenchResult = { bench: 'dead-second', lines_per_s: 0, seconds_each: seconds, backup_mode: mode, retry_on_failure: RETRY_TEXT, backup_queue: 'in memory, default queue_size (20 requests)' };
  const seen = new Map<string, number>();
  for (const variant of variants) {
    const n = (seen.get(variant) ?? 0) + 1;
    seen.set(variant, n);
    const name = n === 1 ? variant : `${variant}${n}`;
    process.stderr.write(`dead-second: ${name} (${seconds} s)\n`);
    const r = await deadSecondRun(variant, seconds, mode);
    const { reasons, ...figures } = r;
    for (const [k, v] of Object.entries(figures)) result[`${name}_${k}`] = v;
    if (result.lines_per_s === 0) result.lines_per_s = r.lines_per_s;
    process.stderr.write(`  ${name}: ${JSON.stringify(figures)}\n  non-200 answers: ${JSON.stringify(reasons)}\n`);
  }
  process.stderr.write(`\ndead-second: ${DRAINS} drains x ${BATCH} lines at ${RATE} lines/s, backup backend ${mode === 'hang' ? 'never answering' : 'answering 503'}\n${summary(result)}\n`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2];
  if (which === undefined || which === 'outage') console.log(JSON.stringify(await outageScenario()));
  if (which === undefined || which === 'sigkill') console.log(JSON.stringify(await sigkillScenario()));
  if (which === undefined || which === 'dead-second') console.log(JSON.stringify(await deadSecondScenario()));
}
