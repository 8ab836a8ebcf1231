/**
 * Record attributes are built for speed (see EnvelopeAttributes in translate.ts), but stay what
 * every processor and exporter reads: plain objects, their keys in the order they were set.
 */
import { serialize, deserialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../../src/heroku/classify.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';
import { tlsProtocol, translateEvent } from '../../src/translate/translate.ts';

const LINES = [
  '<158>1 2024-05-01T12:00:00.123456+00:00 host heroku router - at=info method=GET path="/a?b=c" host=shop.example.com request_id=f2b8e1d4-6c3a-4b7e-9a21-3d5c7e9f1a2b fwd="203.0.113.9" dyno=web.1 connect=0ms service=41ms status=200 bytes=1834 protocol=https tls_version=TLSv1.3 region=eu',
  '<158>1 2024-05-01T12:00:00.123456+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=GET path="/" host=x request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https',
  '<45>1 2024-05-01T12:00:00+00:00 host heroku web.1 - State changed from starting to up',
  '<190>1 2024-05-01T12:00:00+00:00 host app web.1 - {"level":"info","msg":"hi","user":"u1"}',
  '<45>1 2024-05-01T12:00:00+00:00 host heroku web.1 - source=web.1 dyno=heroku.1.abc sample#memory_rss=21.2MB sample#load_avg_1m=0.01',
];

describe('record attributes', () => {
  it('are plain objects that survive v8.serialize and compare equal to a literal', () => {
    for (const text of LINES) {
      const line = parseAnyLine(text);
      const batch = newTelemetryBatch();
      translateEvent(line, interpretLine(line), 1, batch);
      for (const attrs of [...batch.logs.map((r) => r.attributes), ...batch.metrics.map((p) => p.attributes)]) {
        expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
        const copy = deserialize(serialize(attrs));
        expect(attrs).toStrictEqual(copy);
        expect(Object.keys(attrs)).toEqual(Object.keys(copy));
        for (const key in attrs) expect(attrs[key], key).not.toBeUndefined();
      }
    }
  });

  it('list the envelope first, then the router fields, then unknown router keys', () => {
    const line = parseAnyLine(LINES[0]!);
    const batch = newTelemetryBatch();
    translateEvent(line, interpretLine(line), 1, batch);
    const keys = Object.keys(batch.logs[0]!.attributes);
    expect(keys.slice(0, 2)).toEqual(['heroku.log.kind', 'heroku.log.shape']);
    expect(keys.indexOf('heroku.dyno.type')).toBeLessThan(keys.indexOf('http.request.method'));
    expect(keys[keys.length - 1]).toBe('heroku.router.region');
  });
});

describe('tlsProtocol', () => {
  // What the conventions' tls.protocol.name and .version take, by the rule it replaced.
  const byRegex = (v: string) => {
    const m = /^(tls|ssl)v?(\d+(?:\.\d+)?)$/i.exec(v);
    return m ? [m[1]!.toLowerCase(), m[2]!] : undefined;
  };
  it('reads TLS and SSL versions as the pattern ^(tls|ssl)v?(\\d+(\\.\\d+)?)$ (any case) does', () => {
    const cases = ['TLSv1.3', 'TLSv1.2', 'tlsv1', 'TLS1.2', 'SSLv3', 'sslV3.0', 'TlSv13', 'TLSv', 'TLSv1.', 'TLSv.1', 'TLSv1..2', 'TLSv1.2.3', 'TLSx1.2', 'TLS', 'unknown', '', 'tls v1.2', 'TLSv1.3 ', 'TLSv٣', 'SSL2', 'tlsvv1', 'DTLSv1.2', 'TLSv1.2a'];
    for (const v of cases) expect(tlsProtocol(v), v).toEqual(byRegex(v));
  });
});
