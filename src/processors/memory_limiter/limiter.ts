/**
 * The memory limiter: measures the process's resident set every `check_interval` and, above the
 * soft limit, has its pipelines refuse data until memory is back under it. Refusing is what keeps
 * data safe: the receivers answer 503 and Logplex keeps the batch (syslog senders wait), where
 * running out of memory would lose everything held. Each change is logged once.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Logger } from '../../service/log.ts';
import type { MemoryLimiterConfig } from './config.ts';

const MIB = 1024 * 1024;

/** The memory this process may use: its cgroup's limit (v2, then v1) when it has one, else the machine's. */
export function availableMemoryBytes(read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = read(path).trim();
      const bytes = Number(text);
      // "max", or v1's huge number for "no limit".
      if (Number.isFinite(bytes) && bytes > 0 && bytes < totalmem()) return bytes;
    } catch {
      // Not there: another cgroup version, or not Linux.
    }
  }
  return totalmem();
}

export interface MemoryLimits {
  hardBytes: number;
  softBytes: number;
}

export function memoryLimits(config: MemoryLimiterConfig, available: () => number = availableMemoryBytes): MemoryLimits {
  if (config.limit_mib !== undefined) {
    const hard = config.limit_mib * MIB;
    const spike = config.spike_limit_mib !== undefined ? config.spike_limit_mib * MIB : hard / 5;
    return { hardBytes: hard, softBytes: hard - spike };
  }
  const total = available();
  const hard = (total * config.limit_percentage!) / 100;
  const spike = config.spike_limit_percentage !== undefined ? (total * config.spike_limit_percentage) / 100 : hard / 5;
  return { hardBytes: hard, softBytes: hard - spike };
}

export class MemoryLimiter {
  readonly id: string;
  readonly limits: MemoryLimits;
  readonly counters = { checks: 0, refusals: 0 };
  private readonly _intervalMs: number;
  private readonly _log: Logger;
  private readonly _measure: () => number;
  private _timer: NodeJS.Timeout | undefined;
  private _refusing = false;
  private _lastBytes = 0;

  constructor(id: string, config: MemoryLimiterConfig, log: Logger, measure: () => number = () => process.memoryUsage.rss(), available?: () => number) {
    this.id = id;
    this.limits = memoryLimits(config, available);
    this._intervalMs = config.check_interval;
    this._log = log;
    this._measure = measure;
  }

  /** Whether its pipelines take data now. */
  get accepting(): boolean {
    return !this._refusing;
  }

  start(): void {
    this.check();
    if (this._timer !== undefined) return;
    this._timer = setInterval(() => this.check(), this._intervalMs);
    this._timer.unref();
  }

  stop(): void {
    clearInterval(this._timer);
    this._timer = undefined;
  }

  /** Measures once; starts or stops refusing as memory crosses the soft limit. */
  check(): void {
    this.counters.checks++;
    const bytes = this._measure();
    this._lastBytes = bytes;
    const over = bytes >= this.limits.softBytes;
    if (over && !this._refusing) {
      this._refusing = true;
      this.counters.refusals++;
      this._log('warn', `${this.id}: memory above the soft limit; refusing data (receivers answer 503) until it is back under`, this._fields());
    } else if (!over && this._refusing) {
      this._refusing = false;
      this._log('info', `${this.id}: memory back under the soft limit; taking data again`, this._fields());
    }
  }

  private _fields(): Record<string, unknown> {
    return { rss_mib: Math.round(this._lastBytes / MIB), soft_limit_mib: Math.round(this.limits.softBytes / MIB), limit_mib: Math.round(this.limits.hardBytes / MIB) };
  }
}
