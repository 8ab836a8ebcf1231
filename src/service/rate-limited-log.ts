/**
 * A log line that may repeat thousands of times a minute (a malformed line per request, a failing
 * backend) written once at once, then summarised: per key, the first report is logged as it comes;
 * later ones within `intervalMs` of the last line written for that key are only counted, and the
 * next line for the key carries the count: `"<message> (N more in the last 30s)"`, where N is the
 * reports not written since the previous line. That line is written by the first report after the
 * interval, by a timer at the end of the interval (so a count never waits for traffic that may not
 * come), or by `flush()`.
 */
import type { Level, Logger } from './log.ts';

interface Entry {
  /** When the last line for this key was written. */
  since: number;
  /** Reports not written since then, and the last of them. */
  suppressed: number;
  level: Level;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/**
 * Keys followed at once. Keys may come from clients (an address, a drain); past this many, reports
 * for new keys are counted under one shared key rather than growing the map.
 */
const MAX_KEYS = 1024;
const OVERFLOW_KEY = '\0overflow';

export class RateLimitedLog {
  private readonly _log: Logger;
  private readonly _intervalMs: number;
  private readonly _now: () => number;
  private readonly _entries = new Map<string, Entry>();
  private _timer: NodeJS.Timeout | undefined;

  /**
   * @param log where lines go
   * @param intervalMs at most one line per key per interval; default 30 s
   * @param now the clock, for tests; default Date.now
   */
  constructor(log: Logger, intervalMs = 30_000, now: () => number = Date.now) {
    this._log = log;
    this._intervalMs = intervalMs;
    this._now = now;
  }

  /** Logs `message` now if `key` has had no line within the interval; otherwise counts it. */
  report(level: Level, key: string, message: string, fields?: Record<string, unknown>): void {
    const now = this._now();
    let entry = this._entries.get(key);
    if (entry === undefined && this._entries.size >= MAX_KEYS) {
      this._sweep(now);
      if (this._entries.size >= MAX_KEYS) {
        key = OVERFLOW_KEY;
        entry = this._entries.get(key);
      }
    }
    if (entry === undefined) {
      this._entries.set(key, { since: now, suppressed: 0, level, message, fields });
      this._log(level, message, fields);
      return;
    }
    if (now - entry.since >= this._intervalMs) {
      this._write(entry, now, level, message, fields, entry.suppressed);
      return;
    }
    entry.suppressed++;
    entry.level = level;
    entry.message = message;
    entry.fields = fields;
    this._schedule(entry.since + this._intervalMs - now);
  }

  /** Writes the count of every key with reports not yet written (at shutdown, say). */
  flush(): void {
    clearTimeout(this._timer);
    this._timer = undefined;
    const now = this._now();
    for (const entry of this._entries.values()) {
      if (entry.suppressed > 0) this._write(entry, now, entry.level, entry.message, entry.fields, entry.suppressed - 1);
    }
  }

  /** `more`: the reports not written besides this one. */
  private _write(entry: Entry, now: number, level: Level, message: string, fields: Record<string, unknown> | undefined, more: number): void {
    const seconds = Math.max(1, Math.round((now - entry.since) / 1000));
    entry.since = now;
    entry.suppressed = 0;
    this._log(level, more > 0 ? `${message} (${more} more in the last ${seconds}s)` : message, fields);
  }

  /** Forgets keys quiet for a whole interval, writing what they still count. */
  private _sweep(now: number): void {
    for (const [key, entry] of this._entries) {
      if (now - entry.since < this._intervalMs) continue;
      if (entry.suppressed > 0) this._write(entry, now, entry.level, entry.message, entry.fields, entry.suppressed - 1);
      this._entries.delete(key);
    }
  }

  private _schedule(inMs: number): void {
    if (this._timer !== undefined) return;
    this._timer = setTimeout(() => this._due(), Math.max(0, inMs));
    this._timer.unref?.();
  }

  /** At the end of an interval: writes the counts that are due, waits for the others. */
  private _due(): void {
    this._timer = undefined;
    const now = this._now();
    let next = Infinity;
    for (const entry of this._entries.values()) {
      if (entry.suppressed === 0) continue;
      const left = entry.since + this._intervalMs - now;
      if (left <= 0) this._write(entry, now, entry.level, entry.message, entry.fields, entry.suppressed - 1);
      else next = Math.min(next, left);
    }
    if (next !== Infinity) this._schedule(next);
  }
}
