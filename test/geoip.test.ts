/**
 * The geoip processor against the real bundled database (@ip-location-db's country database):
 * public addresses get their country and continent, private and invalid ones are skipped,
 * lookups are cached, and a missing or corrupt database is a clear startup error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../src/config/load.ts';
import { geoipConfigSchema } from '../src/processors/geoip/config.ts';
import { GeoipProcessor } from '../src/processors/geoip/processor.ts';
import { Service } from '../src/service/service.ts';
import { registryProblems } from './support/semconv-check.ts';

const geoip = () => new GeoipProcessor('geoip', geoipConfigSchema.parse({}));

describe('geoip processor', () => {
  it('finds the country and continent of public IPv4 and IPv6 addresses', () => {
    const g = geoip();
    expect(g.lookup('8.8.8.8')).toEqual({ 'geo.country.iso_code': 'US', 'geo.continent.code': 'NA' });
    expect(g.lookup('81.2.69.142')).toEqual({ 'geo.country.iso_code': 'GB', 'geo.continent.code': 'EU' });
    expect(g.lookup('2001:4860:4860::8888')).toMatchObject({ 'geo.country.iso_code': 'US' });
  });

  it('skips private, loopback, link-local and invalid addresses, and caches', () => {
    const g = geoip();
    for (const a of ['10.1.2.3', '172.16.0.9', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '::1', 'fd00::1', 'fe80::1', 'unknown', '']) expect(g.lookup(a)).toBeNull();
    expect(g.counters.lookups).toBe(0);
    g.lookup('8.8.8.8');
    g.lookup('8.8.8.8');
    expect(g.counters).toMatchObject({ lookups: 1, cacheHits: 1, found: 1 });
  });

  it('adds geo attributes to router records in place, all declared in the registry', () => {
    const record = { timeUnixMicros: 1, observedUnixMicros: 1, severityNumber: 9, severityText: 'INFO', body: 'x', eventName: 'heroku.router.request', attributes: { 'client.address': '81.2.69.142' }, traceId: undefined, spanId: undefined, traceFlags: 0 };
    geoip().process([record]);
    expect(record.attributes).toMatchObject({ 'geo.country.iso_code': 'GB', 'geo.continent.code': 'EU' });
    expect(registryProblems([record], [], new Set())).toEqual([]);
  });

  it("understands contrib's geoipprocessor keys: providers.maxmind.database_path, the attributes list (first present), context resource on a copy", async () => {
    const { geoipFactory } = await import('../src/processors/geoip/factory.ts');
    const database = new GeoipProcessor('geoip', geoipConfigSchema.parse({})).database;
    const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
    const onRecords = geoipFactory.create('geoip', geoipConfigSchema.parse({ providers: { maxmind: { database_path: database } }, attributes: ['source.address', 'client.address'] }), host);
    const record = { timeUnixMicros: 1, observedUnixMicros: 1, severityNumber: 9, severityText: 'INFO', body: 'x', eventName: '', attributes: { 'client.address': '8.8.8.8', 'source.address': '81.2.69.142' } as Record<string, string>, traceId: undefined, spanId: undefined, traceFlags: 0 };
    onRecords.process!({}, [record], [], new Set());
    expect(record.attributes['geo.country.iso_code']).toBe('GB');
    const onResource = geoipFactory.create('geoip', geoipConfigSchema.parse({ context: 'resource', providers: { maxmind: { database_path: database } } }), host);
    const drain = { 'service.name': 'shop-web', 'client.address': '81.2.69.142' };
    const out = onResource.process!(drain, [], [], new Set()) as { resource: Record<string, string> };
    expect(out.resource).toMatchObject({ 'service.name': 'shop-web', 'geo.country.iso_code': 'GB' });
    expect(drain).toEqual({ 'service.name': 'shop-web', 'client.address': '81.2.69.142' });
    expect(geoipConfigSchema.safeParse({ database, providers: { maxmind: { database_path: database } } }).success).toBe(false);
  });

  it('stops the sidecar at startup when the database is missing or not a database', () => {
    expect(() => new GeoipProcessor('geoip', geoipConfigSchema.parse({ database: '/nonexistent/GeoLite2-City.mmdb' }))).toThrow('processors.geoip.database: cannot read /nonexistent/GeoLite2-City.mmdb: ENOENT');
    const junk = join(mkdtempSync(join(tmpdir(), 'hod-geoip-')), 'junk.mmdb');
    writeFileSync(junk, 'not a database at all');
    expect(() => new GeoipProcessor('geoip', geoipConfigSchema.parse({ database: junk }))).toThrow(/is not a MaxMind-format database/);
  });

  it('locates router lines POSTed to the sidecar before they are exported', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hod-geoip-')), 'out.jsonl');
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  geoip: {}
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [geoip], exporters: [file] }
`),
      {},
    );
    expect(problems).toEqual([]);
    const service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const line = '<158>1 2024-05-01T12:00:00+00:00 host heroku router - at=info method=GET path="/" host=shop.example.com request_id=r1 fwd="81.2.69.142" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https';
    const res = await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body: `${Buffer.byteLength(line) + 1} ${line}\n` });
    expect(res.status).toBe(200);
    await service.shutdown(5000);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8')).toContain('{"key":"geo.country.iso_code","value":{"stringValue":"GB"}}');
  });
});
