/**
 * Logplex frame-id claims (and, through alertWindows, alert windows: alert-windows.ts) shared by
 * the workers of one dyno, kept by the primary: the semantics of
 * the redis extension's claims (RedisStore), over the cluster's IPC channel. A retry Logplex sends
 * on another connection may land on another worker; the claim tells that worker the batch is
 * taken (`done`: acknowledged, not emitted again) or being taken (`pending`: 503, asked again).
 *
 * What it costs (bench/workers.ts, 100-line POSTs): one round trip per event-loop turn that parsed
 * a body, about one per POST below saturation, and nothing more: `done` rides with the next
 * claims (messages carrying only a `done` were 15 to 42 of ~1,000). The primary's CPU in the
 * measured window is that traffic (0.07 to 0.15 s per 100k lines; 0.01 without claims), spent on
 * waking up per message, not on the format: a round trip cost the same paced through JSON,
 * `serialization: 'advanced'` or a one-line string (55 to 100 us each side, by the machine's load).
 *
 * An id a worker has not seen is still asked about: Logplex's retry of a batch whose answer was
 * late or lost comes with the same id on any connection (the router shares them), so the worker
 * that takes an id first must have told the table before it takes it, or the retry's worker could
 * not know; and a worker's own window dies with it, while the table keeps what it acknowledged.
 */
import type { Extension } from '../component.ts';
import type { SharedClaims } from '../../receivers/logplex/receiver.ts';
import { WorkerAlertWindows, type AlertsMessage } from './alert-windows.ts';

/** The id a worker's logplex receivers name as their `storage` (not a valid component id: no config can take it). */
export const WORKER_CLAIMS_ID = '(workers)';

/** How many claims the primary remembers at most; the oldest go first (RecentFrameIds' bound). */
const MAX_CLAIMS = 100_000;

/** A worker that hears nothing back by then works alone for that request (the primary is busy or gone). */
const ANSWER_TIMEOUT_MS = 1000;

export type ClaimAnswer = 'claimed' | 'done' | 'pending';

/** What a worker asks of the primary's table, in order. */
export type ClaimOp = { op: 'claim'; id: number; key: string; pendingMs: number } | { op: 'done'; key: string; ttlMs: number } | { op: 'release'; key: string };

/**
 * Messages between a worker and the primary, tagged so that nothing else on the channel is taken
 * for one. Each carries every op (or answer) of a moment: a message costs both processes a
 * wake-up, which is most of what sharing claims costs (bench/workers.ts).
 */
export type ClaimMessage = { hod: 'claims'; ops: ClaimOp[] } | { hod: 'claimed'; answers: Array<[id: number, answer: ClaimAnswer]> };

const CLAIM_KINDS: ReadonlySet<unknown> = new Set(['claims', 'claimed']);

export function isClaimMessage(m: unknown): m is ClaimMessage {
  return typeof m === 'object' && m !== null && CLAIM_KINDS.has((m as { hod?: unknown }).hod);
}

interface Entry {
  state: 'pending' | 'done';
  expires: number;
  /** The worker that holds a pending claim: released at once if that worker dies. */
  owner: number;
}

/** The primary's table of claims: GET, or SET pending when absent, as RedisStore's CLAIM script. */
export class ClaimTable {
  private readonly _entries = new Map<string, Entry>();
  private readonly _max: number;

  constructor(max = MAX_CLAIMS) {
    this._max = max;
  }

  claim(key: string, pendingMs: number, owner: number, now: number): ClaimAnswer {
    const entry = this._entries.get(key);
    if (entry !== undefined && entry.expires > now) return entry.state;
    this._set(key, { state: 'pending', expires: now + pendingMs, owner }, now);
    return 'claimed';
  }

  done(key: string, ttlMs: number, now: number): void {
    this._set(key, { state: 'done', expires: now + ttlMs, owner: -1 }, now);
  }

  release(key: string): void {
    this._entries.delete(key);
  }

  /**
   * A worker died: its pending claims are given back, so Logplex's retries of what it never
   * answered 200 are taken by another. Its done claims stay: what it acknowledged was taken.
   */
  releaseOwner(owner: number): number {
    let n = 0;
    for (const [key, entry] of this._entries) {
      if (entry.state === 'pending' && entry.owner === owner) {
        this._entries.delete(key);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this._entries.size;
  }

  /** A worker's ops, in order; the answers to its claims. */
  apply(ops: readonly ClaimOp[], owner: number, now: number): Array<[number, ClaimAnswer]> {
    const answers: Array<[number, ClaimAnswer]> = [];
    for (const o of ops) {
      if (o.op === 'claim') answers.push([o.id, this.claim(o.key, o.pendingMs, owner, now)]);
      else if (o.op === 'done') this.done(o.key, o.ttlMs, now);
      else this.release(o.key);
    }
    return answers;
  }

  private _set(key: string, entry: Entry, now: number): void {
    // Re-inserted at the end: the map's order is the order of last change, oldest first.
    this._entries.delete(key);
    this._entries.set(key, entry);
    for (const [k, e] of this._entries) {
      if (this._entries.size <= this._max && e.expires > now) break;
      this._entries.delete(k);
    }
  }
}

/** The channel to the primary: `process.send` and `process.on('message')` in a cluster worker. */
export interface ClaimChannel {
  send(message: ClaimMessage | AlertsMessage): void;
  onMessage(listener: (message: unknown) => void): void;
}

function processChannel(): ClaimChannel {
  return {
    send: (m) => {
      // A channel that closed (the primary is going away) drops the message: the claim then
      // expires, which is RedisStore's behaviour when Redis is away.
      if (process.connected) process.send!(m);
    },
    onMessage: (listener) => process.on('message', listener),
  };
}

/**
 * How long a `done` or `release` may wait to ride with a claim. Late, a retry on another worker
 * meanwhile is told `pending` (503, Logplex asks again): never taken twice.
 */
const SETTLE_DELAY_MS = 50;

/**
 * A worker's side: the SharedClaims of its logplex receivers (see RedisStore for the contract).
 * Claims go out together at the end of the event loop's turn, `done` and `release` with the next
 * claims or within SETTLE_DELAY_MS. No answer within ANSWER_TIMEOUT_MS is `undefined`: the
 * receiver's own window decides.
 */
export class WorkerClaims implements SharedClaims, Extension {
  readonly counters = { claims: 0, duplicates: 0, unavailable: 0 };
  private readonly _channel: ClaimChannel;
  private readonly _waiting = new Map<number, { resolve: (a: ClaimAnswer | undefined) => void; timer: NodeJS.Timeout }>();
  private _outbox: ClaimOp[] = [];
  private _flushNow: NodeJS.Immediate | undefined;
  private _flushLater: NodeJS.Timeout | undefined;
  private _next = 0;

  constructor(channel: ClaimChannel = processChannel()) {
    this._channel = channel;
    channel.onMessage((m) => {
      if (!isClaimMessage(m) || m.hod !== 'claimed') return;
      for (const [id, answer] of m.answers) {
        const waiting = this._waiting.get(id);
        if (waiting === undefined) continue;
        this._waiting.delete(id);
        clearTimeout(waiting.timer);
        waiting.resolve(answer);
      }
    });
  }

  async start(): Promise<void> {}

  /** An alerts processor's windows, added up through the primary (its `storage` names this extension). */
  alertWindows(processorId: string): WorkerAlertWindows {
    return new WorkerAlertWindows(this._channel, processorId, String(process.pid));
  }

  async shutdown(): Promise<void> {
    this._flush();
    for (const [id, w] of this._waiting) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this._waiting.delete(id);
    }
  }

  claim(key: string, pendingMs: number): Promise<ClaimAnswer | undefined> {
    const id = this._next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this._waiting.delete(id);
        this.counters.unavailable++;
        resolve(undefined);
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      this._waiting.set(id, {
        resolve: (answer) => {
          if (answer !== undefined) {
            this.counters.claims++;
            if (answer !== 'claimed') this.counters.duplicates++;
          }
          resolve(answer);
        },
        timer,
      });
      this._outbox.push({ op: 'claim', id, key, pendingMs });
      this._flushNow ??= setImmediate(() => this._flush());
    });
  }

  async done(key: string, ttlMs: number): Promise<void> {
    this._settle({ op: 'done', key, ttlMs });
  }

  async release(key: string): Promise<void> {
    this._settle({ op: 'release', key });
  }

  private _settle(op: ClaimOp): void {
    this._outbox.push(op);
    if (this._flushNow === undefined && this._flushLater === undefined) {
      this._flushLater = setTimeout(() => this._flush(), SETTLE_DELAY_MS);
      this._flushLater.unref();
    }
  }

  private _flush(): void {
    if (this._flushNow !== undefined) clearImmediate(this._flushNow);
    if (this._flushLater !== undefined) clearTimeout(this._flushLater);
    this._flushNow = this._flushLater = undefined;
    if (this._outbox.length === 0) return;
    const ops = this._outbox;
    this._outbox = [];
    this._channel.send({ hod: 'claims', ops });
  }
}
