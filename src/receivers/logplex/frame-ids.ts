/**
 * Recently seen `Logplex-Frame-Id`s per drain: Logplex re-sends a batch with the same frame id
 * when our answer was lost or late, and a batch must not be emitted twice. Bounded in count and
 * age; the oldest entries go first.
 *
 * An id is `pending` from the moment its request's headers are read until the batch is taken or
 * refused: a retry that arrives meanwhile (Logplex gave up waiting after 5 s) must neither be
 * taken a second time nor be acknowledged before the first copy is safely in.
 */
export type FrameIdState = 'pending' | 'done';

export class RecentFrameIds {
  private readonly _seen = new Map<string, { at: number; state: FrameIdState }>();
  private readonly _maxEntries: number;
  private readonly _maxAgeMs: number;

  constructor(maxEntries = 100_000, maxAgeMs = 10 * 60_000) {
    this._maxEntries = maxEntries;
    this._maxAgeMs = maxAgeMs;
  }

  /** What is known of an id: undefined when never seen (or forgotten, or too old). */
  state(key: string, nowMs: number): FrameIdState | undefined {
    this._evict(nowMs);
    return this._seen.get(key)?.state;
  }

  /** Marks an id as being taken now. */
  pending(key: string, nowMs: number): void {
    this._evict(nowMs);
    this._seen.set(key, { at: nowMs, state: 'pending' });
  }

  /** Marks an id's batch as taken: its retries are acknowledged without being emitted again. */
  done(key: string, nowMs: number): void {
    this._seen.delete(key);
    this._seen.set(key, { at: nowMs, state: 'done' });
  }

  /** Records the id as taken; true when it was already seen (a re-sent batch). */
  seen(key: string, nowMs: number): boolean {
    if (this.state(key, nowMs) !== undefined) return true;
    this.done(key, nowMs);
    return false;
  }

  /** Forgets an id whose batch could not be taken (503), so Logplex's retry is not mistaken for a duplicate. */
  forget(key: string): void {
    this._seen.delete(key);
  }

  get size(): number {
    return this._seen.size;
  }

  private _evict(nowMs: number): void {
    for (const [key, entry] of this._seen) {
      if (this._seen.size <= this._maxEntries && nowMs - entry.at <= this._maxAgeMs) break;
      this._seen.delete(key);
    }
  }
}
