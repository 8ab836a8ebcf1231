/**
 * The syslog receiver with real clients: util-linux `logger` over TCP (octet-counted and plain)
 * and UDP, rsyslog forwarding over TLS with octet-counted framing, into a test OTLP backend that
 * decodes with opentelemetry-proto's generated code. Every message must arrive exactly once with
 * its drain's resource; garbage, oversized frames and idle connections must not disturb a healthy
 * sender; a slow backend must make the sender wait, not lose lines.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import type { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import { Service } from '../../src/service/service.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { hasCommand, logger, makeCertificates, startRsyslog, type Rsyslog } from '../support/syslog-tools.ts';
import { settle, until } from '../support/wait.ts';

/** Real sockets on a machine that may be busy: 20 s before a wait fails. */
const WAIT = { timeoutMs: 20_000 };

// In CI these clients are installed by scripts/install-test-deps.sh: a missing one fails there.
const CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_LOGGER = hasCommand('logger') || CI;
const HAVE_RSYSLOG = (hasCommand('rsyslogd') && hasCommand('openssl')) || CI;

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
// logger cannot set HOSTNAME: it sends the machine's, which the allowlist then names as a drain.
const HOST = hostname();

let service: Service | undefined;
let backend: OtlpTestServer | undefined;
let rsyslog: Rsyslog | undefined;
afterEach(async () => {
  await rsyslog?.stop();
  await service?.shutdown(5000);
  await backend?.stop();
  service = backend = rsyslog = undefined;
});

async function start(receiver: string, exporter: Record<string, unknown> = {}): Promise<{ syslog: SyslogReceiver; backend: OtlpTestServer }> {
  backend = new OtlpTestServer();
  const endpoint = await backend.start();
  const yaml = `
receivers:
  syslog:
${receiver
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
exporters:
  otlphttp: ${JSON.stringify({ endpoint, compression: 'none', retry_on_failure: { initial_interval: '50ms', max_interval: '200ms' }, ...exporter })}
service:
  pipelines:
    logs: { receivers: [syslog], exporters: [otlphttp] }
`;
  const { config, problems } = validateConfig(parseYaml(yaml), {});
  expect(problems).toEqual([]);
  service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
  await service.start();
  return { syslog: service.receivers[0]!.receiver as SyslogReceiver, backend };
}

function linesFile(n: number, prefix: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hod-lines-')), 'lines.txt');
  writeFileSync(file, Array.from({ length: n }, (_, i) => `${prefix} line ${i} method=GET status=200`).join('\n') + '\n');
  return file;
}

const bodies = (b: OtlpTestServer) => b.logRecords().map((r: any) => r.body.stringValue as string);
const attrs = (r: any) => Object.fromEntries(r.attributes.map((a: any) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.arrayValue]));

const DRAINS = `drains:
  - token: ${JSON.stringify(HOST)}
    resource: { service.name: logger-app }
  - token: ${TOKEN}
    resource: { service.name: shop-web }`;

describe.skipIf(!HAVE_LOGGER)('syslog receiver with logger', () => {
  it('takes logger --tcp --octet-count --rfc5424: every line once, with its drain resource and syslog fields', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\n${DRAINS}`);
    const port = syslog.addresses.tcp!.port;
    await logger(['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-t', 'web.1', '-p', 'local7.info', '-f', linesFile(2000, 'octet')]);
    await until(() => backend.logRecords().length >= 2000, WAIT);
    await settle(200);
    expect(bodies(backend).sort()).toEqual(Array.from({ length: 2000 }, (_, i) => `octet line ${i} method=GET status=200`).sort());
    const request = backend.requests.find((r) => r.path === '/v1/logs')!;
    expect(request.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'logger-app' } });
    const first = attrs(backend.logRecords()[0]);
    expect(first['heroku.syslog.app_name']).toBe('web.1');
    expect(first['heroku.log.shape']).toBe('syslog');
    expect(syslog.counters.acceptedLines).toBe(2000);
  });

  it('takes plain logger --tcp (LF-framed) and logger --udp', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\nudp: { endpoint: "127.0.0.1:0" }\n${DRAINS}`);
    await logger(['--tcp', '-n', '127.0.0.1', '-P', String(syslog.addresses.tcp!.port), '-t', 'worker.2', '-f', linesFile(300, 'plain')]);
    await logger(['--udp', '-n', '127.0.0.1', '-P', String(syslog.addresses.udp!.port), '-t', 'worker.3', '-f', linesFile(50, 'udp')]);
    await until(() => backend.logRecords().length >= 350, WAIT);
    const got = bodies(backend);
    expect(got.filter((b) => b.startsWith('plain'))).toHaveLength(300);
    expect(got.filter((b) => b.startsWith('udp'))).toHaveLength(50);
    expect(new Set(got).size).toBe(350);
  });

  it('counts and discards messages whose token is not allowed, and lines with no header', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\n${DRAINS}`);
    const frame = (m: string) => `${Buffer.byteLength(m)} ${m}`;
    // A connection whose first message is not let in is closed: it is no drain of ours.
    const stranger = connect(syslog.addresses.tcp!.port, '127.0.0.1');
    stranger.on('error', () => {});
    await new Promise((r) => stranger.once('connect', r));
    stranger.write(frame(`<190>1 2024-05-01T12:00:00+00:00 d.not-allowed app web.1 - - intruder`));
    await new Promise((r) => stranger.once('close', r));
    const socket = connect(syslog.addresses.tcp!.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(frame(`<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - welcome`));
    socket.write(frame(`<190>1 2024-05-01T12:00:00+00:00 d.other-drain app web.1 - - not for us`));
    socket.write('just some text without a header\n');
    socket.end();
    await until(() => backend.logRecords().length >= 1 && syslog.counters.rejectedLines.unauthenticated >= 1, WAIT);
    await settle(200);
    expect(bodies(backend)).toEqual(['welcome']);
    expect(backend.requests[0]!.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    const welcome = attrs(backend.logRecords()[0]);
    expect(welcome['heroku.drain.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(backend.requests)).not.toContain(TOKEN);
    expect(syslog.counters.rejectedLines).toMatchObject({ unknown_token: 2, unauthenticated: 1 });
    expect(syslog.counters.rejectedConnections.unauthenticated).toBe(1);
  });

  it('makes the TCP sender wait while the backend is slow, losing nothing', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\n${DRAINS}`, { sending_queue: { queue_size: 200, sizer: 'items' } });
    backend.script = Array.from({ length: 15 }, () => ({ status: 200, delayMs: 150 }));
    await logger(['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', String(syslog.addresses.tcp!.port), '-t', 'web.1', '-f', linesFile(5000, 'slow')]);
    await until(() => backend.logRecords().length >= 5000, { timeoutMs: 60_000 });
    await settle(200);
    expect(new Set(bodies(backend)).size).toBe(5000);
    expect(backend.logRecords()).toHaveLength(5000);
    // The connection was not read while the pipeline was full: that is how logger was made to wait.
    expect(syslog.counters.pauses).toBeGreaterThan(0);
    // Waiting for room is no refusal: otelcol_receiver_refused_log_records stays 0 (every line
    // got in), as the pipeline's own refused count does.
    expect(service!.receivers[0]!.intake).toMatchObject({ acceptedRecords: 5000, refusedRecords: 0 });
    expect(service!.pipelines[0]!.counters.refused).toBe(0);
  });

  it('shrugs off random bytes, a 10 MB frame and a slowloris beside a healthy sender', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0", handshake_timeout: 1s }\n${DRAINS}`);
    const port = syslog.addresses.tcp!.port;
    const open = async (): Promise<Socket> => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const garbage = await open();
    garbage.write(randomBytes(256 * 1024));
    const huge = await open();
    const frame = (m: string) => `${Buffer.byteLength(m)} ${m}`;
    const header = `<190>1 - ${TOKEN} app web.1 - - `;
    huge.write(`${header.length + 10 * 1024 * 1024} ${header}`);
    huge.write(Buffer.alloc(10 * 1024 * 1024, 'x'));
    huge.write(frame(`${header}after the big one`));
    const slowloris = await open();
    slowloris.write('2000 <190>1 - ');
    const slowClosed = new Promise((r) => slowloris.once('close', r));
    await logger(['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-t', 'web.1', '-f', linesFile(1000, 'healthy')]);
    await until(() => bodies(backend).filter((b) => b.startsWith('healthy')).length >= 1000 && bodies(backend).includes('after the big one'), WAIT);
    await slowClosed;
    expect(bodies(backend).filter((b) => b.startsWith('healthy'))).toHaveLength(1000);
    expect(syslog.counters.rejectedLines.too_large).toBe(1);
    // The slowloris never finished a message: closed after handshake_timeout, as unauthenticated
    // (so was the garbage connection, at its first frame).
    expect(syslog.counters.rejectedConnections.unauthenticated).toBe(2);
    garbage.destroy();
    huge.destroy();
  });
});

describe('syslog receiver limits and opt-ins', () => {
  it('keeps RFC 3164 and headerless lines raw when any drain is accepted', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\nudp: { endpoint: "127.0.0.1:0" }\naccept_any_drain: true`);
    const socket = connect(syslog.addresses.tcp!.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.end('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8\nplain words\n');
    await until(() => backend.logRecords().length >= 2, WAIT);
    expect(bodies(backend)).toEqual(["<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", 'plain words']);
    expect(syslog.counters.rawLines).toBe(2);
  });

  it('takes an app line of JSON nested 4,500 deep (issue 12) and goes on with the next', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0" }\n${DRAINS}`);
    const deep = '{"a":'.repeat(4500) + '1' + '}'.repeat(4500);
    const frame = (text: string) => {
      const msg = `<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - ${text}`;
      return `${Buffer.byteLength(msg)} ${msg}`;
    };
    const socket = connect(syslog.addresses.tcp!.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.end(frame(deep) + frame('the line after'));
    await until(() => backend.logRecords().length === 2, WAIT);
    const got = bodies(backend);
    expect(got[0]).toContain(deep);
    expect(got[1]).toBe('the line after');
    expect(syslog.counters.acceptedLines).toBe(2);
  });

  it('refuses a connection past max_connections when every open one is a drain, and counts it', async () => {
    const { syslog, backend } = await start(`tcp: { endpoint: "127.0.0.1:0", max_connections: 2 }\n${DRAINS}`);
    const port = syslog.addresses.tcp!.port;
    const open = async () => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const frame = (text: string) => {
      const msg = `<190>1 - ${TOKEN} app web.1 - - ${text}`;
      return `${Buffer.byteLength(msg)} ${msg}`;
    };
    // Both slots taken by drains (each has sent an allowed message): nobody to evict.
    const a = await open();
    a.write(frame('a is a drain'));
    const b = await open();
    b.write(frame('b is a drain'));
    await until(() => backend.logRecords().length === 2, WAIT);
    const c = await open();
    await new Promise((r) => c.once('close', r));
    expect(syslog.counters.rejectedConnections).toMatchObject({ too_many_connections: 1, evicted: 0 });
    a.end(frame('still served'));
    await until(() => backend.logRecords().length === 3, WAIT);
    expect(bodies(backend).sort()).toEqual(['a is a drain', 'b is a drain', 'still served']);
    b.destroy();
  });
});

describe('the sidecar process with a syslog port', () => {
  it('flushes what it read on SIGTERM and exits 0, even with nothing else keeping it alive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-sigterm-'));
    const out = join(dir, 'out.jsonl');
    const config = join(dir, 'config.yaml');
    // A batch that would wait 20 s: only the shutdown flush can send it.
    writeFileSync(
      config,
      `receivers:\n  syslog:\n    tcp: { endpoint: "127.0.0.1:0" }\n    drains: [ { token: ${TOKEN} } ]\nprocessors:\n  batch: { timeout: 20s }\n` +
        `exporters:\n  file: { path: ${JSON.stringify(out)} }\nservice:\n  pipelines:\n    logs: { receivers: [syslog], processors: [batch], exporters: [file] }\n`,
    );
    const proc = spawn(process.execPath, [new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname, 'start', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      await until(() => /listening on [^:]+:\d+ \(tcp\)/.test(err), { timeoutMs: 15_000 });
      const port = Number(/listening on [^:]+:(\d+) \(tcp\)/.exec(err)![1]);
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const m = `<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - read before SIGTERM`;
      await new Promise<void>((r) => socket.end(`${Buffer.byteLength(m)} ${m}`, () => r()));
      await settle(300);
      proc.kill('SIGTERM');
      expect(await new Promise((r) => proc.once('exit', (code) => r(code)))).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('read before SIGTERM');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describe.skipIf(!HAVE_RSYSLOG)('the sidecar process with a TLS syslog port', () => {
  it('reads its certificate again on SIGHUP: new connections get the new one, open ones keep going', async () => {
    const first = await makeCertificates();
    const second = await makeCertificates();
    const dir = mkdtempSync(join(tmpdir(), 'hod-sighup-'));
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    const out = join(dir, 'out.jsonl');
    copyFileSync(first.certFile, cert);
    copyFileSync(first.keyFile, key);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `receivers:\n  syslog:\n    tcp: { endpoint: "127.0.0.1:0", tls: { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)} } }\n    drains: [ { token: ${TOKEN} } ]\n` +
        `exporters:\n  file: { path: ${JSON.stringify(out)} }\nservice:\n  pipelines:\n    logs: { receivers: [syslog], exporters: [file] }\n`,
    );
    const proc = spawn(process.execPath, [new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname, 'start', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      await until(() => /listening on [^:]+:\d+ \(tcp\)/.test(err), { timeoutMs: 15_000 });
      const port = Number(/listening on [^:]+:(\d+) \(tcp\)/.exec(err)![1]);
      const secure = (ca: string) =>
        new Promise<import('node:tls').TLSSocket>((resolve, reject) => {
          const s = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca) });
          s.once('secureConnect', () => resolve(s));
          s.once('error', reject);
        });
      const frame = (m: string) => `${Buffer.byteLength(m)} ${m}`;
      const send = (text: string) => frame(`<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - ${text}`);
      const old = await secure(first.caFile);
      old.write(send('before the reload'));
      copyFileSync(second.certFile, cert);
      copyFileSync(second.keyFile, key);
      proc.kill('SIGHUP');
      await until(() => err.includes('TLS certificate reloaded'), { timeoutMs: 10_000 });
      const renewed = await secure(second.caFile);
      renewed.end(send('on the new certificate'));
      await expect(secure(first.caFile)).rejects.toThrow();
      old.end(send('after the reload, on the old connection'));
      await settle(300);
      proc.kill('SIGTERM');
      expect(await new Promise((r) => proc.once('exit', (code) => r(code)))).toBe(0);
      const got = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .flatMap((l) => JSON.parse(l).resourceLogs?.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords.map((r: any) => r.body.stringValue))) ?? []);
      expect(got.sort()).toEqual(['after the reload, on the old connection', 'before the reload', 'on the new certificate']);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

describe.skipIf(!HAVE_RSYSLOG)('syslog receiver with rsyslog over TLS', () => {
  it('takes rsyslog omfwd over TLS with octet-counted framing: every message once, with its drain', async () => {
    const certs = await makeCertificates();
    const { syslog, backend } = await start(`tcp:\n  endpoint: "127.0.0.1:0"\n  tls: { cert_file: ${JSON.stringify(certs.certFile)}, key_file: ${JSON.stringify(certs.keyFile)} }\n${DRAINS}`);
    rsyslog = await startRsyslog(syslog.addresses.tcp!.port, certs.caFile);
    const input = connect(rsyslog.inputPort, '127.0.0.1');
    await new Promise((r) => input.once('connect', r));
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const at = `2024-05-01T12:00:${String(Math.floor(i / 100)).padStart(2, '0')}.${String(i % 100).padStart(6, '0')}+00:00`;
      input.write(`<158>1 ${at} ${TOKEN} heroku router - - at=info method=GET path="/p/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=0ms service=${i % 50}ms status=200 bytes=10 protocol=https\n`);
    }
    input.end();
    await until(() => backend.logRecords().length >= n, { timeoutMs: 30_000 });
    await settle(300);
    const records = backend.logRecords();
    expect(records).toHaveLength(n);
    expect(new Set(records.map((r: any) => attrs(r)['url.path'])).size).toBe(n);
    const a = attrs(records[0]);
    expect(a['http.request.method']).toBe('GET');
    expect(a['heroku.log.kind']).toBe('router');
    expect(a['server.address']).toBe('shop.example.com');
    expect(backend.requests[0]!.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    expect(syslog.counters.rejectedConnections.tls_handshake).toBe(0);
  });

  it('refuses a plain-text sender, a silent one and an old TLS version on the TLS port', async () => {
    const certs = await makeCertificates();
    const { syslog } = await start(
      `tcp:\n  endpoint: "127.0.0.1:0"\n  handshake_timeout: 300ms\n  tls: { cert_file: ${JSON.stringify(certs.certFile)}, key_file: ${JSON.stringify(certs.keyFile)}, min_version: "1.3" }\n${DRAINS}`,
    );
    const port = syslog.addresses.tcp!.port;
    const plain = connect(port, '127.0.0.1');
    plain.on('error', () => {});
    plain.write(`<190>1 - ${TOKEN} app web.1 - - not encrypted\n`);
    await new Promise((r) => plain.once('close', r));
    // A client that never starts its handshake is closed by the server after handshake_timeout.
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await new Promise((r) => silent.once('close', r));
    expect(syslog.counters.rejectedConnections.tls_handshake).toBe(2);
    // A TLS 1.2 client is refused (min_version 1.3); a TLS 1.3 client trusting the CA gets through.
    const old = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(certs.caFile), maxVersion: 'TLSv1.2' });
    await new Promise((resolve) => old.once('error', resolve));
    const ok = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(certs.caFile) });
    await new Promise((resolve, reject) => {
      ok.once('secureConnect', resolve);
      ok.once('error', reject);
    });
    expect(ok.getProtocol()).toBe('TLSv1.3');
    ok.destroy();
  });
});
