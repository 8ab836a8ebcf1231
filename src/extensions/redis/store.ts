/**
 * A store shared by sidecar instances, on Redis. Logplex may send a retried batch to another
 * dyno behind Heroku's router: with the frame id claimed in Redis, the second instance sees it is
 * a duplicate. When Redis is away (down, slow, unreachable), every call answers `undefined` at
 * once and the caller falls back to what it knows alone: never a lost line for a missing Redis.
 */
import type { Redis } from 'ioredis';
import { lazy } from '../../lazy.ts';
import type { RedisConfig } from './config.ts';

/** ioredis, loaded by the first store made: a config without a redis extension holds none of it. */
const ioredis = lazy<typeof import('ioredis')>('ioredis');

export type StoreLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** GET, or SET pending when absent: one round trip, and Redis 6 has no SET NX GET. */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
return false`;

/** How often "Redis is away" is logged at most. */
const WARN_EVERY_MS = 60_000;

export class RedisStore {
  readonly id: string;
  readonly counters = { claims: 0, duplicates: 0, unavailable: 0 };
  private readonly _config: RedisConfig;
  private readonly _log: StoreLog;
  private readonly _redis: Redis;
  private _lastWarning = 0;

  constructor(id: string, config: RedisConfig, log: StoreLog) {
    this.id = id;
    this._config = config;
    this._log = log;
    const secure = config.url.startsWith('rediss://');
    this._redis = new (ioredis().Redis)(config.url, {
      lazyConnect: true,
      // Fail fast while disconnected rather than queueing commands behind a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.timeout,
      connectTimeout: Math.max(1000, config.timeout * 4),
      retryStrategy: (attempt) => Math.min(5000, 200 * attempt),
      ...(secure ? { tls: { rejectUnauthorized: !config.tls.insecure_skip_verify } } : {}),
    });
    this._redis.on('error', (error: Error) => this._away(error.message));
    this._redis.on('ready', () => this._log('info', `${id}: connected`));
  }

  async start(): Promise<void> {
    try {
      await this._redis.connect();
    } catch (error) {
      // Not fatal: it keeps reconnecting; until then each instance works alone.
      this._away((error as Error).message);
    }
  }

  /**
   * Claims `key` as pending for `pendingMs`: `claimed` when this call is the first; `done` when
   * its work was finished (by anyone); `pending` when another is still at it; undefined when
   * Redis cannot say now.
   */
  async claim(key: string, pendingMs: number): Promise<'claimed' | 'done' | 'pending' | undefined> {
    try {
      const answer = await this._withTimeout(this._redis.eval(CLAIM, 1, this._config.key_prefix + key, String(pendingMs)));
      this.counters.claims++;
      if (answer === null) return 'claimed';
      this.counters.duplicates++;
      return answer === 'done' ? 'done' : 'pending';
    } catch (error) {
      this._away((error as Error).message);
      return undefined;
    }
  }

  /** Marks a claimed key done, remembered for `ttlMs`. */
  async done(key: string, ttlMs: number): Promise<void> {
    try {
      await this._withTimeout(this._redis.set(this._config.key_prefix + key, 'done', 'PX', ttlMs));
    } catch (error) {
      this._away((error as Error).message);
    }
  }

  /** Gives a claim back (its batch could not be taken: Logplex will send it again). */
  async release(key: string): Promise<void> {
    try {
      await this._withTimeout(this._redis.del(this._config.key_prefix + key));
    } catch (error) {
      this._away((error as Error).message);
    }
  }

  /** The connection, for the alert windows; commands on it should go through withTimeout. */
  get client(): Redis {
    return this._redis;
  }

  get keyPrefix(): string {
    return this._config.key_prefix;
  }

  /** Runs `p` with the store's timeout; rejects (and notes Redis as away) when it is slower. */
  async withTimeout<T>(p: Promise<T>): Promise<T> {
    try {
      return await this._withTimeout(p);
    } catch (error) {
      this._away((error as Error).message);
      throw error;
    }
  }

  async shutdown(): Promise<void> {
    try {
      await this._withTimeout(this._redis.quit());
    } catch {
      this._redis.disconnect();
    }
  }

  private _withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this._config.timeout} ms`)), this._config.timeout);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private _away(message: string): void {
    this.counters.unavailable++;
    const now = Date.now();
    if (now - this._lastWarning < WARN_EVERY_MS) return;
    this._lastWarning = now;
    this._log('warn', `${this.id}: Redis unavailable (${message}); de-duplication is per instance until it is back`);
  }
}
