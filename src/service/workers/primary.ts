/**
 * The cluster's primary (see plan.ts for the design): forks the workers, keeps their frame-id
 * claims, restarts one that dies, and on SIGTERM waits for every worker to flush and exit.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log.ts';
import { AlertTable, isAlertsMessage } from './alert-windows.ts';
import { ClaimTable, isClaimMessage } from './claims.ts';

/** The environment a worker reads its place from. */
export const WORKER_INDEX_ENV = 'HEROKU_OTEL_DRAIN_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'HEROKU_OTEL_DRAIN_WORKERS';
export const WORKER_RESTARTED_ENV = 'HEROKU_OTEL_DRAIN_WORKER_RESTARTED';

/** A worker tells the primary it listens (its service started). */
export const READY_MESSAGE = { hod: 'ready' } as const;

/** A worker that lived less than this before dying waits longer before the next start. */
const STABLE_MS = 10_000;
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/** Past this after SIGTERM the primary exits whatever workers still run (theirs is 28.5 s; Heroku's SIGKILL 30 s). */
const HARD_EXIT_MS = 29_000;

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  restarts: number;
}

/** Runs the primary until every worker has exited after a signal; resolves with the exit code. */
export function runPrimary(count: number, log: Logger): Promise<number> {
  // Round-robin: the primary accepts and hands each connection on (see plan.ts).
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const claims = new ClaimTable();
  const alerts = new AlertTable();
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, worker: undefined, startedAt: 0, ready: false, restartDelayMs: FIRST_RESTART_DELAY_MS, restartTimer: undefined, restarts: 0 }));
  const bySlot = new Map<Worker, Slot>();
  let stopping = false;
  let failed = false;

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      resolve(code);
    };
    const running = () => slots.filter((s) => s.worker !== undefined).length;

    const fork = (slot: Slot) => {
      slot.restartTimer = undefined;
      const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index), [WORKER_COUNT_ENV]: String(count), [WORKER_RESTARTED_ENV]: slot.restarts > 0 ? '1' : '' });
      slot.worker = worker;
      slot.startedAt = Date.now();
      slot.ready = false;
      bySlot.set(worker, slot);
      worker.on('message', (m: unknown) => {
        if (isAlertsMessage(m)) {
          const answer = alerts.answer(m);
          if (answer !== undefined && worker.isConnected()) worker.send(answer);
          return;
        }
        if (!isClaimMessage(m)) {
          if (typeof m === 'object' && m !== null && (m as { hod?: unknown }).hod === READY_MESSAGE.hod) slot.ready = true;
          return;
        }
        if (m.hod !== 'claims') return;
        const answers = claims.apply(m.ops, slot.index, Date.now());
        // A worker that went away meanwhile cannot be answered; its claims are released on exit.
        if (answers.length > 0 && worker.isConnected()) worker.send({ hod: 'claimed', answers });
      });
    };

    cluster.on('exit', (worker, code, signal) => {
      const slot = bySlot.get(worker);
      if (slot === undefined) return;
      bySlot.delete(worker);
      slot.worker = undefined;
      const released = claims.releaseOwner(slot.index);
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      if (stopping) {
        if (code !== 0) failed = true;
        log(code === 0 ? 'info' : 'error', `worker ${slot.index} exited (${how})`, { worker: slot.index, pid: worker.process.pid });
        if (running() === 0) finish(failed ? 1 : 0);
        return;
      }
      if (!slot.ready && slot.restarts === 0) {
        // It never started (a port in use, a directory locked): as one process would, the whole
        // sidecar stops, rather than restarting something that cannot run.
        log('error', `worker ${slot.index} could not start (${how}); stopping`, { worker: slot.index });
        failed = true;
        stop('a worker that could not start');
        if (running() === 0) finish(1);
        return;
      }
      const lived = Date.now() - slot.startedAt;
      slot.restartDelayMs = lived >= STABLE_MS ? FIRST_RESTART_DELAY_MS : Math.min(MAX_RESTART_DELAY_MS, slot.restartDelayMs * 2);
      const delay = lived >= STABLE_MS ? FIRST_RESTART_DELAY_MS : slot.restartDelayMs;
      slot.restarts++;
      log('error', `worker ${slot.index} died (${how}) after ${Math.round(lived / 1000)} s; starting another in ${delay} ms`, {
        worker: slot.index,
        pid: worker.process.pid,
        restarts: slot.restarts,
        // Batches it had claimed and not answered: Logplex sends them again, to a live worker.
        claims_released: released,
      });
      slot.restartTimer = setTimeout(() => fork(slot), delay);
    });

    const stop = (why: string) => {
      if (stopping) {
        log('info', `${why}: workers still flushing what they accepted`);
        return;
      }
      stopping = true;
      log('info', `${why}: stopping ${running()} workers; each flushes what it accepted`);
      for (const slot of slots) {
        if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
      }
      // Heroku signals every process of the dyno; forwarded all the same (`kill <pid>` reaches the primary alone).
      for (const slot of slots) slot.worker?.process.kill('SIGTERM');
      const hard = setTimeout(() => {
        log('error', `workers still running ${HARD_EXIT_MS / 1000} s after the signal; exiting before Heroku's SIGKILL`, { running: running() });
        finish(1);
      }, HARD_EXIT_MS);
      hard.unref();
      if (running() === 0) finish(failed ? 1 : 0);
    };

    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      for (const slot of slots) slot.worker?.process.kill('SIGHUP');
    });
    for (const slot of slots) fork(slot);
  });
}
