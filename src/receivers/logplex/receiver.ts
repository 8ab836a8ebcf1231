/**
 * The `logplex` receiver: the drain endpoint Logplex POSTs to. Plain HTTP behind Heroku's router
 * (or a proxy) that terminates TLS; HTTPS itself with `tls` (off Heroku), its certificate files
 * read again on SIGHUP.
 *
 * Logplex drops a batch for good on any 4xx but 429, and retries 5xx, 429 and timeouts (5 s) with
 * the same Logplex-Frame-Id, one request in flight per drain. So:
 * - 4xx only for failed authentication (401/403), oversized bodies (413), a body encoding we do
 *   not read (415) and a malformed request target (400): none of them is Logplex's own traffic.
 * - What can be decided from the headers is answered before the body is read or parsed: auth,
 *   a frame id already taken (200, not emitted again), a full pipeline (503 + Retry-After).
 * - A batch is answered 200 once the pipeline has taken it, 503 when it cannot (full, stopping);
 *   a frame that fails to parse is kept raw and never fails the batch; a Logplex-Msg-Count that
 *   disagrees with the frames found is counted, not refused.
 * - Nothing a client sends ends the process: an unexpected error in one request is caught,
 *   counted and logged, and that request gets a 500 (Logplex retries it).
 * - Connections are capped; those that never authenticated make room first, so a real drain
 *   always gets in; a stranger has `STRANGER_MS` to authenticate.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { createServer } from '../../node-http.ts';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzip } from 'node:zlib';
import { serverTls, TlsConfigError } from '../../config/tls.ts';
import { errorSite } from '../../service/log.ts';
import type { Listening, ServerAuthenticator, StatusPage } from '../../service/component.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import { OctetFrameReader } from '../../heroku/octet-frames.ts';
import { newDrainContext, type DrainContext } from '../../translate/drain-context.ts';
import { drainResource } from '../../translate/resource.ts';
import { drainFingerprint } from '../../translate/translate.ts';
import type { Attributes, TelemetryBatch } from '../../translate/telemetry.ts';
import { DrainAuth } from './auth.ts';
import { bodyToTelemetry } from './body.ts';
import type { LogplexConfig } from './config.ts';
import { RecentFrameIds } from './frame-ids.ts';
import { parseRequestTarget } from './target.ts';

/** One accepted batch, with the resource of the drain it came from. */
export interface ReceivedBatch {
  resource: Attributes;
  telemetry: TelemetryBatch;
}

/**
 * Takes a batch into the pipeline; false when it cannot now (full, stopping): the receiver
 * answers 503. A promise when a queue keeps the batch on disk: the answer waits for the write.
 */
export type BatchConsumer = (batch: ReceivedBatch) => boolean | Promise<boolean>;

/** Whether the pipelines have room for about `lines` more lines now (asked before a body is read). */
export type RoomCheck = (lines: number) => boolean;

export type LogplexRejection =
  | 'unauthenticated'
  | 'unknown_token'
  | 'too_large'
  | 'queue_full'
  | 'in_progress'
  | 'shutting_down'
  | 'not_found'
  | 'bad_method'
  | 'bad_request'
  | 'timeout'
  | 'client_gone'
  | 'unsupported_encoding'
  | 'bad_encoding'
  | 'internal_error';

/** What the receiver counted; every line ends in accepted, duplicate or a rejected request. */
export interface LogplexCounters {
  requests: number;
  /** Lines taken into the pipeline. */
  acceptedLines: number;
  /**
   * Lines of batches re-sent with a frame id already taken: acknowledged, not emitted again. Such
   * a body is not parsed, so its lines are counted by its Logplex-Msg-Count header.
   */
  duplicateLines: number;
  /** Lines kept raw because they had no syslog header. */
  rawLines: number;
  frameProblems: number;
  /** Lines whose handling threw (a bug of ours, caught): kept as unparsed records, logged. */
  lineErrors: number;
  /** App lines of JSON too deep or too long to read, kept as text. */
  jsonKeptAsText: number;
  msgCountMismatches: number;
  /** Query values not applied to the resource (not printable, too long, or naming a drain's own attribute). */
  queryValuesRefused: number;
  /** Router paths given the catch-all `/{overflow}` because their drain's url_templates table was full. */
  urlTemplateOverflows: number;
  rejectedRequests: Record<LogplexRejection, number>;
  /** `tls_handshake`: a TLS handshake that failed (no or a refused client certificate, a client that gave up). */
  rejectedConnections: Record<'too_many_connections' | 'evicted' | 'unauthenticated' | 'tls_handshake', number>;
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

/** A connection that has not authenticated a request by then is closed: drains send at once. */
const STRANGER_MS = 10_000;

/** At shutdown, requests being received get this long to finish before their connections close. */
export const SHUTDOWN_GRACE_MS = 2_000;

/**
 * Bodies parsed back to back before the event loop turns (answers whose writes completed go out
 * then): about one 100-line POST, or a few dozen one-line ones.
 */
const PARSE_SLICE_MS = 2;

/** Query values longer than this are not applied (resource_from_query). */
const QUERY_VALUE_MAX = 128;

export type ReceiverLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

interface Drain {
  resource: Attributes;
  /** Keys the drain's own `resource` sets: query values never replace them. */
  ownKeys: ReadonlySet<string>;
  fingerprint: string;
  /** Translation's state for it: its route templates. Drains not configured share one. */
  context: DrainContext;
}

/** What one request holds while its body is read, released whatever happens. */
interface Intake {
  reserved: number;
  dedupeKey: string | undefined;
  settled: boolean;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** What the service gives a receiver besides its config. */
export interface LogplexOptions {
  /** Its component id, for messages naming its keys (`receivers.logplex/eu.tls.cert_file`). Default `logplex`. */
  id?: string;
  /** The extension `auth.authenticator` names, resolved. */
  authenticator?: ServerAuthenticator;
  /** Make a span per router request (a traces pipeline takes its batches). Default false. */
  spans?: boolean;
}

/** A connection's peer, the same for a TCP socket and the TLS socket over it. */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** Printable (no C0/C1 controls, no DEL) and not too long: safe as a resource attribute and a label. */
function printable(value: string): boolean {
  if (value.length === 0 || value.length > QUERY_VALUE_MAX) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || (c >= 127 && c < 160) || c === 0x2028 || c === 0x2029) return false;
  }
  return true;
}

export class LogplexReceiver {
  readonly counters: LogplexCounters = {
    requests: 0,
    acceptedLines: 0,
    duplicateLines: 0,
    rawLines: 0,
    frameProblems: 0,
    lineErrors: 0,
    jsonKeptAsText: 0,
    msgCountMismatches: 0,
    queryValuesRefused: 0,
    urlTemplateOverflows: 0,
    rejectedRequests: {
      unauthenticated: 0,
      unknown_token: 0,
      too_large: 0,
      queue_full: 0,
      in_progress: 0,
      shutting_down: 0,
      not_found: 0,
      bad_method: 0,
      bad_request: 0,
      timeout: 0,
      client_gone: 0,
      unsupported_encoding: 0,
      bad_encoding: 0,
      internal_error: 0,
    },
    rejectedConnections: { too_many_connections: 0, evicted: 0, unauthenticated: 0, tls_handshake: 0 },
  };

  private readonly _config: LogplexConfig;
  private readonly _consume: BatchConsumer;
  private readonly _room: RoomCheck;
  private readonly _log: ReceiverLog;
  private readonly _limited: RateLimitedLog;
  private readonly _auth: DrainAuth<Drain>;
  private readonly _frameIds = new RecentFrameIds();
  private readonly _anyDrain: Drain;
  private readonly _store: SharedClaims | undefined;
  /** Open connections; those not yet authenticated carry their eviction timer, oldest first. */
  private readonly _sockets = new Set<Socket>();
  private readonly _strangers = new Map<Socket, NodeJS.Timeout>();
  /** Connections with a request in flight: never closed to make room. */
  private readonly _busy = new Set<Socket>();
  /**
   * With `tls`: the TCP socket under each TLS socket. Connections are counted, capped and timed
   * out as TCP sockets from their accept (a handshake that never ends is a stranger too); a
   * request's socket is the TLS one.
   */
  private readonly _tcpByPeer = new Map<string, Socket>();
  private readonly _tcpOf = new WeakMap<Socket, Socket>();
  private readonly _id: string;
  private readonly _authenticator: ServerAuthenticator | undefined;
  private readonly _spans: boolean;
  /** Lines of requests admitted and not yet taken or refused: the room they will need. */
  private _reserved = 0;
  /**
   * Bodies read and not yet parsed, in the order they ended. A burst of POSTs ends its bodies in
   * one tick: parsed there back to back (2-3 ms each at 100 lines), every answer waited for the
   * last of them, though the first batch was on disk within milliseconds. Parsed a slice per turn
   * of the event loop instead, the queue's writes complete and their answers go out in between.
   */
  private _unparsed: Array<() => void> = [];
  private _parseTurn: NodeJS.Immediate | undefined;
  private _server: Server | HttpsServer | undefined;
  private _stopping = false;

  /** The status page served on this port (behind basic auth when the receiver has it). */
  statusPage: StatusPage | undefined;

  constructor(config: LogplexConfig, consume: BatchConsumer, log: ReceiverLog = () => {}, store?: SharedClaims, room: RoomCheck = () => true, options: LogplexOptions = {}) {
    this._config = config;
    this._id = options.id ?? 'logplex';
    this._authenticator = options.authenticator;
    this._spans = options.spans ?? false;
    this._store = store;
    this._consume = consume;
    this._room = room;
    this._log = log;
    this._limited = new RateLimitedLog(log);
    this._auth = new DrainAuth(
      config.drains.map(
        (d) =>
          [
            d.token,
            {
              resource: drainResource({ ...config.resource, ...d.resource }),
              ownKeys: new Set(Object.keys(d.resource)),
              fingerprint: drainFingerprint(d.token),
              context: newDrainContext(config),
            },
          ] as const,
      ),
      config.basic_auth,
    );
    this._anyDrain = { resource: drainResource(config.resource), ownKeys: NO_KEYS, fingerprint: '', context: newDrainContext(config) };
  }

  /** Where it listens, once started (the port is the real one when the config said 0). */
  get address(): { host: string; port: number } {
    const a = this._server?.address() as AddressInfo | null | undefined;
    return { host: a?.address ?? this._config.endpoint.host, port: a?.port ?? this._config.endpoint.port };
  }

  /** Where it listens: one HTTP (or, with `tls`, HTTPS) address. */
  listening(): Listening[] {
    return [{ transport: this._config.tls === undefined ? 'http' : 'https', ...this.address }];
  }

  /**
   * Serves the status page on its port, behind its basic auth (validate has refused a config that
   * would serve it without one on an address others reach).
   */
  serveStatusPage(page: StatusPage): void {
    this.statusPage = page;
  }

  /** Connections open now. */
  get connections(): number {
    return this._sockets.size;
  }

  async start(): Promise<void> {
    if (this._server) return;
    this._stopping = false;
    const options: ServerOptions = {
      // Slow clients are found within a second or two rather than Node's default 30 s sweep.
      connectionsCheckingInterval: 1_000,
      // Logplex's request timeout is 5 s; a client much slower than that is not Logplex.
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: this._config.idle_timeout,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => this._handle(req, res);
    let server: Server | HttpsServer;
    if (this._config.tls === undefined) server = createServer(options, handler);
    else {
      // Read now: a certificate that cannot be used stops the start, naming its key and file.
      const tls = serverTls(this._config.tls, `receivers.${this._id}.tls`);
      this._log('info', `${this._id}: serving HTTPS with ${this._config.tls.cert_file}${tls.requestCert ? '; drains must show a client certificate' : ''}`, { receiver: this._id });
      server = createHttpsServer({ ...options, ...tls.context, requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized, handshakeTimeout: STRANGER_MS }, handler);
      server.on('secureConnection', (socket: Socket) => {
        const tcp = this._tcpByPeer.get(peerOf(socket));
        if (tcp !== undefined) this._tcpOf.set(socket, tcp);
      });
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
        this.counters.rejectedConnections.tls_handshake++;
        // A client that hung up mid-handshake said nothing worth a line.
        if (error.code !== 'ECONNRESET') {
          this._limited.report('warn', 'tls-handshake', 'logplex receiver: a TLS handshake failed', { error: error.code ?? 'handshake', client: socket.remoteAddress });
        }
      });
    }
    server.on('connection', (socket: Socket) => this._connected(socket));
    // A malformed request line or header: Node answers 400 and closes; we count it.
    // A request too slow to arrive (headersTimeout, requestTimeout): Node answers 408. Both are
    // counted and the connection closed.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // A client that hung up mid-request (Logplex giving up after 5 s, say) sent nothing wrong.
      if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE') {
        this.counters.rejectedRequests.client_gone++;
        socket.destroy();
        return;
      }
      const slow = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      this.counters.rejectedRequests[slow ? 'timeout' : 'bad_request']++;
      this._log('debug', slow ? 'a request too slow to arrive was cut' : 'a malformed HTTP request was refused', { error: error.code ?? error.message, client: socket.remoteAddress });
      const answered = (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;
      if (socket.writable && !answered) {
        socket.end(slow ? 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        // A peer that never reads nor closes must not keep the socket.
        socket.setTimeout(2_000, () => socket.destroy());
      } else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this._config.endpoint.port, this._config.endpoint.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // After listening, an accept error (EMFILE, say) is logged, not a crash.
    server.on('error', (error: Error) => this._limited.report('error', 'server-error', 'logplex receiver: server error', { error: error.message }));
    this._server = server;
  }

  /**
   * SIGHUP: reads tls.cert_file, key_file and client_ca_file again; new connections get them,
   * open ones keep theirs. Files that cannot be used now leave the certificate in use, and say why.
   */
  reload(): void {
    const server = this._server as HttpsServer | undefined;
    if (server === undefined || this._config.tls === undefined) return;
    try {
      server.setSecureContext(serverTls(this._config.tls, `receivers.${this._id}.tls`).context);
      this._log('info', 'TLS certificate reloaded', { receiver: this._id });
    } catch (error) {
      const why = error instanceof TlsConfigError ? error.message : ((error as NodeJS.ErrnoException).code ?? 'the files could not be used');
      this._log('error', 'TLS certificate reload failed; the previous one stays in use', { receiver: this._id, error: why });
    }
  }

  /**
   * Stops accepting: new requests get 503 (Logplex retries them elsewhere or later), idle
   * connections close at once, requests being received get SHUTDOWN_GRACE_MS to finish, then
   * every connection is closed, however slow its client. Safe twice.
   */
  async shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this._stopping = true;
    const server = this._server;
    this._server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => {
      server.closeAllConnections();
      for (const socket of this._sockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(grace);
    for (const timer of this._strangers.values()) clearTimeout(timer);
    this._strangers.clear();
    this._limited.flush();
  }

  private _connected(socket: Socket): void {
    if (this._sockets.size >= this._config.max_connections) {
      // Room for a drain: the oldest connection that never authenticated goes first, then the
      // oldest kept-alive one with no request in flight (the router's pool after a burst, say):
      // closing an idle connection costs its client a reconnection, nothing else.
      const stranger = this._strangers.keys().next();
      let victim: Socket | undefined = stranger.done ? undefined : stranger.value;
      if (victim === undefined) {
        for (const s of this._sockets) {
          if (!this._busy.has(s)) {
            victim = s;
            break;
          }
        }
      }
      if (victim === undefined) {
        this.counters.rejectedConnections.too_many_connections++;
        this._limited.report('warn', 'too-many-connections', 'logplex receiver: max_connections reached with a request in flight on every connection; a new connection was refused', {
          max_connections: this._config.max_connections,
        });
        socket.destroy();
        return;
      }
      this.counters.rejectedConnections.evicted++;
      this._forgetStranger(victim);
      this._sockets.delete(victim);
      victim.destroy();
    }
    this._sockets.add(socket);
    if (this._config.tls !== undefined) this._tcpByPeer.set(peerOf(socket), socket);
    const timer = setTimeout(() => {
      this.counters.rejectedConnections.unauthenticated++;
      socket.destroy();
    }, STRANGER_MS);
    timer.unref();
    this._strangers.set(socket, timer);
    const peer = this._config.tls === undefined ? undefined : peerOf(socket);
    socket.once('close', () => {
      if (peer !== undefined && this._tcpByPeer.get(peer) === socket) this._tcpByPeer.delete(peer);
      this._sockets.delete(socket);
      this._busy.delete(socket);
      this._forgetStranger(socket);
    });
  }

  private _forgetStranger(socket: Socket): void {
    const timer = this._strangers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this._strangers.delete(socket);
  }

  private _reject(res: ServerResponse, status: number, reason: LogplexRejection, headers: Record<string, string> = {}): void {
    this.counters.rejectedRequests[reason]++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (this._stopping) headers = { ...headers, connection: 'close' };
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(`${reason.replace(/_/g, ' ')}\n`);
  }

  /** The connection a request came on, as counted: its TCP socket (under the TLS one with `tls`). */
  private _connectionOf(req: IncomingMessage): Socket {
    return this._tcpOf.get(req.socket) ?? req.socket;
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = this._connectionOf(req);
    this._busy.add(socket);
    res.once('close', () => this._busy.delete(socket));
    try {
      this._route(req, res);
    } catch (error) {
      this._failed(req, res, error, undefined);
    }
  }

  /** The last line of defence: one request's unexpected error is counted, logged and answered 500. */
  private _failed(req: IncomingMessage, res: ServerResponse, error: unknown, intake: Intake | undefined): void {
    if (intake !== undefined) this._release(intake, false);
    // Where it was thrown, not its message: a message may quote what the request held.
    this._limited.report('error', 'internal-error', 'logplex receiver: a request failed unexpectedly; answered 500 (Logplex retries it)', errorSite(error));
    req.resume();
    this._reject(res, 500, 'internal_error', { connection: 'close' });
  }

  private _route(req: IncomingMessage, res: ServerResponse): void {
    const target = parseRequestTarget(req.url);
    if (target === undefined) {
      req.resume();
      const url = req.url ?? '';
      const q = url.indexOf('?');
      // The path only (a query may hold a secret), cut short.
      this._limited.report('warn', 'bad-target', 'refused a request with a malformed target (400)', {
        target: JSON.stringify((q < 0 ? url : url.slice(0, q)).slice(0, 80)),
        client: req.socket.remoteAddress,
      });
      return this._reject(res, 400, 'bad_request', { connection: 'close' });
    }
    const path = target.path;
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
      const ready = path === '/healthz' || !this._stopping;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ok\n' : 'shutting down\n');
      return;
    }
    const status = this.statusPage;
    if (status !== undefined && req.method === 'GET' && path === status.path) {
      this._afterCredentials(req, res, 'status page', () => this._serveStatusPage(res, status));
      return;
    }
    if (path !== this._config.path) {
      req.resume();
      return this._reject(res, 404, 'not_found');
    }
    if (req.method !== 'POST') {
      req.resume();
      return this._reject(res, 405, 'bad_method', { allow: 'POST' });
    }
    this.counters.requests++;
    if (this._stopping) {
      req.resume();
      return this._reject(res, 503, 'shutting_down', { 'retry-after': '5' });
    }
    this._afterCredentials(req, res, 'a batch', () => this._authenticated(req, res, target.query));
  }

  /**
   * Runs `next` once the request's credentials pass: basic_auth, or the `auth` extension's
   * verdict (a promise when it takes work: bcrypt, the first time); 401 otherwise.
   */
  private _afterCredentials(req: IncomingMessage, res: ServerResponse, what: string, next: () => void): void {
    let verdict: boolean | Promise<boolean>;
    if (this._authenticator !== undefined) verdict = this._authenticator.authenticate(req.headers);
    else verdict = !this._auth.hasBasicAuth || this._auth.basicAuthMatches(req.headers.authorization);
    if (verdict === true) return next();
    if (verdict === false) return this._unauthorized(req, res, 'unauthenticated', what);
    verdict.then(
      (ok) => {
        try {
          if (ok) next();
          else this._unauthorized(req, res, 'unauthenticated', what);
        } catch (error) {
          this._failed(req, res, error, undefined);
        }
      },
      (error: unknown) => this._failed(req, res, error, undefined),
    );
  }

  private _serveStatusPage(res: ServerResponse, status: StatusPage): void {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // The page is static HTML with inline styles, no script, no outside resource.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      'referrer-policy': 'no-referrer',
    });
    res.end(status.render());
  }

  /** A POST to the drain path whose credentials passed: its drain, then its body. */
  private _authenticated(req: IncomingMessage, res: ServerResponse, query: string): void {
    if (this._stopping) {
      req.resume();
      return this._reject(res, 503, 'shutting_down', { 'retry-after': '5' });
    }
    const drain = this._drainOf(req, res);
    if (drain === undefined) return;
    // Authenticated: this connection is a drain's (or the router's carrying one), no stranger.
    this._forgetStranger(this._connectionOf(req));

    const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    const gzipped = encoding === 'gzip' || encoding === 'x-gzip';
    if (!gzipped && encoding !== '' && encoding !== 'identity') {
      req.resume();
      this._limited.report('warn', 'encoding', 'logplex receiver: a body in an encoding other than gzip was refused (415)', { encoding: encoding.slice(0, 40), drain: drain.fingerprint });
      return this._reject(res, 415, 'unsupported_encoding', { 'accept-encoding': 'gzip, identity', connection: 'close' });
    }
    const limit = this._config.max_request_body_size;
    if (Number(req.headers['content-length']) > limit) {
      this._tooLarge(req, res, drain, Number(req.headers['content-length']));
      return;
    }

    const declared = Number(req.headers['logplex-msg-count']);
    const expected = Number.isInteger(declared) && declared >= 0 ? declared : undefined;
    const frameId = req.headers['logplex-frame-id'];
    const dedupeKey = typeof frameId === 'string' && frameId !== '' ? `${drain.fingerprint === '' ? credentialFingerprint(req) : drain.fingerprint}/${frameId.slice(0, 128)}` : undefined;
    const now = Date.now();
    if (dedupeKey !== undefined) {
      const state = this._frameIds.state(dedupeKey, now);
      if (state === 'done') {
        // A re-send of a batch already taken: acknowledged without parsing it (Logplex says how
        // many lines it holds; without that header, its frames are only counted).
        if (expected !== undefined) {
          req.resume();
          this._duplicate(res, drain, frameId as string, this._linesAtMost(req, expected));
          return;
        }
        this._readBody(req, res, drain, gzipped, { reserved: 0, dedupeKey: undefined, settled: false }, (body) => this._duplicate(res, drain, frameId as string, countFrames(body)));
        return;
      }
      if (state === 'pending') {
        // The first copy is still being taken: acknowledging this one could lose the batch if
        // that one fails; Logplex asks again shortly.
        return this._refuseUnread(req, res, 'in_progress');
      }
    }
    // The room this batch will need: so that a lying header cannot make every other drain wait.
    const needed = Math.max(1, this._linesAtMost(req, expected ?? 1));
    if (!this._room(this._reserved + needed)) {
      this._log('debug', 'pipeline full: 503 before reading the body', { drain: drain.fingerprint, lines: needed, reserved: this._reserved });
      return this._refuseUnread(req, res, 'queue_full');
    }
    const intake: Intake = { reserved: needed, dedupeKey, settled: false };
    this._reserved += needed;
    if (dedupeKey !== undefined) this._frameIds.pending(dedupeKey, now);
    this._readBody(req, res, drain, gzipped, intake, (body) => this._parsed(req, res, drain, intake, body, query, now));
  }

  /**
   * 503 before the body is read: the body is dropped as it comes, keeping the connection. Closing
   * it instead, measured in bench/hostile.ts overload, cut p99 from ~2.1 s to ~1.5 s but 74 of
   * 1,956 clients then saw a socket error rather than the 503: every request gets its answer.
   */
  private _refuseUnread(req: IncomingMessage, res: ServerResponse, reason: 'queue_full' | 'in_progress'): void {
    req.resume();
    this._reject(res, 503, reason, { 'retry-after': '1' });
  }

  /**
   * The lines a body holds by its Logplex-Msg-Count, never more than its declared size can hold
   * (a frame takes 16 bytes at the least): the header cannot be trusted with room or counters.
   */
  private _linesAtMost(req: IncomingMessage, declared: number): number {
    const length = Number(req.headers['content-length']);
    return Math.min(declared, Math.ceil((Number.isFinite(length) && length >= 0 ? length : this._config.max_request_body_size) / 16));
  }

  private _duplicate(res: ServerResponse, drain: Drain, frameId: string, lines: number): void {
    this.counters.duplicateLines += lines;
    this._log('debug', 'duplicate batch acknowledged', { drain: drain.fingerprint, frame_id: frameId, lines });
    res.writeHead(200).end();
  }

  /** Reads a body up to max_request_body_size (gzip decoded, bounded the same), then `use` it. */
  private _readBody(req: IncomingMessage, res: ServerResponse, drain: Drain, gzipped: boolean, intake: Intake, use: (body: Buffer) => void): void {
    const limit = this._config.max_request_body_size;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        this._release(intake, false);
        this._tooLarge(req, res, drain, size);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge || intake.settled) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (!gzipped) return this._parseLater(req, res, intake, () => use(body));
      gunzip(body, { maxOutputLength: limit }, (error, plain) => {
        if (intake.settled) return;
        if (error) {
          this._release(intake, false);
          if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return this._tooLarge(req, res, drain, limit + 1);
          // Not gzip after all: refused (Logplex never sends such a body; a client that does is told why).
          this._limited.report('warn', 'bad-gzip', 'logplex receiver: a gzip body could not be decoded (400)', { drain: drain.fingerprint, error: error.message });
          return this._reject(res, 400, 'bad_encoding', { connection: 'close' });
        }
        this._parseLater(req, res, intake, () => use(plain));
      });
    });
    // The client went away (or the connection was closed at shutdown): nothing was acknowledged,
    // Logplex will retry.
    req.on('error', () => this._release(intake, false));
    req.on('close', () => {
      if (!req.complete) this._release(intake, false);
    });
  }

  /** Runs `use` of a body read in a later turn of the event loop, after those read before it. */
  private _parseLater(req: IncomingMessage, res: ServerResponse, intake: Intake, use: () => void): void {
    this._unparsed.push(() => {
      if (!intake.settled) this._guarded(req, res, intake, use);
    });
    this._parseTurn ??= setImmediate(this._parseSlice);
  }

  /** Parses waiting bodies for PARSE_SLICE_MS (at least one), then lets the event loop turn. */
  private readonly _parseSlice = (): void => {
    const jobs = this._unparsed;
    const until = performance.now() + PARSE_SLICE_MS;
    let done = 0;
    while (done < jobs.length) {
      jobs[done++]!();
      if (performance.now() >= until) break;
    }
    jobs.splice(0, done);
    this._parseTurn = jobs.length > 0 ? setImmediate(this._parseSlice) : undefined;
  };

  private _guarded(req: IncomingMessage, res: ServerResponse, intake: Intake, step: () => void): void {
    try {
      step();
    } catch (error) {
      this._failed(req, res, error, intake);
    }
  }

  /** Frees what a request held; `taken`: its batch is in the pipeline, its frame id done. */
  private _release(intake: Intake, taken: boolean): void {
    if (intake.settled) return;
    intake.settled = true;
    this._reserved -= intake.reserved;
    if (intake.dedupeKey === undefined) return;
    if (taken) this._frameIds.done(intake.dedupeKey, Date.now());
    else this._frameIds.forget(intake.dedupeKey);
  }

  private _tooLarge(req: IncomingMessage, res: ServerResponse, drain: Drain, size: number): void {
    this._limited.report('warn', 'too-large', 'logplex receiver: a body over max_request_body_size was refused (413); Logplex drops such a batch', {
      drain: drain.fingerprint,
      client: req.socket.remoteAddress,
      size,
      max_request_body_size: this._config.max_request_body_size,
    });
    // Answer first, then close: destroying the socket at once could lose the 413 itself.
    res.once('finish', () => req.destroy());
    this._reject(res, 413, 'too_large', { connection: 'close' });
  }

  /** 401/403: counted, logged at a bounded rate with what identifies the caller (never a secret). */
  private _unauthorized(req: IncomingMessage, res: ServerResponse, reason: 'unauthenticated' | 'unknown_token', what: string, fingerprint?: string): void {
    req.resume();
    this._limited.report('warn', `auth-${reason}`, reason === 'unknown_token' ? `refused ${what}: a drain token not in the allowlist (403)` : `refused ${what}: missing or wrong credentials (401)`, {
      ...(fingerprint !== undefined ? { drain: fingerprint } : {}),
      client: req.headers['x-forwarded-for'] ?? req.socket.remoteAddress,
    });
    const headers: Record<string, string> = { connection: 'close' };
    if (reason === 'unauthenticated') headers['www-authenticate'] = 'Basic realm="heroku-otel-drain"';
    this._reject(res, reason === 'unknown_token' ? 403 : 401, reason, headers);
  }

  /**
   * The drain a request comes from by its token, or undefined when it has been answered 401/403
   * (its credentials, basic_auth or `auth`, passed before).
   */
  private _drainOf(req: IncomingMessage, res: ServerResponse): Drain | undefined {
    const auth = this._auth;
    const header = req.headers['logplex-drain-token'];
    const token = typeof header === 'string' && header !== '' ? header : undefined;
    if (!auth.hasTokens) {
      return token === undefined ? this._anyDrain : { ...this._anyDrain, fingerprint: drainFingerprint(token) };
    }
    if (token !== undefined) {
      const drain = auth.drainFor(token);
      if (drain === undefined) this._unauthorized(req, res, 'unknown_token', 'a batch', drainFingerprint(token));
      return drain;
    }
    // Space-level drains send no token: only let in when the config says so (and basic_auth or
    // auth, when set, was checked before).
    if (!this._config.accept_tokenless_drains) {
      this._unauthorized(req, res, 'unauthenticated', 'a batch without a Logplex-Drain-Token');
      return undefined;
    }
    return this._anyDrain;
  }

  private _parsed(req: IncomingMessage, res: ServerResponse, drain: Drain, intake: Intake, body: Buffer, query: string, started: number): void {
    const templates = drain.context.urlTemplates;
    const overflowsBefore = templates?.overflows ?? 0;
    const parsed = bodyToTelemetry(body, Date.now() * 1000, drain.context, this._spans);
    if (templates !== undefined && templates.overflows !== overflowsBefore) {
      this.counters.urlTemplateOverflows += templates.overflows - overflowsBefore;
      this._limited.report('warn', 'url-template-overflow', `a drain's url_templates table is full (max_templates ${this._config.url_templates.max_templates}): new routes get /{overflow}`, {
        drain: drain.fingerprint,
        paths: templates.overflows,
      });
    }
    const store = this._store;
    const dedupeKey = intake.dedupeKey;
    if (dedupeKey === undefined || store === undefined) {
      this._take(req, res, drain, intake, parsed, query, started, false);
      return;
    }
    // Another instance may have taken this batch (Logplex's retry landed elsewhere): ask the store.
    // Without an answer (Redis away), this instance's own window is all there is.
    void store.claim(`frame:${dedupeKey}`, FRAME_PENDING_MS).then(
      (claim) =>
        this._guarded(req, res, intake, () => {
          if (intake.settled) return;
          if (claim === 'done') {
            this._release(intake, true);
            this.counters.duplicateLines += parsed.lines;
            res.writeHead(200).end();
            return;
          }
          if (claim === 'pending') {
            this._release(intake, false);
            this._reject(res, 503, 'in_progress', { 'retry-after': '1' });
            return;
          }
          this._take(req, res, drain, intake, parsed, query, started, claim === 'claimed');
        }),
      (error: unknown) => this._failed(req, res, error, intake),
    );
  }

  private _take(
    req: IncomingMessage,
    res: ServerResponse,
    drain: Drain,
    intake: Intake,
    parsed: ReturnType<typeof bodyToTelemetry>,
    query: string,
    started: number,
    claimed: boolean,
  ): void {
    const declared = Number(req.headers['logplex-msg-count']);
    if (Number.isInteger(declared) && declared !== parsed.lines) {
      this.counters.msgCountMismatches++;
      this._limited.report('warn', 'msg-count', 'Logplex-Msg-Count disagrees with the frames found; all frames were kept', { declared, found: parsed.lines, drain: drain.fingerprint });
    }
    const resource = query === '' ? drain.resource : this._resourceFromQuery(drain, query);
    const taken = this._stopping ? false : this._consume({ resource, telemetry: parsed.telemetry });
    if (typeof taken === 'boolean') {
      this._answer(taken, req, res, drain, intake, parsed, started, claimed);
      return;
    }
    // On disk first: the answer (and the frame id's outcome) waits for the write.
    taken.then(
      (ok) => this._answer(ok, req, res, drain, intake, parsed, started, claimed),
      (error: unknown) => {
        this._failed(req, res, error, intake);
        if (claimed) void this._store!.release(`frame:${intake.dedupeKey}`);
      },
    );
  }

  /** 200 when the pipelines took the batch, else 503 (Logplex keeps it and sends it again). */
  private _answer(
    ok: boolean,
    req: IncomingMessage,
    res: ServerResponse,
    drain: Drain,
    intake: Intake,
    parsed: ReturnType<typeof bodyToTelemetry>,
    started: number,
    claimed: boolean,
  ): void {
    const dedupeKey = intake.dedupeKey;
    if (!ok) {
      this._release(intake, false);
      if (claimed) void this._store!.release(`frame:${dedupeKey}`);
      this._reject(res, 503, this._stopping ? 'shutting_down' : 'queue_full', { 'retry-after': '1' });
      return;
    }
    this._release(intake, true);
    this.counters.acceptedLines += parsed.lines;
    this.counters.rawLines += parsed.rawLines;
    this.counters.frameProblems += parsed.frameProblems;
    this.counters.jsonKeptAsText += parsed.jsonKeptAsText;
    if (parsed.lineErrors > 0) {
      this.counters.lineErrors += parsed.lineErrors;
      this._limited.report('error', 'line-error', 'logplex receiver: lines could not be read (a bug: please report it); each was kept unparsed', { lines: parsed.lineErrors, drain: drain.fingerprint });
    }
    if (claimed) void this._store!.done(`frame:${dedupeKey}`, FRAME_ID_TTL_MS);
    this._log('debug', 'batch taken', { drain: drain.fingerprint, frame_id: req.headers['logplex-frame-id'], lines: parsed.lines, raw: parsed.rawLines, frame_problems: parsed.frameProblems, ms: Date.now() - started });
    res.writeHead(200).end();
  }

  /** The drain's resource with the configured query parameters applied, where they are allowed. */
  private _resourceFromQuery(drain: Drain, query: string): Attributes {
    let resource = drain.resource;
    const fromQuery = this._config.resource_from_query;
    let params: URLSearchParams | undefined;
    for (const param in fromQuery) {
      params ??= new URLSearchParams(query);
      const value = params.get(param);
      if (value === null || value === '') continue;
      const key = fromQuery[param]!;
      if (drain.ownKeys.has(key) || !printable(value)) {
        this.counters.queryValuesRefused++;
        this._limited.report('warn', 'query-value', 'a drain URL query value was not applied (not printable, over 128 characters, or the drain sets that attribute itself)', {
          param,
          attribute: key,
          drain: drain.fingerprint,
        });
        continue;
      }
      if (resource === drain.resource) resource = { ...resource };
      resource[key] = value;
    }
    return resource;
  }
}

/** Frames in a body, without parsing them: for a duplicate that did not say how many it holds. */
function countFrames(body: Buffer): number {
  const reader = new OctetFrameReader(body);
  let n = 0;
  while (reader.next()) n++;
  return n;
}

/** For drains without a token: their credentials tell their retries apart (never exported). */
function credentialFingerprint(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  return auth === undefined ? 'anonymous' : `basic:${drainFingerprint(auth)}`;
}
