/**
 * How many processes serve a config: `service.workers`, else `WEB_CONCURRENCY` (which Heroku sets
 * per dyno size) when the config is correct across workers, else one.
 *
 * Design (issue 18 item 3, step 1):
 * - node:cluster, round-robin: the primary accepts every connection and hands it to a worker
 *   (Node's SCHED_RR). The alternative, workers accepting on one shared socket, leaves the
 *   balance to the kernel, which on Linux piles connections on a few busy processes (Node's own
 *   cluster docs); the primary's cost is one accept and one handle passed per connection, not
 *   per request, and Logplex keeps its connections alive. A drain sends one request at a time on
 *   one connection, so one drain stays on one worker: workers pay off with many drains.
 * - The primary runs no pipeline. It holds the listening sockets, forks the workers, restarts one
 *   that dies (logged, with a backoff), forwards SIGTERM, SIGINT and SIGHUP, and exits once every
 *   worker has flushed and exited.
 * - Logplex frame-id de-duplication: the primary keeps the claims (claims.ts) and answers each
 *   worker over IPC, as the redis extension does between dynos; a retry that lands on another
 *   worker is still a duplicate. A receiver with `storage: redis` keeps Redis, shared by all.
 * - file_storage: each worker its own sub-directory, `worker-<index>`, with its own lock and an
 *   Nth of `max_size_mib`; a worker restarted with the same index recovers what it left.
 * - memory_limiter: each worker an Nth of the limit (they share the dyno's memory).
 * - Self-telemetry: each worker is its own `service.instance.id` (as its metrics series are), so
 *   periodic (OTLP) readers and the own-log copy are right as they are. A Prometheus scrape, the
 *   status page and health_check would answer for whichever worker took the connection: refused
 *   with workers for now (workerProblems), not aggregated.
 * - Alerts: each worker writes its window buckets to the primary and evaluates on everyone's
 *   sums; each transition goes through a compare-and-set there, so one worker sends it
 *   (alert-windows.ts: the redis extension's scheme, which a redis `storage` keeps using, shared
 *   with other dynos too). Quantiles and gauges stay per worker, as per dyno with Redis.
 *   tail_sampling holds a request's lines together, which reach different workers: refused.
 * - The file exporter: workers would append to one file, and Node writes a long line in several
 *   writes another worker's can cut: refused. The debug exporter writes to the stdout they share.
 */
import { availableParallelism } from 'node:os';
import type { SidecarConfig } from '../../config/load.ts';

/** `service.workers`: a count, or `auto` (WEB_CONCURRENCY, else the cores this process may use). */
export type WorkersSetting = number | 'auto';

/** More than this is a typo, not a dyno. */
export const MAX_WORKERS = 256;

/** The processors a pipeline lists (declared ones no pipeline lists never run). */
function listedProcessors(config: SidecarConfig): Set<string> {
  return new Set([...config.pipelines.values()].flatMap((p) => p.processors));
}

/**
 * What in a config is not correct when several workers serve it, each naming its key: empty when
 * it is. The same list refuses `service.workers` above 1 and leaves WEB_CONCURRENCY aside.
 */
export function workerProblems(config: SidecarConfig): string[] {
  const problems: string[] = [];
  for (const id of listedProcessors(config)) {
    const c = config.processors.get(id);
    if (c === undefined) continue;
    const settings = c.config as { storage?: string; instance_id?: string };
    if (c.type === 'tail_sampling') {
      problems.push(`processors.${id}: tail_sampling keeps a request's lines together, and they reach different workers; run one worker`);
    } else if (c.type === 'interval' && settings.instance_id !== undefined) {
      problems.push(`processors.${id}.instance_id: every worker would write the same cumulative series under it; leave it unset (each worker is then its own instance), or run one worker`);
    }
  }
  const exporters = new Set([...config.pipelines.values()].flatMap((p) => p.exporters));
  for (const id of exporters) {
    // O_APPEND keeps one write whole, but Node writes a line over 512 KiB in several.
    if (config.exporters.get(id)?.type === 'file') problems.push(`exporters.${id}: every worker would append to the same file, and a long line could be cut by another worker's; run one worker`);
  }
  const telemetry = config.telemetry;
  if (telemetry.status.enabled) {
    problems.push('service.telemetry.status: the page would show the lines of whichever worker took the request; turn it off, or run one worker');
  }
  const scrape = "a Prometheus scrape would reach whichever worker took the connection; use a periodic (otlp) reader, where each worker is its own service.instance.id, or run one worker";
  if (telemetry.metrics.address !== undefined) problems.push(`service.telemetry.metrics.address: ${scrape}`);
  telemetry.metrics.readers.forEach((r, i) => {
    if (r.pull !== undefined) problems.push(`service.telemetry.metrics.readers[${i}]: ${scrape}`);
  });
  for (const id of config.serviceExtensions) {
    if (config.extensions.get(id)?.type === 'health_check') {
      problems.push(`extensions.${id}: health_check would answer for whichever worker took the connection; take it out of service.extensions, or run one worker`);
    }
  }
  return problems;
}

export interface WorkerPlan {
  /** Processes that run pipelines; 1: no cluster, this process serves. */
  count: number;
  /** Why that many, for the log. */
  reason: string;
  /** WEB_CONCURRENCY said more, and could not be followed: why (logged as a warning). */
  ignored?: string;
}

/** WEB_CONCURRENCY as a count; undefined when unset or not a positive integer. */
function webConcurrency(env: NodeJS.ProcessEnv): { count?: number; invalid?: string } {
  const raw = env.WEB_CONCURRENCY?.trim();
  if (raw === undefined || raw === '') return {};
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) return { invalid: 'WEB_CONCURRENCY is not a positive whole number; running one process' };
  return { count: Number(raw) };
}

/**
 * The worker count for a valid config. `service.workers` set: that (validate refused what cannot
 * run on several). Unset: WEB_CONCURRENCY, at most the cores this process may use (a count
 * Heroku derives from memory can exceed them, and a worker per core is what pays), and only
 * when the config is correct across workers; else one, said why.
 */
export function planWorkers(config: SidecarConfig, env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism()): WorkerPlan {
  const setting = config.workers;
  const fromEnv = webConcurrency(env);
  if (typeof setting === 'number') return { count: setting, reason: `service.workers: ${setting}` };
  if (setting === 'auto') {
    if (fromEnv.count !== undefined) return { count: Math.min(fromEnv.count, cores), reason: `service.workers: auto, WEB_CONCURRENCY=${fromEnv.count}${fromEnv.count > cores ? `, at most the ${cores} cores` : ''}` };
    return { count: cores, reason: `service.workers: auto, ${cores} cores` };
  }
  if (fromEnv.invalid !== undefined) return { count: 1, reason: 'one process', ignored: fromEnv.invalid };
  if (fromEnv.count === undefined || fromEnv.count === 1) return { count: 1, reason: 'one process' };
  const problems = workerProblems(config);
  if (problems.length > 0) {
    return { count: 1, reason: 'one process', ignored: `WEB_CONCURRENCY=${fromEnv.count} left aside, one process: this config is not correct across workers (${problems.join('; ')})` };
  }
  const count = Math.min(fromEnv.count, cores);
  return { count, reason: `WEB_CONCURRENCY=${fromEnv.count}${fromEnv.count > cores ? `, at most the ${cores} cores` : ''}` };
}
