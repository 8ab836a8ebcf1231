/**
 * `heroku-otel-drain start [--config URI]... [--set key=value]...`: runs the service until SIGTERM
 * or SIGINT, then stops accepting, flushes every queue and exits inside Heroku's 30 s grace period.
 * Without --config, the embedded default (from the environment), with any --set over it. With
 * several workers (service.workers, WEB_CONCURRENCY) this process is the cluster's primary and
 * each worker runs this command again, as one of them (service/workers/plan.ts).
 */
import cluster from 'node:cluster';
import { loadConfig, type SidecarConfig } from '../config/load.ts';
import type { ConfigSource } from '../config/sources.ts';
import { errorSite, jsonLogger, logThresholdFromEnv } from '../service/log.ts';
import { RateLimitedLog } from '../service/rate-limited-log.ts';
import { Service, type ServiceOptions } from '../service/service.ts';
import { WORKER_CLAIMS_ID, WorkerClaims } from '../service/workers/claims.ts';
import { planWorkers } from '../service/workers/plan.ts';
import { READY_MESSAGE, runPrimary, WORKER_COUNT_ENV, WORKER_INDEX_ENV, WORKER_RESTARTED_ENV } from '../service/workers/primary.ts';
import { prepareStorage, workerConfig } from '../service/workers/worker-config.ts';

/** Heroku sends SIGKILL 30 s after SIGTERM: flushing must end before. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/** Past this, the process exits whatever is still running: a last word rather than a SIGKILL. */
const HARD_EXIT_MS = 28_500;

export async function runStart(sources: readonly ConfigSource[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const code = await start(sources, env);
  // A worker's channel to the primary keeps it alive once its work is done (or could not begin).
  if (cluster.isWorker) setTimeout(() => process.exit(code), 100).unref();
  return code;
}

async function start(sources: readonly ConfigSource[], env: NodeJS.ProcessEnv): Promise<number> {
  const worker = cluster.isWorker ? { index: Number(env[WORKER_INDEX_ENV]), count: Number(env[WORKER_COUNT_ENV]), restarted: env[WORKER_RESTARTED_ENV] === '1' } : undefined;
  const { threshold, warning } = logThresholdFromEnv(env);
  const log = jsonLogger(threshold, undefined, worker === undefined ? undefined : { worker: worker.index, pid: process.pid });
  // The primary said the warnings of the config once; its workers read the same config.
  if (warning !== undefined && worker === undefined) log('warn', warning);
  const result = await loadConfig(sources, env);
  if (worker === undefined) result.warnings.forEach((w, i) => log('warn', `${result.warningSources[i]}: ${w}`));
  if (result.config === undefined) {
    result.problems.forEach((p, i) => process.stderr.write(`heroku-otel-drain: ${result.problemSources[i]}: ${p}\n`));
    return 1;
  }
  if (worker !== undefined) {
    const claims = new WorkerClaims();
    return serve(workerConfig(result.config, worker.index, worker.count, worker.restarted), log, { extensions: new Map([[WORKER_CLAIMS_ID, claims]]) }, () => process.send?.(READY_MESSAGE));
  }
  const plan = planWorkers(result.config, env);
  if (plan.ignored !== undefined) log('warn', plan.ignored);
  if (plan.count === 1) return serve(result.config, log);
  const storage = prepareStorage(result.config, plan.count);
  if (storage.problems.length > 0) {
    for (const p of storage.problems) process.stderr.write(`heroku-otel-drain: cannot start: ${p}\n`);
    return 1;
  }
  for (const path of storage.leftovers) {
    log('warn', `${path}: an earlier run with another worker count left unsent data there, which no worker of ${plan.count} reads; run with that count again to send it`, { directory: path });
  }
  // The config's level wins over the environment's, as in each worker's Service.
  if (result.config.telemetry.logs.level !== undefined) log.setLevel(result.config.telemetry.logs.level);
  log('info', `running ${plan.count} workers (${plan.reason})`, { workers: plan.count });
  const code = await runPrimary(plan.count, log);
  // Every worker is gone; a handle the cluster keeps must not hold the primary open.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}

/** Runs one service (the only process, or a cluster worker) until a signal has it flush and stop. */
async function serve(config: SidecarConfig, log: ReturnType<typeof jsonLogger>, options: ServiceOptions = {}, started?: () => void): Promise<number> {
  let service: Service;
  try {
    service = new Service(config, log, options);
    await service.start();
  } catch (err) {
    process.stderr.write(`heroku-otel-drain: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  started?.();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log('info', `${signal}: still flushing what was accepted`);
        return;
      }
      stopping = true;
      log('info', `${signal}: stopping; flushing what was accepted`);
      // Holds the event loop open until the flush is done: with nothing else left to wait for
      // (no connection, only unref'd timers), Node would otherwise exit in the middle of it.
      const keepAlive = setInterval(() => {}, 1000);
      const hardExit = setTimeout(() => {
        log('error', `shutdown still running after ${HARD_EXIT_MS / 1000} s; exiting before Heroku's SIGKILL`, {
          held: service.pipelines.reduce((n, p) => n + p.held, 0),
        });
        process.exit(1);
      }, HARD_EXIT_MS);
      const finish = (code: number) => {
        clearInterval(keepAlive);
        clearTimeout(hardExit);
        // Everything was flushed and closed; a handle someone left open (a socket a library
        // keeps) must not keep the process alive past this.
        setTimeout(() => process.exit(code), 1000).unref();
        resolve(code);
      };
      service.shutdown(SHUTDOWN_DEADLINE_MS).then(
        () => finish(0),
        (err: unknown) => {
          log('error', `shutdown failed: ${(err as Error).message}`);
          finish(1);
        },
      );
    };
    // Last line of defence: a promise some component forgot to handle must not end the process
    // (Node's default) and lose what it holds; it is logged, where it came from, and counted out.
    const unhandled = new RateLimitedLog(log);
    process.on('unhandledRejection', (reason) => unhandled.report('error', 'unhandled', 'an error nobody handled (a bug: please report it); going on', errorSite(reason)));
    // SIGHUP: certificate files are read again (a renewed certificate without a restart).
    process.on('SIGHUP', () => service.reload());
    // `on`, not `once`: a second signal (npm forwarding SIGTERM beside the dyno manager's own,
    // Ctrl-C twice) must not take Node's default action and end the flush.
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    if (cluster.isWorker) {
      // A primary that died (killed, a bug) closes the channel: Node would end the worker at
      // once, and what it accepted with it; it flushes as on SIGTERM instead.
      cluster.worker!.exitedAfterDisconnect = true;
      process.on('disconnect', () => stop('the primary is gone'));
    }
  });
}
