/**
 * The `file_storage` extension: one directory, one sub-directory per queue that stores in it
 * (`exporter_otlphttp_grafana_logs`), one size budget for them all, and a lock so that two
 * processes never write the same queue (the second waits `timeout`, then refuses to start).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Extension } from '../../service/component.ts';
import type { Logger } from '../../service/log.ts';
import type { FileStorageConfig } from './config.ts';
import { SegmentLog, type Budget } from './segment-log.ts';

/** A segment of a queue's log is closed at this size (or at an eighth of a small budget). */
const SEGMENT_BYTES = 8 * 1024 * 1024;

/** Whether a process with this pid runs (and is not us: after a restart in a container, it may be our own). */
function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FileStorage implements Extension {
  readonly id: string;
  private readonly _config: FileStorageConfig;
  private readonly _log: Logger;
  private readonly _budget: Budget;
  private readonly _logs = new Map<string, SegmentLog>();
  private _locked = false;

  constructor(id: string, config: FileStorageConfig, log: Logger) {
    this.id = id;
    this._config = config;
    this._log = log;
    this._budget = { maxBytes: config.max_size_mib * 1024 * 1024, used: 0 };
  }

  get directory(): string {
    return this._config.directory;
  }

  /** Bytes all queues take on disk now, and the budget. */
  get usage(): { bytes: number; maxBytes: number } {
    return { bytes: this._budget.used, maxBytes: this._budget.maxBytes };
  }

  async start(): Promise<void> {
    const dir = this._config.directory;
    if (!existsSync(dir)) {
      if (!this._config.create_directory) throw new Error(`${this.id}: directory ${dir} does not exist (create it, or set create_directory: true)`);
      mkdirSync(dir, { recursive: true, mode: Number.parseInt(this._config.directory_permissions, 8) });
    } else if (!statSync(dir).isDirectory()) {
      throw new Error(`${this.id}: ${dir} is not a directory`);
    }
    await this._lock();
    if (this._config.recreate) {
      for (const name of this._queueDirectories()) rmSync(join(dir, name), { recursive: true, force: true });
      this._log('warn', `${this.id}: recreate is on: what an earlier run left unsent was deleted`, { directory: dir });
    }
  }

  private _queueDirectories(): string[] {
    try {
      return readdirSync(this._config.directory).filter((n) => n !== 'LOCK');
    } catch {
      return [];
    }
  }

  private async _lock(): Promise<void> {
    const path = join(this._config.directory, 'LOCK');
    const deadline = Date.now() + this._config.timeout;
    for (;;) {
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // no lock
      }
      if (!running(holder)) {
        writeFileSync(path, `${process.pid}\n`);
        // Two starting at once: the last writer wins; the other sees it on the next read.
        if (Number(readFileSync(path, 'utf8').trim()) === process.pid) break;
      }
      if (Date.now() >= deadline) throw new Error(`${this.id}: directory ${this._config.directory} is in use by process ${holder}; two processes must not share a queue directory`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this._locked = true;
  }

  /**
   * The log of one queue (`exporter_otlphttp_grafana_logs`), created on first use; the same
   * name gives the same log.
   */
  queueLog(name: string): SegmentLog {
    let log = this._logs.get(name);
    if (log === undefined) {
      const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
      log = new SegmentLog(join(this._config.directory, safe), {
        fsync: this._config.fsync,
        segmentBytes: Math.max(64 * 1024, Math.min(SEGMENT_BYTES, Math.floor(this._budget.maxBytes / 8))),
        budget: this._budget,
      });
      this._logs.set(name, log);
    }
    return log;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this._logs.values()].map((log) => log.close()));
    if (this._locked) {
      this._locked = false;
      try {
        unlinkSync(join(this._config.directory, 'LOCK'));
      } catch {
        // gone already
      }
    }
  }
}
