/**
 * The syslog receiver's connection cap and deadlines, with real sockets: strangers (connections
 * that have not sent a message with an allowed token) filling `max_connections`, over TCP and in
 * stalled TLS handshakes, must not lock a real drain out; a cap full of drains refuses the
 * newcomer; a stranger trickling bytes is closed at `handshake_timeout` all the same; shutdown
 * does not wait for any client.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { syslogConfigSchema } from '../../src/receivers/syslog/config.ts';
import { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import type { ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { hasCommand, logger, makeCertificates, type Certificates } from '../support/syslog-tools.ts';
import { until } from '../support/wait.ts';

/** Real sockets on a machine that may be busy: 20 s before a wait fails. */
const WAIT = { timeoutMs: 20_000 };

const CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_LOGGER = hasCommand('logger') || CI;
const HAVE_OPENSSL = hasCommand('openssl') || CI;

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
// logger cannot set HOSTNAME: it sends the machine's, which the allowlist then names as a drain.
const HOST = hostname();
const CAP = 20;

let receiver: SyslogReceiver | undefined;
const clients: Socket[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const s of clients.splice(0)) s.destroy();
  await receiver?.shutdown();
  receiver = undefined;
});

interface Started {
  syslog: SyslogReceiver;
  port: number;
  bodies: string[];
}

async function start(tcp: Record<string, unknown>): Promise<Started> {
  const config = syslogConfigSchema.parse({ tcp: { endpoint: '127.0.0.1:0', ...tcp }, drains: [{ token: TOKEN }, { token: HOST }] });
  const bodies: string[] = [];
  const consume = (batch: ReceivedBatch): boolean => {
    for (const r of batch.telemetry.logs) bodies.push(r.body);
    return true;
  };
  const syslog = new SyslogReceiver(config, consume);
  receiver = syslog;
  await syslog.start();
  return { syslog, port: syslog.addresses.tcp!.port, bodies };
}

/** A plain TCP client, connected (`closed` says when it has been closed). */
async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  clients.push(s);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

async function openTls(port: number, certs: Certificates): Promise<TLSSocket> {
  const s = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(certs.caFile) });
  clients.push(s);
  await new Promise((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  s.on('error', () => {});
  return s;
}

const closed = (s: Socket): Promise<void> => (s.closed ? Promise.resolve() : new Promise((r) => s.once('close', () => r())));

function frame(text: string, token = TOKEN): string {
  const msg = `<190>1 2024-05-01T12:00:00+00:00 ${token} app web.1 - - ${text}`;
  return `${Buffer.byteLength(msg)} ${msg}`;
}

/** The first bytes of a TLS ClientHello record: a handshake begun and never finished. */
const CLIENT_HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

/** Writes `bytes` one byte at a time every `everyMs`, then starts over, until the socket closes. */
function trickle(s: Socket, bytes: Buffer, everyMs: number): { sent: () => number } {
  let i = 0;
  const t = setInterval(() => {
    if (s.destroyed) return clearInterval(t);
    s.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
    i++;
  }, everyMs);
  timers.push(t);
  return { sent: () => i };
}

function linesFile(n: number, prefix: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hod-lines-')), 'lines.txt');
  writeFileSync(file, Array.from({ length: n }, (_, i) => `${prefix} line ${i}`).join('\n') + '\n');
  return file;
}

describe('max_connections: strangers go first', () => {
  it.skipIf(!HAVE_LOGGER)('lets a real drain (logger) in past a cap full of silent connections, closing the oldest', async () => {
    // A long handshake_timeout: only eviction can make room.
    const { syslog, port, bodies } = await start({ max_connections: CAP, handshake_timeout: '60s' });
    const silent = [];
    for (let i = 0; i < CAP; i++) silent.push(await open(port));
    await until(() => syslog.openConnections === CAP, WAIT);
    await logger(['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-t', 'web.1', '-f', linesFile(200, 'drain')]);
    await until(() => bodies.length === 200, WAIT);
    expect(bodies).toEqual(Array.from({ length: 200 }, (_, i) => `drain line ${i}`));
    await closed(silent[0]!);
    expect(syslog.counters.rejectedConnections).toMatchObject({ evicted: 1, too_many_connections: 0 });
    expect(silent.map((s) => s.closed)).toEqual([true, ...Array<boolean>(CAP - 1).fill(false)]);
  });

  it.skipIf(!HAVE_OPENSSL)('lets a TLS drain in past a cap full of stalled TLS handshakes', async () => {
    const certs = await makeCertificates();
    const { syslog, port, bodies } = await start({
      max_connections: CAP,
      handshake_timeout: '60s',
      tls: { cert_file: certs.certFile, key_file: certs.keyFile },
    });
    const stalled = [];
    for (let i = 0; i < CAP; i++) {
      const s = await open(port);
      s.write(CLIENT_HELLO_START);
      stalled.push(s);
    }
    await until(() => syslog.openConnections === CAP, WAIT);
    const drain = await openTls(port, certs);
    for (let i = 0; i < 50; i++) drain.write(frame(`tls line ${i}`));
    drain.end();
    await until(() => bodies.length === 50, WAIT);
    expect(bodies).toEqual(Array.from({ length: 50 }, (_, i) => `tls line ${i}`));
    await closed(stalled[0]!);
    expect(syslog.counters.rejectedConnections).toMatchObject({ evicted: 1, too_many_connections: 0, tls_handshake: 0 });
    expect(stalled.filter((s) => s.closed)).toHaveLength(1);
  });

  it('refuses the newcomer when every open connection is a drain, evicting nobody', async () => {
    const { syslog, port, bodies } = await start({ max_connections: CAP, handshake_timeout: '60s' });
    const drains = [];
    for (let i = 0; i < CAP; i++) {
      const s = await open(port);
      s.write(frame(`hello from ${i}`));
      drains.push(s);
    }
    await until(() => bodies.length === CAP, WAIT);
    const newcomer = await open(port);
    await closed(newcomer);
    expect(syslog.counters.rejectedConnections).toMatchObject({ too_many_connections: 1, evicted: 0 });
    // Those already in keep being served.
    drains[7]!.write(frame('still served'));
    await until(() => bodies.includes('still served'), WAIT);
    expect(drains.every((s) => !s.closed)).toBe(true);
  });

  it('evicts the stranger among drains, not a drain', async () => {
    const { syslog, port, bodies } = await start({ max_connections: 3, handshake_timeout: '60s' });
    const a = await open(port);
    a.write(frame('a'));
    await until(() => bodies.length === 1, WAIT);
    const stranger = await open(port);
    const b = await open(port);
    b.write(frame('b'));
    await until(() => bodies.length === 2, WAIT);
    const c = await open(port);
    c.write(frame('c'));
    await until(() => bodies.length === 3, WAIT);
    await closed(stranger);
    expect(syslog.counters.rejectedConnections.evicted).toBe(1);
    expect([a, b, c].every((s) => !s.closed)).toBe(true);
  });
});

describe('handshake_timeout is a deadline, not an idle timer', () => {
  it('closes a stranger that trickles a message it never finishes', async () => {
    const { syslog, port, bodies } = await start({ handshake_timeout: '1s' });
    const slow = await open(port);
    // A byte every 100 ms: an idle timer of 1 s would never fire.
    const trickled = trickle(slow, Buffer.from(frame('never finished, never sent whole').replace(/^\d+/, '4000')), 100);
    const drain = await open(port);
    drain.write(frame('a drain is served meanwhile'));
    await closed(slow);
    expect(trickled.sent()).toBeGreaterThan(1);
    expect(syslog.counters.rejectedConnections.unauthenticated).toBe(1);
    // The drain that sent an allowed message is trusted: the deadline no longer applies to it.
    expect(bodies).toEqual(['a drain is served meanwhile']);
    expect(drain.closed).toBe(false);
  });

  it.skipIf(!HAVE_OPENSSL)('closes a TLS stranger that trickles its handshake, or a message after it', async () => {
    const certs = await makeCertificates();
    const { syslog, port } = await start({ handshake_timeout: '1s', tls: { cert_file: certs.certFile, key_file: certs.keyFile } });
    const inHandshake = await open(port);
    trickle(inHandshake, CLIENT_HELLO_START, 100);
    const afterHandshake = await openTls(port, certs);
    trickle(afterHandshake, Buffer.from(frame('never finished').replace(/^\d+/, '4000')), 100);
    await Promise.all([closed(inHandshake), closed(afterHandshake)]);
    await until(() => syslog.openConnections === 0, WAIT);
    expect(syslog.counters.rejectedConnections).toMatchObject({ tls_handshake: 1, unauthenticated: 1 });
  });
});

describe('shutdown', () => {
  it.skipIf(!HAVE_OPENSSL)('finishes with stalled handshakes, tricklers and idle drains open, delivering what was read', async () => {
    const certs = await makeCertificates();
    const { syslog, port, bodies } = await start({ handshake_timeout: '60s', tls: { cert_file: certs.certFile, key_file: certs.keyFile } });
    const stalled = await open(port);
    stalled.write(CLIENT_HELLO_START);
    const trickler = await open(port);
    trickle(trickler, CLIENT_HELLO_START, 100);
    const slowMessage = await openTls(port, certs);
    trickle(slowMessage, Buffer.from(frame('never finished').replace(/^\d+/, '4000')), 100);
    const drain = await openTls(port, certs);
    drain.write(frame('read before shutdown'));
    await until(() => bodies.length === 1 && syslog.openConnections === 4, WAIT);
    const outcome = await Promise.race([syslog.shutdown().then(() => 'finished'), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
    expect(outcome).toBe('finished');
    await Promise.all([stalled, trickler, slowMessage, drain].map(closed));
    expect(bodies).toEqual(['read before shutdown']);
    expect(syslog.openConnections).toBe(0);
  });
});

describe('shutdown cuts a line', () => {
  it('counts the unfinished last line of an LF-framed drain as truncated, not as a message', async () => {
    const { syslog, port, bodies } = await start({});
    const s = await open(port);
    const message = (text: string) => `<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - ${text}`;
    s.write(`${message('complete line')}\n${message('{"amount": 12345, "user": "al')}`);
    await until(() => bodies.length === 1, WAIT);
    await syslog.shutdown();
    expect(bodies).toEqual(['complete line']);
    expect(syslog.counters.rejectedLines.truncated).toBe(1);
  });
});

describe('config', () => {
  it('refuses handshake_timeout: 0, which would let strangers stay', () => {
    const result = syslogConfigSchema.safeParse({ tcp: { endpoint: '127.0.0.1:0', handshake_timeout: 0 }, drains: [{ token: TOKEN }] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'tcp.handshake_timeout: must be more than 0: a connection that never sends an allowed message must not stay',
    ]);
  });
});
