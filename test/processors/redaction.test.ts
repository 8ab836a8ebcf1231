/**
 * The redaction processor as contrib's (processor/redactionprocessor): its keys, its defaults
 * (allow_all_keys false removes what allowed_keys does not list, the resource's attributes too),
 * Go's regexp replacement, the summary attributes; and redact, ours, understanding the same keys.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.ts';
import { redactConfigSchema } from '../../src/processors/redact/config.ts';
import { redactFactory } from '../../src/processors/redact/factory.ts';
import { redactionConfigSchema } from '../../src/processors/redaction/config.ts';
import { goReplaceAll } from '../../src/processors/redaction/contrib.ts';
import { redactionFactory } from '../../src/processors/redaction/factory.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../../src/translate/telemetry.ts';

const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
const record = (attributes: Attributes, body = ''): LogRecordData => ({ timeUnixMicros: 1, observedUnixMicros: 1, severityNumber: 9, severityText: 'INFO', body, eventName: '', attributes, traceId: undefined, spanId: undefined, traceFlags: 0 });
const point = (attributes: Attributes): MetricPointData => ({ name: 'http.server.request.duration', unit: 's', type: 'histogram', value: 0.1, timeUnixMicros: 1, attributes, bounds: [1] });

function redaction(config: unknown) {
  const p = redactionFactory.create('redaction', redactionConfigSchema.parse(config), host);
  return (attributes: Attributes, body = '', resource: Attributes = {}) => {
    const r = record(attributes, body);
    const out = p.process!(resource, [r], [], new Set()) as { resource?: Attributes } | undefined;
    return { attributes: r.attributes, body: r.body, resource: out?.resource ?? resource };
  };
}

function problems(processor: unknown, type = 'redaction'): string {
  return validateConfig(
    {
      receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
      processors: { [type]: processor },
      exporters: { debug: {} },
      service: { pipelines: { logs: { receivers: ['logplex'], processors: [type], exporters: ['debug'] } } },
    },
    {},
  ).problems.join('\n');
}

describe('redaction (contrib)', () => {
  it('by default keeps no attribute at all, the resource\'s included, on a copy per drain resource', () => {
    const p = redactionFactory.create('redaction', redactionConfigSchema.parse({}), host);
    const drain = { 'service.name': 'shop-web' };
    const r = record({ 'client.address': '203.0.113.7', 'url.path': '/' });
    const first = p.process!(drain, [r], [], new Set()) as { resource: Attributes };
    expect(r.attributes).toEqual({});
    expect(first.resource).toEqual({});
    expect(drain).toEqual({ 'service.name': 'shop-web' });
    const second = p.process!(drain, [], [], new Set()) as { resource: Attributes };
    expect(second.resource).toBe(first.resource);
  });

  it('keeps allowed_keys and ignored keys (ignored_keys, ignored_key_patterns), removes the rest, and says so (summary debug)', () => {
    const run = redaction({ allowed_keys: ['url.path'], ignored_keys: ['heroku.dyno.name'], ignored_key_patterns: ['^heroku\\.router\\.'], summary: 'debug' });
    const out = run({ 'url.path': '/', 'heroku.dyno.name': 'web.1', 'heroku.router.request_id': 'r', 'client.address': '203.0.113.7', 'user.email': 'a@b.c' });
    expect(out.attributes).toEqual({
      'url.path': '/',
      'heroku.dyno.name': 'web.1',
      'heroku.router.request_id': 'r',
      'redaction.redacted.keys': 'client.address,user.email',
      'redaction.redacted.count': 2,
      'redaction.ignored.count': 2,
    });
  });

  it('masks the parts blocked_values match (Go replacement: "****" per match), in values and in the body, with the body\'s own summary', () => {
    const run = redaction({ allow_all_keys: true, blocked_values: ['4[0-9]{12}(?:[0-9]{3})?'], summary: 'info' });
    const out = run({ note: 'cards 4111111111111111 and 4012888888881881', other: 'fine' }, 'paid with 4111111111111111');
    expect(out.attributes).toEqual({ note: 'cards **** and ****', other: 'fine', 'redaction.masked.count': 1, 'redaction.body.masked.count': 1 });
    expect(out.body).toBe('paid with ****');
    expect(goReplaceAll('abc', /.*/g, () => 'X')).toBe('X');
    expect(goReplaceAll('', /.*/g, () => 'X')).toBe('X');
    expect(goReplaceAll('a\nb', /.*/g, () => 'X')).toBe('X\nX');
  });

  it('masks whole the keys blocked_key_patterns match; allowed_values leave a value alone; non-strings read as "" unless redact_all_types', () => {
    const run = redaction({ allow_all_keys: true, blocked_key_patterns: ['.*token.*'], allowed_values: ['^tok_test_'], blocked_values: ['[0-9]{16}'], summary: 'debug' });
    const out = run({ 'api.token': 'tok_live_abc', 'test.token': 'tok_test_abc', card: 4111111111111111, 'session.token.count': 3 });
    expect(out.attributes).toMatchObject({ 'api.token': '****', 'test.token': 'tok_test_abc', card: 4111111111111111, 'session.token.count': '****' });
    expect(out.attributes['redaction.masked.keys']).toBe('api.token,session.token.count');
    expect(out.attributes['redaction.allowed.keys']).toBe('test.token');
    const all = redaction({ allow_all_keys: true, blocked_values: ['[0-9]{16}'], redact_all_types: true })({ card: 4111111111111111, flag: true });
    expect(all.attributes).toEqual({ card: '****', flag: true });
  });

  it('hashes what it masks with hash_function (md5, sha1, sha3, hmac-sha256, hmac-sha512 with hmac_key)', () => {
    const hex = (alg: string, s: string) => createHash(alg).update(s).digest('hex');
    const masked = (config: object) => redaction({ allow_all_keys: true, blocked_values: ['secret'], ...config })({ v: 'a secret b' }).attributes.v;
    expect(masked({ hash_function: 'md5' })).toBe(`a ${hex('md5', 'secret')} b`);
    expect(masked({ hash_function: 'SHA1' })).toBe(`a ${hex('sha1', 'secret')} b`);
    expect(masked({ hash_function: 'sha3' })).toBe(`a ${hex('sha3-256', 'secret')} b`);
    expect(masked({ hash_function: 'hmac-sha256', hmac_key: 'k' })).toBe(`a ${createHmac('sha256', 'k').update('secret').digest('hex')} b`);
  });

  it('works on data points too, and our keys (secret names, token shapes) when set', () => {
    const p = redactionFactory.create('redaction', redactionConfigSchema.parse({ allowed_keys: ['http.request.method'] }), host);
    const pt = point({ 'http.request.method': 'GET', 'client.address': '203.0.113.7' });
    p.process!({}, [], [pt], new Set());
    expect(pt.attributes).toEqual({ 'http.request.method': 'GET' });
    const secrets = redactionFactory.create('redaction', redactionConfigSchema.parse({ allow_all_keys: true, keys: ['password'] }), host);
    const r = record({ password: 'hunter2' }, 'login password=hunter2 ok');
    secrets.process!({}, [r], [], new Set());
    expect([r.attributes.password, r.body]).toEqual(['***', 'login password=*** ok']);
    expect(secrets.redacts).toBe(true);
    expect(p.redacts).toBe(false);
  });

  it('refuses, naming the key, what it cannot do', () => {
    expect(problems({ hash_function: 'hmac-sha512' })).toMatch(/processors\.redaction\.hmac_key: is required with hash_function hmac-sha512/);
    expect(problems({ hash_function: 'crc32' })).toMatch(/processors\.redaction\.hash_function: expected one of/);
    expect(problems({ blocked_values: ['(?<=card)[0-9]+'] })).toMatch(/processors\.redaction\.blocked_values\[0\]: lookahead and lookbehind/);
    expect(problems({ url_sanitizer: { enabled: true, attributes: ['url.path'] } })).toMatch(/processors\.redaction\.url_sanitizer\.enabled: not supported here/);
    expect(problems({ db_sanitizer: { sql: { enabled: true } } })).toMatch(/processors\.redaction\.db_sanitizer\.sql\.enabled: not supported here/);
    expect(problems({ url_sanitizer: { enabled: false }, db_sanitizer: { sql: { enabled: false } } })).toBe('');
  });
});

describe('redact understands the same keys, with its own defaults', () => {
  it('keeps every attribute by default and masks secrets; contrib\'s keys add to it', () => {
    const p = redactFactory.create('redact', redactConfigSchema.parse({ blocked_values: ['4[0-9]{15}'] }), host);
    const r = record({ password: 'hunter2', note: 'card 4111111111111111', keep: 'me' }, 'x');
    const out = p.process!({ 'service.name': 'shop-web' }, [r], [], new Set()) as { resource: Attributes };
    expect(r.attributes).toEqual({ password: '***', note: 'card ****', keep: 'me' });
    expect(out.resource).toEqual({ 'service.name': 'shop-web' });
    expect(redactFactory.create('redact', redactConfigSchema.parse({}), host).process!({}, [], [], new Set())).toBeUndefined();
  });

  it('says allowed_keys does nothing while allow_all_keys is true, its default', () => {
    expect(problems({ allowed_keys: ['url.path'] }, 'redact')).toMatch(/processors\.redact\.allowed_keys: has no effect while allow_all_keys is true/);
    expect(problems({ allowed_keys: ['url.path'], allow_all_keys: false }, 'redact')).toBe('');
  });
});
