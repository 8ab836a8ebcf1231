/**
 * TLS material and peers for tests, made here with the real `openssl` CLI (no public CA): a
 * private CA signing a server certificate (localhost, 127.0.0.1 and `otlp.internal.test`) and a
 * client certificate, another CA that signed nothing we serve, and a server certificate for
 * `otlp.internal.test` only. Plus a local HTTPS OTLP backend that asks for client certificates,
 * and a forward / CONNECT proxy that counts what went through it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { decodeOtlpBody, type ReceivedRequest } from './otlp-server.ts';

const run = promisify(execFile);

export interface TlsFixture {
  dir: string;
  caFile: string;
  /** A CA that signed nothing here: trusting it alone must fail. */
  otherCaFile: string;
  /** For localhost, 127.0.0.1 and otlp.internal.test. */
  serverCert: string;
  serverKey: string;
  /** For otlp.internal.test only: reached as 127.0.0.1, it needs server_name_override. */
  namedCert: string;
  namedKey: string;
  /** CN=exporter-one, for mutual TLS. */
  clientCert: string;
  clientKey: string;
  /** CN=exporter-two, signed by the same CA. */
  clientCert2: string;
  clientKey2: string;
  /** A second server certificate for localhost, from a second CA (a renewal with another chain). */
  ca2File: string;
  serverCert2: string;
  serverKey2: string;
}

/** Makes the fixture in a fresh directory; EC P-256 keys (fast to make). */
export async function makeTlsFixture(): Promise<TlsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-tls-fixture-'));
  const p = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => run('openssl', args, { timeout: 60_000 });
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(name));
  const ca = async (name: string, cn: string) => {
    await key(`${name}.key`);
    await openssl('req', '-x509', '-new', '-key', p(`${name}.key`), '-out', p(`${name}.pem`), '-days', '2', '-subj', `/CN=${cn}`);
  };
  const leaf = async (name: string, cn: string, caName: string, ext: string) => {
    await key(`${name}.key`);
    await openssl('req', '-new', '-key', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(p(`${name}.ext`), ext);
    // A serial of its own: -CAcreateserial's shared serial file breaks when leaves are signed at once.
    await openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`), '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`));
  };
  await Promise.all([ca('ca', 'heroku-otel-drain test CA'), ca('other-ca', 'a CA nobody uses'), ca('ca2', 'heroku-otel-drain test CA two')]);
  const serverExt = (names: string) => `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`;
  await Promise.all([
    leaf('server', 'localhost', 'ca', serverExt('DNS:localhost,IP:127.0.0.1,DNS:otlp.internal.test')),
    leaf('named', 'otlp.internal.test', 'ca', serverExt('DNS:otlp.internal.test')),
    leaf('client', 'exporter-one', 'ca', 'extendedKeyUsage=clientAuth\n'),
    leaf('client2', 'exporter-two', 'ca', 'extendedKeyUsage=clientAuth\n'),
    leaf('server2', 'localhost', 'ca2', serverExt('DNS:localhost,IP:127.0.0.1')),
  ]);
  return {
    dir,
    caFile: p('ca.pem'),
    otherCaFile: p('other-ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    namedCert: p('named.pem'),
    namedKey: p('named.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    clientCert2: p('client2.pem'),
    clientKey2: p('client2.key'),
    ca2File: p('ca2.pem'),
    serverCert2: p('server2.pem'),
    serverKey2: p('server2.key'),
  };
}

/** A request an HTTPS backend took, with the client certificate's CN when one was shown. */
export interface TlsReceivedRequest extends ReceivedRequest {
  clientCn: string | undefined;
}

/**
 * A local OTLP/HTTP backend over HTTPS: with `clientCa`, it asks for a client certificate and
 * refuses a connection without one signed by that CA (requestCert, rejectUnauthorized). Bodies
 * are decoded as OTLP with opentelemetry-proto's generated code (decodeOtlpBody).
 */
export class HttpsOtlpServer {
  readonly requests: TlsReceivedRequest[] = [];
  /** Handshakes refused (a client without an acceptable certificate, an untrusting client). */
  tlsErrors = 0;
  private _server: Server | undefined;
  private readonly _options: { cert: string; key: string; clientCa?: string };

  constructor(options: { cert: string; key: string; clientCa?: string }) {
    this._options = options;
  }

  async start(): Promise<number> {
    const { cert, key, clientCa } = this._options;
    const server = createHttpsServer(
      { cert: readFileSync(cert), key: readFileSync(key), ...(clientCa !== undefined ? { ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: true } : {}) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const path = req.url === '/v1/logs' ? '/v1/logs' : '/v1/metrics';
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          this.requests.push({ path: req.url ?? '', headers: req.headers, body: decodeOtlpBody(path, req.headers, Buffer.concat(chunks)), clientCn: peer?.subject?.CN as string | undefined });
          res.writeHead(200, { 'content-type': String(req.headers['content-type']) });
          res.end(String(req.headers['content-type']).includes('json') ? '{}' : '');
        });
      },
    );
    server.on('tlsClientError', () => this.tlsErrors++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this._server = server;
    return this.port;
  }

  get port(): number {
    return (this._server!.address() as AddressInfo).port;
  }

  /** Every log record received, in order. */
  logRecords(): any[] {
    return this.requests.filter((r) => r.path === '/v1/logs').flatMap((r) => r.body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords)));
  }

  async stop(): Promise<void> {
    const server = this._server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A forward proxy (absolute-URI requests, for http:// targets) and CONNECT tunnel (for https://),
 * as Squid or Go's http.ProxyURL expect; it counts what went through it and, with `credentials`,
 * answers 407 to a request without that Proxy-Authorization.
 */
export class TestProxy {
  /** CONNECT tunnels opened, by target (host:port). */
  readonly tunnels: string[] = [];
  /** Forwarded requests, by absolute URL. */
  readonly forwarded: string[] = [];
  /** Proxy-Authorization headers seen (to check they never reach the backend instead). */
  readonly proxyAuthorizations: string[] = [];
  refused = 0;
  private _server: Server | undefined;
  private readonly _sockets = new Set<Socket>();
  private readonly _credentials: { username: string; password: string } | undefined;

  constructor(credentials?: { username: string; password: string }) {
    this._credentials = credentials;
  }

  private _allowed(req: IncomingMessage): boolean {
    const header = req.headers['proxy-authorization'];
    if (header !== undefined) this.proxyAuthorizations.push(header);
    if (this._credentials === undefined) return true;
    const expected = `Basic ${Buffer.from(`${this._credentials.username}:${this._credentials.password}`).toString('base64')}`;
    if (header === expected) return true;
    this.refused++;
    return false;
  }

  async start(): Promise<string> {
    const server = createHttpServer((req, res) => {
      if (!this._allowed(req)) {
        res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"' }).end();
        return;
      }
      const target = new URL(req.url ?? '');
      this.forwarded.push(target.toString());
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      delete headers['proxy-connection'];
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      if (!this._allowed(req)) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test proxy"\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      this.tunnels.push(req.url ?? '');
      const upstream = connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this._sockets.add(upstream).add(client);
      const done = () => {
        upstream.destroy();
        client.destroy();
      };
      upstream.on('error', done).on('close', done);
      client.on('error', done).on('close', done);
    });
    server.on('connection', (s: Socket) => this._sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this._server = server;
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this._sockets) s.destroy();
    const server = this._server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
