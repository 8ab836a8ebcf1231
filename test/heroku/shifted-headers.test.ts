/**
 * Issue 15: a line whose syslog header is irregular (no HOSTNAME, so APP-NAME and PROCID sit one
 * position left; a PRI above 191; a VERSION other than 1) is recognised by what its text says,
 * and gives the same kind, event and message attributes as the well-formed frame of that text.
 * Every line here is written for this test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../../src/heroku/classify.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { parseSyslogLine } from '../../src/heroku/syslog.ts';
import { newTelemetryBatch, type Attributes, type MetricPointData } from '../../src/translate/telemetry.ts';
import { translateEvent } from '../../src/translate/translate.ts';

const TS = '2024-05-01T12:00:00.123456+00:00';
const OBSERVED = Date.UTC(2024, 4, 1, 12, 1) * 1000;

/** The header fields, not the message: what an irregular header may change. */
function isEnvelopeKey(key: string): boolean {
  return key.startsWith('heroku.syslog.') || key === 'heroku.log.shape' || key === 'heroku.log.kind_source' || key === 'heroku.drain.fingerprint';
}

interface Outcome {
  kind: string;
  eventName: string;
  body: unknown;
  message: Attributes;
  points: Array<Pick<MetricPointData, 'name' | 'unit' | 'type' | 'value' | 'timeUnixMicros' | 'attributes'>>;
  all: Attributes;
}

function outcome(text: string): Outcome {
  const line = parseAnyLine(text);
  const event = interpretLine(line);
  const out = newTelemetryBatch();
  translateEvent(line, event, OBSERVED, out);
  expect(out.logs).toHaveLength(1);
  const rec = out.logs[0]!;
  const message: Attributes = {};
  for (const key in rec.attributes) if (!isEnvelopeKey(key)) message[key] = rec.attributes[key]!;
  return {
    kind: event.kind,
    eventName: rec.eventName,
    body: rec.body,
    message,
    points: out.metrics.map(({ name, unit, type, value, timeUnixMicros, attributes }) => ({ name, unit, type, value, timeUnixMicros, attributes })),
    all: rec.attributes,
  };
}

/** The frame as Logplex writes it on an HTTPS drain. */
function wellFormed(pri: number, appName: string, procId: string, text: string): string {
  return `<${pri}>1 ${TS} host ${appName} ${procId} - ${text}`;
}

type Shape = 'no-hostname' | 'no-hostname-syslog' | 'pri-out-of-range' | 'version-2' | 'pri-and-no-hostname';

function irregular(shape: Shape, pri: number, appName: string, procId: string, text: string): string {
  switch (shape) {
    case 'no-hostname':
      return `<${pri}>1 ${TS} ${appName} ${procId} - ${text}`;
    case 'no-hostname-syslog':
      return `<${pri}>1 ${TS} ${appName} ${procId} - - ${text}`;
    case 'pri-out-of-range':
      return `<999>1 ${TS} host ${appName} ${procId} - ${text}`;
    case 'version-2':
      return `<${pri}>2 ${TS} host ${appName} ${procId} - ${text}`;
    case 'pri-and-no-hostname':
      return `<300>1 ${TS} ${appName} ${procId} - ${text}`;
  }
}

const SHAPES: Shape[] = ['no-hostname', 'no-hostname-syslog', 'pri-out-of-range', 'version-2', 'pri-and-no-hostname'];

const ROUTER_ERROR =
  'at=error code=H13 desc="Connection closed without response" method=POST path="/orders?page=2" host=shop.example.com request_id=5d1c7c2e-0f3a-4b6e-9d4a-1a2b3c4d5e6f fwd="203.0.113.9" dyno=web.2 connect=1ms service=30001ms status=503 bytes=0 protocol=https';
const ROUTER_INFO = 'at=info method=GET path=/health host=shop.example.com request_id=abc fwd="198.51.100.4" dyno=web.1 connect=0ms service=12ms status=200 bytes=1534 protocol=https';
const RUNTIME =
  'source=web.1 dyno=heroku.1234.0b5c2f1e-aaaa-bbbb-cccc-123456789abc sample#memory_total=210.33MB sample#memory_rss=200.10MB sample#memory_cache=10.23MB sample#memory_swap=0.00MB sample#memory_pgpgin=1000pages sample#memory_pgpgout=500pages sample#memory_quota=512.00MB';
const RUNTIME_LOAD = 'source=worker.3 dyno=heroku.1234.0b5c2f1e-aaaa-bbbb-cccc-000000000000 sample#load_avg_1m=0.25 sample#load_avg_5m=0.10 sample#load_avg_15m=0.05';
const POSTGRES =
  'source=DATABASE addon=postgresql-shiny-12345 sample#current_transaction=1873 sample#db_size=9437184bytes sample#tables=12 sample#active-connections=5 sample#waiting-connections=0 sample#index-cache-hit-rate=0.99 sample#load-avg-1m=0.02 sample#read-iops=0 sample#memory-total=4045572kB sample#memory-free=2345672kB';

/** [what, PRI, APP-NAME, PROCID, text, kind, event name] */
const CASES: Array<[string, number, string, string, string, string, string]> = [
  ['router error (H13)', 158, 'heroku', 'router', ROUTER_ERROR, 'router', 'heroku.router.request'],
  ['router info', 158, 'heroku', 'router', ROUTER_INFO, 'router', 'heroku.router.request'],
  ['legacy router error', 158, 'heroku', 'router', 'Error H10 (App crashed) -> GET shop.example.com/ dyno=none queue=0 wait=0ms service=0ms bytes=0', 'router', 'heroku.router.request'],
  ['runtime memory sample', 45, 'heroku', 'web.1', RUNTIME, 'runtime', 'heroku.runtime.sample'],
  ['runtime load sample', 45, 'heroku', 'worker.3', RUNTIME_LOAD, 'runtime', 'heroku.runtime.sample'],
  ['state change', 45, 'heroku', 'web.1', 'State changed from up to down', 'platform', ''],
  ['process exit', 45, 'heroku', 'web.1', 'Process exited with status 137', 'platform', ''],
  ['R14', 45, 'heroku', 'web.1', 'Error R14 (Memory quota exceeded)', 'platform', ''],
  ['process start', 45, 'heroku', 'run.4821', 'Starting process with command `bin/rails db:migrate`', 'platform', ''],
  ['release', 134, 'heroku', 'api', 'Release v12 created by user@example.com', 'api', ''],
  ['one-off through the API', 134, 'heroku', 'api', 'Starting process with command `bin/rails console` by user@example.com', 'api', ''],
  ['Postgres sample', 134, 'app', 'heroku-postgres', POSTGRES, 'addon', 'heroku.addon.sample'],
  ['Redis sample', 134, 'app', 'heroku-redis', 'source=REDIS addon=redis-round-4242 sample#active-connections=3 sample#load-avg-1m=0.1 sample#memory-redis=1048576bytes', 'addon', 'heroku.addon.sample'],
  ['Logplex L10', 172, 'heroku', 'logplex', 'Error L10 (output buffer overflow): 12 messages dropped since 2024-05-01T11:59:00+00:00.', 'platform', ''],
];

describe('irregular syslog headers: the kind comes from the message', () => {
  for (const [what, pri, appName, procId, text, kind, eventName] of CASES) {
    describe(what, () => {
      const expected = outcome(wellFormed(pri, appName, procId, text));

      it('is recognised from the well-formed frame by its header, with no kind_source', () => {
        expect(expected.kind).toBe(kind);
        if (eventName !== '') expect(expected.eventName).toBe(eventName);
        expect(expected.all['heroku.log.kind_source']).toBeUndefined();
      });

      it.each(SHAPES)('%s: same kind, event, body and message attributes and points', (shape) => {
        const got = outcome(irregular(shape, pri, appName, procId, text));
        expect(got.kind).toBe(kind);
        expect(got.eventName).toBe(expected.eventName);
        expect(got.body).toBe(expected.body);
        expect(got.message).toEqual(expected.message);
        expect(got.points).toEqual(expected.points);
        expect(got.all['heroku.log.kind_source']).toBe('message');
        // The header fields that were there are kept.
        expect(got.all['heroku.syslog.app_name']).toBe(appName);
        expect(got.all['heroku.syslog.proc_id']).toBe(procId);
      });
    });
  }

  it('keeps router attributes on the brief H13 frame exactly as the well-formed one has them', () => {
    const got = outcome(`<158>1 ${TS} heroku router - ${ROUTER_ERROR}`);
    expect(got.all).toMatchObject({
      'heroku.log.kind': 'router',
      'heroku.log.kind_source': 'message',
      'http.request.method': 'POST',
      'url.path': '/orders',
      'url.query': 'page=2',
      'http.response.status_code': 503,
      'error.type': 'H13',
      'client.address': '203.0.113.9',
      'heroku.syslog.app_name': 'heroku',
      'heroku.syslog.proc_id': 'router',
    });
    expect(got.all['heroku.syslog.hostname']).toBeUndefined();
    expect(got.all['heroku.syslog.msg_id']).toBeUndefined();
  });

  it('reads the rest of a header whose PRI is out of range, with no facility or severity made up', () => {
    const line = parseSyslogLine(`<999>1 ${TS} host app heroku-postgres - ${POSTGRES}`)!;
    expect(line).toMatchObject({ facility: -1, severity: -1, hostname: 'host', appName: 'app', procId: 'heroku-postgres', text: POSTGRES, irregularHeader: true });
    const got = outcome(line.original);
    expect(got.all['heroku.syslog.facility']).toBeUndefined();
    expect(got.all['heroku.syslog.severity']).toBeUndefined();
    expect(got.points.length).toBeGreaterThan(5);
  });

  it('moves each field one position left when HOSTNAME is missing, and keeps MSGID', () => {
    expect(parseSyslogLine(`<45>1 ${TS} heroku web.1 - State changed from up to down`)).toMatchObject({
      hostname: '',
      appName: 'heroku',
      procId: 'web.1',
      msgId: '',
      text: 'State changed from up to down',
      irregularHeader: true,
    });
    expect(parseSyslogLine(`<45>1 ${TS} heroku web.1 m42 - Process exited with status 0`)).toMatchObject({
      appName: 'heroku',
      procId: 'web.1',
      msgId: 'm42',
      text: 'Process exited with status 0',
    });
  });

  it('leaves a well-formed header exactly as before, with no irregularHeader', () => {
    const line = parseSyslogLine(wellFormed(158, 'heroku', 'router', ROUTER_INFO))!;
    expect(line.irregularHeader).toBeUndefined();
    expect(line).toMatchObject({ facility: 19, severity: 6, hostname: 'host', appName: 'heroku', procId: 'router', text: ROUTER_INFO });
    // A drain token as HOSTNAME and `heroku` APP-NAME are the regular syslog drain shape.
    expect(parseSyslogLine(`<158>1 ${TS} d.0a1b2c3d-0000-4000-8000-000000000000 heroku router - - ${ROUTER_INFO}`)!.irregularHeader).toBeUndefined();
  });

  it("keeps a dyno's own output an app log, whatever its header, even when it reads like a router line", () => {
    for (const shape of SHAPES) {
      const got = outcome(irregular(shape, 190, 'app', 'web.1', 'at=info method=GET path=/ status=200'));
      expect(got.kind).toBe('app');
      expect(got.all['heroku.log.kind_source']).toBe('header');
      expect(got.all['heroku.syslog.app_name']).toBe('app');
      expect(got.all['heroku.syslog.proc_id']).toBe('web.1');
    }
  });

  it('says the header decided when a platform line names no kind its text shows', () => {
    const got = outcome(`<45>1 ${TS} heroku web.1 - Stopping all processes with SIGTERM`);
    expect(got.kind).toBe('platform');
    expect(got.all['heroku.log.kind_source']).toBe('header');
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any router, sample or platform message, in any of the header shapes

const RUNS = { numRuns: 300 };

const token = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,14}$/);
const dynoName = fc.tuple(fc.constantFrom('web', 'worker', 'clock', 'run'), fc.integer({ min: 1, max: 9999 })).map(([t, n]) => `${t}.${n}`);

const routerMessage = fc
  .record({
    at: fc.constantFrom('info', 'error'),
    code: fc.constantFrom('H10', 'H12', 'H13', 'H27'),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'PURGE'),
    path: fc.array(token, { minLength: 0, maxLength: 4 }).map((p) => `/${p.join('/')}`),
    query: fc.option(token, { nil: undefined }),
    host: token.map((t) => `${t}.example.com`),
    fwd: fc.ipV4(),
    dyno: dynoName,
    connect: fc.integer({ min: 0, max: 5000 }),
    service: fc.integer({ min: 0, max: 30000 }),
    status: fc.integer({ min: 100, max: 599 }),
    bytes: fc.integer({ min: 0, max: 1_000_000 }),
    protocol: fc.constantFrom('http', 'https'),
  })
  .map((r) => {
    const path = r.query === undefined ? r.path : `"${r.path}?q=${r.query}"`;
    const err = r.at === 'error' ? `code=${r.code} desc="Request timeout" ` : '';
    return {
      pri: 158,
      appName: 'heroku',
      procId: 'router',
      text: `at=${r.at} ${err}method=${r.method} path=${path} host=${r.host} request_id=${r.host.length}-id fwd="${r.fwd}" dyno=${r.dyno} connect=${r.connect}ms service=${r.service}ms status=${r.status} bytes=${r.bytes} protocol=${r.protocol}`,
      kind: 'router',
    };
  });

const sampleValue = fc.tuple(fc.integer({ min: 0, max: 100000 }), fc.integer({ min: 0, max: 99 })).map(([i, f]) => `${i}.${String(f).padStart(2, '0')}`);

const runtimeMessage = fc
  .record({
    source: dynoName,
    keys: fc.uniqueArray(fc.constantFrom('memory_total', 'memory_rss', 'memory_cache', 'memory_swap', 'memory_quota'), { minLength: 1, maxLength: 5 }),
    values: fc.array(sampleValue, { minLength: 5, maxLength: 5 }),
    load: fc.boolean(),
  })
  .map((r) => {
    const samples = r.load
      ? `sample#load_avg_1m=${r.values[0]} sample#load_avg_5m=${r.values[1]}`
      : r.keys.map((k, i) => `sample#${k}=${r.values[i]}MB`).join(' ');
    return { pri: 45, appName: 'heroku', procId: r.source, text: `source=${r.source} dyno=heroku.42.${r.source.length}-x ${samples}`, kind: 'runtime' };
  });

const addonMessage = fc
  .record({
    service: fc.constantFrom('heroku-postgres', 'heroku-redis'),
    source: fc.constantFrom('DATABASE', 'REDIS', 'HEROKU_POSTGRESQL_RED'),
    addon: token,
    keys: fc.uniqueArray(fc.constantFrom('active-connections', 'load-avg-1m', 'read-iops', 'tables', 'db_size'), { minLength: 1, maxLength: 5 }),
    values: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 5, maxLength: 5 }),
  })
  .map((r) => ({
    pri: 134,
    appName: 'app',
    procId: r.service,
    text: `source=${r.source} addon=${r.addon} ${r.keys.map((k, i) => `sample#${k}=${r.values[i]}`).join(' ')}`,
    kind: 'addon',
  }));

const platformMessage = fc
  .record({
    dyno: dynoName,
    text: fc.oneof(
      fc.tuple(fc.constantFrom('starting', 'up', 'down', 'crashed'), fc.constantFrom('starting', 'up', 'down', 'crashed')).map(([a, b]) => `State changed from ${a} to ${b}`),
      fc.integer({ min: 0, max: 255 }).map((n) => `Process exited with status ${n}`),
      fc.constantFrom('Error R14 (Memory quota exceeded)', 'Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch'),
      token.map((t) => `Starting process with command \`bin/${t}\``),
    ),
  })
  .map((r) => ({ pri: 45, appName: 'heroku', procId: r.dyno, text: r.text, kind: 'platform' }));

const apiMessage = fc
  .tuple(fc.integer({ min: 1, max: 9999 }), token)
  .map(([v, user]) => ({ pri: 134, appName: 'heroku', procId: 'api', text: `Release v${v} created by ${user}@example.com`, kind: 'api' }));

describe('irregular syslog headers: property', () => {
  it('gives every message, in every header shape, the kind and message attributes of its well-formed frame', () => {
    fc.assert(
      fc.property(fc.oneof(routerMessage, runtimeMessage, addonMessage, platformMessage, apiMessage), fc.constantFrom(...SHAPES), (m, shape) => {
        const expected = outcome(wellFormed(m.pri, m.appName, m.procId, m.text));
        expect(expected.kind).toBe(m.kind);
        const got = outcome(irregular(shape, m.pri, m.appName, m.procId, m.text));
        expect(got.kind).toBe(expected.kind);
        expect(got.eventName).toBe(expected.eventName);
        expect(got.message).toEqual(expected.message);
        expect(got.points).toEqual(expected.points);
        expect(got.all['heroku.log.kind_source']).toBe('message');
      }),
      RUNS,
    );
  });
});
