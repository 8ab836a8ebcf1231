/**
 * The `logplex` receiver: the HTTPS drain endpoint Logplex POSTs to.
 *
 * Logplex drops a batch for good on any 4xx but 429, and retries 5xx, 429 and timeouts (5 s) with
 * the same Logplex-Frame-Id. So: 4xx only for failed authentication (401/403) and oversized bodies
 * (413); a batch is answered 200 once the pipeline has taken it, and 503 with Retry-After when it
 * cannot (queue full, shutting down); a frame that fails to parse is kept raw and never fails the
 * batch; a Logplex-Msg-Count that disagrees with the frames found is counted, not refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainResource } from '../../translate/resource.ts';
import { drainFingerprint } from '../../translate/translate.ts';
import type { Attributes, TelemetryBatch } from '../../translate/telemetry.ts';
import { DrainAuth } from './auth.ts';
import { bodyToTelemetry } from './body.ts';
import type { LogplexConfig } from './config.ts';
import { RecentFrameIds } from './frame-ids.ts';

/** One accepted batch, with the resource of the drain it came from. */
export interface ReceivedBatch {
  resource: Attributes;
  telemetry: TelemetryBatch;
}

/** Takes a batch into the pipeline; false when it cannot now (full, stopping): the receiver answers 503. */
export type BatchConsumer = (batch: ReceivedBatch) => boolean;

export type LogplexRejection = 'unauthenticated' | 'unknown_token' | 'too_large' | 'queue_full' | 'shutting_down' | 'not_found' | 'bad_method';

/** What the receiver counted; every line ends in accepted, duplicate or a rejected request. */
export interface LogplexCounters {
  requests: number;
  /** Lines taken into the pipeline. */
  acceptedLines: number;
  /** Lines of batches re-sent with a frame id already taken: acknowledged, not emitted again. */
  duplicateLines: number;
  /** Lines kept raw because they had no syslog header. */
  rawLines: number;
  frameProblems: number;
  msgCountMismatches: number;
  rejectedRequests: Record<LogplexRejection, number>;
}

/** Claims shared with other instances (the redis extension): see RedisStore. */
export interface SharedClaims {
  claim(key: string, pendingMs: number): Promise<'claimed' | 'done' | 'pending' | undefined>;
  done(key: string, ttlMs: number): Promise<void>;
  release(key: string): Promise<void>;
}

/** How long a claimed batch may take before another instance may take it (Logplex waits 5 s). */
const FRAME_PENDING_MS = 30_000;

/** How long a frame id is remembered, here and in a shared store: Logplex retries within minutes. */
const FRAME_ID_TTL_MS = 10 * 60_000;

export type ReceiverLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

interface Drain {
  resource: Attributes;
  fingerprint: string;
}

export class LogplexReceiver {
  readonly counters: LogplexCounters = {
    requests: 0,
    acceptedLines: 0,
    duplicateLines: 0,
    rawLines: 0,
    frameProblems: 0,
    msgCountMismatches: 0,
    rejectedRequests: { unauthenticated: 0, unknown_token: 0, too_large: 0, queue_full: 0, shutting_down: 0, not_found: 0, bad_method: 0 },
  };

  private readonly _config: LogplexConfig;
  private readonly _consume: BatchConsumer;
  private readonly _log: ReceiverLog;
  private readonly _auth: DrainAuth<Drain>;
  private readonly _frameIds = new RecentFrameIds();
  private readonly _anyDrainResource: Attributes;
  private readonly _store: SharedClaims | undefined;
  private _server: Server | undefined;
  private _stopping = false;

  /** The status page served on this port (behind basic auth when the receiver has it). */
  statusPage: { path: string; render: () => string } | undefined;

  constructor(config: LogplexConfig, consume: BatchConsumer, log: ReceiverLog = () => {}, store?: SharedClaims) {
    this._config = config;
    this._store = store;
    this._consume = consume;
    this._log = log;
    this._auth = new DrainAuth(
      config.drains.map((d) => [d.token, { resource: drainResource({ ...config.resource, ...d.resource }), fingerprint: drainFingerprint(d.token) }] as const),
      config.basic_auth,
    );
    this._anyDrainResource = drainResource(config.resource);
  }

  /** Where it listens, once started (the port is the real one when the config said 0). */
  get address(): { host: string; port: number } {
    const a = this._server?.address() as AddressInfo | null | undefined;
    return { host: a?.address ?? this._config.endpoint.host, port: a?.port ?? this._config.endpoint.port };
  }

  async start(): Promise<void> {
    if (this._server) return;
    this._stopping = false;
    const server = createServer((req, res) => this._handle(req, res));
    // Logplex's request timeout is 5 s; a client slower than that is not Logplex.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this._config.endpoint.port, this._config.endpoint.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this._server = server;
  }

  /** Stops accepting: new batches get 503 (Logplex retries them elsewhere or later). Safe twice. */
  async shutdown(): Promise<void> {
    this._stopping = true;
    const server = this._server;
    this._server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private _reject(res: ServerResponse, status: number, reason: LogplexRejection, headers: Record<string, string> = {}): void {
    this.counters.rejectedRequests[reason]++;
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(`${reason.replace(/_/g, ' ')}\n`);
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://drain');
    if (req.method === 'GET' && (url.pathname === '/healthz' || url.pathname === '/readyz')) {
      const ready = url.pathname === '/healthz' || !this._stopping;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ok\n' : 'shutting down\n');
      return;
    }
    const status = this.statusPage;
    if (status !== undefined && req.method === 'GET' && url.pathname === status.path) {
      if (this._auth.hasBasicAuth && !this._auth.basicAuthMatches(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="heroku-otel-drain"', 'content-type': 'text/plain' });
        res.end('unauthenticated\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(status.render());
      return;
    }
    if (url.pathname !== this._config.path) return this._reject(res, 404, 'not_found');
    if (req.method !== 'POST') return this._reject(res, 405, 'bad_method', { allow: 'POST' });
    this.counters.requests++;
    if (this._stopping) return this._reject(res, 503, 'shutting_down', { 'retry-after': '5' });

    const drain = this._authenticate(req, res);
    if (drain === undefined) {
      req.resume();
      return;
    }
    const limit = this._config.max_request_body_size;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      return this._reject(res, 413, 'too_large', { connection: 'close' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        // Answer first, then close: destroying the socket at once could lose the 413 itself.
        res.once('finish', () => req.destroy());
        this._reject(res, 413, 'too_large', { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) this._accept(req, res, drain, Buffer.concat(chunks, size), url);
    });
    req.on('error', () => {
      // The client went away: nothing was acknowledged, Logplex will retry.
    });
  }

  /** The drain a request comes from, or undefined when it has been answered 401/403. */
  private _authenticate(req: IncomingMessage, res: ServerResponse): Drain | undefined {
    const auth = this._auth;
    const challenge = { 'www-authenticate': 'Basic realm="heroku-otel-drain"' };
    if (auth.hasBasicAuth && !auth.basicAuthMatches(req.headers.authorization)) {
      this._reject(res, 401, 'unauthenticated', challenge);
      return undefined;
    }
    const token = req.headers['logplex-drain-token'];
    if (auth.hasTokens) {
      if (typeof token === 'string' && token !== '') {
        const drain = auth.drainFor(token);
        if (drain === undefined) {
          this._reject(res, 403, 'unknown_token');
          this._log('warn', 'request from a drain not in the allowlist', { drain: drainFingerprint(token) });
        }
        return drain;
      }
      // Space-level drains send no token: basic auth, checked above, is what lets them in.
      if (!auth.hasBasicAuth) {
        this._reject(res, 401, 'unauthenticated', challenge);
        return undefined;
      }
    }
    return { resource: this._anyDrainResource, fingerprint: typeof token === 'string' && token !== '' ? drainFingerprint(token) : '' };
  }

  private _accept(req: IncomingMessage, res: ServerResponse, drain: Drain, body: Buffer, url: URL): void {
    const frameId = req.headers['logplex-frame-id'];
    const dedupeKey = typeof frameId === 'string' && frameId !== '' && drain.fingerprint !== '' ? `${drain.fingerprint}/${frameId}` : undefined;
    const parsed = bodyToTelemetry(body, Date.now() * 1000);
    if (dedupeKey !== undefined && this._frameIds.seen(dedupeKey, Date.now())) {
      this.counters.duplicateLines += parsed.lines;
      res.writeHead(200).end();
      return;
    }
    const store = this._store;
    if (dedupeKey === undefined || store === undefined) {
      this._take(req, res, drain, parsed, url, dedupeKey);
      return;
    }
    // Another instance may have taken this batch (Logplex's retry landed elsewhere): ask the store.
    // Without an answer (Redis away), this instance's own window is all there is.
    void store.claim(`frame:${dedupeKey}`, FRAME_PENDING_MS).then((claim) => {
      if (claim === 'done') {
        this.counters.duplicateLines += parsed.lines;
        res.writeHead(200).end();
        return;
      }
      if (claim === 'pending') {
        // Another instance is taking this very batch: acknowledging it here could lose it if
        // that one fails; Logplex will ask again.
        this._frameIds.forget(dedupeKey);
        this._reject(res, 503, 'queue_full', { 'retry-after': '1' });
        return;
      }
      this._take(req, res, drain, parsed, url, dedupeKey, claim === 'claimed');
    });
  }

  private _take(req: IncomingMessage, res: ServerResponse, drain: Drain, parsed: ReturnType<typeof bodyToTelemetry>, url: URL, dedupeKey: string | undefined, claimed = false): void {
    const declared = Number(req.headers['logplex-msg-count']);
    if (Number.isInteger(declared) && declared !== parsed.lines) {
      this.counters.msgCountMismatches++;
      this._log('warn', 'Logplex-Msg-Count disagrees with the frames found; all frames were kept', { declared, found: parsed.lines });
    }
    let resource = drain.resource;
    const fromQuery = this._config.resource_from_query;
    for (const param in fromQuery) {
      const value = url.searchParams.get(param);
      if (value) resource = { ...resource, [fromQuery[param]!]: value };
    }
    if (this._stopping || !this._consume({ resource, telemetry: parsed.telemetry })) {
      if (dedupeKey !== undefined) {
        this._frameIds.forget(dedupeKey);
        void this._store?.release(`frame:${dedupeKey}`);
      }
      this._reject(res, 503, 'queue_full', { 'retry-after': '1' });
      return;
    }
    this.counters.acceptedLines += parsed.lines;
    this.counters.rawLines += parsed.rawLines;
    this.counters.frameProblems += parsed.frameProblems;
    if (claimed && dedupeKey !== undefined) void this._store!.done(`frame:${dedupeKey}`, FRAME_ID_TTL_MS);
    res.writeHead(200).end();
  }
}
