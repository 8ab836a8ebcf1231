/**
 * The reproducers of the hardening issue, against the real process: requests and lines that used
 * to end it, and a SIGTERM while a stranger holds a request open. What was answered 200 (or
 * accepted over syslog) must reach the exporter, once.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, exchange, startSidecar, type RunningSidecar } from '../support/sidecar.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const appLine = (text: string, host = 'host') => `<190>1 2024-05-01T12:00:00.000001+00:00 ${host} app web.1 - ${text}`;

let sidecar: RunningSidecar | undefined;
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  sidecar?.proc.kill('SIGKILL');
  sidecar = undefined;
});

function writeConfig(out: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hod-hard-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ]
  syslog:
    tcp: { endpoint: 127.0.0.1:0 }
    drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ]
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex, syslog], exporters: [file] }
`,
  );
  return config;
}

/** Every log record body the file exporter wrote. */
function exportedBodies(out: string): string[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
    .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords.map((r: any) => r.body?.stringValue ?? '')));
}

describe('the reproducers, against the real process', () => {
  it('answers malformed request targets 400 and deep or huge JSON lines over HTTP and syslog, and delivers every accepted line once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-hard-out-'));
    const out = join(dir, 'out.jsonl');
    sidecar = await startSidecar(['start', '--config', writeConfig(out)], {});
    const [httpPort, syslogPort] = await sidecar.ports(2);
    for (const target of ['//[', 'http://[', '//%zz']) {
      expect(await exchange(httpPort!, `GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`, sockets)).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(await exchange(httpPort!, 'GET //:99999 HTTP/1.1\r\nhost: x\r\n\r\n', sockets)).toMatch(/^HTTP\/1\.1 404/);

    const deepArray = '['.repeat(4500) + ']'.repeat(4500);
    const deepObject = '{"a":'.repeat(4500) + '1' + '}'.repeat(4500);
    const huge = JSON.stringify({ msg: 'x'.repeat(60_000), level: 'info' });
    const lines = [deepArray, deepObject, huge, 'after the deep ones'];
    const body = lines.map((l) => frame(appLine(l))).join('');
    const res = await fetch(`http://127.0.0.1:${httpPort}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'deep', 'logplex-msg-count': '4' } });
    expect(res.status).toBe(200);

    // Over syslog, Heroku puts the drain token in HOSTNAME.
    const syslog = connect(syslogPort!, '127.0.0.1');
    sockets.push(syslog);
    await new Promise((r) => syslog.once('connect', r));
    const syslogLines = [deepArray, deepObject, 'syslog after the deep ones'];
    syslog.end(syslogLines.map((l) => frame(appLine(l, TOKEN))).join(''));
    await new Promise((r) => syslog.once('close', r));

    // Still alive and serving.
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
    sidecar.proc.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    const bodies = exportedBodies(out);
    // Each accepted line once; the deep ones kept whole, as text.
    expect(bodies.filter((b) => b === deepArray)).toHaveLength(2);
    expect(bodies.filter((b) => b === deepObject)).toHaveLength(2);
    expect(bodies).toContain('after the deep ones');
    expect(bodies).toContain('syslog after the deep ones');
    expect(bodies).toHaveLength(7);
    expect(sidecar.logLines().some((l) => l.msg === 'stopped: every accepted item was exported')).toBe(true);
  }, 60_000);

  it('serves a drain while idle sockets outnumber its open-files limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-hard-out-'));
    const out = join(dir, 'out.jsonl');
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `receivers:\n  logplex: { endpoint: 127.0.0.1:0, drains: [ { token: "${TOKEN}" } ], max_connections: 100 }\nprocessors:\n  redact: {}\nexporters:\n  file: { path: ${out} }\nservice:\n  pipelines:\n    logs: { receivers: [logplex], processors: [redact], exporters: [file] }\n`,
    );
    // The process may open 256 files; 300 strangers connect and say nothing.
    sidecar = await startSidecar(['-c', `ulimit -n 256; exec "${process.execPath}" "${BIN}" start --config "${config}"`], {}, 'bash');
    const port = sidecar.port;
    for (let i = 0; i < 300; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 10; i++) {
      const body = frame(appLine(`drain line ${i}`));
      const res = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': `fd${i}`, connection: 'close' } });
      expect(res.status).toBe(200);
    }
    sidecar.proc.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(exportedBodies(out).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `drain line ${i}`));
    expect(sidecar.logLines().some((l) => String(l.msg).includes('open-files limit'))).toBe(false);
  }, 40_000);

  it('says at start when max_connections exceed the open-files limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-hard-out-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `receivers:\n  logplex: { endpoint: 127.0.0.1:0, drains: [ { token: "${TOKEN}" } ] }\nprocessors:\n  redact: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [logplex], processors: [redact], exporters: [debug] }\n`);
    sidecar = await startSidecar(['-c', `ulimit -n 256; exec "${process.execPath}" "${BIN}" start --config "${config}"`], {}, 'bash');
    expect(sidecar.logLines().find((l) => String(l.msg).includes('open-files limit'))).toMatchObject({ level: 'warn', max_connections: 512, open_files_limit: 256 });
  });

  it('finishes a SIGTERM while a stranger trickles a request, flushing what was accepted, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-hard-out-'));
    const out = join(dir, 'out.jsonl');
    sidecar = await startSidecar(['start', '--config', writeConfig(out)], {});
    const port = sidecar.port;
    const body = Array.from({ length: 50 }, (_, i) => frame(appLine(`line ${i}`))).join('');
    expect((await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'f1' } })).status).toBe(200);
    // No credentials, one byte every 2 s: it never finishes its request.
    const stranger = connect(port, '127.0.0.1');
    sockets.push(stranger);
    await new Promise((r) => stranger.once('connect', r));
    const slow = 'POST /logs HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n';
    let i = 0;
    stranger.write(slow.slice(0, 10));
    const drip = setInterval(() => stranger.writable && stranger.write(slow[10 + (i++ % (slow.length - 10))]!), 2000);
    try {
      await new Promise((r) => setTimeout(r, 100));
      sidecar.proc.kill('SIGTERM');
      expect(await sidecar.exited).toBe(0);
    } finally {
      clearInterval(drip);
    }
    expect(exportedBodies(out).sort()).toEqual(Array.from({ length: 50 }, (_, k) => `line ${k}`).sort());
    expect(sidecar.logLines().some((l) => l.msg === 'stopped: every accepted item was exported')).toBe(true);
  }, 40_000);
});
