/**
 * The attribute actions of the attributes and resource processors, as contrib's attraction runs
 * them (internal/coreinternal/attraction/attraction.go): each case says what a Collector user gets.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyActions } from '../../src/processors/attributes/actions.ts';
import { attributesConfigSchema } from '../../src/processors/attributes/config.ts';
import { attributesFactory } from '../../src/processors/attributes/factory.ts';
import { resourceFactory } from '../../src/processors/resource/factory.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Attributes, LogRecordData } from '../../src/translate/telemetry.ts';

const actions = (list: unknown[]) => attributesConfigSchema.parse({ actions: list }).actions;
const run = (list: unknown[], attributes: Attributes) => {
  const out = { ...attributes };
  applyActions(actions(list), out);
  return out;
};
const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
const record = (attributes: Attributes, body = 'GET /'): LogRecordData => ({ timeUnixMicros: 1, observedUnixMicros: 1, severityNumber: 9, severityText: 'INFO', body, eventName: '', attributes, traceId: undefined, spanId: undefined, traceFlags: 0 });

describe('attribute actions', () => {
  it('insert only when absent, update only when present, upsert always; from_attribute copies', () => {
    expect(run([{ key: 'a', value: 'new', action: 'insert' }], { a: 'old' })).toEqual({ a: 'old' });
    expect(run([{ key: 'b', value: 'new', action: 'insert' }], { a: 'old' })).toEqual({ a: 'old', b: 'new' });
    expect(run([{ key: 'b', value: 'new', action: 'update' }], { a: 'old' })).toEqual({ a: 'old' });
    expect(run([{ key: 'a', value: 2, action: 'update' }], { a: 'old' })).toEqual({ a: 2 });
    expect(run([{ key: 'a', value: true, action: 'upsert' }, { key: 'c', from_attribute: 'a', action: 'upsert' }], {})).toEqual({ a: true, c: true });
    // A missing source attribute sets nothing.
    expect(run([{ key: 'c', from_attribute: 'missing', action: 'upsert' }], { a: 1 })).toEqual({ a: 1 });
  });

  it('delete and hash by key or by pattern; hash is SHA-256 hex of the value', () => {
    expect(run([{ key: 'a', action: 'delete' }, { pattern: '^http\\.request\\.header\\.', action: 'delete' }], { a: 1, 'http.request.header.cookie': 'x', keep: 2 })).toEqual({ keep: 2 });
    const sha = createHash('sha256').update('ann@example.com').digest('hex');
    expect(run([{ key: 'user.email', action: 'hash' }], { 'user.email': 'ann@example.com' })).toEqual({ 'user.email': sha });
  });

  it('extract named groups (Go (?P<name>) syntax) from a value; no match sets nothing', () => {
    const list = [{ key: 'url.path', pattern: '^/users/(?P<user_id>\\d+)/orders/(?P<order_id>\\w+)', action: 'extract' }];
    expect(run(list, { 'url.path': '/users/48213/orders/9f2c' })).toEqual({ 'url.path': '/users/48213/orders/9f2c', user_id: '48213', order_id: '9f2c' });
    expect(run(list, { 'url.path': '/cart' })).toEqual({ 'url.path': '/cart' });
  });

  it('convert to int, double or string; a value that does not convert stays', () => {
    expect(run([{ key: 'n', converted_type: 'int', action: 'convert' }], { n: '42.7' })).toEqual({ n: 42 });
    expect(run([{ key: 'n', converted_type: 'double', action: 'convert' }], { n: '0.5' })).toEqual({ n: 0.5 });
    expect(run([{ key: 'n', converted_type: 'string', action: 'convert' }], { n: 200 })).toEqual({ n: '200' });
    expect(run([{ key: 'n', converted_type: 'int', action: 'convert' }], { n: 'abc' })).toEqual({ n: 'abc' });
  });

  it('refuses, naming the key, what cannot work', () => {
    const problems = (processor: unknown) =>
      validateConfig({ receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } }, processors: { 'attributes/x': processor }, exporters: { debug: {} }, service: { pipelines: { logs: { receivers: ['logplex'], processors: ['attributes/x'], exporters: ['debug'] } } } }, {}).problems.join('\n');
    expect(problems({ actions: [{ key: 'a', action: 'upsert' }] })).toMatch(/processors\.attributes\/x\.actions\[0\]\.value: upsert needs exactly one of value, from_attribute or from_context/);
    expect(problems({ actions: [{ key: 'a', pattern: '(', action: 'extract' }] })).toMatch(/processors\.attributes\/x\.actions\[0\]\.pattern: not a valid regular expression/);
    expect(problems({ actions: [{ key: 'a', pattern: '\\d+', action: 'extract' }] })).toMatch(/named group/);
    expect(problems({ actions: [{ key: 'a', from_context: 'auth.subject', action: 'insert' }] })).toMatch(/from_context: not supported/);
    expect(problems({ actions: [{ key: 'a', value: 1, action: 'rename' }] })).toMatch(/actions\[0\]\.action: expected one of/);
    expect(problems({ actions: [{ key: 'a', value: 1, action: 'insert' }], include: { match_type: 'strict', services: ['x'] } })).toMatch(/include\.services: unknown key/);
  });
});

describe('attributes processor include / exclude', () => {
  it('acts only on records the include matches and the exclude does not', () => {
    const p = attributesFactory.create('attributes', attributesConfigSchema.parse({ actions: [{ key: 'team', value: 'shop', action: 'insert' }], include: { match_type: 'strict', attributes: [{ key: 'heroku.dyno.type', value: 'web' }] }, exclude: { match_type: 'regexp', log_bodies: ['^GET /health'] } }), host);
    const web = record({ 'heroku.dyno.type': 'web' });
    const health = record({ 'heroku.dyno.type': 'web' }, 'GET /health');
    const worker = record({ 'heroku.dyno.type': 'worker' });
    p.process!({}, [web, health, worker], [], new Set());
    expect([web, health, worker].map((r) => r.attributes.team)).toEqual(['shop', undefined, undefined]);
  });
});

describe('resource processor', () => {
  it('hands on a changed copy, the same object for the same input, never changing the input', () => {
    const p = resourceFactory.create('resource', { attributes: actions([{ key: 'deployment.environment.name', value: 'production', action: 'upsert' }, { key: 'heroku.app.id', action: 'delete' }]) }, host);
    const drain = { 'service.name': 'shop-web', 'heroku.app.id': 'a1' };
    const first = p.process!(drain, [], [], new Set()) as { resource: Attributes };
    const second = p.process!(drain, [], [], new Set()) as { resource: Attributes };
    expect(first.resource).toEqual({ 'service.name': 'shop-web', 'deployment.environment.name': 'production' });
    expect(second.resource).toBe(first.resource);
    expect(drain).toEqual({ 'service.name': 'shop-web', 'heroku.app.id': 'a1' });
  });
});
