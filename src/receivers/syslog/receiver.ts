/**
 * The `syslog` receiver: RFC 5424 over TCP (plain or TLS, octet-counted or LF-framed) and UDP, as
 * Heroku's syslog drains and generic shippers send it.
 *
 * Heroku puts the drain token in the HOSTNAME field: a message is taken when its token is in the
 * allowlist (or any drain is accepted, explicitly), and otherwise counted and discarded. Lines
 * without an RFC 5424 header (RFC 3164 senders, stray text) are kept raw where any drain is
 * accepted. When the pipeline is full the connection stops being read until it has room, so TCP
 * flow control makes the sender wait; over UDP there is no one to wait, and the line is counted.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { interpretLine } from '../../heroku/classify.ts';
import { decodeUtf8 } from '../../heroku/input.ts';
import { rawLine, type HerokuLine } from '../../heroku/line.ts';
import { parseSyslogLine } from '../../heroku/syslog.ts';
import { drainResource } from '../../translate/resource.ts';
import { newTelemetryBatch, type Attributes, type TelemetryBatch } from '../../translate/telemetry.ts';
import { translateEvent } from '../../translate/translate.ts';
import { DrainAuth } from '../logplex/auth.ts';
import type { BatchConsumer, ReceiverLog } from '../logplex/receiver.ts';
import type { SyslogConfig } from './config.ts';
import { SyslogFramer } from './framing.ts';

export type SyslogLineRejection = 'unknown_token' | 'unauthenticated' | 'too_large' | 'truncated' | 'queue_full' | 'shutting_down';
export type SyslogConnectionRejection = 'too_many_connections' | 'tls_handshake' | 'idle_timeout' | 'unauthenticated' | 'queue_full';

/** What the receiver counted; every message ends accepted or rejected with a reason. */
export interface SyslogCounters {
  connections: number;
  acceptedLines: number;
  /** Always 0: syslog has no batch ids to re-send (kept for the shape every receiver reports). */
  duplicateLines: number;
  /** Accepted lines that had no RFC 5424 header, kept whole. */
  rawLines: number;
  /** Times a connection stopped being read until the pipeline had room (backpressure). */
  pauses: number;
  rejectedLines: Record<SyslogLineRejection, number>;
  rejectedConnections: Record<SyslogConnectionRejection, number>;
}

/** How often a paused connection asks the pipeline for room again. */
const RETRY_MS = 20;

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

export class SyslogReceiver {
  readonly counters: SyslogCounters = {
    connections: 0,
    acceptedLines: 0,
    duplicateLines: 0,
    rawLines: 0,
    pauses: 0,
    rejectedLines: { unknown_token: 0, unauthenticated: 0, too_large: 0, truncated: 0, queue_full: 0, shutting_down: 0 },
    rejectedConnections: { too_many_connections: 0, tls_handshake: 0, idle_timeout: 0, unauthenticated: 0, queue_full: 0 },
  };

  private readonly _config: SyslogConfig;
  private readonly _consume: BatchConsumer;
  private readonly _log: ReceiverLog;
  private readonly _auth: DrainAuth<Attributes>;
  private readonly _anyResource: Attributes | undefined;
  /** Open connections, and how to hand over what each has read when shutting down. */
  private readonly _connections = new Map<Socket, () => void>();
  /** Lines read and waiting for room, over all connections. */
  private _heldLines = 0;
  private _tcp: Server | TlsServer | undefined;
  private _udp: UdpSocket | undefined;
  private _stopping = false;

  constructor(config: SyslogConfig, consume: BatchConsumer, log: ReceiverLog = () => {}) {
    this._config = config;
    this._consume = consume;
    this._log = log;
    this._auth = new DrainAuth(
      config.drains.map((d) => [d.token, drainResource({ ...config.resource, ...d.resource })] as const),
      undefined,
    );
    this._anyResource = config.accept_any_drain || config.drains.length === 0 ? drainResource(config.resource) : undefined;
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

  async start(): Promise<void> {
    this._stopping = false;
    const tcp = this._config.tcp;
    if (tcp !== undefined && this._tcp === undefined) {
      const server = tcp.tls
        ? createTlsServer({ ...this._secureContext(), handshakeTimeout: tcp.handshake_timeout }, (socket) => this._connection(socket))
        : createTcpServer((socket) => this._connection(socket));
      server.maxConnections = tcp.max_connections;
      server.on('drop', () => this.counters.rejectedConnections.too_many_connections++);
      if (tcp.tls) {
        server.on('tlsClientError', (error: Error, socket: Socket) => {
          this.counters.rejectedConnections.tls_handshake++;
          this._log('warn', 'TLS handshake failed', { error: error.message });
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

  /** Reads the certificate files again (SIGHUP): new connections use them, open ones keep theirs. */
  reloadCertificates(): void {
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
   * then the connections are closed. Safe twice.
   */
  async shutdown(): Promise<void> {
    this._stopping = true;
    const tcp = this._tcp;
    this._tcp = undefined;
    const closed = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    for (const handOver of this._connections.values()) handOver();
    for (const socket of this._connections.keys()) socket.destroy();
    await closed;
    if (this._udp) {
      const udp = this._udp;
      this._udp = undefined;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  }

  private _connection(socket: Socket): void {
    this.counters.connections++;
    if (this._heldLines > HELD_LINES_MAX) {
      this.counters.rejectedConnections.queue_full++;
      socket.destroy();
      return;
    }
    const tcp = this._config.tcp!;
    // Until a message is let in, the connection has only handshake_timeout to send one: idle
    // strangers must not hold max_connections' slots.
    let trusted = false;
    const setIdle = (): void => void socket.setTimeout(trusted ? tcp.idle_timeout : Math.min(tcp.idle_timeout, tcp.handshake_timeout));
    setIdle();
    socket.on('timeout', () => {
      this.counters.rejectedConnections[trusted ? 'idle_timeout' : 'unauthenticated']++;
      socket.destroy();
    });
    // One connection usually carries one drain: its token is looked up once, not per line.
    let lastHost = '';
    let lastResource: Attributes | undefined;
    let observed = 0;
    /** Lines read and not yet taken by the pipeline, per drain, in order. */
    const held: Held[] = [];
    let retry: NodeJS.Timeout | undefined;
    let ended = false;

    const framer = new SyslogFramer(this._config.max_message_size, {
      frame: (buf, start, end) => {
        // rsyslog's templates end a message with LF inside its octet count.
        while (end > start && (buf[end - 1] === 10 || buf[end - 1] === 13)) end--;
        if (end === start) return;
        const line = toLine(decodeUtf8(buf, start, end));
        let resource: Attributes | undefined;
        if (line.hostname !== '' && line.hostname === lastHost) resource = lastResource;
        else {
          resource = this._resourceFor(line);
          if (resource !== undefined && line.hostname !== '') {
            lastHost = line.hostname;
            lastResource = resource;
          }
        }
        if (resource === undefined) {
          // A connection whose first message is not let in is not a drain of ours. (The rest of
          // the read is still counted line by line.)
          if (!trusted && !socket.destroyed) {
            this.counters.rejectedConnections.unauthenticated++;
            socket.destroy();
          }
          return;
        }
        if (!trusted) {
          trusted = true;
          setIdle();
        }
        let h = held.at(-1);
        if (h === undefined || h.resource !== resource) {
          h = { resource, telemetry: newTelemetryBatch(), lines: 0, raw: 0 };
          held.push(h);
        }
        this._translate(line, h.telemetry, observed);
        h.lines++;
        this._heldLines++;
        if (line.shape === 'raw') h.raw++;
      },
      tooLarge: () => this.counters.rejectedLines.too_large++,
      truncated: () => this.counters.rejectedLines.truncated++,
    });

    const release = (h: Held): void => {
      this._heldLines -= h.lines;
      held.shift();
    };

    /** Offers what is held; `once`: no waiting (shutdown), what is refused is counted. */
    const offerHeld = (once = false): void => {
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      while (held.length > 0) {
        const h = held[0]!;
        if (!this._consume({ resource: h.resource, telemetry: h.telemetry })) {
          if (once || this._stopping) {
            this.counters.rejectedLines.shutting_down += h.lines;
            release(h);
            continue;
          }
          // No room: stop reading, so TCP makes the sender wait, and ask again shortly. The wait
          // is ours, not the sender's idleness: no idle timeout meanwhile.
          if (!socket.isPaused()) this.counters.pauses++;
          socket.pause();
          socket.setTimeout(0);
          retry = setTimeout(() => offerHeld(), RETRY_MS);
          return;
        }
        this.counters.acceptedLines += h.lines;
        this.counters.rawLines += h.raw;
        release(h);
      }
      if (!socket.destroyed && socket.isPaused()) {
        setIdle();
        socket.resume();
      }
    };

    const read = (chunk: Buffer | undefined): void => {
      observed = Date.now() * 1000;
      if (chunk === undefined) {
        if (ended) return;
        ended = true;
        framer.end();
      } else framer.push(chunk);
      // While waiting for room the socket is paused; a read that still arrives joins the wait.
      if (retry === undefined && held.length > 0) offerHeld();
    };
    this._connections.set(socket, () => {
      socket.pause();
      read(undefined);
      offerHeld(true);
    });
    socket.on('data', (chunk: Buffer) => read(chunk));
    socket.on('end', () => read(undefined));
    socket.on('error', () => {
      // Reset by the sender: what was read is delivered; the rest was never ours.
    });
    socket.on('close', () => {
      this._connections.delete(socket);
      // A reset connection's last line (without its LF) is still a message.
      if (!this._stopping) read(undefined);
      // Lines still waiting for room keep waiting (the timer holds them): they were read.
    });
  }

  private _datagram(msg: Buffer): void {
    let end = msg.length;
    while (end > 0 && (msg[end - 1] === 10 || msg[end - 1] === 13)) end--;
    if (end === 0) return;
    if (end > this._config.max_message_size) {
      this.counters.rejectedLines.too_large++;
      return;
    }
    const line = toLine(decodeUtf8(msg, 0, end));
    const resource = this._resourceFor(line);
    if (resource === undefined) return;
    if (this._stopping) {
      this.counters.rejectedLines.shutting_down++;
      return;
    }
    const telemetry = newTelemetryBatch();
    this._translate(line, telemetry, Date.now() * 1000);
    // Nobody to make wait over UDP: a full pipeline loses the line, counted.
    if (!this._consume({ resource, telemetry })) {
      this.counters.rejectedLines.queue_full++;
      return;
    }
    this.counters.acceptedLines++;
    if (line.shape === 'raw') this.counters.rawLines++;
  }

  /** The resource of an allowed line, or undefined (counted) when it is not let in. */
  private _resourceFor(line: HerokuLine): Attributes | undefined {
    if (line.hostname !== '' && this._auth.hasTokens) {
      const resource = this._auth.drainFor(line.hostname);
      if (resource !== undefined) return resource;
    }
    if (this._anyResource !== undefined) return this._anyResource;
    this.counters.rejectedLines[line.hostname === '' ? 'unauthenticated' : 'unknown_token']++;
    return undefined;
  }

  private _translate(line: HerokuLine, batch: TelemetryBatch, observed: number): void {
    translateEvent(line, interpretLine(line), observed, batch, undefined);
  }
}
