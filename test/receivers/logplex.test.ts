/** The logplex receiver over real HTTP on loopback, as Logplex talks to it. */
import { afterEach, describe, expect, it } from 'vitest';
import { logplexConfigSchema } from '../../src/receivers/logplex/config.ts';
import { LogplexReceiver, type ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

function frame(msg: string): string {
  return `${Buffer.byteLength(msg) + 1} ${msg}\n`;
}
const ROUTER = '<158>1 2024-05-01T12:00:00.000001+00:00 host heroku router - at=info method=GET path="/a?b=1" host=shop.example.com request_id=r1 fwd="203.0.113.9" dyno=web.1 connect=0ms service=41ms status=200 bytes=10 protocol=https';
const APP = '<190>1 2024-05-01T12:00:00.000002+00:00 host app web.1 - {"level":"warn","msg":"slow"}';
const BODY = frame(ROUTER) + frame(APP) + frame(ROUTER);

let receiver: LogplexReceiver | undefined;
afterEach(async () => {
  await receiver?.shutdown();
  receiver = undefined;
});

async function startReceiver(settings: Record<string, unknown>, consume: (b: ReceivedBatch) => boolean = () => true) {
  const config = logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', ...settings });
  receiver = new LogplexReceiver(config, consume);
  await receiver.start();
  return `http://127.0.0.1:${receiver.address.port}`;
}

function post(base: string, body: string, headers: Record<string, string> = {}, path = '/logs') {
  return fetch(base + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '3', 'user-agent': 'Logplex/v123', ...headers },
  });
}

describe('logplex receiver', () => {
  it('takes a batch from an allowed drain, with its resource, and answers 200', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN, resource: { 'service.name': 'shop-web' } }] }, (b) => (got.push(b), true));
    const res = await post(base, BODY, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': '09C557EAFCFB6CF2740EE62F62971098' });
    expect(res.status).toBe(200);
    expect(got).toHaveLength(1);
    expect(got[0]!.resource).toEqual({ 'service.name': 'shop-web', 'cloud.provider': 'heroku' });
    expect(got[0]!.telemetry.logs.map((r) => r.eventName)).toEqual(['heroku.router.request', 'heroku.app.log', 'heroku.router.request']);
    expect(got[0]!.telemetry.logs[0]!.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/a', 'url.query': 'b=1' });
    expect(receiver!.counters).toMatchObject({ requests: 1, acceptedLines: 3 });
  });

  it('refuses unknown and missing tokens and wrong basic auth, recording nothing', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    expect((await post(base, BODY, { 'logplex-drain-token': 'd.00000000-0000-4000-8000-000000000000' })).status).toBe(403);
    const missing = await post(base, BODY);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Basic');
    expect(got).toEqual([]);
    expect(receiver!.counters.rejectedRequests).toMatchObject({ unknown_token: 1, unauthenticated: 1 });
  });

  it('refuses a request without a token when drains are listed, unless tokenless drains are accepted explicitly', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN }], basic_auth: { username: 'drain', password: 's3cret' } }, (b) => (got.push(b), true));
    const good = `Basic ${Buffer.from('drain:s3cret').toString('base64')}`;
    expect((await post(base, BODY, { authorization: good })).status).toBe(401);
    expect((await post(base, BODY, { authorization: good, 'logplex-drain-token': TOKEN })).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(receiver!.counters.rejectedRequests.unauthenticated).toBe(1);
  });

  it('lets space-level drains (no token) in by basic auth, and only by it, when accept_tokenless_drains is set', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN }], basic_auth: { username: 'drain', password: 's3cret' }, accept_tokenless_drains: true }, (b) => (got.push(b), true));
    const good = `Basic ${Buffer.from('drain:s3cret').toString('base64')}`;
    const bad = `Basic ${Buffer.from('drain:guess').toString('base64')}`;
    expect((await post(base, BODY, { authorization: bad })).status).toBe(401);
    expect((await post(base, BODY, { authorization: good })).status).toBe(200);
    expect((await post(base, BODY, { authorization: good, 'logplex-drain-token': TOKEN })).status).toBe(200);
    expect(got).toHaveLength(2);
  });

  it('answers 413 to a body over the limit and takes nothing from it', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ accept_any_drain: true, max_request_body_size: 1000 }, (b) => (got.push(b), true));
    expect((await post(base, frame(ROUTER).repeat(10))).status).toBe(413);
    expect(got).toEqual([]);
    expect((await post(base, frame(ROUTER))).status).toBe(200);
  });

  it('acknowledges a batch re-sent with the same frame id without emitting it twice', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN }] }, (b) => (got.push(b), true));
    const headers = { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'ABCDEF0123456789ABCDEF0123456789' };
    expect((await post(base, BODY, headers)).status).toBe(200);
    expect((await post(base, BODY, headers)).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(receiver!.counters).toMatchObject({ acceptedLines: 3, duplicateLines: 3 });
  });

  it('answers 503 with Retry-After when the pipeline is full, and takes the retry later', async () => {
    let full = true;
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ drains: [{ token: TOKEN }] }, (b) => (full ? false : (got.push(b), true)));
    const headers = { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0' };
    const busy = await post(base, BODY, headers);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    full = false;
    expect((await post(base, BODY, headers)).status).toBe(200);
    expect(got).toHaveLength(1);
  });

  it('keeps bad frames raw and counts a Logplex-Msg-Count mismatch, never failing the batch', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ accept_any_drain: true }, (b) => (got.push(b), true));
    const res = await post(base, `${frame(ROUTER)}garbage line\n999 ${APP}\n`, { 'logplex-msg-count': '5' });
    expect(res.status).toBe(200);
    expect(got[0]!.telemetry.logs).toHaveLength(3);
    expect(receiver!.counters).toMatchObject({ msgCountMismatches: 1, rawLines: 1, frameProblems: 2 });
  });

  it('turns drain URL query parameters into resource attributes', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ accept_any_drain: true, resource_from_query: { app: 'service.name' } }, (b) => (got.push(b), true));
    expect((await post(base, BODY, {}, '/logs?app=shop-web')).status).toBe(200);
    expect(got[0]!.resource).toMatchObject({ 'service.name': 'shop-web' });
  });

  it('serves /healthz and /readyz, 404 elsewhere, 405 for other methods on the drain path', async () => {
    const base = await startReceiver({ accept_any_drain: true });
    expect((await fetch(base + '/healthz')).status).toBe(200);
    expect((await fetch(base + '/readyz')).status).toBe(200);
    expect((await fetch(base + '/nope', { method: 'POST', body: 'x' })).status).toBe(404);
    const get = await fetch(base + '/logs');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('starts and shuts down twice (restartable), and shutdown is safe to repeat', async () => {
    await startReceiver({ accept_any_drain: true });
    await receiver!.shutdown();
    await receiver!.shutdown();
    await receiver!.start();
    const base = `http://127.0.0.1:${receiver!.address.port}`;
    expect((await post(base, BODY)).status).toBe(200);
    await receiver!.shutdown();
    await expect(fetch(base + '/healthz')).rejects.toThrow();
  });
});

describe('logplex receiver, streamed bodies', () => {
  it('answers 413 to a chunked body that grows past the limit', async () => {
    const got: ReceivedBatch[] = [];
    const base = await startReceiver({ accept_any_drain: true, max_request_body_size: 2000 }, (b) => (got.push(b), true));
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/logs`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(frame(ROUTER));
      req.end();
    });
    expect(status).toBe(413);
    expect(got).toEqual([]);
  });
});
