import { describe, expect, it } from 'vitest';
import { emptyRouterEvent, looksLikeLegacyRouterLine, parseLegacyRouterLine, parseRouterLine, parseRouterLineInto, splitForwarded } from '../../src/heroku/router.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';

describe('splitForwarded', () => {
  it.each([
    ['', []],
    ['203.0.113.9', ['203.0.113.9']],
    ['185.244.159.14,141.101.104.98', ['185.244.159.14', '141.101.104.98']],
    ['203.0.113.9, 198.51.100.2 ,10.0.0.1', ['203.0.113.9', '198.51.100.2', '10.0.0.1']],
    ['203.0.113.9 198.51.100.2', ['203.0.113.9', '198.51.100.2']],
    ['2001:db8::7', ['2001:db8::7']],
    ['::1', ['::1']],
    ['[2001:db8::1]:443', ['2001:db8::1']],
    ['[2001:db8::1]', ['2001:db8::1']],
    ['[2001:db8::1', ['2001:db8::1']],
    ['203.0.113.9:51234', ['203.0.113.9']],
    ['::ffff:203.0.113.9', ['::ffff:203.0.113.9']],
    ['\\"108.21.18.132\\"', ['108.21.18.132']],
    ['"1.2.3.4"', ['1.2.3.4']],
    [',,', []],
    ['unknown, 10.0.0.1', ['unknown', '10.0.0.1']],
  ] as const)('%j', (value, expected) => {
    expect(splitForwarded(value)).toEqual(expected);
  });
});

describe('parseRouterLine', () => {
  it('keeps fields at their defaults when the line has none of them', () => {
    expect(parseRouterLine('at=info')).toEqual({
      kind: 'router',
      at: 'info',
      code: undefined,
      desc: undefined,
      method: undefined,
      path: undefined,
      query: undefined,
      host: undefined,
      requestId: undefined,
      fwd: [],
      dyno: undefined,
      connectMs: NaN,
      serviceMs: NaN,
      status: NaN,
      bytes: NaN,
      protocol: undefined,
      tlsVersion: undefined,
      sock: undefined,
      extra: undefined,
    });
  });

  it('reads values whose quotes were escaped (a line copied out of JSON) whole, spaces and all', () => {
    const ev = parseRouterLine('at=info method=POST path=\\"/search?q=red shoes\\" host=shop.example.com fwd=\\"203.0.113.9, 10.0.0.1\\" dyno=web.2 status=200');
    expect(ev.fwd).toEqual(['203.0.113.9', '10.0.0.1']);
    expect([ev.path, ev.query]).toEqual(['/search', 'q=red shoes']);
    expect(ev.dyno).toBe('web.2');
    expect(ev.status).toBe(200);
    // Nothing of the value leaks out as a key of its own.
    expect(ev.extra).toBeUndefined();
  });

  it('does not share the fwd array between lines', () => {
    const a = parseRouterLine('at=info');
    const b = parseRouterLine('at=info');
    a.fwd.push('x');
    expect(b.fwd).toEqual([]);
  });

  it('keeps unknown keys, including empty and bare ones, as written', () => {
    expect(parseRouterLine('at=info new_key="a b" empty= flag').extra).toEqual({ new_key: 'a b', empty: '', flag: '' });
  });

  it('treats empty known values as absent', () => {
    const ev = parseRouterLine('at=error code= desc= method= path= host= request_id= fwd= dyno= protocol= tls_version= sock=');
    expect(ev).toMatchObject({ code: undefined, desc: undefined, method: undefined, path: undefined, host: undefined, requestId: undefined, fwd: [], dyno: undefined, protocol: undefined, tlsVersion: undefined, sock: undefined, extra: undefined });
  });

  it('splits the query at the first ?', () => {
    expect(parseRouterLine('at=info path="/a?b?c=d"')).toMatchObject({ path: '/a', query: 'b?c=d' });
    expect(parseRouterLine('at=info path="?x=1"')).toMatchObject({ path: '', query: 'x=1' });
  });

  it('reads a CRLF-terminated line without the CR', () => {
    expect(parseRouterLine('at=info bytes=12 protocol=https\r')).toMatchObject({ bytes: 12, protocol: 'https', extra: undefined });
  });

  it('reads a line truncated in the middle of a quoted path', () => {
    expect(parseRouterLine('at=info method=GET path="/a b')).toMatchObject({ method: 'GET', path: '/a b', host: undefined });
  });
});

describe('router keys', () => {
  it('are known by their exact characters: near misses and non-ASCII look-alikes stay extra keys', () => {
    // `\`ô` packs, 7 bits a character, to the same number as `at` (96 * 128 + 244 = 97 * 128 + 116).
    const ev = parseRouterLine('at=info `\u00f4=x At=y at2=z protocoL=h2 request_iD=r tls_versioN=t statuses=1 fwd=1.2.3.4');
    expect(ev.at).toBe('info');
    expect(ev.protocol).toBeUndefined();
    expect(ev.requestId).toBeUndefined();
    expect(ev.tlsVersion).toBeUndefined();
    expect(ev.status).toBeNaN();
    expect(ev.extra).toEqual({ '`\u00f4': 'x', At: 'y', at2: 'z', protocoL: 'h2', request_iD: 'r', tls_versioN: 't', statuses: '1' });
  });
});

describe('parseRouterLineInto', () => {
  const full =
    'at=error code=H12 desc="Request \\"timeout\\"" method=PROPFIND path="/a?b=c" host=h:8443 request_id=r1 fwd="1.2.3.4, 5.6.7.8" dyno=web.2 connect=1ms service=30000ms status=503 bytes=12 protocol=http2 tls_version=TLSv1.3 sock=backend region=eu';

  it('leaves nothing of the line read before: the event is the one parseRouterLine gives', () => {
    const ev = emptyRouterEvent();
    parseRouterLineInto(ev, full);
    for (const next of ['at=info', 'at=info method=GET path="/" status=200', 'sock=client at=warning code=H27 fwd=unknown', full, '']) {
      expect(parseRouterLineInto(ev, next)).toEqual(parseRouterLine(next));
    }
  });

  it("keeps records of earlier lines as they were when translateLineSafely reuses its event", () => {
    const batch = newTelemetryBatch();
    translateLineSafely(parseAnyLine(`<158>1 2024-05-01T12:00:00+00:00 host heroku router - ${full}`), 1, batch);
    translateLineSafely(parseAnyLine('<158>1 2024-05-01T12:00:01+00:00 host heroku router - at=info method=GET path="/x" fwd="9.9.9.9" status=200 extra=1'), 1, batch);
    expect(batch.logs[0]!.attributes).toMatchObject({ 'heroku.router.fwd': ['1.2.3.4', '5.6.7.8'], 'url.path': '/a', 'heroku.router.region': 'eu', 'heroku.error.code': 'H12' });
    expect(batch.logs[0]!.attributes['heroku.router.extra']).toBeUndefined();
    expect(batch.logs[1]!.attributes).toMatchObject({ 'heroku.router.fwd': ['9.9.9.9'], 'url.path': '/x', 'heroku.router.extra': '1' });
    expect(batch.logs[1]!.attributes['heroku.error.code']).toBeUndefined();
  });
});

describe('legacy router errors (pre-2012)', () => {
  it('recognises only the `Error Hnn (...) -> ...` shape', () => {
    expect(looksLikeLegacyRouterLine('Error H10 (App crashed) -> GET x.com/ dyno=none')).toBe(true);
    expect(looksLikeLegacyRouterLine('Error H10 (App crashed)')).toBe(false);
    expect(looksLikeLegacyRouterLine('at=error code=H10')).toBe(false);
  });

  it('reads method, host, path and query, then the pairs', () => {
    expect(parseLegacyRouterLine('Error H12 (Request timeout) -> POST shop.heroku.com/pay?x=1 dyno=web.2 queue=0 wait=0ms service=30000ms status=503 bytes=0')).toMatchObject({
      at: 'error',
      code: 'H12',
      desc: 'Request timeout',
      method: 'POST',
      host: 'shop.heroku.com',
      path: '/pay',
      query: 'x=1',
      dyno: 'web.2',
      serviceMs: 30000,
      status: 503,
      bytes: 0,
      extra: { queue: '0', wait: '0ms' },
    });
  });

  it('tolerates a line with nothing after the arrow', () => {
    expect(parseLegacyRouterLine('Error H99 (Platform error) -> ')).toMatchObject({ code: 'H99', desc: 'Platform error', method: undefined, host: undefined });
  });
});
