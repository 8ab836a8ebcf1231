/**
 * The attribute actions of the attributes and resource processors, as contrib's attraction runs
 * them (internal/coreinternal/attraction), and the attributes processor's include / exclude as
 * contrib's filterlog / filtermetric match: each case says what a Collector user gets.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyActions, asString } from '../../src/processors/attributes/actions.ts';
import { attributesConfigSchema } from '../../src/processors/attributes/config.ts';
import { attributesFactory } from '../../src/processors/attributes/factory.ts';
import { compileGoRegexp } from '../../src/processors/attributes/regexp.ts';
import { resourceFactory } from '../../src/processors/resource/factory.ts';
import { resourceConfigSchema } from '../../src/processors/resource/config.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../../src/translate/telemetry.ts';

const actions = (list: unknown[]) => attributesConfigSchema.parse({ actions: list }).actions;
const run = (list: unknown[], attributes: Attributes) => {
  const out = { ...attributes };
  applyActions(actions(list), out);
  return out;
};
const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
const record = (attributes: Attributes, body = 'GET /', severityNumber = 9, severityText = 'INFO'): LogRecordData => ({ timeUnixMicros: 1, observedUnixMicros: 1, severityNumber, severityText, body, eventName: '', attributes, traceId: undefined, spanId: undefined, traceFlags: 0 });
const point = (name: string, attributes: Attributes): MetricPointData => ({ name, unit: 's', type: 'gauge', value: 1, timeUnixMicros: 1, attributes, bounds: undefined });
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** validate's problems for one processor config, listed in a pipeline of `signal`. */
function problems(processor: unknown, signal: 'logs' | 'metrics' = 'logs', type = 'attributes/x'): string {
  return validateConfig(
    {
      receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
      processors: { [type]: processor },
      exporters: { debug: {} },
      service: { pipelines: { [signal]: { receivers: ['logplex'], processors: [type], exporters: ['debug'] } } },
    },
    {},
  ).problems.join('\n');
}

describe('attribute actions', () => {
  it('insert only when absent, update only when present, upsert always; the action in any case', () => {
    expect(run([{ key: 'a', value: 'new', action: 'insert' }], { a: 'old' })).toEqual({ a: 'old' });
    expect(run([{ key: 'b', value: 'new', action: 'INSERT' }], { a: 'old' })).toEqual({ a: 'old', b: 'new' });
    expect(run([{ key: 'b', value: 'new', action: 'update' }], { a: 'old' })).toEqual({ a: 'old' });
    expect(run([{ key: 'a', value: 2, action: 'Update' }], { a: 'old' })).toEqual({ a: 2 });
    expect(run([{ key: 'a', value: true, action: 'upsert' }], {})).toEqual({ a: true });
    expect(run([{ key: 'tags', value: ['a', 'b'], action: 'upsert' }], {})).toEqual({ tags: ['a', 'b'] });
  });

  it('from_attribute copies a value (a list as a copy); an absent source sets nothing, even for upsert', () => {
    const out = run([{ key: 'copy', from_attribute: 'tags', action: 'upsert' }], { tags: ['x'] });
    expect(out).toEqual({ tags: ['x'], copy: ['x'] });
    expect(out.copy).not.toBe(out.tags);
    expect(run([{ key: 'c', from_attribute: 'missing', action: 'upsert' }], { a: 1 })).toEqual({ a: 1 });
    expect(run([{ key: 'a', from_attribute: 'b', action: 'update' }], { a: 1, b: 'two' })).toEqual({ a: 'two', b: 'two' });
  });

  it('delete by key, by pattern (a search over key names, as Go), or both', () => {
    expect(run([{ key: 'a', action: 'delete' }], { a: 1, b: 2 })).toEqual({ b: 2 });
    expect(run([{ pattern: '^http\\.request\\.header\\.', action: 'delete' }], { 'http.request.header.cookie': 'x', 'http.request.method': 'GET' })).toEqual({ 'http.request.method': 'GET' });
    expect(run([{ key: 'a', pattern: 'token', action: 'delete' }], { a: 1, 'x.token.y': 2, keep: 3 })).toEqual({ keep: 3 });
    expect(run([{ key: 'missing', action: 'delete' }], { a: 1 })).toEqual({ a: 1 });
  });

  it('hash is SHA-256 hex: a string\'s bytes, an integer\'s 8 little-endian bytes, a bool\'s one byte; "" and lists become ""', () => {
    expect(run([{ key: 'e', action: 'hash' }], { e: 'ann@example.com' })).toEqual({ e: sha256('ann@example.com') });
    const int = Buffer.alloc(8);
    int.writeBigInt64LE(42n);
    expect(run([{ key: 'n', action: 'hash' }], { n: 42 })).toEqual({ n: sha256(int) });
    const double = Buffer.alloc(8);
    double.writeDoubleLE(0.5);
    expect(run([{ key: 'n', action: 'hash' }], { n: 0.5 })).toEqual({ n: sha256(double) });
    expect(run([{ key: 'b', action: 'hash' }], { b: true })).toEqual({ b: sha256(Buffer.from([1])) });
    expect(run([{ key: 's', action: 'hash' }, { key: 'l', action: 'hash' }], { s: '', l: ['a'] })).toEqual({ s: '', l: '' });
    // By pattern; a key both name is hashed twice, as attraction does.
    expect(run([{ pattern: '^user\\.', action: 'hash' }], { 'user.id': 'u1', other: 'o' })).toEqual({ 'user.id': sha256('u1'), other: 'o' });
    expect(run([{ key: 'user.id', pattern: '^user\\.', action: 'hash' }], { 'user.id': 'u1' })).toEqual({ 'user.id': sha256(sha256('u1')) });
  });

  it('extract sets one attribute per named group (Go (?P<name>) syntax), overwriting; a group that took no part sets ""; no match or a non-string sets nothing', () => {
    const list = [{ key: 'url.path', pattern: '^/users/(?P<user_id>\\d+)(?:/orders/(?P<order_id>\\w+))?', action: 'extract' }];
    expect(run(list, { 'url.path': '/users/48213/orders/9f2c', user_id: 'old' })).toEqual({ 'url.path': '/users/48213/orders/9f2c', user_id: '48213', order_id: '9f2c' });
    expect(run(list, { 'url.path': '/users/7' })).toEqual({ 'url.path': '/users/7', user_id: '7', order_id: '' });
    expect(run(list, { 'url.path': '/cart' })).toEqual({ 'url.path': '/cart' });
    expect(run(list, { 'url.path': 42 })).toEqual({ 'url.path': 42 });
  });

  it('convert as strconv: int takes base-10 integers (a double truncates, a bool is 0/1), double takes decimals, string writes any value; what does not convert stays', () => {
    const convert = (to: string, value: Attributes[string]) => run([{ key: 'n', converted_type: to, action: 'convert' }], { n: value }).n;
    expect(convert('int', '42')).toBe(42);
    expect(convert('int', '-7')).toBe(-7);
    expect(convert('int', '42.7')).toBe('42.7');
    expect(convert('int', ' 42')).toBe(' 42');
    expect(convert('int', 42.7)).toBe(42);
    expect(convert('int', true)).toBe(1);
    expect(convert('double', '0.5')).toBe(0.5);
    expect(convert('double', '1e3')).toBe(1000);
    expect(convert('double', '0x10')).toBe('0x10');
    expect(convert('double', false)).toBe(0);
    expect(convert('string', 200)).toBe('200');
    expect(convert('string', true)).toBe('true');
    expect(convert('string', ['a', 'b'])).toBe('["a","b"]');
    expect(convert('int', ['1'])).toEqual(['1']);
    expect(run([{ key: 'missing', converted_type: 'int', action: 'convert' }], {})).toEqual({});
    // Go's FormatFloat(f, 'f', -1, 64): never an exponent.
    expect(asString(1e-7)).toBe('0.0000001');
    expect(asString(1.5e21)).toBe('1500000000000000000000');
  });

  it('runs the actions in the order listed', () => {
    expect(run([{ key: 'a', value: 'x', action: 'upsert' }, { key: 'b', from_attribute: 'a', action: 'insert' }, { key: 'a', action: 'delete' }], {})).toEqual({ b: 'x' });
  });

  it("refuses what attraction refuses, naming the key", () => {
    const one = (action: unknown) => problems({ actions: [action] });
    expect(one({ key: 'a', action: 'upsert' })).toMatch(/processors\.attributes\/x\.actions\[0\]\.value: upsert needs one of value, from_attribute or from_context/);
    expect(one({ key: 'a', value: 1, from_attribute: 'b', action: 'insert' })).toMatch(/actions\[0\]\.value: insert takes only one of value, from_attribute or from_context/);
    expect(one({ value: 1, action: 'insert' })).toMatch(/actions\[0\]\.key: is required for insert/);
    expect(one({ key: 'a', value: 1, pattern: 'x', action: 'insert' })).toMatch(/actions\[0\]\.pattern: insert does not use pattern/);
    expect(one({ key: 'a', value: 1, converted_type: 'int', action: 'upsert' })).toMatch(/actions\[0\]\.converted_type: upsert does not use converted_type/);
    expect(one({ action: 'delete' })).toMatch(/actions\[0\]\.key: delete needs key, pattern or both/);
    expect(one({ key: 'a', value: 1, action: 'hash' })).toMatch(/actions\[0\]\.value: hash does not use value or from_attribute/);
    expect(one({ key: 'a', pattern: '(', action: 'extract' })).toMatch(/actions\[0\]\.pattern: not a valid regular expression/);
    expect(one({ key: 'a', pattern: '\\d+', action: 'extract' })).toMatch(/actions\[0\]\.pattern: has no named group/);
    expect(one({ key: 'a', pattern: '(?P<n>\\d+)-(\\d+)', action: 'extract' })).toMatch(/actions\[0\]\.pattern: has an unnamed group/);
    expect(one({ key: 'a', pattern: '(?P<n>\\d+)', value: 'v', action: 'extract' })).toMatch(/actions\[0\]\.value: extract does not use/);
    expect(one({ key: 'a', action: 'convert' })).toMatch(/actions\[0\]\.converted_type: is required for convert/);
    expect(one({ key: 'a', converted_type: 'float', action: 'convert' })).toMatch(/actions\[0\]\.converted_type: "float" is not int, double or string/);
    expect(one({ key: 'a', from_context: 'metadata.x-tenant', action: 'insert' })).toMatch(/actions\[0\]\.from_context: not supported here: it reads the request's client metadata/);
    expect(one({ key: 'a', value: 1, action: 'rename' })).toMatch(/actions\[0\]\.action: expected one of/);
    expect(one({ key: 'a', value: { nested: 1 }, action: 'insert' })).toMatch(/actions\[0\]\.value: a string, a number, a boolean or a list of strings/);
    expect(problems({ actions: [] })).toMatch(/processors\.attributes\/x\.actions: at least one action is required/);
  });
});

describe('RE2 patterns as JavaScript', () => {
  it('translates what Go writes differently and refuses what RE2 refuses', () => {
    const ok = (source: string) => {
      const c = compileGoRegexp(source);
      if (!c.ok) throw new Error(c.problem);
      return c.regexp;
    };
    expect(ok('(?i)^get').test('GET /')).toBe(true);
    expect(ok('(?P<id>\\d+)').exec('a12')?.groups?.id).toBe('12');
    expect(ok('\\Aab\\z').test('ab')).toBe(true);
    expect(ok('\\Aab\\z').test('ab\n')).toBe(false);
    expect(ok('^[[:digit:]]+$').test('123')).toBe(true);
    expect(ok('[]a]').test(']')).toBe(true);
    const refused = (source: string) => {
      const c = compileGoRegexp(source);
      return c.ok ? 'compiled' : c.problem;
    };
    expect(refused('a(?=b)')).toMatch(/lookahead and lookbehind .* not RE2 syntax/);
    expect(refused('(a)\\1')).toMatch(/backreferences/);
    expect(refused('a(?i)b')).toMatch(/flag group inside the pattern/);
    expect(refused('(?U)a+')).toMatch(/ungreedy/);
    expect(refused('[')).toMatch(/not a valid regular expression/);
  });
});

describe('attributes processor include / exclude', () => {
  const processor = (config: unknown) => attributesFactory.create('attributes', attributesConfigSchema.parse(config), host);
  const insertTeam = [{ key: 'team', value: 'shop', action: 'insert' }];

  it('acts only on records the include matches and the exclude does not (include checked first)', () => {
    const p = processor({ actions: insertTeam, include: { match_type: 'strict', attributes: [{ key: 'heroku.dyno.type', value: 'web' }] }, exclude: { match_type: 'regexp', log_bodies: ['^GET /health'] } });
    const web = record({ 'heroku.dyno.type': 'web' });
    const health = record({ 'heroku.dyno.type': 'web' }, 'GET /health');
    const worker = record({ 'heroku.dyno.type': 'worker' });
    p.process!({}, [web, health, worker], [], new Set());
    expect([web, health, worker].map((r) => r.attributes.team)).toEqual(['shop', undefined, undefined]);
  });

  it('strict compares values with their type; regexp matches a value\'s text; a key alone asks only that it is there', () => {
    const on = (include: unknown, attributes: Attributes) => {
      const r = record(attributes);
      processor({ actions: insertTeam, include }).process!({}, [r], [], new Set());
      return r.attributes.team === 'shop';
    };
    expect(on({ match_type: 'strict', attributes: [{ key: 'http.response.status_code', value: 200 }] }, { 'http.response.status_code': 200 })).toBe(true);
    expect(on({ match_type: 'strict', attributes: [{ key: 'http.response.status_code', value: '200' }] }, { 'http.response.status_code': 200 })).toBe(false);
    expect(on({ match_type: 'regexp', attributes: [{ key: 'http.response.status_code', value: '^5' }] }, { 'http.response.status_code': 503 })).toBe(true);
    expect(on({ match_type: 'strict', attributes: [{ key: 'user.id' }] }, { 'user.id': 'u' })).toBe(true);
    expect(on({ match_type: 'strict', attributes: [{ key: 'user.id' }] }, { other: 'u' })).toBe(false);
  });

  it('matches the resource, severity text and number (match_undefined), and the library (this sidecar\'s scope)', () => {
    const on = (include: unknown, r: LogRecordData, resource: Attributes = {}) => {
      processor({ actions: insertTeam, include }).process!(resource, [r], [], new Set());
      return r.attributes.team === 'shop';
    };
    expect(on({ match_type: 'strict', resources: [{ key: 'service.name', value: 'shop-web' }] }, record({}), { 'service.name': 'shop-web' })).toBe(true);
    expect(on({ match_type: 'strict', resources: [{ key: 'service.name', value: 'shop-web' }] }, record({}), { 'service.name': 'other' })).toBe(false);
    expect(on({ match_type: 'regexp', log_severity_texts: ['^ERR'] }, record({}, 'x', 17, 'ERROR'))).toBe(true);
    expect(on({ match_type: 'strict', log_severity_number: { min: 'WARN' } }, record({}, 'x', 9, 'INFO'))).toBe(false);
    expect(on({ match_type: 'strict', log_severity_number: { min: 13 } }, record({}, 'x', 17, 'ERROR'))).toBe(true);
    expect(on({ match_type: 'strict', log_severity_number: { min: 13 } }, record({}, 'x', 0, ''))).toBe(false);
    expect(on({ match_type: 'strict', log_severity_number: { min: 13, match_undefined: true } }, record({}, 'x', 0, ''))).toBe(true);
    expect(on({ match_type: 'strict', libraries: [{ name: 'heroku-otel-drain' }] }, record({}))).toBe(true);
    expect(on({ match_type: 'strict', libraries: [{ name: 'io.opentelemetry.jdbc' }] }, record({}))).toBe(false);
  });

  it('on metrics, matches metric names; resources alone decide nothing there (contrib\'s metric matcher reads only names)', () => {
    const p = processor({ actions: [{ key: 'tier', value: 'gold', action: 'insert' }], include: { match_type: 'regexp', metric_names: ['^http\\.'] } });
    const http = point('http.server.request.duration', {});
    const dyno = point('heroku.dyno.memory.rss', {});
    p.process!({}, [], [http, dyno], new Set());
    expect([http.attributes.tier, dyno.attributes.tier]).toEqual(['gold', undefined]);
    const byResource = processor({ actions: [{ key: 'tier', value: 'gold', action: 'insert' }], include: { match_type: 'strict', resources: [{ key: 'service.name', value: 'other' }] } });
    const any = point('heroku.dyno.load.avg.1m', {});
    byResource.process!({ 'service.name': 'shop-web' }, [], [any], new Set());
    expect(any.attributes.tier).toBe('gold');
  });

  it('refuses what contrib refuses for the signal of each pipeline listing it, and span-only keys everywhere', () => {
    expect(problems({ actions: insertTeam, include: { match_type: 'strict', metric_names: ['x'] } }, 'logs')).toMatch(
      /processors\.attributes\/x\.include\.metric_names: not valid for log records .*\(service\.pipelines\.logs lists it\)/,
    );
    expect(problems({ actions: insertTeam, exclude: { match_type: 'regexp', log_bodies: ['x'] } }, 'metrics')).toMatch(/processors\.attributes\/x\.exclude\.log_bodies: not valid for metrics/);
    expect(problems({ actions: insertTeam, include: { match_type: 'strict', attributes: [{ key: 'a', value: 'b' }] } }, 'metrics')).toMatch(/include\.attributes: not valid for metrics/);
    expect(problems({ actions: insertTeam, include: { match_type: 'strict' } }, 'logs')).toMatch(/processors\.attributes\/x\.include: needs at least one of attributes/);
    expect(problems({ actions: insertTeam, include: { match_type: 'strict', resources: [{ key: 'a' }] } }, 'metrics')).toBe('');
    expect(problems({ actions: insertTeam, include: { match_type: 'strict', span_names: ['GET'] } })).toMatch(/include\.span_names: is for spans only/);
    expect(problems({ actions: insertTeam, include: { match_type: 'regexp', log_bodies: ['('] } })).toMatch(/processors\.attributes\/x\.include\.log_bodies\[0\]: not a valid regular expression/);
    expect(problems({ actions: insertTeam, include: { match_type: 'regexp', attributes: [{ key: 'n', value: 5 }] } })).toMatch(/include\.attributes\[0\]\.value: match_type regexp takes a string pattern/);
    expect(problems({ actions: insertTeam, include: { match_type: 'exact', attributes: [{ key: 'n' }] } })).toMatch(/include\.match_type: expected one of "strict", "regexp"/);
    expect(problems({ actions: insertTeam, include: { match_type: 'regexp', regexp: { cacheenabled: true }, log_bodies: ['x'] } })).toBe('');
  });
});

describe('resource processor', () => {
  it('hands on a changed copy, the same object for the same input, never changing the input', () => {
    const p = resourceFactory.create('resource', resourceConfigSchema.parse({ attributes: [{ key: 'deployment.environment.name', value: 'production', action: 'upsert' }, { key: 'heroku.app.id', action: 'delete' }, { key: 'cloud.region', from_attribute: 'heroku.region', action: 'insert' }] }), host);
    const drain = { 'service.name': 'shop-web', 'heroku.app.id': 'a1', 'heroku.region': 'eu' };
    const first = p.process!(drain, [], [], new Set()) as { resource: Attributes };
    const second = p.process!(drain, [], [], new Set()) as { resource: Attributes };
    expect(first.resource).toEqual({ 'service.name': 'shop-web', 'deployment.environment.name': 'production', 'heroku.region': 'eu', 'cloud.region': 'eu' });
    expect(second.resource).toBe(first.resource);
    expect(drain).toEqual({ 'service.name': 'shop-web', 'heroku.app.id': 'a1', 'heroku.region': 'eu' });
    const other = p.process!({ 'service.name': 'api' }, [], [], new Set()) as { resource: Attributes };
    expect(other.resource).toEqual({ 'service.name': 'api', 'deployment.environment.name': 'production' });
  });

  it('refuses as contrib: attributes required, each action checked', () => {
    expect(problems({}, 'logs', 'resource')).toMatch(/processors\.resource\.attributes: is required/);
    expect(problems({ attributes: [{ key: 'a', action: 'insert' }] }, 'logs', 'resource')).toMatch(/processors\.resource\.attributes\[0\]\.value: insert needs one of/);
  });
});
