/**
 * The logplex receiver serving HTTPS itself (off Heroku), with certificates made by openssl here:
 * a drain POST over TLS to the real sidecar process arrives at a local HTTPS OTLP backend over
 * mutual TLS; a SIGHUP after the certificate files are swapped makes new connections see the new
 * certificate, and a bad swap keeps the old one and says why. `auth` through the basicauth
 * extension answers 200 to good credentials and 401 to bad ones. No secret reaches the log.
 */
import bcrypt from 'bcryptjs';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Agent, request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BasicAuthServer } from '../../src/extensions/basicauth/extension.ts';
import { basicAuthConfigSchema } from '../../src/extensions/basicauth/config.ts';
import { logplexConfigSchema } from '../../src/receivers/logplex/config.ts';
import { LogplexReceiver, type ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { HttpsOtlpServer, makeTlsFixture, type TlsFixture } from '../support/tls-fixture.ts';
import { until } from '../support/wait.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const DRAIN_PASSWORD = 's3cr3t-drain-pw';
const FILE_PASSWORD = 'f1le-drain-pw';
const EXPORT_TOKEN = 'tok-export-5a5a';
const SECRETS = [DRAIN_PASSWORD, FILE_PASSWORD, EXPORT_TOKEN, TOKEN];

function frame(msg: string): string {
  return `${Buffer.byteLength(msg) + 1} ${msg}\n`;
}
const line = (text: string) => frame(`<190>1 2024-05-01T12:00:00.000002+00:00 host app web.1 - ${text}`);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let certs: TlsFixture;
beforeAll(async () => {
  certs = await makeTlsFixture();
}, 60_000);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A POST over a new TLS connection that trusts `ca` (and shows a client certificate when given). */
async function post(port: number, ca: string, body: string, headers: Record<string, string>, client?: { cert: string; key: string }): Promise<number> {
  const agent = new Agent({ connect: { ca: readFileSync(ca), servername: 'localhost', ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}) } });
  try {
    const res = await request(`https://127.0.0.1:${port}/logs`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '1', 'logplex-drain-token': TOKEN, ...headers },
      dispatcher: agent,
    });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

/** The certificate a new TLS connection is shown, trusting `ca`; rejects when it does not verify. */
function peerCertificate(port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca) });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('the sidecar process with an HTTPS logplex receiver', () => {
  it('takes a drain over its own TLS behind basicauth, exports over mutual TLS, and reloads its certificate on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-logplex-tls-'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `filed:${bcrypt.hashSync(FILE_PASSWORD, 5).replace(/^\$2b\$/, '$2y$')}\n`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${EXPORT_TOKEN}\n`);
    const backend = new HttpsOtlpServer({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.caFile });
    const backendPort = await backend.start();
    cleanups.push(() => backend.stop());
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `
extensions:
  basicauth/drains:
    htpasswd:
      file: ${JSON.stringify(htpasswd)}
      inline: |
        logplex:\${env:DRAIN_PASSWORD}
  bearertokenauth:
    filename: ${JSON.stringify(tokenFile)}
  headers_setter:
    additional_auth: bearertokenauth
    headers:
      - { key: X-Scope-OrgID, from_context: service.name }
receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "\${env:DRAIN_TOKEN}", resource: { service.name: shop-web } } ]
    auth: { authenticator: basicauth/drains }
    tls: { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)} }
exporters:
  otlp_http/backend:
    endpoint: https://localhost:${backendPort}
    compression: none
    tls: { ca_file: ${JSON.stringify(certs.caFile)}, cert_file: ${JSON.stringify(certs.clientCert)}, key_file: ${JSON.stringify(certs.clientKey)} }
    auth: { authenticator: headers_setter }
service:
  extensions: [basicauth/drains, bearertokenauth, headers_setter]
  pipelines:
    logs: { receivers: [logplex], exporters: [otlp_http/backend] }
`,
    );
    const sidecar: RunningSidecar = await startSidecar(['start', '--config', config], { DRAIN_TOKEN: TOKEN, DRAIN_PASSWORD });
    cleanups.push(async () => {
      sidecar.proc.kill('SIGKILL');
      await sidecar.exited;
    });
    expect(sidecar.stderr()).toContain(`"logplex: serving HTTPS with ${cert}"`);
    expect(sidecar.stderr()).toMatch(/"logplex: listening on 127\.0\.0\.1:\d+ \(https\)"/);
    const port = sidecar.port;

    expect(await post(port, certs.caFile, line('over tls, inline user'), { authorization: basic('logplex', DRAIN_PASSWORD) })).toBe(200);
    expect(await post(port, certs.caFile, line('over tls, file user'), { authorization: basic('filed', FILE_PASSWORD) })).toBe(200);
    expect(await post(port, certs.caFile, line('wrong password'), { authorization: basic('logplex', 'wrong-password') })).toBe(401);
    expect(await post(port, certs.caFile, line('no credentials'), {})).toBe(401);
    await until(() => backend.logRecords().length === 2, { timeoutMs: 15_000, what: 'two records at the backend' });
    expect(backend.logRecords().map((r: any) => r.body.stringValue).sort()).toEqual(['over tls, file user', 'over tls, inline user']);
    const sent = backend.requests[0]!;
    expect(sent.clientCn).toBe('exporter-one');
    expect(sent.headers.authorization).toBe(`Bearer ${EXPORT_TOKEN}`);
    expect(sent.headers['x-scope-orgid']).toBe('shop-web');
    expect(sent.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });

    // A renewed certificate from another CA: new connections get it after SIGHUP.
    expect((await peerCertificate(port, certs.caFile)).issuer.CN).toBe('heroku-otel-drain test CA');
    copyFileSync(certs.serverCert2, cert);
    copyFileSync(certs.serverKey2, key);
    sidecar.proc.kill('SIGHUP');
    await until(() => sidecar.stderr().includes('TLS certificate reloaded'), { timeoutMs: 10_000 });
    expect((await peerCertificate(port, certs.ca2File)).issuer.CN).toBe('heroku-otel-drain test CA two');
    await expect(peerCertificate(port, certs.caFile)).rejects.toThrow();
    expect(await post(port, certs.ca2File, line('on the renewed certificate'), { authorization: basic('logplex', DRAIN_PASSWORD) })).toBe(200);

    // A half-done swap (a key that is not the certificate's) keeps the certificate in use.
    copyFileSync(certs.serverKey, key);
    sidecar.proc.kill('SIGHUP');
    await until(() => sidecar.stderr().includes('TLS certificate reload failed'), { timeoutMs: 10_000 });
    const failure = sidecar.logLines().find((l) => String(l.msg).includes('TLS certificate reload failed'))!;
    expect(failure).toMatchObject({ level: 'error', msg: 'TLS certificate reload failed; the previous one stays in use', error: 'receivers.logplex.tls.cert_file: the certificate does not belong to the private key of key_file' });
    expect((await peerCertificate(port, certs.ca2File)).issuer.CN).toBe('heroku-otel-drain test CA two');
    await until(() => backend.logRecords().length === 3, { timeoutMs: 15_000, what: 'the record sent on the renewed certificate' });

    sidecar.proc.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    for (const secret of SECRETS) expect(sidecar.stderr()).not.toContain(secret);
    expect(sidecar.stderr()).toContain('401');
  }, 60_000);

  it('does not start when a certificate file cannot be read, naming the key and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-logplex-tls-missing-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `receivers:\n  logplex: { endpoint: 127.0.0.1:0, drains: [ { token: ${TOKEN} } ], tls: { cert_file: ${JSON.stringify(certs.serverCert)}, key_file: ${JSON.stringify(join(dir, 'gone.key'))} } }\n` +
        'exporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug] }\n',
    );
    await expect(startSidecar(['start', '--config', config], {})).rejects.toThrow(`receivers.logplex.tls.key_file: cannot read ${JSON.stringify(join(dir, 'gone.key'))}: no such file`);
  });
});

describe('logplex receiver tls and auth in process', () => {
  async function start(settings: Record<string, unknown>, authenticator?: BasicAuthServer) {
    const got: ReceivedBatch[] = [];
    const logs: string[] = [];
    const receiver = new LogplexReceiver(
      logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', drains: [{ token: TOKEN }], ...settings }),
      (b) => (got.push(b), true),
      (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
      undefined,
      () => true,
      authenticator !== undefined ? { authenticator } : {},
    );
    await receiver.start();
    cleanups.push(() => receiver.shutdown());
    return { receiver, got, logs, port: receiver.address.port };
  }

  it('a key file gone between validate and start stops the start, naming the key and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-logplex-start-'));
    const key = join(dir, 'tls.key');
    copyFileSync(certs.serverKey, key);
    const config = logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', drains: [{ token: TOKEN }], tls: { cert_file: certs.serverCert, key_file: key } });
    rmSync(key);
    const receiver = new LogplexReceiver(config, () => true, () => {}, undefined, () => true, { id: 'logplex/edge' });
    await expect(receiver.start()).rejects.toThrow(`receivers.logplex/edge.tls.key_file: cannot read ${JSON.stringify(key)}: no such file`);
  });

  it('with client_ca_file, lets in only drains showing a certificate from that CA', async () => {
    const { receiver, got, port } = await start({ tls: { cert_file: certs.serverCert, key_file: certs.serverKey, client_ca_file: certs.caFile } });
    expect(receiver.listening()).toEqual([{ transport: 'https', host: '127.0.0.1', port }]);
    expect(await post(port, certs.caFile, line('with a client certificate'), {}, { cert: certs.clientCert, key: certs.clientKey })).toBe(200);
    await expect(post(port, certs.caFile, line('without one'), {})).rejects.toThrow();
    expect(got.flatMap((b) => b.telemetry.logs.map((r) => r.body))).toEqual(['with a client certificate']);
    await until(() => receiver.counters.rejectedConnections.tls_handshake >= 1, { what: 'the refused handshake counted' });
  });

  it('with auth, answers 401 to bad credentials and 200 to good ones (bcrypt checked off the event loop), the status page too', async () => {
    const authenticator = new BasicAuthServer('basicauth', basicAuthConfigSchema.parse({ htpasswd: { inline: `logplex:${bcrypt.hashSync(DRAIN_PASSWORD, 5)}` } }).htpasswd!, () => {});
    await authenticator.start();
    const { receiver, got, logs, port } = await start({ auth: { authenticator: 'basicauth' }, tls: { cert_file: certs.serverCert, key_file: certs.serverKey } }, authenticator);
    receiver.serveStatusPage({ path: '/status', render: () => '<p>status</p>' });
    expect(await post(port, certs.caFile, line('bad'), { authorization: basic('logplex', 'nope') })).toBe(401);
    expect(await post(port, certs.caFile, line('good'), { authorization: basic('logplex', DRAIN_PASSWORD) })).toBe(200);
    expect(await post(port, certs.caFile, line('good again'), { authorization: basic('logplex', DRAIN_PASSWORD) })).toBe(200);
    expect(got.flatMap((b) => b.telemetry.logs.map((r) => r.body))).toEqual(['good', 'good again']);
    expect(receiver.counters.rejectedRequests.unauthenticated).toBe(1);
    const agent = new Agent({ connect: { ca: readFileSync(certs.caFile), servername: 'localhost' } });
    cleanups.push(() => agent.close());
    const page = (authorization?: string) => request(`https://127.0.0.1:${port}/status`, { dispatcher: agent, headers: authorization ? { authorization } : {} }).then(async (r) => (await r.body.dump(), r.statusCode));
    expect(await page()).toBe(401);
    expect(await page(basic('logplex', DRAIN_PASSWORD))).toBe(200);
    for (const secret of SECRETS) expect(logs.join('\n')).not.toContain(secret);
  });
});
