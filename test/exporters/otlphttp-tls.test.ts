/**
 * The otlphttp exporter's client settings with real sockets: mutual TLS to a local HTTPS OTLP
 * backend with certificates made by openssl here (no public CA), a proxy it must go through, and
 * the auth extensions' headers arriving at the backend. What the backend got is decoded as OTLP
 * with opentelemetry-proto's generated code. No secret may appear in an error or a log line.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { factoryOf } from '../../src/components.ts';
import { otlphttpConfigSchema } from '../../src/exporters/otlphttp/config.ts';
import { otlpHttpAliasFactory, otlphttpFactory } from '../../src/exporters/otlphttp/factory.ts';
import type { Exporter, ExportResult } from '../../src/exporters/exporter.ts';
import { bodyToTelemetry } from '../../src/receivers/logplex/body.ts';
import type { Extension, Host } from '../../src/service/component.ts';
import { drainResource } from '../../src/translate/resource.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { startSidecar } from '../support/sidecar.ts';
import { HttpsOtlpServer, makeTlsFixture, TestProxy, type TlsFixture } from '../support/tls-fixture.ts';
import { until } from '../support/wait.ts';

const CAPTURE = readFileSync(new URL('../../examples/captures/mixed.logplex', import.meta.url));
const { telemetry } = bodyToTelemetry(CAPTURE, 1_714_564_800_000_000);
const batch = { resource: drainResource({ 'service.name': 'shop-web', 'heroku.app.name': 'shop' }), logs: telemetry.logs, metrics: [] };

/** Secrets the tests configure: none may appear in an error or a log line. */
const SECRETS = ['s3cr3t-b4sic-pw', 'proxy-pa55word', 'tok-3f9a1c77e2', 'tok-rotated-88b1', 'api-key-77aa01'];

let certs: TlsFixture;
beforeAll(async () => {
  certs = await makeTlsFixture();
}, 60_000);

const cleanups: Array<() => Promise<void>> = [];
const logs: string[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const secret of SECRETS) expect(logs.join('\n')).not.toContain(secret);
  logs.length = 0;
});

/**
 * An otlphttp exporter made as the service makes it: by its factory, with these extensions
 * running (made by theirs, started), so `auth.authenticator` resolves as in a real config.
 */
async function exporterWith(settings: Record<string, unknown>, extensions: Record<string, Record<string, unknown>> = {}, type = 'otlphttp'): Promise<Exporter> {
  const running = new Map<string, Extension>();
  const host: Host = { log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })), extension: (id) => running.get(id) };
  for (const [id, config] of Object.entries(extensions)) {
    const factory = factoryOf('extensions', id.split('/')[0]!)!;
    running.set(id, factory.create(id, factory.configSchema.parse(config), host));
  }
  for (const extension of running.values()) await extension.start();
  const factory = type === 'otlphttp' ? otlphttpFactory : otlpHttpAliasFactory;
  const { exporter } = factory.create(type, otlphttpConfigSchema.parse({ compression: 'none', ...settings }), host);
  cleanups.push(async () => {
    await exporter.shutdown();
    for (const extension of running.values()) await extension.shutdown();
  });
  return exporter;
}

async function httpsBackend(options: { cert?: string; key?: string; clientCa?: string } = {}): Promise<HttpsOtlpServer> {
  const server = new HttpsOtlpServer({ cert: options.cert ?? certs.serverCert, key: options.key ?? certs.serverKey, ...(options.clientCa !== undefined ? { clientCa: options.clientCa } : {}) });
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

function expectNoSecret(result: ExportResult): void {
  const text = JSON.stringify(result);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

const mtls = () => ({ ca_file: certs.caFile, cert_file: certs.clientCert, key_file: certs.clientKey });

describe('otlphttp over TLS', () => {
  it('exports over mutual TLS to a backend that requires a client certificate from our CA: the body is real OTLP', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: mtls() });
    expect(await exporter.export(batch)).toMatchObject({ ok: true, status: 200 });
    expect(backend.requests).toHaveLength(1);
    expect(backend.requests[0]!.clientCn).toBe('exporter-one');
    const records = backend.logRecords();
    expect(records).toHaveLength(telemetry.logs.length);
    expect(records[0].eventName).toBe('heroku.router.request');
    expect(backend.requests[0]!.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
  });

  it('takes the same material inline (ca_pem, cert_pem, key_pem), and as otlp_http', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const pem = (f: string) => readFileSync(f, 'utf8');
    const exporter = await exporterWith({ endpoint: `https://127.0.0.1:${backend.port}`, tls: { ca_pem: pem(certs.caFile), cert_pem: pem(certs.clientCert), key_pem: pem(certs.clientKey) } }, {}, 'otlp_http');
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests[0]!.clientCn).toBe('exporter-one');
  });

  it('says in words what to set when the backend is signed by a CA it does not trust, and calls it retryable', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: { ...mtls(), ca_file: certs.otherCaFile }, timeout: '5s' });
    const result = await exporter.export(batch);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((result as { error: string }).error).toMatch(/^TLS: the backend's certificate is not signed by a CA this exporter trusts \(set tls\.ca_file to its CA\) \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN): /);
    expect(backend.requests).toHaveLength(0);
  });

  it('says the backend wanted a client certificate when none is configured', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: { ca_file: certs.caFile }, timeout: '5s' });
    const result = await exporter.export(batch);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((result as { error: string }).error).toContain("TLS: the backend refused this exporter's client certificate, or wanted one (tls.cert_file, tls.key_file)");
  });

  it('with insecure_skip_verify, sends to a backend whose CA it was not given', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: { cert_file: certs.clientCert, key_file: certs.clientKey, insecure_skip_verify: true } });
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.logRecords()).toHaveLength(telemetry.logs.length);
  });

  it('checks the name server_name_override gives (and sends it as SNI) instead of the endpoint host', async () => {
    const backend = await httpsBackend({ cert: certs.namedCert, key: certs.namedKey });
    const without = await exporterWith({ endpoint: `https://127.0.0.1:${backend.port}`, tls: { ca_file: certs.caFile }, timeout: '5s' });
    const refused = await without.export(batch);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect((refused as { error: string }).error).toContain("TLS: the backend's certificate does not name the endpoint's host (tls.server_name_override sets the name checked) (ERR_TLS_CERT_ALTNAME_INVALID");
    const named = await exporterWith({ endpoint: `https://127.0.0.1:${backend.port}`, tls: { ca_file: certs.caFile, server_name_override: 'otlp.internal.test' } });
    expect(await named.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests).toHaveLength(1);
  });

  it('reads cert_file and key_file again after reload_interval: new connections show the new client certificate', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const dir = mkdtempSync(join(tmpdir(), 'hod-reload-'));
    const cert = join(dir, 'client.pem');
    const key = join(dir, 'client.key');
    copyFileSync(certs.clientCert, cert);
    copyFileSync(certs.clientKey, key);
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: { ca_file: certs.caFile, cert_file: cert, key_file: key, reload_interval: '50ms' } });
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests.at(-1)!.clientCn).toBe('exporter-one');
    copyFileSync(certs.clientCert2, cert);
    copyFileSync(certs.clientKey2, key);
    await until(async () => (await exporter.export(batch)).ok && backend.requests.at(-1)!.clientCn === 'exporter-two', { timeoutMs: 10_000, what: 'a request with the new client certificate' });
    // Files unchanged since: later intervals read them and keep the connections.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 60));
      expect(await exporter.export(batch)).toMatchObject({ ok: true });
    }
    expect(logs.filter((l) => l.includes('client certificate reloaded'))).toHaveLength(1);
    expect(backend.requests.at(-1)!.clientCn).toBe('exporter-two');
  });

  it('keeps the client certificate in use when the new files do not go together, and says why', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const dir = mkdtempSync(join(tmpdir(), 'hod-reload-bad-'));
    const cert = join(dir, 'client.pem');
    const key = join(dir, 'client.key');
    copyFileSync(certs.clientCert, cert);
    copyFileSync(certs.clientKey, key);
    const exporter = await exporterWith({ endpoint: `https://localhost:${backend.port}`, tls: { ca_file: certs.caFile, cert_file: cert, key_file: key, reload_interval: '20ms' } });
    copyFileSync(certs.clientCert2, cert);
    // Each export is a chance to reload once the interval has passed.
    await until(async () => (await exporter.export(batch)).ok && logs.some((l) => l.includes('client certificate not reloaded')), { timeoutMs: 10_000, what: 'the reload warning' });
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests.at(-1)!.clientCn).toBe('exporter-one');
    expect(logs.find((l) => l.includes('client certificate not reloaded'))).toContain(`exporters.otlphttp.tls.cert_file: the certificate does not belong to the private key of key_file`);
  });
});

describe('otlphttp through proxy_url', () => {
  it('tunnels https:// endpoints with CONNECT and forwards http:// ones, with the proxy credentials only for the proxy', async () => {
    const proxy = new TestProxy({ username: 'egress', password: 'proxy-pa55word' });
    const address = await proxy.start();
    cleanups.push(() => proxy.stop());
    const secure = await httpsBackend({ clientCa: certs.caFile });
    const viaTunnel = await exporterWith({ endpoint: `https://localhost:${secure.port}`, tls: mtls(), proxy_url: `http://egress:proxy-pa55word@${address}` });
    expect(await viaTunnel.export(batch)).toMatchObject({ ok: true });
    expect(proxy.tunnels).toEqual([`localhost:${secure.port}`]);
    expect(secure.requests[0]!.clientCn).toBe('exporter-one');
    expect(secure.requests[0]!.headers['proxy-authorization']).toBeUndefined();

    const plain = new OtlpTestServer();
    const url = await plain.start();
    cleanups.push(() => plain.stop());
    const forwarded = await exporterWith({ endpoint: url, proxy_url: `http://egress:proxy-pa55word@${address}` });
    expect(await forwarded.export(batch)).toMatchObject({ ok: true });
    expect(proxy.forwarded).toEqual([`${url}/v1/logs`]);
    expect(plain.logRecords()).toHaveLength(telemetry.logs.length);
    expect(plain.requests[0]!.headers['proxy-authorization']).toBeUndefined();
  });

  it('a proxy that refuses the credentials is a retryable error that never shows them', async () => {
    const proxy = new TestProxy({ username: 'egress', password: 'another-password' });
    const address = await proxy.start();
    cleanups.push(() => proxy.stop());
    const secure = await httpsBackend();
    const exporter = await exporterWith({ endpoint: `https://localhost:${secure.port}`, tls: { ca_file: certs.caFile }, proxy_url: `http://egress:proxy-pa55word@${address}`, timeout: '5s' });
    const result = await exporter.export(batch);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((result as { error: string }).error).toContain('proxy_url:');
    expect((result as { error: string }).error).toContain('407');
    expectNoSecret(result);
    expect(proxy.refused).toBe(1);
    expect(secure.requests).toHaveLength(0);
  });
});

describe('otlphttp auth through extensions', () => {
  it('basicauth with client_auth signs every request; a backend error echoing it is masked', async () => {
    const backend = await httpsBackend();
    const exporter = await exporterWith(
      { endpoint: `https://localhost:${backend.port}`, tls: { ca_file: certs.caFile }, auth: { authenticator: 'basicauth/client' } },
      { 'basicauth/client': { client_auth: { username: 'shop', password: 's3cr3t-b4sic-pw' } } },
    );
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('shop:s3cr3t-b4sic-pw').toString('base64')}`);

    const plain = new OtlpTestServer();
    const url = await plain.start();
    cleanups.push(() => plain.stop());
    const echoed = await exporterWith({ endpoint: url, auth: { authenticator: 'basicauth/client' } }, { 'basicauth/client': { client_auth: { username: 'shop', password: 's3cr3t-b4sic-pw' } } });
    plain.script = [{ status: 400, body: `invalid credentials: Basic ${Buffer.from('shop:s3cr3t-b4sic-pw').toString('base64')}` }];
    const refused = await echoed.export(batch);
    expect(refused).toMatchObject({ ok: false, retryable: false });
    expect((refused as { error: string }).error).toContain('[REDACTED]');
    expect((refused as { error: string }).error).not.toContain(Buffer.from('shop:s3cr3t-b4sic-pw').toString('base64'));
  });

  it('bearertokenauth sends "<scheme> <token>" in its header, over a configured Authorization', async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const exporter = await exporterWith({ endpoint: url, headers: { Authorization: 'Bearer old-configured' }, auth: { authenticator: 'bearertokenauth' } }, { bearertokenauth: { token: 'tok-3f9a1c77e2' } });
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests[0]!.headers.authorization).toBe('Bearer tok-3f9a1c77e2');
    const custom = await exporterWith({ endpoint: url, auth: { authenticator: 'bearertokenauth/apikey' } }, { 'bearertokenauth/apikey': { token: 'api-key-77aa01', scheme: '', header: 'X-Api-Key' } });
    expect(await custom.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests[1]!.headers['x-api-key']).toBe('api-key-77aa01');
    backend.script = [{ status: 401, body: 'token tok-3f9a1c77e2 expired' }];
    const refused = await exporter.export(batch);
    expect((refused as { error: string }).error).toBe('401 token [REDACTED] expired');
  });

  it('bearertokenauth with filename sends what the file holds now, read again when it changes', async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const dir = mkdtempSync(join(tmpdir(), 'hod-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'tok-3f9a1c77e2\n');
    const exporter = await exporterWith({ endpoint: url, auth: { authenticator: 'bearertokenauth' } }, { bearertokenauth: { filename: file } });
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    expect(backend.requests.at(-1)!.headers.authorization).toBe('Bearer tok-3f9a1c77e2');
    // Rotated as Kubernetes and editors do: a new file renamed over the old one.
    writeFileSync(`${file}.new`, 'tok-rotated-88b1\n');
    renameSync(`${file}.new`, file);
    await until(async () => (await exporter.export(batch)).ok && backend.requests.at(-1)!.headers.authorization === 'Bearer tok-rotated-88b1', { timeoutMs: 10_000, what: 'the rotated token' });
  });

  it('headers_setter sets, inserts, updates and deletes headers, from values and the batch resource, after its additional_auth', async () => {
    const backend = new OtlpTestServer();
    const url = await backend.start();
    cleanups.push(() => backend.stop());
    const exporter = await exporterWith(
      { endpoint: url, headers: { 'X-Debug': 'on', 'X-Env': 'configured' }, auth: { authenticator: 'headers_setter' } },
      {
        bearertokenauth: { token: 'tok-3f9a1c77e2' },
        headers_setter: {
          additional_auth: 'bearertokenauth',
          headers: [
            { key: 'X-Scope-OrgID', from_context: 'heroku.app.name' },
            { key: 'X-Region', from_context: 'cloud.region', default_value: 'unknown-region' },
            { key: 'X-Env', value: 'from-setter', action: 'insert' },
            { key: 'X-Missing', value: 'never', action: 'update' },
            { key: 'X-Tenant', value: 'tenant-7' },
            { key: 'X-Debug', action: 'delete' },
          ],
        },
      },
    );
    expect(await exporter.export(batch)).toMatchObject({ ok: true });
    const headers = backend.requests[0]!.headers;
    expect(headers.authorization).toBe('Bearer tok-3f9a1c77e2');
    expect(headers['x-scope-orgid']).toBe('shop');
    expect(headers['x-region']).toBe('unknown-region');
    expect(headers['x-env']).toBe('configured');
    expect(headers['x-missing']).toBeUndefined();
    expect(headers['x-tenant']).toBe('tenant-7');
    expect(headers['x-debug']).toBeUndefined();
    // Another drain's batch: its own resource.
    expect(await exporter.export({ ...batch, resource: drainResource({ 'service.name': 'api', 'heroku.app.name': 'api-prod' }) })).toMatchObject({ ok: true });
    expect(backend.requests[1]!.headers['x-scope-orgid']).toBe('api-prod');
  });
});

describe('otlphttp TLS in the sidecar process', () => {
  it('retries an untrusted backend on its schedule, logging what to set, and never the credentials', async () => {
    const backend = await httpsBackend({ clientCa: certs.caFile });
    const dir = mkdtempSync(join(tmpdir(), 'hod-tls-retry-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `receivers:\n  logplex: { endpoint: 127.0.0.1:0, accept_any_drain: true }\n` +
        `exporters:\n  otlphttp:\n    endpoint: https://localhost:${backend.port}\n    headers: { Authorization: "Bearer tok-3f9a1c77e2" }\n` +
        `    tls: { ca_file: ${JSON.stringify(certs.otherCaFile)}, cert_file: ${JSON.stringify(certs.clientCert)}, key_file: ${JSON.stringify(certs.clientKey)} }\n` +
        `    retry_on_failure: { initial_interval: 50ms, max_interval: 100ms }\n` +
        `service:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [otlphttp] }\n`,
    );
    const sidecar = await startSidecar(['start', '--config', config], {});
    cleanups.push(async () => {
      sidecar.proc.kill('SIGKILL');
      await sidecar.exited;
    });
    const line = '<190>1 2024-05-01T12:00:00.000002+00:00 host app web.1 - over an untrusted backend';
    const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body: `${Buffer.byteLength(line)} ${line}`, headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '1' } });
    expect(res.status).toBe(200);
    await until(() => backend.tlsErrors >= 3, { timeoutMs: 15_000, what: 'three handshakes refused: retried' });
    await until(() => sidecar.stderr().includes("failed: TLS: the backend's certificate is not signed by a CA this exporter trusts (set tls.ca_file to its CA)"), { timeoutMs: 15_000 });
    expect(backend.requests).toHaveLength(0);
    expect(sidecar.stderr()).not.toContain('tok-3f9a1c77e2');
  });
});

describe('otlphttp TLS at start', () => {
  it('a certificate file gone between validate and start stops the start, naming the key and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-tls-start-'));
    const key = join(dir, 'client.key');
    copyFileSync(certs.clientKey, key);
    const config = otlphttpConfigSchema.parse({ endpoint: 'https://localhost:4318', tls: { ca_file: certs.caFile, cert_file: certs.clientCert, key_file: key } });
    rmSync(key);
    const host: Host = { log: () => {}, extension: () => undefined };
    expect(() => otlphttpFactory.create('otlphttp/eu', config, host)).toThrow(`exporters.otlphttp/eu.tls.key_file: cannot read ${JSON.stringify(key)}: no such file`);
  });
});
