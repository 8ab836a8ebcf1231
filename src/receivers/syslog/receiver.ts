/**
 * The `syslog` receiver: RFC 5424 over TCP (plain or TLS, octet-counted or LF-framed) and UDP, as
 * Heroku's syslog drains and generic shippers send it.
 *
 * Heroku puts the drain token in the HOSTNAME field: a message is taken when its token is in the
 * allowlist (or any drain is accepted, explicitly), and otherwise counted and discarded. Lines
 * without an RFC 5424 header (RFC 3164 senders, stray text) are kept raw where any drain is
 * accepted. When the pipeline is full the connection stops being read until it has room, so TCP
 * flow control makes the sender wait; over UDP there is no one to wait, and the line is counted.
 *
 * A TCP connection is a stranger until it sends a message whose token is let in: it has
 * `handshake_timeout` from accept (TLS handshake included; a deadline that trickled bytes do not
 * push back) to do so, and it is the first to go when `max_connections` is reached, so that strangers
 * cannot lock a real drain out: the oldest stranger is closed to make room (`evicted`), and only
 * when every connection is a drain of ours is the new one refused (`too_many_connections`). Raw TCP
 * connections are counted, so stalled TLS handshakes take and give up slots like the rest.
 *
 * Nothing a line holds can end the process: a line whose handling throws is kept raw (or, if even
 * that fails, refused), counted in `lineErrors` and logged at a bounded rate.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { decodeUtf8 } from '../../heroku/input.ts';
import { rawLine, type HerokuLine } from '../../heroku/line.ts';
import { parseSyslogLine } from '../../heroku/syslog.ts';
import type { Listening } from '../../service/component.ts';
import { errorSite } from '../../service/log.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import { newDrainContext, type DrainContext } from '../../translate/drain-context.ts';
import { drainResource } from '../../translate/resource.ts';
import { newTelemetryBatch, type Attributes, type TelemetryBatch } from '../../translate/telemetry.ts';
import { translateLineSafely, type LineTally } from '../../translate/translate.ts';
import { DrainAuth } from '../logplex/auth.ts';
import type { BatchConsumer, ReceiverLog, RoomCheck } from '../logplex/receiver.ts';
import type { SyslogConfig } from './config.ts';
import { SyslogFramer } from './framing.ts';

export type SyslogLineRejection = 'unknown_token' | 'unauthenticated' | 'too_large' | 'truncated' | 'queue_full' | 'shutting_down' | 'line_error';
export type SyslogConnectionRejection = 'too_many_connections' | 'evicted' | 'tls_handshake' | 'idle_timeout' | 'unauthenticated' | 'queue_full' | 'internal_error';

/** What the receiver counted; every message ends accepted or rejected with a reason. */
export interface SyslogCounters {
  /** TCP connections accepted (before any TLS handshake), refused ones included. */
  connections: number;
  acceptedLines: number;
  /** Always 0: syslog has no batch ids to re-send (kept for the shape every receiver reports). */
  duplicateLines: number;
  /** Accepted lines that had no RFC 5424 header, or whose handling failed, kept whole. */
  rawLines: number;
  /**
   * Lines whose handling threw (a bug of ours, caught): each was kept raw (also in rawLines) or,
   * when even that failed, refused as rejectedLines.line_error.
   */
  lineErrors: number;
  /** Times a connection stopped being read until the pipeline had room (backpressure). */
  pauses: number;
  /** Router paths given the catch-all `/{overflow}` because their drain's url_templates table was full. */
  urlTemplateOverflows: number;
  rejectedLines: Record<SyslogLineRejection, number>;
  rejectedConnections: Record<SyslogConnectionRejection, number>;
}

/** A drain lines are let in for: its resource and translation's state for it. */
interface SyslogDrain {
  resource: Attributes;
  context: DrainContext;
}

/**
 * How soon a paused connection asks the pipeline for room again: soon at first (a queue has
 * room again as soon as one export completes, and a wait past that leaves the process idle with
 * a sender ready), then less often, so that connections paused through a backend outage cost
 * next to nothing.
 */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 20;

/**
 * Lines read but not yet taken by a full pipeline, over all connections: past it, new
 * connections are closed at once (senders retry later) rather than memory growing with each
 * reconnection during a backend outage.
 */
const HELD_LINES_MAX = 50_000;

/** One message's text to a line: RFC 5424 when it has the header, raw otherwise. */
function toLine(text: string): HerokuLine {
  if (text.charCodeAt(0) === 60 /* < */) return parseSyslogLine(text) ?? rawLine(text);
  return rawLine(text);
}

/** What one read (or one wait for room) holds for one drain. */
interface Held {
  resource: Attributes;
  telemetry: TelemetryBatch;
  lines: number;
  raw: number;
}

/** One TCP connection from accept to close: what the cap and the first-message deadline go by. */
interface Connection {
  /** The accepted socket; under TLS, the one the TLS socket wraps (destroying it ends both). */
  raw: Socket;
  /** `address|port` of the peer: how a TLS socket finds its connection once its handshake is done. */
  peer: string;
  /** Its TLS handshake is done (always, over plain TCP). */
  secure: boolean;
  /** It has sent a message whose token is let in: never evicted, idle_timeout applies. */
  trusted: boolean;
  /** We closed it (evicted, timed out, shut down), and counted why if there was a why. */
  closedByUs: boolean;
  /** The deadline for a stranger to become trusted. */
  deadline: NodeJS.Timeout | undefined;
  /** Hands over what it read (shutdown); set once it is read from. */
  handOver: (() => void) | undefined;
}

export class SyslogReceiver {
  readonly counters: SyslogCounters = {
    connections: 0,
    acceptedLines: 0,
    duplicateLines: 0,
    rawLines: 0,
    lineErrors: 0,
    pauses: 0,
    urlTemplateOverflows: 0,
    rejectedLines: { unknown_token: 0, unauthenticated: 0, too_large: 0, truncated: 0, queue_full: 0, shutting_down: 0, line_error: 0 },
    rejectedConnections: { too_many_connections: 0, evicted: 0, tls_handshake: 0, idle_timeout: 0, unauthenticated: 0, queue_full: 0, internal_error: 0 },
  };

  private readonly _config: SyslogConfig;
  private readonly _consume: BatchConsumer;
  /** Whether the pipelines take n more lines now: asked before offering, so a wait is no refusal. */
  private readonly _room: RoomCheck;
  private readonly _log: ReceiverLog;
  /** Warnings a client can repeat at will (failed handshakes, lines that throw): bounded. */
  private readonly _warnings: RateLimitedLog;
  /** Lines kept unparsed and JSON kept as text, counted by translateLineSafely. */
  private readonly _tally: LineTally = { lineErrors: 0, jsonKeptAsText: 0 };
  private readonly _auth: DrainAuth<SyslogDrain>;
  private readonly _anyDrain: SyslogDrain | undefined;
  /** Open TCP connections, in the order they came. */
  private readonly _open = new Set<Connection>();
  /** Open connections not trusted yet, oldest first: the ones evicted when the cap is reached. */
  private readonly _strangers = new Set<Connection>();
  /** TLS connections still in their handshake, by peer. */
  private readonly _handshaking = new Map<string, Connection>();
  /** Lines read and waiting for room, over all connections. */
  private _heldLines = 0;
  private _tcp: Server | TlsServer | undefined;
  private _udp: UdpSocket | undefined;
  /**
   * Datagrams translated this turn of the event loop, per drain, offered together at its end:
   * a batch per turn, not per line (a busy UDP sender has many waiting at each poll).
   */
  private _udpHeld: Held[] = [];
  private _udpFlush: NodeJS.Immediate | undefined;
  private _stopping = false;

  /** A span per router request too: a traces pipeline takes its batches. */
  private readonly _spans: boolean;

  constructor(config: SyslogConfig, consume: BatchConsumer, log: ReceiverLog = () => {}, spans = false, room: RoomCheck = () => true) {
    this._config = config;
    this._spans = spans;
    this._consume = consume;
    this._room = room;
    this._log = log;
    this._warnings = new RateLimitedLog((level, message, fields) => log(level === 'debug' ? 'info' : level, message, fields));
    this._auth = new DrainAuth(
      config.drains.map((d) => [d.token, { resource: drainResource({ ...config.resource, ...d.resource }), context: newDrainContext(config) }] as const),
      undefined,
    );
    this._anyDrain = config.accept_any_drain || config.drains.length === 0 ? { resource: drainResource(config.resource), context: newDrainContext(config) } : undefined;
  }

  /** Where the TCP and UDP sockets listen, once started (real ports when the config said 0). */
  get addresses(): { tcp?: { host: string; port: number }; udp?: { host: string; port: number } } {
    const out: { tcp?: { host: string; port: number }; udp?: { host: string; port: number } } = {};
    const tcp = this._tcp?.address() as AddressInfo | null | undefined;
    if (tcp) out.tcp = { host: tcp.address, port: tcp.port };
    if (this._udp) {
      const udp = this._udp.address();
      out.udp = { host: udp.address, port: udp.port };
    }
    return out;
  }

  /** The first address, for the service's "listening on" line. */
  get address(): { host: string; port: number } {
    const a = this.addresses;
    return a.tcp ?? a.udp ?? { host: '', port: 0 };
  }

  /** TCP connections open now, TLS handshakes included. */
  get openConnections(): number {
    return this._open.size;
  }

  async start(): Promise<void> {
    this._stopping = false;
    const tcp = this._config.tcp;
    if (tcp !== undefined && this._tcp === undefined) {
      // No server.maxConnections: it refuses the newcomer, and the newcomer may be the real drain.
      // The cap is ours (_accept), on raw connections, TLS handshakes included.
      const server = tcp.tls ? createTlsServer({ ...this._secureContext(), handshakeTimeout: tcp.handshake_timeout }) : createTcpServer();
      server.on('connection', (socket: Socket) => this._accept(socket));
      if (tcp.tls) {
        server.on('secureConnection', (socket: TLSSocket) => this._secured(socket));
        server.on('tlsClientError', (error: Error & { code?: string }, socket: Socket) => {
          // A peer hanging up, or our own eviction of a stalled handshake, is no news worth a line.
          if (error.code !== 'ECONNRESET') this._warnings.report('warn', 'tls_handshake', 'TLS handshake failed', { error: error.message });
          // Counted here while its peer is known; otherwise when its connection closes (_accept).
          const c = this._handshaking.get(`${socket.remoteAddress}|${socket.remotePort}`);
          if (c !== undefined) this._close(c, 'tls_handshake');
          // Node leaves the socket open after a handshake timeout: it would hold a slot forever.
          socket.destroy();
        });
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tcp.endpoint.port, tcp.endpoint.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // After listening, an accept error (EMFILE, say) is logged, not a crash.
      server.on('error', (error: Error) => this._log('error', 'syslog TCP server error', { error: error.message }));
      this._tcp = server;
    }
    const udp = this._config.udp;
    if (udp !== undefined && this._udp === undefined) {
      const socket = createSocket({ type: udp.endpoint.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
      socket.on('message', (msg) => this._datagram(msg));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(udp.endpoint.port, udp.endpoint.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.on('error', (error: Error) => this._log('error', 'syslog UDP socket error', { error: error.message }));
      this._udp = socket;
    }
  }

  /** Where it listens: TCP (plain or TLS) and UDP. */
  listening(): Listening[] {
    return Object.entries(this.addresses).map(([transport, a]) => ({ transport: transport as 'tcp' | 'udp', ...a }));
  }

  /** Reads the certificate files again (SIGHUP): new connections use them, open ones keep theirs. */
  reload(): void {
    const server = this._tcp as TlsServer | undefined;
    if (server === undefined || this._config.tcp?.tls === undefined) return;
    try {
      server.setSecureContext(this._secureContext());
      this._log('info', 'TLS certificate reloaded');
    } catch (error) {
      this._log('error', 'TLS certificate reload failed; the previous one stays in use', { error: (error as Error).message });
    }
  }

  private _secureContext(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    const tls = this._config.tcp!.tls!;
    return {
      cert: readFileSync(tls.cert_file),
      key: readFileSync(tls.key_file),
      ...(tls.client_ca_file ? { ca: readFileSync(tls.client_ca_file) } : {}),
      minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
      requestCert: tls.client_ca_file !== undefined,
      rejectUnauthorized: tls.client_ca_file !== undefined,
    };
  }

  /**
   * Stops listening and reading; what was already read is offered to the pipelines (still open:
   * the service stops them after the receivers) and counted shutting_down if they refuse it;
   * then every connection is destroyed, TLS handshakes and silent or trickling clients included,
   * so this never waits for a client. Safe twice.
   */
  async shutdown(): Promise<void> {
    this._stopping = true;
    const tcp = this._tcp;
    this._tcp = undefined;
    const closed = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    const open = [...this._open];
    for (const c of open) c.handOver?.();
    for (const c of open) this._close(c, undefined);
    await closed;
    // What UDP brought before the stop is offered (the pipelines are still open).
    this._offerDatagrams();
    if (this._udp) {
      const udp = this._udp;
      this._udp = undefined;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
    this._warnings.flush();
  }

  /** A TCP connection, before any TLS: the cap, and the deadline for strangers. */
  private _accept(raw: Socket): void {
    this.counters.connections++;
    if (this._stopping || raw.remoteAddress === undefined) {
      // Shutting down, or already gone.
      raw.destroy();
      return;
    }
    if (this._heldLines > HELD_LINES_MAX) {
      this.counters.rejectedConnections.queue_full++;
      raw.destroy();
      return;
    }
    const tcp = this._config.tcp!;
    if (this._open.size >= tcp.max_connections) {
      // The oldest stranger makes room; when there is none, every slot is a drain of ours.
      const oldest = this._strangers.values().next().value;
      if (oldest === undefined) {
        this.counters.rejectedConnections.too_many_connections++;
        raw.destroy();
        return;
      }
      this._close(oldest, 'evicted');
    }
    const tls = tcp.tls !== undefined;
    const c: Connection = {
      raw,
      peer: `${raw.remoteAddress}|${raw.remotePort}`,
      secure: !tls,
      trusted: false,
      closedByUs: false,
      deadline: undefined,
      handOver: undefined,
    };
    this._open.add(c);
    this._strangers.add(c);
    // From accept, not from the last byte: a stranger trickling bytes does not buy more time.
    const deadline = tcp.idle_timeout > 0 ? Math.min(tcp.idle_timeout, tcp.handshake_timeout) : tcp.handshake_timeout;
    c.deadline = setTimeout(() => this._close(c, c.secure ? 'unauthenticated' : 'tls_handshake'), deadline);
    raw.on('error', () => {
      // Reset by the peer: the close below follows.
    });
    raw.on('close', () => {
      this._forget(c);
      // A handshake that failed (a plain-text sender, an old TLS version, a client that left).
      if (!c.secure && !c.closedByUs && !this._stopping) this.counters.rejectedConnections.tls_handshake++;
    });
    if (tls) this._handshaking.set(c.peer, c);
    else this._connection(raw, c);
  }

  /** A TLS handshake is done: the connection it belongs to is read from now. */
  private _secured(socket: TLSSocket): void {
    const peer = `${socket.remoteAddress}|${socket.remotePort}`;
    const c = this._handshaking.get(peer);
    if (c === undefined || c.closedByUs) {
      // Its connection was closed meanwhile (evicted, timed out).
      socket.destroy();
      return;
    }
    this._handshaking.delete(peer);
    c.secure = true;
    this._connection(socket, c);
  }

  /** Closes a connection we give up on, counting why (`undefined`: shutdown, not counted). */
  private _close(c: Connection, reason: SyslogConnectionRejection | undefined): void {
    // Out of the count at once, so that its slot is free for the newcomer that evicts it.
    this._forget(c);
    // Already closing (a failed handshake): its close counts it.
    if (c.closedByUs || c.raw.destroyed) return;
    c.closedByUs = true;
    if (reason !== undefined) this.counters.rejectedConnections[reason]++;
    c.raw.destroy();
  }

  private _forget(c: Connection): void {
    clearTimeout(c.deadline);
    c.deadline = undefined;
    this._open.delete(c);
    this._strangers.delete(c);
    if (this._handshaking.get(c.peer) === c) this._handshaking.delete(c.peer);
  }

  /** A stranger sent a message we let in: it is a drain of ours now. */
  private _trust(c: Connection, socket: Socket): void {
    c.trusted = true;
    this._strangers.delete(c);
    clearTimeout(c.deadline);
    c.deadline = undefined;
    socket.setTimeout(this._config.tcp!.idle_timeout);
  }

  /** A connection ready to be read from (TLS: once its handshake is done). */
  private _connection(socket: Socket, c: Connection): void {
    socket.on('timeout', () => this._close(c, 'idle_timeout'));
    // One connection usually carries one drain: its token is looked up once, not per line.
    let lastHost = '';
    let lastDrain: SyslogDrain | undefined;
    let observed = 0;
    /** Lines read and not yet taken by the pipeline, per drain, in order. */
    const held: Held[] = [];
    let retry: NodeJS.Timeout | undefined;
    let ended = false;

    const frame = (buf: Buffer, start: number, end: number): void => {
      // rsyslog's templates end a message with LF inside its octet count.
      while (end > start && (buf[end - 1] === 10 || buf[end - 1] === 13)) end--;
      if (end === start) return;
      const line = this._toLine(buf, start, end);
      if (line === undefined) return;
      let drain: SyslogDrain | undefined;
      if (line.hostname !== '' && line.hostname === lastHost) drain = lastDrain;
      else {
        drain = this._drainFor(line);
        if (drain !== undefined && line.hostname !== '') {
          lastHost = line.hostname;
          lastDrain = drain;
        }
      }
      if (drain === undefined) {
        // A connection whose first message is not let in is not a drain of ours. (The rest of
        // the read is still counted line by line.)
        if (!c.trusted) this._close(c, 'unauthenticated');
        return;
      }
      if (!c.trusted) this._trust(c, socket);
      let h = held.at(-1);
      if (h === undefined || h.resource !== drain.resource) {
        h = { resource: drain.resource, telemetry: newTelemetryBatch(this._spans), lines: 0, raw: 0 };
        held.push(h);
      }
      const raw = this._translate(line, h.telemetry, observed, drain.context);
      h.lines++;
      this._heldLines++;
      if (raw) h.raw++;
    };
    const framer = new SyslogFramer(this._config.max_message_size, {
      frame,
      tooLarge: () => this.counters.rejectedLines.too_large++,
      truncated: () => this.counters.rejectedLines.truncated++,
    });

    const release = (h: Held): void => {
      this._heldLines -= h.lines;
      const i = held.indexOf(h);
      if (i >= 0) held.splice(i, 1);
    };
    /** An offer being written to disk (a queue with storage): nothing else is offered meanwhile, in order. */
    let writing = false;

    /**
     * Runs `work` for this connection. Last line of defence: an exception (a bug of ours, in
     * framing or in the pipeline's consumer) is counted and logged and ends this connection, not
     * the process; what it held is refused, counted, so that the held-lines budget is given back.
     */
    const guarded = (work: () => void): void => {
      try {
        work();
      } catch (error) {
        this.counters.lineErrors++;
        this._warnings.report('error', 'internal_error', 'syslog connection failed; closed', errorSite(error));
        clearTimeout(retry);
        retry = undefined;
        ended = true;
        while (held.length > 0) {
          this.counters.rejectedLines.line_error += held[0]!.lines;
          release(held[0]!);
        }
        this._close(c, 'internal_error');
      }
    };

    /** The next wait for room; back to the first once an offer is taken. */
    let retryMs = RETRY_FIRST_MS;
    /**
     * No room: stop reading, so TCP makes the sender wait, and ask again shortly. The wait is
     * ours, not the sender's idleness: no idle timeout meanwhile.
     */
    const waitForRoom = (): void => {
      if (!socket.isPaused()) this.counters.pauses++;
      socket.pause();
      socket.setTimeout(0);
      retry = setTimeout(() => guarded(() => offerHeld()), retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    };

    /** Offers what is held; `once`: no waiting (shutdown), what is refused is counted. */
    const offerHeld = (once = false): void => {
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      if (writing && !once) return;
      while (held.length > 0) {
        const h = held[0]!;
        // Asked first, so that waiting for room is not counted as refused by the pipelines.
        if (!once && !this._stopping && !this._room(h.lines)) {
          waitForRoom();
          return;
        }
        const taken = this._consume({ resource: h.resource, telemetry: h.telemetry });
        if (typeof taken !== 'boolean') {
          // Written to disk first: reading waits, TCP makes the sender wait meanwhile.
          if (once) {
            release(h);
            taken.then(
              (ok) => this._countHeld(h, ok),
              () => this._countHeld(h, false),
            );
            continue;
          }
          writing = true;
          socket.pause();
          socket.setTimeout(0);
          taken.then(
            (ok) => {
              writing = false;
              if (!ok) {
                guarded(waitForRoom);
                return;
              }
              retryMs = RETRY_FIRST_MS;
              this._countHeld(h, true);
              release(h);
              guarded(() => offerHeld());
            },
            (error: unknown) => {
              writing = false;
              guarded(() => {
                throw error;
              });
            },
          );
          return;
        }
        if (!taken) {
          if (once || this._stopping) {
            this.counters.rejectedLines.shutting_down += h.lines;
            release(h);
            continue;
          }
          waitForRoom();
          return;
        }
        retryMs = RETRY_FIRST_MS;
        this._countHeld(h, true);
        release(h);
      }
      if (!socket.destroyed && socket.isPaused()) {
        if (c.trusted) socket.setTimeout(this._config.tcp!.idle_timeout);
        socket.resume();
      }
    };

    /** `cut`: we end the stream (shutdown), so a line without its end is truncated, not a message. */
    const read = (chunk: Buffer | undefined, cut = false): void => {
      observed = Date.now() * 1000;
      if (chunk === undefined) {
        if (ended) return;
        ended = true;
        framer.end(cut);
      } else framer.push(chunk);
      // While waiting for room the socket is paused; a read that still arrives joins the wait.
      if (retry === undefined && held.length > 0) offerHeld();
    };
    c.handOver = () =>
      guarded(() => {
        socket.pause();
        read(undefined, true);
        offerHeld(true);
      });
    socket.on('data', (chunk: Buffer) => guarded(() => read(chunk)));
    socket.on('end', () => guarded(() => read(undefined)));
    socket.on('error', () => {
      // Reset by the sender: what was read is delivered; the rest was never ours.
    });
    socket.on('close', () => {
      // A reset connection's last line (without its LF) is still a message.
      if (!this._stopping) guarded(() => read(undefined));
      // Lines still waiting for room keep waiting (the timer holds them): they were read.
    });
  }

  /**
   * One message's text to a line. Last line of defence: if that throws, the text is kept raw
   * (its drain is then unknown: it is let in only where any drain is), counted and logged;
   * undefined (refused, counted) when even decoding failed.
   */
  private _toLine(buf: Buffer, start: number, end: number): HerokuLine | undefined {
    let text: string;
    try {
      text = decodeUtf8(buf, start, end);
    } catch (error) {
      this._lineError(error);
      this.counters.rejectedLines.line_error++;
      return undefined;
    }
    try {
      return toLine(text);
    } catch (error) {
      this._lineError(error);
      return rawLine(text);
    }
  }

  private _datagram(msg: Buffer): void {
    let end = msg.length;
    while (end > 0 && (msg[end - 1] === 10 || msg[end - 1] === 13)) end--;
    if (end === 0) return;
    if (end > this._config.max_message_size) {
      this.counters.rejectedLines.too_large++;
      return;
    }
    const line = this._toLine(msg, 0, end);
    if (line === undefined) return;
    const drain = this._drainFor(line);
    if (drain === undefined) return;
    if (this._stopping) {
      this.counters.rejectedLines.shutting_down++;
      return;
    }
    let h = this._udpHeld.at(-1);
    if (h === undefined || h.resource !== drain.resource) {
      h = { resource: drain.resource, telemetry: newTelemetryBatch(this._spans), lines: 0, raw: 0 };
      this._udpHeld.push(h);
    }
    if (this._translate(line, h.telemetry, Date.now() * 1000, drain.context)) h.raw++;
    h.lines++;
    this._udpFlush ??= setImmediate(this._offerDatagrams);
  }

  /** Offers this turn's datagrams. Nobody to make wait over UDP: what a full pipeline refuses is lost, counted. */
  private readonly _offerDatagrams = (): void => {
    if (this._udpFlush !== undefined) clearImmediate(this._udpFlush);
    this._udpFlush = undefined;
    const held = this._udpHeld;
    this._udpHeld = [];
    for (const h of held) {
      const counted = (ok: boolean): void => {
        if (!ok) this.counters.rejectedLines.queue_full += h.lines;
        else {
          this.counters.acceptedLines += h.lines;
          this.counters.rawLines += h.raw;
        }
      };
      const failed = (error: unknown): void => {
        this._lineError(error);
        this.counters.rejectedLines.line_error += h.lines;
      };
      try {
        const taken = this._consume({ resource: h.resource, telemetry: h.telemetry });
        if (typeof taken === 'boolean') counted(taken);
        else taken.then(counted, failed);
      } catch (error) {
        failed(error);
      }
    }
  };

  /** The drain of an allowed line, or undefined (counted) when it is not let in. */
  private _drainFor(line: HerokuLine): SyslogDrain | undefined {
    if (line.hostname !== '' && this._auth.hasTokens) {
      const drain = this._auth.drainFor(line.hostname);
      if (drain !== undefined) return drain;
    }
    if (this._anyDrain !== undefined) return this._anyDrain;
    this.counters.rejectedLines[line.hostname === '' ? 'unauthenticated' : 'unknown_token']++;
    return undefined;
  }

  /**
   * Appends `line`'s telemetry to `batch`; true when it went out raw (no header, or its handling
   * threw and it was kept unparsed: `translateLineSafely`, whose record never carries the header,
   * where a syslog drain's token is).
   */
  private _translate(line: HerokuLine, batch: TelemetryBatch, observed: number, context: DrainContext): boolean {
    const templates = context.urlTemplates;
    const overflowsBefore = templates?.overflows ?? 0;
    const failed = translateLineSafely(line, observed, batch, undefined, this._tally, context);
    if (templates !== undefined && templates.overflows !== overflowsBefore) {
      this.counters.urlTemplateOverflows += templates.overflows - overflowsBefore;
      this._warnings.report('warn', 'url_template_overflow', `a drain's url_templates table is full (max_templates ${this._config.url_templates.max_templates}): new routes get /{overflow}`);
    }
    if (failed) {
      this._lineError(undefined);
      return true;
    }
    return line.shape === 'raw';
  }

  /** Lines of a connection's batch, taken (or, at shutdown, refused) once the pipeline said so. */
  private _countHeld(h: Held, ok: boolean): void {
    if (ok) {
      this.counters.acceptedLines += h.lines;
      this.counters.rawLines += h.raw;
    } else {
      this.counters.rejectedLines.shutting_down += h.lines;
    }
  }

  private _lineError(error: unknown): void {
    this.counters.lineErrors++;
    this._warnings.report('error', 'line_error', 'syslog line could not be handled; kept unparsed or refused, counted', error === undefined ? undefined : errorSite(error));
  }
}
