/**
 * Two sidecar processes sharing a real redis-server (Debian's, started on loopback): a batch that
 * Logplex re-sends to the other instance is emitted once; with Redis gone, each instance carries
 * on alone (logged), and no line is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedAlertWindows } from '../../src/extensions/redis/alert-windows.ts';
import { redisConfigSchema } from '../../src/extensions/redis/config.ts';
import { RedisStore } from '../../src/extensions/redis/store.ts';
import { freePort, hasCommand, makeCertificates } from '../support/syslog-tools.ts';
import { settle, until } from '../support/wait.ts';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_REDIS = hasCommand('redis-server') || CI;
const BIN = new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname;
const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (m: string) => `${Buffer.byteLength(m) + 1} ${m}\n`;
const body = (tag: string) => Array.from({ length: 3 }, (_, i) => frame(`<190>1 2024-05-01T12:00:00.00000${i}+00:00 host app web.1 - ${tag} line ${i}`)).join('');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function startRedis(tls?: { certFile: string; keyFile: string }): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  // With TLS, as Heroku's rediss:// is: a certificate no public CA signed.
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const proc = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  await until(() => /Ready to accept connections/i.test(out), { timeoutMs: 15_000, what: 'redis-server to be ready' });
  return { port, proc };
}

async function sidecar(dir: string, name: string, redisPort: number, alerts = false, tls?: 'skip-verify' | 'verify'): Promise<{ port: number; proc: ChildProcess; out: string; log: () => string }> {
  const out = join(dir, `${name}.jsonl`);
  const config = join(dir, `${name}.yaml`);
  const url = `${tls ? 'rediss' : 'redis'}://127.0.0.1:${redisPort}`;
  writeFileSync(
    config,
    `extensions:\n  redis: { url: "${url}", timeout: 300ms${tls === 'skip-verify' ? ', tls: { insecure_skip_verify: true }' : ''} }\n` +
      `receivers:\n  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ], storage: redis }\n` +
      (alerts ? `processors:\n  alerts: { storage: redis, evaluation_interval: 200ms, builtin_rules: false, rules: [ { name: RouterH12Storm } ] }\n` : '') +
      `exporters:\n  file: { path: ${JSON.stringify(out)} }\n` +
      `service:\n  extensions: [redis]\n  pipelines:\n    logs: { receivers: [logplex], ${alerts ? 'processors: [alerts], ' : ''}exporters: [file] }\n`,
  );
  const proc = spawn(process.execPath, [BIN, 'start', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  await until(() => /listening on [^:]+:\d+/.test(err), { timeoutMs: 15_000, what: `sidecar ${name} to listen` });
  return { port: Number(/listening on [^:]+:(\d+)/.exec(err)![1]), proc, out, log: () => err };
}

const post = (port: number, b: string, frameId: string) =>
  fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body: b, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': frameId, 'content-type': 'application/logplex-1' } });

function records(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
    .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords));
}

function bodies(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
    .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords.map((r: any) => r.body.stringValue)));
}

async function stop(c: { proc: ChildProcess }): Promise<number | null> {
  c.proc.kill('SIGTERM');
  return new Promise((r) => c.proc.once('exit', (code) => r(code)));
}

describe.skipIf(!HAVE_REDIS)('redis extension: several instances', () => {
  it('emits a batch re-sent to the other instance once; without Redis each instance carries on, losing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-redis-'));
    const redis = await startRedis();
    const a = await sidecar(dir, 'a', redis.port);
    const b = await sidecar(dir, 'b', redis.port);
    // Logplex's retry of frame f1 lands on the other dyno.
    expect((await post(a.port, body('first'), 'f1')).status).toBe(200);
    expect((await post(b.port, body('first'), 'f1')).status).toBe(200);
    // A different batch goes through on either.
    expect((await post(b.port, body('second'), 'f2')).status).toBe(200);
    // Redis goes away: both answer 200 and keep every line (de-duplication per instance now).
    redis.proc.kill('SIGKILL');
    await new Promise((r) => redis.proc.once('exit', r));
    expect((await post(a.port, body('third'), 'f3')).status).toBe(200);
    expect((await post(a.port, body('third'), 'f3')).status).toBe(200);
    // A re-send to the other instance cannot be recognised now: it is emitted again, not lost.
    expect((await post(a.port, body('fourth'), 'f4')).status).toBe(200);
    expect((await post(b.port, body('fourth'), 'f4')).status).toBe(200);
    expect(await stop(a)).toBe(0);
    expect(await stop(b)).toBe(0);
    const all = [...bodies(a.out), ...bodies(b.out)];
    expect(all.filter((x) => x.startsWith('first'))).toHaveLength(3);
    expect(all.filter((x) => x.startsWith('second'))).toHaveLength(3);
    // Same instance, same frame id: its own window still catches the re-send.
    expect(all.filter((x) => x.startsWith('third'))).toHaveLength(3);
    expect(all.filter((x) => x.startsWith('fourth'))).toHaveLength(6);
    expect(a.log()).toMatch(/Redis unavailable/);
  });

  it('adds up an H12 storm split across two instances, and fires it once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-redis-alerts-'));
    const redis = await startRedis();
    const a = await sidecar(dir, 'a', redis.port, true);
    const b = await sidecar(dir, 'b', redis.port, true);
    const h12 = (i: number) =>
      frame(`<158>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=GET path="/s/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`);
    // 6 + 6 timeouts: neither instance alone passes the threshold (more than 10).
    expect((await post(a.port, Array.from({ length: 6 }, (_, i) => h12(i)).join(''), 'a1')).status).toBe(200);
    expect((await post(b.port, Array.from({ length: 6 }, (_, i) => h12(i + 6)).join(''), 'b1')).status).toBe(200);
    const alertRecords = () => [...records(a.out), ...records(b.out)].filter((r) => r.eventName === 'heroku.alert');
    // Records reach the files on shutdown or batch: wait a few evaluations, then stop both.
    await settle(1500);
    expect(await stop(a)).toBe(0);
    expect(await stop(b)).toBe(0);
    const firing = alertRecords().filter((r) => r.attributes.some((x: any) => x.key === 'heroku.alert.state' && x.value.stringValue === 'firing'));
    expect(firing).toHaveLength(1);
    expect(firing[0].body.stringValue).toBe('H12 (request timeout) storm: 12 in 5 minutes on shop-web');
  });

  it.skipIf(!hasCommand('openssl') && !CI)("works over rediss:// with the server's self-signed certificate, and says so when it cannot verify it", async () => {
    const certs = await makeCertificates();
    const dir = mkdtempSync(join(tmpdir(), 'hod-rediss-'));
    const redis = await startRedis(certs);
    const a = await sidecar(dir, 'a', redis.port, false, 'skip-verify');
    const b = await sidecar(dir, 'b', redis.port, false, 'skip-verify');
    const strict = await sidecar(dir, 'strict', redis.port, false, 'verify');
    expect((await post(a.port, body('first'), 'f1')).status).toBe(200);
    expect((await post(b.port, body('first'), 'f1')).status).toBe(200);
    // Verifying the certificate fails (no public CA signed it): logged, and the lines still go through.
    expect((await post(strict.port, body('strict'), 's1')).status).toBe(200);
    for (const c of [a, b, strict]) expect(await stop(c)).toBe(0);
    expect([...bodies(a.out), ...bodies(b.out)].filter((x) => x.startsWith('first'))).toHaveLength(3);
    expect(bodies(strict.out)).toHaveLength(3);
    expect(strict.log()).toMatch(/Redis unavailable/);
  });

  it('claims frames in two steps and moves alert states only from the right state (flapping included)', async () => {
    const redis = await startRedis();
    const store = new RedisStore('redis', redisConfigSchema.parse({ url: `redis://127.0.0.1:${redis.port}` }), () => {});
    await store.start();
    try {
      // A batch being taken elsewhere is pending (answer 503), one taken is done (a duplicate).
      expect(await store.claim('frame:x', 30_000)).toBe('claimed');
      expect(await store.claim('frame:x', 30_000)).toBe('pending');
      await store.done('frame:x', 60_000);
      expect(await store.claim('frame:x', 30_000)).toBe('done');
      // A batch refused after its claim is given back: Logplex's retry takes it.
      expect(await store.claim('frame:y', 30_000)).toBe('claimed');
      await store.release('frame:y');
      expect(await store.claim('frame:y', 30_000)).toBe('claimed');

      const windows = new SharedAlertWindows(store, 'alerts');
      const t = (state: 'firing' | 'resolved', now: number) => windows.transition('Rule', 'fp', state, now, 60_000, 600_000);
      expect(await t('firing', 0)).toBe(true);
      expect(await t('firing', 1000)).toBe(false); // the other instance: already sent
      expect(await t('resolved', 2000)).toBe(true);
      expect(await t('resolved', 2500)).toBe(false);
      expect(await t('firing', 3000)).toBe(true); // flapping: fires again at once
      expect(await t('resolved', 4000)).toBe(true);
      expect(await t('firing', 5000)).toBe(true);
      expect(await t('firing', 64_000)).toBe(false); // a repeat is due 60 s after the last send
      expect(await t('firing', 65_001)).toBe(true);
    } finally {
      await store.shutdown();
    }
  });
});
