/** Shapes found after the case table was written: each asserted end to end, line to record. */
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../../src/heroku/classify.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';
import { translateEvent } from '../../src/translate/translate.ts';

function recordOf(text: string) {
  const line = parseAnyLine(text);
  const batch = newTelemetryBatch();
  translateEvent(line, interpretLine(line), 1, batch);
  expect(batch.logs).toHaveLength(1);
  return { line, record: batch.logs[0]!, metrics: batch.metrics };
}

describe('more shapes', () => {
  it('reads a router client error whose first key is sock=, not at=', () => {
    const { record } = recordOf(
      '2024-05-01T12:00:00.000000+00:00 heroku[router]: sock=client at=warning code=H27 desc="Client Request Interrupted" method=POST path="/upload" host=shop.example.com request_id=r1 fwd="203.0.113.9" dyno=web.1 connect=0ms service=2005ms status=499 bytes=0 protocol=https',
    );
    expect(record.eventName).toBe('heroku.router.request');
    expect(record.severityText).toBe('WARN');
    expect(record.attributes).toMatchObject({
      'error.type': 'H27',
      'heroku.router.sock': 'client',
      'http.request.method': 'POST',
      'http.response.status_code': 499,
      'client.address': '203.0.113.9',
    });
  });

  it('keeps tls_version as written when it names no version (Router 2.0 writes `unknown`)', () => {
    const { record } = recordOf(
      '2025-09-16T02:42:41.772115+00:00 heroku[router]: at=info method=GET path="/" host=a.herokuapp.com request_id=x fwd="31.125.50.224" dyno=web.1 connect=0ms service=793ms status=304 bytes=0 protocol=http1.1 tls=true tls_version=unknown',
    );
    expect(record.attributes).toMatchObject({
      'heroku.router.tls_version': 'unknown',
      'url.scheme': 'https',
      'network.protocol.name': 'http',
      'network.protocol.version': '1.1',
      'heroku.router.tls': 'true',
    });
    expect(record.attributes['tls.protocol.version']).toBeUndefined();
  });

  it('reads the PRI-less syslog drain rendering of an L10 line from Dev Center', () => {
    const { line, record, metrics } = recordOf(
      '2013-04-17T19:04:46+00:00 d.1234-drain-identifier-567 heroku logplex - - Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.',
    );
    expect(line).toMatchObject({ appName: 'heroku', procId: 'logplex', facility: -1, timestamp: '2013-04-17T19:04:46+00:00' });
    expect(record.eventName).toBe('heroku.logplex.error');
    expect(record.attributes).toMatchObject({ 'error.type': 'L10', 'heroku.logplex.dropped_messages': 500 });
    expect(record.attributes['heroku.drain.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(record)).not.toContain('d.1234-drain-identifier-567');
    expect(metrics.map((m) => [m.name, m.value])).toEqual([['heroku.logplex.dropped_messages', 500]]);
  });

  it('reads the readable drain rendering `TIMESTAMP d.<token> app[web.1] text`, never emitting the token', () => {
    const token = 'd.9173ea1f-6f14-4976-9cf0-7cd0dafdcdbc';
    const { record } = recordOf(`2013-01-01T01:01:01.000000+00:00 ${token} app[web.1] Your message here.`);
    expect(record.body).toBe('Your message here.');
    expect(record.attributes).toMatchObject({ 'heroku.dyno.name': 'web.1', 'heroku.syslog.app_name': 'app' });
    expect(record.attributes['heroku.drain.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(record)).not.toContain(token);
  });

  it('splits a JSON error object into message, type and stack', () => {
    const { record } = recordOf('2024-05-01T12:00:00Z app[web.1]: {"level":"error","msg":"failed","err":{"type":"TypeError","message":"x is undefined","stack":"TypeError: x is undefined\\n    at f (a.js:1:1)"}}');
    expect(record.attributes).toMatchObject({
      'exception.message': 'x is undefined',
      'exception.type': 'TypeError',
      'exception.stacktrace': 'TypeError: x is undefined\n    at f (a.js:1:1)',
    });
  });

  it('drops a trailing carriage return from a single line', () => {
    expect(recordOf('2024-05-01T12:00:00Z app[web.1]: windows line\r').record.body).toBe('windows line');
  });
});

describe('review findings', () => {
  it('counts router errors where no dyno answered in the duration histogram, at 0 s', () => {
    const { metrics } = recordOf(
      '2022-04-12T15:27:32.877398+00:00 heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=x.herokuapp.com request_id=r fwd="157.51.25.187" dyno= connect= service= status=503 bytes= protocol=https',
    );
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ name: 'http.server.request.duration', value: 0, attributes: { 'http.response.status_code': 503, 'error.type': 'H10' } });
  });

  it('splits a CONNECT authority into server.address and server.port', () => {
    const { record, metrics } = recordOf('2024-05-01T12:00:00Z heroku[router]: at=info method=CONNECT path="example.com:443" host=example.com:443 fwd="1.2.3.4" dyno=web.1 connect=1ms service=2ms status=200 bytes=0');
    expect(record.attributes).toMatchObject({ 'server.address': 'example.com', 'server.port': 443 });
    expect(metrics[0]!.attributes['server.address']).toBe('example.com');
  });

  it('keeps only the path of an absolute-form request target', () => {
    const { record } = recordOf('2024-05-01T12:00:00Z heroku[router]: at=info method=GET path="http://evil.example.com/proxy?x=1" host=a.example.com fwd="1.2.3.4" dyno=web.1 connect=1ms service=2ms status=200 bytes=0');
    expect(record.attributes).toMatchObject({ 'url.path': '/proxy', 'url.query': 'x=1' });
  });

  it('does not call `unknown` a client address', () => {
    const { record } = recordOf('2024-05-01T12:00:00Z heroku[router]: at=info method=GET path="/" host=a.example.com fwd="unknown" dyno=web.1 connect=1ms service=2ms status=200 bytes=0');
    expect(record.attributes['client.address']).toBeUndefined();
    expect(record.attributes['heroku.router.fwd']).toEqual(['unknown']);
  });

  it("does not page anyone for the emergency PRI of Heroku's documentation example", () => {
    const m = '<40>1 2024-05-01T12:00:00.000000+00:00 host app web.3 - hello';
    const { record } = recordOf(`${m.length + 1} ${m}`);
    expect(record.severityText).toBe('INFO');
    // A generic syslog sender's emergency stays one.
    expect(recordOf('<40>1 2024-05-01T12:00:00Z myhost cron 42 - - disk on fire').record.severityText).toBe('EMERGENCY');
  });

  it('gives units to add-on keys no list names, from their words', () => {
    const { metrics } = recordOf('2026-01-01T00:00:00Z app[heroku-redis]: source=REDIS addon=redis-x-1 sample#max-connections=18 sample#max-iops=3000 sample#maxmemory=1048576 sample#brand-new=3');
    expect(metrics.map((m) => [m.name, m.unit])).toEqual([
      ['heroku.redis.max_connections', '{connection}'],
      ['heroku.redis.max_iops', '{operation}/s'],
      ['heroku.redis.maxmemory', 'By'],
      ['heroku.redis.brand_new', '1'],
    ]);
  });
});

describe('review findings, second round', () => {
  it("reads the labs-era HTTPS drain order (HOSTNAME heroku, APP web.3, PROCID token), never emitting the token", () => {
    const token = 'd.73ea7440-270a-435a-a0ea-adf50b4e5f5a';
    const m = `<40>1 2012-11-30T06:45:29+00:00 heroku web.3 ${token} - State changed from starting to up`;
    const { record } = recordOf(`${Buffer.byteLength(m) + 1} ${m}`);
    expect(record.eventName).toBe('heroku.dyno.state_change');
    expect(record.severityText).toBe('INFO');
    expect(record.attributes).toMatchObject({ 'heroku.dyno.name': 'web.3', 'heroku.dyno.state': 'up' });
    expect(JSON.stringify(record)).not.toContain(token);
  });

  it('reads platform words under app, as older Dev Center examples show them', () => {
    expect(recordOf('2010-09-16T15:13:46-07:00 app[web.1]: State changed from starting to up').record.eventName).toBe('heroku.dyno.state_change');
    expect(recordOf('2010-09-16T15:13:46-07:00 app[web.1]: Process exited with status 1').record.eventName).toBe('heroku.dyno.exit');
  });

  it('reports a failed release phase as a failed release', () => {
    const { record } = recordOf('2024-05-01T12:00:00Z app[api]: Release v43 command failed by user dev@example.com');
    expect(record.eventName).toBe('heroku.api.release');
    expect(record.severityText).toBe('WARN');
    expect(record.attributes).toMatchObject({ 'heroku.api.action': 'failed', 'heroku.release.version': 'v43', 'heroku.user': 'dev@example.com' });
  });

  it("groups a Postgres error's DETAIL part with it by error.type, and strips the prefix from the body", () => {
    const { record } = recordOf(
      '<132>1 2022-08-11T02:47:50+00:00 host app postgres.3796759 - [GREEN] [11-2]  sql_error_code = 23505 time_ms = "2022-08-11 02:47:50.521 UTC" pid="275326" DETAIL:  Key (user_id)=(345769) already exists.',
    );
    expect(record.body).toBe('Key (user_id)=(345769) already exists.');
    expect(record.attributes).toMatchObject({ 'error.type': '23505', 'db.response.status_code': '23505', 'heroku.postgres.level': 'DETAIL' });
    const ok = recordOf('<134>1 2022-08-11T02:47:50+00:00 host app postgres.1 - [GREEN] [12-1]  sql_error_code = 00000 LOG:  checkpoint starting: time').record;
    expect(ok.attributes['error.type']).toBeUndefined();
  });
});

describe('HTTPS frames with a NILVALUE STRUCTURED-DATA', () => {
  it('drops the `- ` Heroku wrote, and keeps one a dyno printed', () => {
    const sample = recordOf('<45>1 2024-05-01T12:00:00Z host heroku web.1 - - source=web.1 dyno=heroku.1.x sample#memory_rss=10.00MB');
    expect(sample.record.eventName).toBe('heroku.runtime.sample');
    expect(sample.metrics.map((m) => m.name)).toEqual(['heroku.dyno.memory_rss']);
    expect(recordOf('<190>1 2024-05-01T12:00:00Z host app web.1 - - item one').record.body).toBe('- item one');
  });
});
