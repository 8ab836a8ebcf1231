/**
 * Logplex frame-id claims shared by the workers of one dyno, kept by the primary: the semantics of
 * the redis extension's claims (RedisStore), over the cluster's IPC channel. A retry Logplex sends
 * on another connection may land on another worker; the claim tells that worker the batch is
 * taken (`done`: acknowledged, not emitted again) or being taken (`pending`: 503, asked again).
 */
import type { Extension } from '../component.ts';
import type { SharedClaims } from '../../receivers/logplex/receiver.ts';

/** The id a worker's logplex receivers name as their `storage` (not a valid component id: no config can take it). */
export const WORKER_CLAIMS_ID = '(workers)';

/** How many claims the primary remembers at most; the oldest go first (RecentFrameIds' bound). */
const MAX_CLAIMS = 100_000;

/** A worker that hears nothing back by then works alone for that request (the primary is busy or gone). */
const ANSWER_TIMEOUT_MS = 1000;

export type ClaimAnswer = 'claimed' | 'done' | 'pending';

/** Messages between a worker and the primary, tagged so that nothing else on the channel is taken for one. */
export type ClaimMessage =
  | { hod: 'claim'; id: number; key: string; pendingMs: number }
  | { hod: 'claimed'; id: number; answer: ClaimAnswer }
  | { hod: 'done'; key: string; ttlMs: number }
  | { hod: 'release'; key: string };

const CLAIM_KINDS: ReadonlySet<unknown> = new Set(['claim', 'claimed', 'done', 'release']);

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
  send(message: ClaimMessage): void;
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
 * A worker's side: the SharedClaims of its logplex receivers (see RedisStore for the contract).
 * No answer within ANSWER_TIMEOUT_MS is `undefined`: the receiver's own window decides.
 */
export class WorkerClaims implements SharedClaims, Extension {
  readonly counters = { claims: 0, duplicates: 0, unavailable: 0 };
  private readonly _channel: ClaimChannel;
  private readonly _waiting = new Map<number, { resolve: (a: ClaimAnswer | undefined) => void; timer: NodeJS.Timeout }>();
  private _next = 0;

  constructor(channel: ClaimChannel = processChannel()) {
    this._channel = channel;
    channel.onMessage((m) => {
      if (!isClaimMessage(m) || m.hod !== 'claimed') return;
      const waiting = this._waiting.get(m.id);
      if (waiting === undefined) return;
      this._waiting.delete(m.id);
      clearTimeout(waiting.timer);
      waiting.resolve(m.answer);
    });
  }

  async start(): Promise<void> {}

  async shutdown(): Promise<void> {
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
      this._channel.send({ hod: 'claim', id, key, pendingMs });
    });
  }

  async done(key: string, ttlMs: number): Promise<void> {
    this._channel.send({ hod: 'done', key, ttlMs });
  }

  async release(key: string): Promise<void> {
    this._channel.send({ hod: 'release', key });
  }
}
