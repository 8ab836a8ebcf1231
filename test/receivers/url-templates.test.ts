/**
 * url_templates on the receivers, over real sockets: one table per drain (an app's routes are
 * learned from its own paths), the overflow counted in the receiver's counters (read by the
 * self-telemetry as otelcol_receiver_url_template_overflow_paths) and logged, config refused by key.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { logplexConfigSchema } from '../../src/receivers/logplex/config.ts';
import { LogplexReceiver, type ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { syslogConfigSchema } from '../../src/receivers/syslog/config.ts';
import { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import { until } from '../support/wait.ts';

const SHOP = 'd.11111111-1111-4111-8111-111111111111';
const BLOG = 'd.22222222-2222-4222-8222-222222222222';
const TS = '2024-05-01T12:00:00.000000+00:00';

const routerLine = (path: string, host = 'host') =>
  `<158>1 ${TS} ${host} heroku router - at=info method=GET path="${path}" host=x.example.com request_id=0b4d2f8e-1c2a-4e5b-9f00-123456789abc fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=1 protocol=https`;
const frames = (lines: string[]) => lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
const templates = (batches: ReceivedBatch[]) => batches.flatMap((b) => b.telemetry.logs.map((r) => r.attributes['url.template']));

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('url_templates on the logplex receiver', () => {
  it('learns per drain, counts and logs the paths a full table sends to /{overflow}', async () => {
    const got: ReceivedBatch[] = [];
    const logged: Array<[string, string]> = [];
    const config = logplexConfigSchema.parse({
      endpoint: '127.0.0.1:0',
      drains: [{ token: SHOP }, { token: BLOG }],
      url_templates: { max_templates: 2, max_segment_values: 2 },
    });
    const receiver = new LogplexReceiver(config, (b) => (got.push(b), true), (level, message) => logged.push([level, message]));
    await receiver.start();
    stop = () => receiver.shutdown();
    const post = (token: string, paths: string[]) =>
      fetch(`http://127.0.0.1:${receiver.address.port}/logs`, { method: 'POST', body: frames(paths.map((p) => routerLine(p))), headers: { 'logplex-drain-token': token } });

    // The shop's usernames make its /u/ position variable (a half-full table lets a position take
    // one value); the blog's table is its own: its /u/ann is new to it.
    expect((await post(SHOP, ['/u/ann', '/u/bob', '/u/cyd', '/u/dee'])).status).toBe(200);
    expect((await post(BLOG, ['/u/ann', '/about', '/feed', '/tags/x'])).status).toBe(200);
    expect(templates(got)).toEqual(['/u/ann', '/u/{var}', '/u/{var}', '/u/{var}', '/u/ann', '/{var}', '/{var}', '/{overflow}']);
    expect(receiver.counters.urlTemplateOverflows).toBe(1);
    expect(logged.some(([level, message]) => level === 'warn' && message.includes('url_templates table is full (max_templates 2)'))).toBe(true);
  });

  it('writes no url.template when url_templates is off', async () => {
    const got: ReceivedBatch[] = [];
    const config = logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', drains: [{ token: SHOP }], url_templates: { enabled: false } });
    const receiver = new LogplexReceiver(config, (b) => (got.push(b), true));
    await receiver.start();
    stop = () => receiver.shutdown();
    await fetch(`http://127.0.0.1:${receiver.address.port}/logs`, { method: 'POST', body: frames([routerLine('/u/1')]), headers: { 'logplex-drain-token': SHOP } });
    expect(templates(got)).toEqual([undefined]);
  });

  it('refuses bad keys, naming them', () => {
    const result = logplexConfigSchema.safeParse({ drains: [{ token: SHOP }], url_templates: { patterns: ['users/{id}'], max_segment_value: 3 }, trace_correlation: { request_id_keys: [''] } });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['trace_correlation.request_id_keys.0', 'url_templates', 'url_templates.patterns.0']);
  });
});

describe('url_templates on the syslog receiver', () => {
  it("learns per drain token, and counts the overflow", async () => {
    const got: ReceivedBatch[] = [];
    const config = syslogConfigSchema.parse({ tcp: { endpoint: '127.0.0.1:0' }, drains: [{ token: SHOP }, { token: BLOG }], url_templates: { max_templates: 1 } });
    const receiver = new SyslogReceiver(config, (b) => (got.push(b), true));
    await receiver.start();
    stop = () => receiver.shutdown();
    const lines = [routerLine('/a/1', SHOP), routerLine('/b/2', SHOP), routerLine('/b/3', BLOG), routerLine('/a/4', BLOG)];
    await new Promise<void>((resolve, reject) => {
      const s = connect(receiver.addresses.tcp!.port, '127.0.0.1', () => s.end(frames(lines), () => resolve()));
      s.on('error', reject);
    });
    await until(() => templates(got).length === 4, { what: '4 router records' });
    expect(templates(got)).toEqual(['/a/{id}', '/{overflow}', '/b/{id}', '/{overflow}']);
    expect(receiver.counters.urlTemplateOverflows).toBe(2);
  });
});
