/**
 * A worker's share of the config: what one process owns alone becomes its own (a file_storage
 * sub-directory) or its Nth (memory and disk budgets); logplex receivers and alerts without a
 * shared store claim frame ids and add their windows up through the primary.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentConfig, SidecarConfig } from '../../config/load.ts';
import type { FileStorageConfig } from '../../extensions/file_storage/config.ts';
import type { MemoryLimiterConfig } from '../../processors/memory_limiter/config.ts';
import { WORKER_CLAIMS_ID } from './claims.ts';

/** A worker's own sub-directory of a file_storage directory. */
export function workerDirectory(directory: string, index: number): string {
  return join(directory, `worker-${index}`);
}

function withConfig(c: ComponentConfig, config: unknown): ComponentConfig {
  return { ...c, config };
}

/**
 * The config worker `index` of `count` runs. `restarted`: it replaces one that died, so
 * file_storage's `recreate` is off (what its predecessor left is its own to send).
 */
export function workerConfig(config: SidecarConfig, index: number, count: number, restarted: boolean): SidecarConfig {
  const extensions = new Map(config.extensions);
  for (const [id, c] of config.extensions) {
    if (c.type !== 'file_storage') continue;
    const fs = c.config as FileStorageConfig;
    // The primary checked (or made) the directory itself; the worker's own is made as needed.
    extensions.set(id, withConfig(c, { ...fs, directory: workerDirectory(fs.directory, index), create_directory: true, max_size_mib: fs.max_size_mib / count, recreate: fs.recreate && !restarted }));
  }
  const processors = new Map(config.processors);
  for (const [id, c] of config.processors) {
    // Alerts without a redis store add their windows up through the primary.
    if (c.type === 'alerts' && (c.config as { storage?: string }).storage === undefined) processors.set(id, withConfig(c, { ...(c.config as object), storage: WORKER_CLAIMS_ID }));
    if (c.type !== 'memory_limiter') continue;
    const m = c.config as MemoryLimiterConfig;
    const share = (v: number | undefined) => (v === undefined ? undefined : v / count);
    processors.set(id, withConfig(c, { ...m, limit_mib: share(m.limit_mib), spike_limit_mib: share(m.spike_limit_mib), limit_percentage: share(m.limit_percentage), spike_limit_percentage: share(m.spike_limit_percentage) }));
  }
  const receivers = new Map(config.receivers);
  for (const [id, c] of config.receivers) {
    const r = c.config as { storage?: string };
    if (c.type === 'logplex' && r.storage === undefined) receivers.set(id, withConfig(c, { ...r, storage: WORKER_CLAIMS_ID }));
  }
  return { ...config, extensions, processors, receivers };
}

/** Whether a directory holds a non-empty file other than a lock, at any depth (a queue's segments). */
function holdsData(path: string): boolean {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size > 0 && !path.endsWith('LOCK');
  return readdirSync(path).some((name) => name !== 'LOCK' && holdsData(join(path, name)));
}

/**
 * The primary's check of each running file_storage directory before forking (the workers make
 * their own sub-directories in it): missing without `create_directory` is the single process's
 * error. Returns the problems, and what an earlier run left where no worker of this count looks:
 * queues at the top (a run of one process) and `worker-<n>` past the last index.
 */
export function prepareStorage(config: SidecarConfig, count: number): { problems: string[]; leftovers: string[] } {
  const problems: string[] = [];
  const leftovers: string[] = [];
  for (const id of config.serviceExtensions) {
    const c = config.extensions.get(id);
    if (c?.type !== 'file_storage') continue;
    const fs = c.config as FileStorageConfig;
    if (!existsSync(fs.directory)) {
      if (!fs.create_directory) {
        problems.push(`${id}: directory ${fs.directory} does not exist (create it, or set create_directory: true)`);
        continue;
      }
      mkdirSync(fs.directory, { recursive: true, mode: Number.parseInt(fs.directory_permissions, 8) });
    } else if (!statSync(fs.directory).isDirectory()) {
      problems.push(`${id}: ${fs.directory} is not a directory`);
      continue;
    }
    for (const name of readdirSync(fs.directory)) {
      if (name === 'LOCK') continue;
      const worker = /^worker-(\d+)$/.exec(name);
      if (worker === null || Number(worker[1]) >= count) {
        const path = join(fs.directory, name);
        if (holdsData(path)) leftovers.push(path);
      }
    }
  }
  return { problems, leftovers };
}
