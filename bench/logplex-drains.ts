/**
 * Drains that behave as Logplex does (Heroku Dev Center, "Log Drains"; logplex_http_drain.erl):
 * each drain has one request in flight at a time (its next batch waits for the previous answer),
 * gives an answer 5 s, and sends a batch answered anything but 200 (or nothing in 5 s) again with
 * the same Logplex-Frame-Id: 1 s after a 503, 0.5 s after a timeout or any other failure.
 *
 * Bodies are taken in turn from one shared list by whichever drain is free. With `seconds`, the
 * drains send until then, going round the list; without, each body goes once. With
 * `linesPerSecond`, the drains together keep to that rate (a drain behind its schedule sends at
 * once, as Logplex with a full buffer); without, each sends as soon as its previous batch is
 * answered. A batch refused past `retryGraceMs` after the end is given up and counted.
 *
 * The client is undici's `request` on one pool of `connections` kept-alive sockets: on Heroku the
 * router, not every drain, holds the connections to a dyno.
 */
import { Pool, request } from 'undici';
import type { Body } from './mix.ts';

export const LOGPLEX_TIMEOUT_MS = 5000;

export interface DrainsOptions {
  drains: number;
  bodies: readonly Body[];
  /** Send for this long, round the list; unset: each body once. */
  seconds?: number;
  /** All drains together; unset: as fast as answered. */
  linesPerSecond?: number;
  /** Sockets to the server; default one per drain. */
  connections?: number;
  /** How long past the end a refused batch is still sent again. Default 30 s. */
  retryGraceMs?: number;
  /** Before each frame id: a second load against the same server (a warm-up, then the measured one) sends ids of its own. */
  frameIdPrefix?: string;
}

export interface DrainsResult {
  seconds: number;
  /** Lines and POSTs answered 200. */
  acked: number;
  ackedPosts: number;
  /** Lines of batches given up after the grace period. */
  givenUp: number;
  retried: number;
  timeouts: number;
  /** Every answer's time in ms, sorted; a timeout counts as LOGPLEX_TIMEOUT_MS. */
  latencies: number[];
  /** How far behind its schedule a POST went out, at worst (paced loads only). */
  behindMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** A drain's token: distinct per drain, so the server keeps each drain's frame-id window apart. */
export function drainToken(index: number): string {
  return `d.0a7a9e00-0000-4000-8000-${String(index).padStart(12, '0')}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One POST; its status (0: no answer in 5 s, -1: a connection error). */
async function post(pool: Pool, url: string, body: Body, headers: Record<string, string>): Promise<number> {
  try {
    const res = await request(url, { method: 'POST', body: body.buf, headers, dispatcher: pool, signal: AbortSignal.timeout(LOGPLEX_TIMEOUT_MS) });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? 0 : -1;
  }
}

export async function sendAsDrains(port: number, o: DrainsOptions): Promise<DrainsResult> {
  const url = `http://127.0.0.1:${port}/logs`;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: o.connections ?? o.drains, pipelining: 1 });
  const r: DrainsResult = { seconds: 0, acked: 0, ackedPosts: 0, givenUp: 0, retried: 0, timeouts: 0, latencies: [], behindMs: 0 };
  const started = performance.now();
  const endAt = o.seconds === undefined ? Infinity : started + o.seconds * 1000;
  // A paced list ends on its schedule; a timed load at its end; an unpaced list never gives up.
  const totalLines = o.bodies.reduce((n, b) => n + b.lines, 0);
  const giveUpAt = (o.seconds !== undefined ? endAt : o.linesPerSecond !== undefined ? started + (totalLines * 1000) / o.linesPerSecond : Infinity) + (o.retryGraceMs ?? 30_000);
  let next = 0;
  let linesTaken = 0;
  async function drain(index: number): Promise<void> {
    const token = drainToken(index);
    let frame = 0;
    for (;;) {
      if (o.seconds === undefined ? next >= o.bodies.length : performance.now() >= endAt) return;
      const body = o.bodies[next++ % o.bodies.length]!;
      // Each batch takes its own slot of the offered rate before waiting for it: drains waiting at
      // once then go out one slot apart, as independent Logplex drains do, not all in one burst.
      const slot = linesTaken;
      linesTaken += body.lines;
      if (o.linesPerSecond !== undefined) {
        const late = performance.now() - (started + (slot * 1000) / o.linesPerSecond);
        if (late < 0) await sleep(-late);
        else r.behindMs = Math.max(r.behindMs, late);
      }
      const headers = { 'content-type': 'application/logplex-1', 'logplex-drain-token': token, 'logplex-frame-id': `${o.frameIdPrefix ?? ''}drain${index}-${frame++}`, 'logplex-msg-count': String(body.lines), 'user-agent': 'Logplex/v72' };
      for (;;) {
        const t = performance.now();
        const status = await post(pool, url, body, headers);
        r.latencies.push(performance.now() - t);
        if (status === 200) {
          r.acked += body.lines;
          r.ackedPosts++;
          break;
        }
        if (status === 0) r.timeouts++;
        if (performance.now() > giveUpAt) {
          r.givenUp += body.lines;
          break;
        }
        r.retried++;
        await sleep(status === 503 ? 1000 : 500);
      }
    }
  }
  await Promise.all(Array.from({ length: o.drains }, (_, i) => drain(i)));
  r.seconds = (performance.now() - started) / 1000;
  r.latencies.sort((a, b) => a - b);
  await pool.close();
  return r;
}
