/**
 * validate on the Collector's client and server settings: exporter `tls`, `proxy_url` and
 * `auth`, the logplex receiver's `tls` and `auth`, and the auth extensions. Every problem names
 * its key path and the file it could not use; none quotes a password, a token or a key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, validateConfig } from '../../src/config/load.ts';
import { makeTlsFixture, type TlsFixture } from '../support/tls-fixture.ts';

const SECRETS = ['s3cr3t-b4sic-pw', 'tok-3f9a1c77e2', 'proxy-pa55word'];

let certs: TlsFixture;
beforeAll(async () => {
  certs = await makeTlsFixture();
}, 60_000);

interface Parts {
  receivers?: Record<string, unknown>;
  exporters?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  serviceExtensions?: string[];
  telemetry?: Record<string, unknown>;
}

/** A config as a document: a logplex receiver and an otlphttp exporter, with parts replaced. */
function validate(parts: Parts) {
  const receivers = parts.receivers ?? { logplex: { drains: [{ token: 'd.x' }] } };
  const exporters = parts.exporters ?? { otlphttp: { endpoint: 'https://otlp.example.com' } };
  const document = {
    receivers,
    exporters,
    ...(parts.extensions !== undefined ? { extensions: parts.extensions } : {}),
    service: {
      ...(parts.serviceExtensions !== undefined ? { extensions: parts.serviceExtensions } : {}),
      ...(parts.telemetry !== undefined ? { telemetry: parts.telemetry } : {}),
      pipelines: { logs: { receivers: Object.keys(receivers), processors: [], exporters: Object.keys(exporters) } },
    },
  };
  const result = validateConfig(document, {});
  const text = [...result.problems, ...result.warnings].join('\n');
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  return result;
}

describe('exporter tls, proxy_url and auth', () => {
  it('accepts the Collector keys, under otlp_http/<name> too', () => {
    const { config, problems } = validate({
      exporters: {
        'otlp_http/grafana': {
          endpoint: 'https://otlp.example.com',
          tls: {
            ca_file: certs.caFile,
            cert_file: certs.clientCert,
            key_file: certs.clientKey,
            min_version: 1.3,
            max_version: '1.3',
            server_name_override: 'otlp.internal.test',
            include_system_ca_certs_pool: true,
            curve_preferences: ['X25519', 'P256'],
            reload_interval: '1h',
          },
          proxy_url: 'http://egress:proxy-pa55word@proxy.internal:3128',
          auth: { authenticator: 'bearertokenauth' },
        },
      },
      extensions: { bearertokenauth: { token: 'tok-3f9a1c77e2' } },
      serviceExtensions: ['bearertokenauth'],
    });
    expect(problems).toEqual([]);
    const exporter = config!.exporters.get('otlp_http/grafana')!;
    expect(exporter.type).toBe('otlp_http');
    expect(exporter.config).toMatchObject({ tls: { min_version: '1.3', insecure: false, insecure_skip_verify: false, reload_interval: 3_600_000 } });
  });

  it.each([
    ['a cert file that is not there', { ca_file: '/nonexistent/ca.pem' }, ['exporters.otlphttp.tls.ca_file: cannot read "/nonexistent/ca.pem": no such file']],
    ['an unknown tls key', { ca_flie: 'ca.pem' }, ['exporters.otlphttp.tls.ca_flie: unknown key']],
    ['a key the Collector has and we refuse', { cipher_suites: ['TLS_AES_128_GCM_SHA256'] }, [expect.stringMatching(/^exporters\.otlphttp\.tls\.cipher_suites: not supported here: Go's cipher suite names are not OpenSSL's/)]],
    ['a version that does not exist', { min_version: '1.4' }, ['exporters.otlphttp.tls.min_version: expected one of "1.0", "1.1", "1.2", "1.3", got "1.4"']],
    ['min_version above max_version', { min_version: '1.3', max_version: '1.2' }, ['exporters.otlphttp.tls.min_version: is newer than max_version (1.2)']],
    ['a file and its inline twin', { ca_file: 'x', ca_pem: 'y' }, expect.arrayContaining(['exporters.otlphttp.tls.ca_pem: set ca_file or ca_pem, not both'])],
  ])('names the key of %s', (_name, tls, expected) => {
    const { config, problems } = validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', tls } } });
    expect(problems).toEqual(expected);
    expect(config).toBeUndefined();
  });

  it('reads the files: a certificate without its key, one that is not the key\'s, a CA file with no certificate', () => {
    const notPem = join(certs.dir, 'not-a-cert.txt');
    writeFileSync(notPem, 'hello\n');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ cert_file: certs.clientCert }, 'exporters.otlphttp.tls.key_file: a client certificate needs both cert_file (or cert_pem) and key_file (or key_pem)'],
      [{ cert_file: certs.clientCert, key_file: certs.clientKey2 }, 'exporters.otlphttp.tls.cert_file: the certificate does not belong to the private key of key_file'],
      [{ ca_file: notPem }, `exporters.otlphttp.tls.ca_file: ${JSON.stringify(notPem)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`],
      [{ cert_file: certs.clientCert, key_file: certs.clientCert }, `exporters.otlphttp.tls.key_file: ${JSON.stringify(certs.clientCert)} holds no readable private key (PEM, without a passphrase)`],
    ];
    for (const [tls, problem] of cases) expect(validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', tls } } }).problems).toEqual([problem]);
  });

  it('leaves the files alone where the Collector would not use them: insecure without a CA', () => {
    expect(validate({ exporters: { otlphttp: { endpoint: 'http://collector:4318', tls: { insecure: true, cert_file: '/nonexistent/c.pem', key_file: '/nonexistent/c.key' } } } }).problems).toEqual([]);
  });

  it('never quotes a key given inline, even when it cannot be read', () => {
    const { problems } = validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', tls: { cert_pem: 'not a cert', key_pem: '-----BEGIN PRIVATE KEY-----\ns3cr3t-b4sic-pw\n-----END PRIVATE KEY-----\n' } } } });
    expect(problems).toEqual(['exporters.otlphttp.tls.cert_pem: cert_pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)', 'exporters.otlphttp.tls.key_pem: key_pem holds no readable private key (PEM, without a passphrase)']);
  });

  it('refuses a proxy_url that is not http(s) without quoting it', () => {
    expect(validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', proxy_url: 'socks5://egress:proxy-pa55word@proxy:1080' } } }).problems).toEqual([
      'exporters.otlphttp.proxy_url: expected an http:// or https:// proxy URL, got a socks5:// URL (not supported here)',
    ]);
    expect(validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', proxy_url: 'egress:proxy-pa55word@proxy:3128' } } }).problems).toEqual([
      'exporters.otlphttp.proxy_url: expected an http:// or https:// proxy URL, got a egress:// URL (not supported here)',
    ]);
  });

  it.each([
    ['an extension that is not defined', {}, [], 'exporters.otlphttp.auth.authenticator: extension "bearertokenauth" is not defined under extensions'],
    ['an extension not listed in service.extensions', { bearertokenauth: { token: 'tok-3f9a1c77e2' } }, [], 'exporters.otlphttp.auth.authenticator: extension "bearertokenauth" is not listed in service.extensions'],
  ])('refuses an exporter authenticator naming %s', (_name, extensions, serviceExtensions, problem) => {
    const { problems } = validate({ exporters: { otlphttp: { endpoint: 'https://otlp.example.com', auth: { authenticator: 'bearertokenauth' } } }, extensions, serviceExtensions });
    expect(problems).toEqual([problem]);
  });

  it('refuses an authenticator that does not authenticate that side', () => {
    const server = { htpasswd: { inline: 'shop:s3cr3t-b4sic-pw' } };
    const client = { client_auth: { username: 'shop', password: 's3cr3t-b4sic-pw' } };
    const { problems } = validate({
      receivers: { logplex: { endpoint: '0.0.0.0:8080', auth: { authenticator: 'basicauth/client' } }, 'logplex/other': { endpoint: '127.0.0.1:8081', auth: { authenticator: 'headers_setter' } } },
      exporters: { otlphttp: { endpoint: 'https://otlp.example.com', auth: { authenticator: 'basicauth/server' } } },
      extensions: { 'basicauth/server': server, 'basicauth/client': client, headers_setter: { headers: [{ key: 'X-Tenant', value: 'a' }], additional_auth: 'basicauth/server' } },
      serviceExtensions: ['basicauth/server', 'basicauth/client', 'headers_setter'],
    });
    expect(problems).toEqual([
      `exporters.otlphttp.auth.authenticator: extension "basicauth/server" (basicauth) does not authenticate an exporter's requests (basicauth with client_auth, bearertokenauth, headers_setter)`,
      `receivers.logplex.auth.authenticator: extension "basicauth/client" (basicauth) does not authenticate a receiver's requests (basicauth with htpasswd, bearertokenauth)`,
      `receivers.logplex/other.auth.authenticator: extension "headers_setter" (headers_setter) does not authenticate a receiver's requests (basicauth with htpasswd, bearertokenauth)`,
      `extensions.headers_setter.additional_auth: extension "basicauth/server" (basicauth) does not authenticate an exporter's requests (basicauth with client_auth, bearertokenauth, headers_setter)`,
    ]);
  });
});

describe('logplex receiver tls and auth', () => {
  it('serves on a public address with only auth, and the status page behind it', () => {
    const { problems } = validate({
      receivers: { logplex: { endpoint: '0.0.0.0:8443', auth: { authenticator: 'basicauth' }, tls: { cert_file: certs.serverCert, key_file: certs.serverKey, client_ca_file: certs.caFile, min_version: '1.3' } } },
      extensions: { basicauth: { htpasswd: { inline: 'logplex:s3cr3t-b4sic-pw' } } },
      serviceExtensions: ['basicauth'],
      telemetry: { status: { enabled: true } },
    });
    expect(problems).toEqual([]);
  });

  it('names the key of a missing key file, an unknown tls key, and basic_auth beside auth', () => {
    expect(validate({ receivers: { logplex: { drains: [{ token: 'd.x' }], tls: { cert_file: certs.serverCert, key_file: '/nonexistent/tls.key' } } } }).problems).toEqual([
      'receivers.logplex.tls.key_file: cannot read "/nonexistent/tls.key": no such file',
    ]);
    expect(validate({ receivers: { logplex: { drains: [{ token: 'd.x' }], tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.caFile } } } }).problems).toEqual([
      'receivers.logplex.tls.ca_file: unknown key',
    ]);
    expect(validate({ receivers: { logplex: { drains: [{ token: 'd.x' }], tls: { cert_file: certs.serverCert } } } }).problems).toEqual(['receivers.logplex.tls.key_file: is required']);
    expect(
      validate({
        receivers: { logplex: { basic_auth: { username: 'u', password: 's3cr3t-b4sic-pw' }, auth: { authenticator: 'basicauth' } } },
        extensions: { basicauth: { htpasswd: { inline: 'u:s3cr3t-b4sic-pw' } } },
        serviceExtensions: ['basicauth'],
      }).problems,
    ).toEqual(['receivers.logplex.auth: set basic_auth or auth (an authenticator extension), not both']);
  });

  it('still refuses an open public receiver, and names auth among the ways to close it', () => {
    expect(validate({ receivers: { logplex: { endpoint: '0.0.0.0:8080' } } }).problems).toEqual([
      "receivers.logplex.endpoint: no drains and no basic_auth: refusing to accept anyone's logs on 0.0.0.0:8080; add drains (tokens), basic_auth or auth (an authenticator extension), or set accept_any_drain: true",
    ]);
  });
});

describe('auth extensions', () => {
  it.each([
    ['basicauth with both sides', { basicauth: { htpasswd: { inline: 'a:b' }, client_auth: { username: 'a', password: 's3cr3t-b4sic-pw' } } }, expect.stringMatching(/^extensions\.basicauth: only one of htpasswd/)],
    ['basicauth with neither', { basicauth: {} }, "extensions.basicauth: no credential source: set htpasswd (to check a receiver's requests) or client_auth (to sign an exporter's)"],
    ['basicauth with an htpasswd file not there', { basicauth: { htpasswd: { file: '/nonexistent/htpasswd' } } }, 'extensions.basicauth.htpasswd.file: cannot read "/nonexistent/htpasswd": no such file'],
    ['basicauth with a colon in the username', { basicauth: { client_auth: { username: 'a:b', password: 's3cr3t-b4sic-pw' } } }, 'extensions.basicauth.client_auth.username: must not contain ":" (basic auth splits there)'],
    ['bearertokenauth without a token', { bearertokenauth: { scheme: 'Bearer' } }, 'extensions.bearertokenauth: no bearer token: set token, tokens or filename'],
    ['bearertokenauth with token and tokens', { bearertokenauth: { token: 'tok-3f9a1c77e2', tokens: ['x'] } }, 'extensions.bearertokenauth.tokens: set token or tokens, not both'],
    ['bearertokenauth with a file not there', { bearertokenauth: { filename: '/nonexistent/token' } }, 'extensions.bearertokenauth.filename: cannot read "/nonexistent/token": no such file'],
    ['headers_setter without headers', { headers_setter: { headers: [] } }, 'extensions.headers_setter.headers: at least one header is required'],
    ['headers_setter with two sources', { headers_setter: { headers: [{ key: 'X-A', value: 'a', from_context: 'service.name' }] } }, 'extensions.headers_setter.headers[0]: set one of value, value_file or from_context'],
    ['headers_setter without a source', { headers_setter: { headers: [{ key: 'X-A' }] } }, 'extensions.headers_setter.headers[0]: missing header source: set value, value_file or from_context'],
    [
      'headers_setter from_attribute',
      { headers_setter: { headers: [{ key: 'X-User', from_attribute: 'username' }] } },
      "extensions.headers_setter.headers[0].from_attribute: not supported here: an exporter never sees who a receiver authenticated; from_context reads the batch's resource attributes",
    ],
  ])('names the key of %s', (_name, extensions, problem) => {
    const id = Object.keys(extensions)[0]!;
    expect(validate({ extensions, serviceExtensions: [id] }).problems).toEqual([problem]);
  });
});

describe('examples/off-heroku/tls-gateway.yaml', () => {
  it('validates with the files its variables name, and is refused naming each one that is not there', async () => {
    const htpasswd = join(certs.dir, 'htpasswd');
    writeFileSync(htpasswd, 'logplex:$apr1$oKGdPBN5$Shctt/sLp.mxH6STJYJ.00\n');
    const file = new URL('../../examples/off-heroku/tls-gateway.yaml', import.meta.url).pathname;
    const env = {
      DRAIN_TOKEN: 'd.9a1c2b3d-1111-4222-8333-444455556666',
      TLS_CERT_FILE: certs.serverCert,
      TLS_KEY_FILE: certs.serverKey,
      GATEWAY_CA_FILE: certs.caFile,
      CLIENT_CERT_FILE: certs.clientCert,
      CLIENT_KEY_FILE: certs.clientKey,
      HTPASSWD_FILE: htpasswd,
    };
    const ok = await loadConfigFile(file, env);
    expect(ok.problems).toEqual([]);
    expect(ok.config!.exporters.get('otlp_http/gateway')!.type).toBe('otlp_http');
    const missing = await loadConfigFile(file, { DRAIN_TOKEN: env.DRAIN_TOKEN });
    // Each named by its key (the path as the file wrote it: a value from the environment is not quoted).
    expect(missing.problems.map((p) => p.slice(0, p.indexOf(': ')))).toEqual([
      'receivers.logplex.tls.cert_file',
      'receivers.logplex.tls.key_file',
      'exporters.otlp_http/gateway.tls.ca_file',
      'exporters.otlp_http/gateway.tls.cert_file',
      'exporters.otlp_http/gateway.tls.key_file',
      'extensions.basicauth/drains.htpasswd.file',
    ]);
    for (const p of missing.problems) expect(p).toMatch(/: cannot read ".*": no such file$/);
  });
});
