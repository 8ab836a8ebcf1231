/**
 * The logplex receiver against hostile and careless clients, over real sockets: malformed request
 * targets, stalled and trickling clients, floods of idle connections, retries racing their first
 * copy, compressed bodies and bombs, tokenless requests, query values. Logplex's own rules, which
 * these tests hold the receiver to (Heroku Dev Center, "Log Drains" / HTTPS drains, and Logplex's
 * logplex_http_drain.erl): one request in flight per drain, a 5 s timeout, a retry carries the
 * same Logplex-Frame-Id, and any 4xx but 429 drops the batch for good.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { logplexConfigSchema } from '../../src/receivers/logplex/config.ts';
import { LogplexReceiver, type ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { parseRequestTarget } from '../../src/receivers/logplex/target.ts';
import { settle, until } from '../support/wait.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const ROUTER = '<158>1 2024-05-01T12:00:00.000001+00:00 host heroku router - at=info method=GET path="/a" host=shop.example.com request_id=r1 fwd="203.0.113.9" dyno=web.1 connect=0ms service=41ms status=200 bytes=10 protocol=https';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const BODY = frame(ROUTER).repeat(3);

let receiver: LogplexReceiver | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await receiver?.shutdown(200);
  receiver = undefined;
});

type Logged = { level: string; message: string; fields?: Record<string, unknown> };

async function start(settings: Record<string, unknown>, consume: (b: ReceivedBatch) => boolean = () => true, room?: (n: number) => boolean) {
  const logged: Logged[] = [];
  const config = logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', ...settings });
  receiver = new LogplexReceiver(config, consume, (level, message, fields) => logged.push({ level, message, fields }), undefined, room);
  await receiver.start();
  return { port: receiver.address.port, base: `http://127.0.0.1:${receiver.address.port}`, logged };
}

/** A raw TCP connection, for what fetch will not send. */
function raw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

/** Writes `text` and resolves with everything the server sends until it closes (or `ms` pass). */
function exchange(port: number, text: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    sockets.push(s);
    let got = '';
    const timer = setTimeout(() => resolve(got), ms);
    s.on('data', (d) => {
      got += d.toString('latin1');
      // One full answer is enough when the server keeps the connection.
      if (/\r\n\r\n/.test(got) && /content-length: 0|\r\n\r\n[^]*\n$/i.test(got)) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.on('error', (e) => (got === '' ? reject(e) : resolve(got)));
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

function post(base: string, body: string | Buffer, headers: Record<string, string> = {}, path = '/logs') {
  return fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '3', ...headers } });
}

describe('request targets that made new URL() throw', () => {
  it.each(['//[', 'http://[', '//%zz', '/logs%', '/lo gs', 'http://', '*', 'http://[::1/logs', 'http://host:99999/logs', 'http://a b/logs'])('answers 400 to "%s" and goes on serving', async (target) => {
    const { port, base } = await start({ accept_any_drain: true });
    const answer = await exchange(port, `GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`);
    expect(statusOf(answer)).toBe(400);
    expect((await post(base, BODY)).status).toBe(200);
  });

  it('takes a drain URL whose query holds a stray %, and logs a 400 without the query', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base, logged } = await start({ accept_any_drain: true, resource_from_query: { app: 'service.name' } }, (b) => (got.push(b), true));
    expect((await post(base, BODY, {}, '/logs?app=100%')).status).toBe(200);
    expect(got[0]!.resource['service.name']).toBe('100%');
    expect(statusOf(await exchange(port, 'GET /a%zz?password=hunter2 HTTP/1.1\r\nhost: x\r\n\r\n'))).toBe(400);
    expect(logged.some((l) => l.message.includes('malformed target') && l.fields?.target === '"/a%zz"')).toBe(true);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
  });

  it('counts a client that hangs up mid-request apart from malformed requests', async () => {
    const { port } = await start({ accept_any_drain: true });
    const s = await raw(port);
    s.write('POST /logs HTTP/1.1\r\nhost: x\r\ncontent-le');
    await settle(50);
    s.end();
    await until(() => receiver!.counters.rejectedRequests.client_gone === 1, { what: 'the hang-up to be counted' });
    expect(receiver!.counters.rejectedRequests.bad_request).toBe(0);
  });

  it('answers 404 to "//:99999", a well-formed path that is not the drain path', async () => {
    const { port, base } = await start({ accept_any_drain: true });
    expect(statusOf(await exchange(port, 'GET //:99999 HTTP/1.1\r\nhost: x\r\n\r\n'))).toBe(404);
    expect((await post(base, BODY)).status).toBe(200);
  });

  it('parses the targets Logplex and proxies send', () => {
    expect(parseRequestTarget('/logs')).toEqual({ path: '/logs', query: '' });
    expect(parseRequestTarget('/logs?app=shop&x=[1]')).toEqual({ path: '/logs', query: 'app=shop&x=[1]' });
    expect(parseRequestTarget('http://drain.example.com:8080/logs?app=a')).toEqual({ path: '/logs', query: 'app=a' });
    expect(parseRequestTarget('HTTPS://drain.example.com')).toEqual({ path: '/', query: '' });
    expect(parseRequestTarget('/a%20b/%7Euser')).toEqual({ path: '/a%20b/%7Euser', query: '' });
  });

  it('never throws on any string, and answers every request line without ending the process (fast-check)', async () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const t = parseRequestTarget(s);
        if (t !== undefined) expect(s.includes(t.path) || t.path === '/').toBe(true);
      }),
      { numRuns: 5000 },
    );
    const { port, base } = await start({ accept_any_drain: true });
    const targets = fc.sample(
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...'/[]:%@?#\\.zA9 '.split('')), maxLength: 30 }),
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => `/${s}`),
        fc.string({ unit: 'binary-ascii', maxLength: 40 }),
      ),
      120,
    );
    for (const target of targets) {
      const method = target.length % 2 === 0 ? 'GET' : 'POST';
      // Whatever the line, the server answers something or closes: it never goes away.
      await exchange(port, Buffer.from(`${method} ${target} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n`, 'latin1'), 1000);
    }
    expect((await post(base, BODY)).status).toBe(200);
    expect(receiver!.counters.rejectedRequests.internal_error).toBe(0);
  }, 60_000);

  it('answers any header values without throwing (fast-check over headers)', async () => {
    const { port, base } = await start({ drains: [{ token: TOKEN }], basic_auth: { username: 'u', password: 'p' }, accept_tokenless_drains: true, resource_from_query: { app: 'service.name' } });
    const value = fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[\r\n\0]/g, ''));
    const samples = fc.sample(fc.record({ token: value, auth: value, count: value, frame: value, enc: value, query: value }), 150);
    for (const h of samples) {
      const headers = [
        `logplex-drain-token: ${h.token}`,
        `authorization: ${h.auth}`,
        `logplex-msg-count: ${h.count}`,
        `logplex-frame-id: ${h.frame}`,
        `content-encoding: ${h.enc}`,
        `content-length: ${Buffer.byteLength(BODY)}`,
      ].join('\r\n');
      await exchange(port, Buffer.from(`POST /logs?app=${encodeURIComponent(h.query)} HTTP/1.1\r\nhost: x\r\n${headers}\r\n\r\n${BODY}`, 'latin1'), 1000);
    }
    const good = `Basic ${Buffer.from('u:p').toString('base64')}`;
    expect((await post(base, BODY, { authorization: good, 'logplex-drain-token': TOKEN })).status).toBe(200);
    expect(receiver!.counters.rejectedRequests.internal_error).toBe(0);
  }, 60_000);

  it('answers 500 to a request whose handling throws, and goes on', async () => {
    let explode = true;
    const { base, logged } = await start({ accept_any_drain: true }, () => {
      if (explode) throw new Error('boom');
      return true;
    });
    expect((await post(base, BODY, { 'logplex-frame-id': 'f1' })).status).toBe(500);
    explode = false;
    // The retry of the same batch is taken, not mistaken for a duplicate.
    expect((await post(base, BODY, { 'logplex-frame-id': 'f1' })).status).toBe(200);
    expect(receiver!.counters.rejectedRequests.internal_error).toBe(1);
    expect(receiver!.counters.acceptedLines).toBe(3);
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});

describe('answers before parsing when the answer is known', () => {
  it('acknowledges a re-sent batch from its headers alone, without reading what it holds', async () => {
    const got: ReceivedBatch[] = [];
    const { base } = await start({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    const headers = { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'AAAA', 'logplex-msg-count': '3' };
    expect((await post(base, BODY, headers)).status).toBe(200);
    // Not gzip at all: were it decoded or parsed, it would be refused.
    expect((await post(base, BODY, { ...headers, 'content-encoding': 'gzip' })).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(receiver!.counters).toMatchObject({ acceptedLines: 3, duplicateLines: 3 });
  });

  it('counts a duplicate by its Logplex-Msg-Count, never more lines than its size can hold', async () => {
    const { base } = await start({ drains: [{ token: TOKEN }] });
    const headers = { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'COUNT' };
    expect((await post(base, BODY, { ...headers, 'logplex-msg-count': '3' })).status).toBe(200);
    expect((await post(base, BODY, { ...headers, 'logplex-msg-count': '1e300' })).status).toBe(200);
    expect(receiver!.counters.duplicateLines).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(BODY) / 16));
  });

  it('answers 503 + Retry-After to a full pipeline before the body is sent', async () => {
    const { port } = await start({ drains: [{ token: TOKEN }] }, () => true, () => false);
    const s = await raw(port);
    const answer = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
    // Headers only: the body (1 MB) is never written, so only a header-first answer can come.
    s.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-msg-count: 5000\r\ncontent-length: 1000000\r\n\r\n`);
    const text = await answer;
    expect(statusOf(text)).toBe(503);
    expect(text.toLowerCase()).toContain('retry-after: 1');
    expect(receiver!.counters.rejectedRequests.queue_full).toBe(1);
  });

  it('does not let a Logplex-Msg-Count that lies hold the room of every other drain while its body uploads', async () => {
    const got: ReceivedBatch[] = [];
    // A pipeline holding 50 of its 1000 items.
    const { port, base } = await start({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true), (n) => 50 + n <= 1000);
    const liar = await raw(port);
    liar.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-msg-count: 948\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY.slice(0, 10)}`);
    await until(() => receiver!.counters.requests === 1, { what: 'the slow upload' });
    expect((await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'honest' })).status).toBe(200);
    expect(got).toHaveLength(1);
  });

  it('answers a retry that races its first copy 503, then takes exactly one of them', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base } = await start({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    const body = Buffer.from(BODY);
    const first = await raw(port);
    const firstAnswer = new Promise<string>((resolve) => first.once('data', (d) => resolve(d.toString())));
    first.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-frame-id: RACE\r\nlogplex-msg-count: 3\r\ncontent-length: ${body.length}\r\n\r\n`);
    first.write(body.subarray(0, 10));
    await until(() => receiver!.counters.requests === 1, { what: 'the first copy' });
    // Logplex gave up waiting (5 s) and re-sent it.
    const retry = await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'RACE' });
    expect(retry.status).toBe(503);
    first.write(body.subarray(10));
    expect(statusOf(await firstAnswer)).toBe(200);
    expect((await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'RACE' })).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(receiver!.counters).toMatchObject({ acceptedLines: 3, duplicateLines: 3 });
  });

  it('forgets a frame id whose first copy was cut off, so its retry is taken', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base } = await start({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    const first = await raw(port);
    first.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-frame-id: CUT\r\ncontent-length: 1000\r\n\r\n${BODY.slice(0, 20)}`);
    await until(() => receiver!.counters.requests === 1, { what: 'the first copy' });
    first.destroy();
    await until(() => receiver!.connections === 0, { what: 'the cut connection to close' });
    expect((await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'CUT' })).status).toBe(200);
    expect(got).toHaveLength(1);
  });
});

describe('connections are bounded, and a real drain always gets in', () => {
  it('closes the oldest connection that never authenticated to let a drain in', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base } = await start({ drains: [{ token: TOKEN }], max_connections: 20 }, (b) => (got.push(b), true));
    const idle = await Promise.all(Array.from({ length: 20 }, () => raw(port)));
    await until(() => receiver!.connections === 20, { what: '20 connections' });
    for (let i = 0; i < 5; i++) expect((await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': `cap-${i}` })).status).toBe(200);
    expect(got).toHaveLength(5);
    expect(receiver!.counters.rejectedConnections.evicted).toBeGreaterThanOrEqual(1);
    expect(receiver!.connections).toBeLessThanOrEqual(20);
    expect(idle[0]!.destroyed || idle[0]!.readableEnded || (await new Promise((r) => idle[0]!.once('close', () => r(true))))).toBeTruthy();
  });

  it('closes the oldest idle kept-alive connection of a drain when no stranger is left (the router pool after a burst)', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base } = await start({ drains: [{ token: TOKEN }], max_connections: 3 }, (b) => (got.push(b), true));
    const idle = await Promise.all([0, 1, 2].map(() => raw(port)));
    for (const [i, s] of idle.entries()) {
      const answered = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
      s.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-frame-id: k${i}\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
      expect(statusOf(await answered)).toBe(200);
    }
    expect((await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'new' })).status).toBe(200);
    expect(got).toHaveLength(4);
    expect(receiver!.counters.rejectedConnections).toMatchObject({ evicted: 1, too_many_connections: 0 });
    await new Promise((r) => (idle[0]!.destroyed ? r(undefined) : idle[0]!.once('close', r)));
  });

  it('refuses a new connection when every open one has a request in flight', async () => {
    const { port } = await start({ drains: [{ token: TOKEN }], max_connections: 3 });
    const busy = await Promise.all([0, 1, 2].map(() => raw(port)));
    for (const [i, s] of busy.entries()) {
      // Headers and half the body: a batch being uploaded.
      s.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\nlogplex-frame-id: b${i}\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY.slice(0, 20)}`);
    }
    await until(() => receiver!.counters.requests === 3, { what: 'three uploads' });
    const extra = await raw(port);
    await new Promise((r) => extra.once('close', r));
    expect(receiver!.counters.rejectedConnections.too_many_connections).toBe(1);
    expect(busy.every((s) => !s.destroyed)).toBe(true);
    // The uploads finish and are answered.
    const answers = busy.map((s) => new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString()))));
    for (const s of busy) s.write(BODY.slice(20));
    expect((await Promise.all(answers)).map(statusOf)).toEqual([200, 200, 200]);
  });

  it('keeps an idle kept-alive connection longer than the Heroku router does (90 s)', async () => {
    await start({ accept_any_drain: true });
    // The server's own setting, as Node applies it: checked directly rather than by waiting 90 s.
    const server = (receiver as unknown as { _server: { keepAliveTimeout: number } })._server;
    expect(server.keepAliveTimeout).toBeGreaterThan(90_000);
  });
});

describe('shutdown finishes whatever clients do', () => {
  it('closes a stalled unauthenticated request and a trickling upload within the grace', async () => {
    const got: ReceivedBatch[] = [];
    const { port } = await start({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    const stranger = await raw(port);
    stranger.write('POST /logs HTTP/1.1\r\nhost: x\r\ncontent-le');
    const trickler = await raw(port);
    trickler.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\ncontent-length: 100000\r\n\r\n`);
    const drip = setInterval(() => trickler.write('x'), 200);
    await until(() => receiver!.counters.requests === 1, { what: 'the trickling request' });
    try {
      await receiver!.shutdown(300);
    } finally {
      clearInterval(drip);
    }
    await until(() => stranger.destroyed || stranger.readableEnded, { what: 'the stranger to be closed' });
    expect(receiver!.connections).toBe(0);
    expect(got).toEqual([]);
  });

  it('answers 503 with Connection: close to a request that arrives on a kept-alive connection during shutdown', async () => {
    const { port } = await start({ drains: [{ token: TOKEN }] });
    const s = await raw(port);
    const first = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
    s.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`);
    expect(statusOf(await first)).toBe(200);
    // The next request is already on its way when shutdown starts: headers now, the body later.
    s.write(`POST /logs HTTP/1.1\r\nhost: x\r\nlogplex-drain-token: ${TOKEN}\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n`);
    await until(() => receiver!.counters.requests === 2, { what: 'the second request' });
    const second = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
    const stopping = receiver!.shutdown(1000);
    s.write(BODY);
    const text = await second;
    await stopping;
    expect(statusOf(text)).toBe(503);
    expect(text.toLowerCase()).toContain('connection: close');
  });
});

describe('bodies, encodings and credentials', () => {
  it('decodes a gzip body; refuses a gzip bomb with 413 and other encodings with 415', async () => {
    const got: ReceivedBatch[] = [];
    const { base } = await start({ accept_any_drain: true, max_request_body_size: 100_000 }, (b) => (got.push(b), true));
    expect((await post(base, gzipSync(BODY), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(got[0]!.telemetry.logs).toHaveLength(3);
    expect(got[0]!.telemetry.logs[0]!.attributes['http.request.method']).toBe('GET');
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    expect((await post(base, bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(base, BODY, { 'content-encoding': 'br' })).status).toBe(415);
    expect((await post(base, 'not gzip', { 'content-encoding': 'gzip' })).status).toBe(400);
    expect(got).toHaveLength(1);
    expect(receiver!.counters.rejectedRequests).toMatchObject({ too_large: 1, unsupported_encoding: 1, bad_encoding: 1 });
  });

  it('de-duplicates retries of tokenless drains by frame id and credentials', async () => {
    const got: ReceivedBatch[] = [];
    const { base } = await start({ drains: [{ token: TOKEN }], basic_auth: { username: 'u', password: 'p' }, accept_tokenless_drains: true }, (b) => (got.push(b), true));
    const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
    expect((await post(base, BODY, { authorization: auth, 'logplex-frame-id': 'SPACE1' })).status).toBe(200);
    expect((await post(base, BODY, { authorization: auth, 'logplex-frame-id': 'SPACE1' })).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(receiver!.counters.duplicateLines).toBe(3);
  });

  it('applies printable query values only, and never over a token’s own service.name', async () => {
    const got: ReceivedBatch[] = [];
    const { base } = await start(
      { drains: [{ token: TOKEN, resource: { 'service.name': 'shop-web' } }, { token: 'd.other' }], resource_from_query: { app: 'service.name', env: 'deployment.environment.name' } },
      (b) => (got.push(b), true),
    );
    await post(base, BODY, { 'logplex-drain-token': TOKEN }, '/logs?app=evil&env=prod');
    await post(base, BODY, { 'logplex-drain-token': 'd.other' }, `/logs?app=${encodeURIComponent('<script>x</script>\r\nX: y')}`);
    await post(base, BODY, { 'logplex-drain-token': 'd.other' }, `/logs?app=${'a'.repeat(500)}`);
    await post(base, BODY, { 'logplex-drain-token': 'd.other' }, '/logs?app=billing');
    expect(got.map((b) => b.resource['service.name'])).toEqual(['shop-web', undefined, undefined, 'billing']);
    expect(got[0]!.resource['deployment.environment.name']).toBe('prod');
    expect(receiver!.counters.queryValuesRefused).toBe(3);
  });

  it('logs refused credentials at a bounded rate, with the drain fingerprint and the client, never the token', async () => {
    const { base, logged } = await start({ drains: [{ token: TOKEN }] });
    const wrong = 'd.00000000-dead-beef-0000-123456789abc';
    for (let i = 0; i < 50; i++) expect((await post(base, BODY, { 'logplex-drain-token': wrong })).status).toBe(403);
    for (let i = 0; i < 50; i++) expect((await post(base, BODY)).status).toBe(401);
    const warnings = logged.filter((l) => l.level === 'warn');
    expect(warnings.length).toBeLessThanOrEqual(4);
    expect(warnings.some((l) => /403/.test(l.message) && typeof l.fields?.drain === 'string' && l.fields.client === '127.0.0.1')).toBe(true);
    expect(warnings.some((l) => /401/.test(l.message))).toBe(true);
    expect(JSON.stringify(logged)).not.toContain(wrong);
    expect(receiver!.counters.rejectedRequests).toMatchObject({ unknown_token: 50, unauthenticated: 50 });
  });

  it('sends the status page with a CSP and nosniff', async () => {
    const { base } = await start({ accept_any_drain: true });
    receiver!.statusPage = { path: '/status', render: () => '<html></html>' };
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('a Content-Length the body does not match', () => {
  it('answers a declared size over the limit with 413 before reading it', async () => {
    const { port } = await start({ accept_any_drain: true, max_request_body_size: 1000 });
    const answer = await exchange(port, 'POST /logs HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n');
    expect(statusOf(answer)).toBe(413);
  });

  it('treats a chunked upload that stops as never sent', async () => {
    const got: ReceivedBatch[] = [];
    const { port, base } = await start({ accept_any_drain: true }, (b) => (got.push(b), true));
    await new Promise<void>((resolve) => {
      const req = request(`${base}/logs`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
      req.on('error', () => resolve());
      req.write(frame(ROUTER));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    void port;
    await until(() => receiver!.connections === 0, { what: 'the connection to close' });
    expect(got).toEqual([]);
    expect((await post(base, BODY)).status).toBe(200);
  });
});
