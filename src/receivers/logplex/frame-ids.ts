/**
 * Recently seen `Logplex-Frame-Id`s per drain: Logplex re-sends a batch with the same frame id
 * when our answer was lost or late, and a batch must not be emitted twice. Bounded in count and
 * age; the oldest entries go first.
 */
export class RecentFrameIds {
  private readonly _seen = new Map<string, number>();
  private readonly _maxEntries: number;
  private readonly _maxAgeMs: number;

  constructor(maxEntries = 100_000, maxAgeMs = 10 * 60_000) {
    this._maxEntries = maxEntries;
    this._maxAgeMs = maxAgeMs;
  }

  /** Records the id; true when it was already seen (a re-sent batch). */
  seen(key: string, nowMs: number): boolean {
    this._evict(nowMs);
    if (this._seen.has(key)) return true;
    this._seen.set(key, nowMs);
    return false;
  }

  /** Forgets an id whose batch could not be taken (503), so Logplex's retry is not mistaken for a duplicate. */
  forget(key: string): void {
    this._seen.delete(key);
  }

  private _evict(nowMs: number): void {
    for (const [key, at] of this._seen) {
      if (this._seen.size <= this._maxEntries && nowMs - at <= this._maxAgeMs) break;
      this._seen.delete(key);
    }
  }
}
