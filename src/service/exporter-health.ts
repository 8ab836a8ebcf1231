/**
 * Whether an exporter's backend is answering, told in the log the way an operator needs it: the
 * first failed attempt at once (the endpoint, without credentials, and the status or error), then
 * at most one summary line per interval while it keeps failing ("N failures in the last 30s,
 * last: ..."), including what was given up on and why, then one line when it recovers. A backend
 * that flaps writes at most one failure line and one recovery line per interval.
 */
import type { Logger } from './log.ts';
import { formatDuration } from './retry.ts';

export interface FailedAttempt {
  pipeline: string;
  endpoint: string | undefined;
  error: string;
  status: number | undefined;
  /** Set when it will be tried again: the wait before. */
  retryInMs: number | undefined;
  /** Items given up on with this attempt (0 while retrying), and why. */
  lost: number;
  unit: 'records' | 'points' | 'spans';
  reason: string | undefined;
}

interface Lost {
  records: number;
  points: number;
  spans: number;
}

function describeLost(lost: Lost): string {
  const parts = [];
  if (lost.records > 0) parts.push(`${lost.records} records`);
  if (lost.points > 0) parts.push(`${lost.points} points`);
  if (lost.spans > 0) parts.push(`${lost.spans} spans`);
  return parts.join(' and ');
}

export class ExporterHealth {
  private readonly _id: string;
  private readonly _log: Logger;
  private readonly _intervalMs: number;
  private readonly _now: () => number;
  /** The current run of failures, from its first failure to the next success. */
  private _failing = false;
  /** Whether a line has told of the current run (its recovery is told only then). */
  private _announced = false;
  private _runStart = 0;
  private _runFailures = 0;
  private _runLost: Lost = { records: 0, points: 0, spans: 0 };
  /** When the last failure line was written. */
  private _lastLineAt = -Infinity;
  /** Failures since that line, not yet written. */
  private _window = 0;
  private _windowLost: Lost = { records: 0, points: 0, spans: 0 };
  private _windowReason: string | undefined;
  private _last: FailedAttempt | undefined;
  private _timer: NodeJS.Timeout | undefined;

  constructor(exporterId: string, log: Logger, intervalMs = 30_000, now: () => number = Date.now) {
    this._id = exporterId;
    this._log = log;
    this._intervalMs = intervalMs;
    this._now = now;
  }

  failed(attempt: FailedAttempt): void {
    const now = this._now();
    if (!this._failing) {
      this._failing = true;
      this._announced = false;
      this._runStart = now;
      this._runFailures = 0;
      this._runLost = { records: 0, points: 0, spans: 0 };
    }
    this._runFailures++;
    this._runLost[attempt.unit] += attempt.lost;
    if (this._window === 0 && now - this._lastLineAt >= this._intervalMs) {
      this._writeFirst(attempt, now);
      return;
    }
    this._window++;
    this._windowLost[attempt.unit] += attempt.lost;
    if (attempt.lost > 0) this._windowReason = attempt.reason;
    this._last = attempt;
    if (now - this._lastLineAt >= this._intervalMs) this._writeSummary(now);
    else this._schedule(this._lastLineAt + this._intervalMs - now);
  }

  succeeded(): void {
    if (!this._failing) return;
    this._failing = false;
    if (!this._announced) return; // a run within the interval of the last line: the summary tells it
    const now = this._now();
    // The window holds only this run's failures (its line emptied it): the recovery line sums them up.
    this._window = 0;
    this._windowLost = { records: 0, points: 0, spans: 0 };
    clearTimeout(this._timer);
    this._timer = undefined;
    const lost = describeLost(this._runLost);
    this._log('info', `${this._id}: recovered after ${this._runFailures} failure${this._runFailures === 1 ? '' : 's'} / ${formatDuration(now - this._runStart)}${lost ? `; ${lost} lost meanwhile` : ''}`, {
      exporter: this._id,
      failures: this._runFailures,
      down_ms: now - this._runStart,
      ...(lost ? { lost_records: this._runLost.records, lost_points: this._runLost.points, lost_spans: this._runLost.spans } : {}),
    });
  }

  /** Writes what is counted and not yet written (at shutdown). */
  flush(): void {
    if (this._window > 0) this._writeSummary(this._now());
  }

  private _writeFirst(a: FailedAttempt, now: number): void {
    this._lastLineAt = now;
    this._announced = true;
    const then = a.lost > 0 ? `${a.lost} ${a.unit} lost (${a.reason ?? 'given up'})` : a.retryInMs !== undefined ? `retrying in ${formatDuration(a.retryInMs)}` : 'given up';
    this._log(a.lost > 0 ? 'error' : 'warn', `${this._id}: export${a.endpoint !== undefined ? ` to ${a.endpoint}` : ''} failed: ${a.error}; ${then}`, this._fields(a));
  }

  private _writeSummary(now: number): void {
    clearTimeout(this._timer);
    this._timer = undefined;
    const a = this._last!;
    const lost = describeLost(this._windowLost);
    const seconds = formatDuration(now - this._lastLineAt);
    const message =
      `${this._id}: ${this._window} failure${this._window === 1 ? '' : 's'} in the last ${seconds}` +
      `${lost ? `, ${lost} lost (${this._windowReason ?? 'given up'})` : ''}, last: ${a.error}${this._failing ? '' : ' (recovered since)'}`;
    this._log(lost ? 'error' : 'warn', message, { ...this._fields(a), failures: this._window, ...(lost ? { lost_records: this._windowLost.records, lost_points: this._windowLost.points, lost_spans: this._windowLost.spans } : {}) });
    this._lastLineAt = now;
    if (this._failing) this._announced = true;
    this._window = 0;
    this._windowLost = { records: 0, points: 0, spans: 0 };
    this._windowReason = undefined;
  }

  private _fields(a: FailedAttempt): Record<string, unknown> {
    return {
      exporter: this._id,
      pipeline: a.pipeline,
      ...(a.endpoint !== undefined ? { endpoint: a.endpoint } : {}),
      ...(a.status !== undefined ? { status: a.status } : {}),
      error: a.error,
    };
  }

  private _schedule(inMs: number): void {
    if (this._timer !== undefined) return;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      if (this._window > 0) this._writeSummary(this._now());
    }, Math.max(0, inMs));
    this._timer.unref?.();
  }
}
