/**
 * An OTLP/HTTP JSON sink for the hostile-traffic and outage benchmarks (bench/hostile.ts,
 * bench/outage.ts), in its own process: counts, per line id, how many records carried it
 * (`hid=N` anywhere in the body), so that the harness can tell lines lost after a 200 from lines
 * delivered twice. SINK_MAX_ID bounds the ids; SINK_RECORDS_PER_S (optional) makes it a slow
 * backend: each request is answered after records / rate seconds, one request at a time, as a
 * backend at its limit would.
 * Prints its port on stdout. `GET /counts` answers the per-id counts (base64 of one byte per id,
 * saturating at 255) and totals; `GET /totals` the totals alone, cheap enough to poll.
 *
 * A backend outage, on demand: `POST /down` answers every export 503 (no Retry-After, nothing
 * counted) until `POST /up`; `POST /down?mode=hang` takes exports and never answers them (a
 * black hole: the exporter's timeout ends each), and `POST /up` then resets those connections.
 * SINK_DOWN (`503` or `hang`) starts it down. SINK_ARRIVALS=1 also keeps when each id first
 * arrived (`GET /arrivals`: ms since `origin`, base64 of a u32 per id, 0 for never), so that a
 * harness can tell when a backlog was through.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

const maxId = Number(process.env.SINK_MAX_ID ?? 2_000_000);
const perSecond = Number(process.env.SINK_RECORDS_PER_S ?? 0);
const counts = new Uint8Array(maxId);
const origin = Date.now();
/** First arrival per id, in ms since origin (+1, so that 0 means never): only with SINK_ARRIVALS. */
const arrivals = process.env.SINK_ARRIVALS === '1' ? new Uint32Array(maxId) : undefined;
let down: '503' | 'hang' | undefined = process.env.SINK_DOWN === 'hang' ? 'hang' : process.env.SINK_DOWN ? '503' : undefined;
/** Exports answered 503 or left hanging while down. */
let refused = 0;
const hanging = new Set<ServerResponse>();
let records = 0;
let withId = 0;
let requests = 0;
const errors: string[] = [];
/** When the slow backend is free again. */
let busyUntil = 0;

function count(body: string): void {
  const at = body.indexOf('hid=');
  if (at < 0) return;
  let id = 0;
  let i = at + 4;
  for (; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 48 || c > 57) break;
    id = id * 10 + (c - 48);
  }
  if (i === at + 4 || id >= maxId) return;
  withId++;
  if (arrivals !== undefined && counts[id] === 0) arrivals[id] = Date.now() - origin + 1;
  if (counts[id]! < 255) counts[id]!++;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/totals') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ records, withId, requests, refused, down: down ?? null }));
    return;
  }
  if (req.method === 'GET' && req.url === '/arrivals') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ origin, arrivals: arrivals === undefined ? '' : Buffer.from(arrivals.buffer).toString('base64') }));
    return;
  }
  if (req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ records, withId, requests, errors: errors.slice(0, 5), counts: Buffer.from(counts.buffer).toString('base64') }));
    return;
  }
  if (req.method === 'POST' && (req.url === '/down' || req.url?.startsWith('/down?') || req.url === '/up')) {
    req.resume();
    if (req.url === '/up') {
      down = undefined;
      // A black hole that comes back: what it held is cut, the exporter retries it.
      for (const held of hanging) held.socket?.destroy();
      hanging.clear();
    } else down = req.url.endsWith('mode=hang') ? 'hang' : '503';
    res.end();
    return;
  }
  if (down !== undefined) {
    refused++;
    req.resume();
    if (down === '503') res.writeHead(503, { 'content-type': 'text/plain' }).end('backend down');
    else {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
    }
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let n = 0;
    try {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      if (req.url === '/v1/logs') {
        const request = JSON.parse(raw.toString('utf8'));
        for (const rl of request.resourceLogs ?? []) {
          for (const sl of rl.scopeLogs ?? []) {
            for (const r of sl.logRecords ?? []) {
              n++;
              count(typeof r.body?.stringValue === 'string' ? r.body.stringValue : '');
            }
          }
        }
        records += n;
      }
      requests++;
    } catch (error) {
      if (errors.length < 100) errors.push(String(error));
      res.writeHead(400).end();
      return;
    }
    const now = Date.now();
    const wait = perSecond > 0 ? Math.max(0, busyUntil - now) + (n * 1000) / perSecond : 0;
    busyUntil = now + wait;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), wait);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
