/**
 * Every kind of Heroku line, with what it must become: the typed event (partial) and the
 * OpenTelemetry log record and metric points. Lines are written from Heroku's documented formats
 * and from real captures (Dev Center, Logplex's source and tests, users' pasted `heroku logs`
 * output; see /tmp/research/heroku-lines.md for the sources). Shared by the parser tests and
 * anything that feeds lines end to end.
 *
 * `attributes` lists every attribute the record must carry, with its exact value (a partial
 * match: envelope attributes are listed too, so a regression in any of them shows).
 * `metrics` lists every metric point, in order; left out, the line must yield none.
 */
import type { AttributeValue, MetricPointType } from '../../src/translate/telemetry.ts';

export type Attrs = Record<string, AttributeValue>;

export interface ExpectedMetric {
  name: string;
  unit: string;
  type: MetricPointType;
  value: number;
  /** Exact: a metric's attributes are its series, so nothing more is allowed. */
  attributes: Attrs;
}

export interface HerokuLineCase {
  name: string;
  /** One full line: `heroku logs` form, an RFC 5424 message, or one with an octet count. */
  line: string;
  expect: {
    /** Fields of the typed event from `interpretLine` (partial match). */
    event: Record<string, unknown>;
    eventName: string;
    severityText: string;
    body: string;
    attributes: Attrs;
    /** Attributes the record must not carry (unbounded or secret values, empty fields). */
    absent?: string[];
    /** The record's trace context; left out, the record has none. */
    trace?: { traceId: string; spanId: string; traceFlags: number };
    metrics?: ExpectedMetric[];
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers: the envelope attributes every record gets.

const TS = '2024-05-01T12:00:00.123456+00:00';

function dynoAttrs(dyno: string | null): Attrs {
  if (dyno === null) return {};
  return { 'heroku.dyno.name': dyno, 'heroku.dyno.type': dyno.slice(0, dyno.indexOf('.')) };
}

/**
 * Envelope of a `heroku logs` line: `SOURCE[PROCID]:`. `dyno`: the dyno the line is about, the
 * PROCID unless given; null when the line names none (`router`, `api`, an add-on's PROCID).
 */
function logsEnv(kind: string, appName: string, procId: string, dyno: string | null = procId): Attrs {
  return {
    'heroku.log.kind': kind,
    'heroku.log.shape': 'heroku-logs',
    'heroku.syslog.app_name': appName,
    'heroku.syslog.proc_id': procId,
    ...dynoAttrs(dyno),
  };
}

/** Envelope of a Logplex HTTPS drain frame (`<PRI>1 TS host APP PROCID - TEXT`). */
function frameEnv(kind: string, pri: number, appName: string, procId: string, dyno: string | null = procId): Attrs {
  return {
    'heroku.log.kind': kind,
    'heroku.log.shape': 'logplex',
    'heroku.syslog.facility': pri >> 3,
    'heroku.syslog.severity': pri & 7,
    'heroku.syslog.app_name': appName,
    'heroku.syslog.proc_id': procId,
    ...dynoAttrs(dyno),
  };
}

// ---------------------------------------------------------------------------------------------
// Router

const HOST = 'shop.example.com';
const RID = '0d3f1c2a-8b6e-4c2d-9f1e-2a3b4c5d6e7f';

function routerMetric(seconds: number, attributes: Attrs): ExpectedMetric {
  return { name: 'http.server.request.duration', unit: 's', type: 'histogram', value: seconds, attributes };
}

/** An error line for an H-code, as the modern router writes it: timings present. */
function hCodeCase(code: string, desc: string, at: 'error' | 'info', status: number): HerokuLineCase {
  const text = `at=${at} code=${code} desc="${desc}" method=GET path="/orders" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.1 connect=2ms service=15ms status=${status} bytes=0 protocol=https`;
  return {
    name: `router ${code} (${desc})`,
    line: `${TS} heroku[router]: ${text}`,
    expect: {
      event: { kind: 'router', at, code, desc, status, connectMs: 2, serviceMs: 15, dyno: 'web.1' },
      eventName: 'heroku.router.request',
      severityText: at === 'error' ? 'ERROR' : 'INFO',
      body: text,
      attributes: {
        ...logsEnv('router', 'heroku', 'router', 'web.1'),
        'error.type': code,
        'heroku.error.code': code,
        'heroku.error.description': desc,
        'http.response.status_code': status,
      },
      metrics: [
        routerMetric(0.017, {
          'http.request.method': 'GET',
          'http.response.status_code': status,
          'url.scheme': 'https',
          'error.type': code,
          'server.address': HOST,
        }),
      ],
    },
  };
}

const routerCases: HerokuLineCase[] = [
  {
    name: 'router info line with every classic field, query kept apart from the path',
    line: `${TS} heroku[router]: at=info method=GET path="/search?q=a%3Db&page=2" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.2 connect=0ms service=41ms status=200 bytes=1834 protocol=https`,
    expect: {
      event: {
        kind: 'router',
        at: 'info',
        code: undefined,
        method: 'GET',
        path: '/search',
        query: 'q=a%3Db&page=2',
        host: HOST,
        requestId: RID,
        fwd: ['203.0.113.9'],
        dyno: 'web.2',
        connectMs: 0,
        serviceMs: 41,
        status: 200,
        bytes: 1834,
        protocol: 'https',
        extra: undefined,
      },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/search?q=a%3Db&page=2" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.2 connect=0ms service=41ms status=200 bytes=1834 protocol=https`,
      attributes: {
        ...logsEnv('router', 'heroku', 'router', 'web.2'),
        'http.request.method': 'GET',
        'url.path': '/search',
        'url.query': 'q=a%3Db&page=2',
        'url.scheme': 'https',
        'server.address': HOST,
        'client.address': '203.0.113.9',
        'heroku.router.fwd': ['203.0.113.9'],
        'http.response.status_code': 200,
        'http.response.body.size': 1834,
        'heroku.router.request_id': RID,
        'heroku.router.connect.duration': 0,
        'heroku.router.service.duration': 0.041,
        'heroku.router.protocol': 'https',
      },
      absent: ['event.name', 'error.type', 'heroku.error.code', 'http.request.method_original', 'heroku.log.format'],
      metrics: [
        routerMetric(0.041, {
          'http.request.method': 'GET',
          'http.response.status_code': 200,
          'url.scheme': 'https',
          'server.address': HOST,
        }),
      ],
    },
  },
  {
    name: 'router H12 error with an IPv6 client address',
    line: `${TS} heroku[router]: at=error code=H12 desc="Request timeout" method=POST path="/pay" host=${HOST} request_id=${RID} fwd="2001:db8::7" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`,
    expect: {
      event: { kind: 'router', at: 'error', code: 'H12', desc: 'Request timeout', method: 'POST', fwd: ['2001:db8::7'], connectMs: 1, serviceMs: 30000, status: 503, bytes: 0 },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: `at=error code=H12 desc="Request timeout" method=POST path="/pay" host=${HOST} request_id=${RID} fwd="2001:db8::7" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`,
      attributes: {
        ...logsEnv('router', 'heroku', 'router', 'web.1'),
        'http.request.method': 'POST',
        'url.path': '/pay',
        'url.scheme': 'https',
        'client.address': '2001:db8::7',
        'heroku.router.fwd': ['2001:db8::7'],
        'http.response.status_code': 503,
        'http.response.body.size': 0,
        'error.type': 'H12',
        'heroku.error.code': 'H12',
        'heroku.error.description': 'Request timeout',
        'heroku.router.connect.duration': 0.001,
        'heroku.router.service.duration': 30,
      },
      absent: ['url.query'],
      metrics: [
        routerMetric(30.001, {
          'http.request.method': 'POST',
          'http.response.status_code': 503,
          'url.scheme': 'https',
          'error.type': 'H12',
          'server.address': HOST,
        }),
      ],
    },
  },
  {
    name: 'router fwd with several addresses, comma without space (real capture)',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} request_id=${RID} fwd="185.244.159.14,141.101.104.98" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
    expect: {
      event: { fwd: ['185.244.159.14', '141.101.104.98'] },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} request_id=${RID} fwd="185.244.159.14,141.101.104.98" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
      attributes: { 'client.address': '185.244.159.14', 'heroku.router.fwd': ['185.244.159.14', '141.101.104.98'] },
      metrics: [routerMetric(0.006, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router fwd with IPv4 and IPv6 hops, comma and space',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} fwd="2001:db8:85a3::8a2e:370:7334, 198.51.100.2, 10.0.0.1" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
    expect: {
      event: { fwd: ['2001:db8:85a3::8a2e:370:7334', '198.51.100.2', '10.0.0.1'], requestId: undefined },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} fwd="2001:db8:85a3::8a2e:370:7334, 198.51.100.2, 10.0.0.1" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
      attributes: { 'client.address': '2001:db8:85a3::8a2e:370:7334', 'heroku.router.fwd': ['2001:db8:85a3::8a2e:370:7334', '198.51.100.2', '10.0.0.1'] },
      absent: ['heroku.router.request_id'],
      metrics: [routerMetric(0.006, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router fwd with bracketed IPv6 and ports: the address without its port',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} fwd="[2001:db8::1]:443, 203.0.113.9:51234" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
    expect: {
      event: { fwd: ['2001:db8::1', '203.0.113.9'] },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} fwd="[2001:db8::1]:443, 203.0.113.9:51234" dyno=web.1 connect=0ms service=6ms status=200 bytes=512 protocol=https`,
      attributes: { 'client.address': '2001:db8::1', 'heroku.router.fwd': ['2001:db8::1', '203.0.113.9'] },
      metrics: [routerMetric(0.006, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router H10 with empty values (dyno= connect= service= bytes=), real capture',
    line: '2022-04-12T15:27:32.877398+00:00 heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=scraper-papersdrop.herokuapp.com request_id=f189ac84-cfd8-4bec-9226-741250314389 fwd="157.51.25.187" dyno= connect= service= status=503 bytes= protocol=https',
    expect: {
      event: { kind: 'router', code: 'H10', dyno: undefined, connectMs: NaN, serviceMs: NaN, bytes: NaN, status: 503, extra: undefined },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":503,"url.scheme":"https","error.type":"H10","server.address":"scraper-papersdrop.herokuapp.com"})],
      severityText: 'ERROR',
      body: 'at=error code=H10 desc="App crashed" method=GET path="/" host=scraper-papersdrop.herokuapp.com request_id=f189ac84-cfd8-4bec-9226-741250314389 fwd="157.51.25.187" dyno= connect= service= status=503 bytes= protocol=https',
      attributes: {
        ...logsEnv('router', 'heroku', 'router', null),
        'http.request.method': 'GET',
        'url.path': '/',
        'url.scheme': 'https',
        'server.address': 'scraper-papersdrop.herokuapp.com',
        'client.address': '157.51.25.187',
        'http.response.status_code': 503,
        'error.type': 'H10',
        'heroku.error.code': 'H10',
        'heroku.error.description': 'App crashed',
        'heroku.router.request_id': 'f189ac84-cfd8-4bec-9226-741250314389',
      },
      // No dyno answered: no process, no size, no timings.
      absent: ['heroku.dyno.name', 'heroku.dyno.type', 'http.response.body.size', 'heroku.router.connect.duration', 'heroku.router.service.duration', 'heroku.router.dyno', 'heroku.router.bytes'],
    },
  },
  {
    name: 'router H10, documentation era: -07:00 offset, no fraction, unquoted fwd, no request_id, no protocol',
    line: '2010-10-06T21:51:12-07:00 heroku[router]: at=error code=H10 desc="App crashed" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
    expect: {
      event: { kind: 'router', code: 'H10', fwd: ['17.17.17.17'], requestId: undefined, protocol: undefined, bytes: NaN },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":503,"error.type":"H10","server.address":"myapp.herokuapp.com"})],
      severityText: 'ERROR',
      body: 'at=error code=H10 desc="App crashed" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
      attributes: { 'client.address': '17.17.17.17', 'http.response.status_code': 503, 'error.type': 'H10', 'server.address': 'myapp.herokuapp.com' },
      absent: ['url.scheme', 'heroku.router.protocol', 'heroku.router.request_id', 'http.response.body.size'],
    },
  },
  {
    name: 'router H12, documentation era, timings present',
    line: '2010-10-06T21:51:37-07:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=6ms service=30001ms status=503 bytes=0',
    expect: {
      event: { code: 'H12', connectMs: 6, serviceMs: 30001, bytes: 0 },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: 'at=error code=H12 desc="Request timeout" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=6ms service=30001ms status=503 bytes=0',
      attributes: { ...logsEnv('router', 'heroku', 'router', 'web.1'), 'heroku.router.connect.duration': 0.006, 'heroku.router.service.duration': 30.001, 'http.response.body.size': 0 },
      metrics: [
        routerMetric(30.007, { 'http.request.method': 'GET', 'http.response.status_code': 503, 'error.type': 'H12', 'server.address': 'myapp.herokuapp.com' }),
      ],
    },
  },
  {
    name: 'router H14, documentation era ("No web processes running")',
    line: '2010-10-06T21:51:37-07:00 heroku[router]: at=error code=H14 desc="No web processes running" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
    expect: {
      event: { code: 'H14', desc: 'No web processes running' },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":503,"error.type":"H14","server.address":"myapp.herokuapp.com"})],
      severityText: 'ERROR',
      body: 'at=error code=H14 desc="No web processes running" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
      attributes: { 'error.type': 'H14', 'heroku.error.description': 'No web processes running' },
    },
  },
  {
    name: 'router H16 at=info redirect, documentation era',
    line: '2010-10-06T21:51:37-07:00 heroku[router]: at=info code=H16 desc="herokuapp redirect" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=301 bytes=',
    expect: {
      event: { at: 'info', code: 'H16', status: 301 },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":301,"error.type":"H16","server.address":"myapp.herokuapp.com"})],
      severityText: 'INFO',
      body: 'at=info code=H16 desc="herokuapp redirect" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=301 bytes=',
      attributes: { 'error.type': 'H16', 'heroku.error.code': 'H16', 'heroku.error.description': 'herokuapp redirect', 'http.response.status_code': 301 },
    },
  },
  {
    name: 'router H18 with sock=client',
    line: '2010-10-06T21:51:37-07:00 heroku[router]: at=error code=H18 desc="Request Interrupted" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=0ms status=503 bytes=0 sock=client',
    expect: {
      event: { code: 'H18', sock: 'client', extra: undefined },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: 'at=error code=H18 desc="Request Interrupted" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=0ms status=503 bytes=0 sock=client',
      attributes: { 'heroku.router.sock': 'client', 'error.type': 'H18', 'heroku.error.description': 'Request Interrupted' },
      metrics: [
        routerMetric(0.001, { 'http.request.method': 'GET', 'http.response.status_code': 503, 'error.type': 'H18', 'server.address': 'myapp.herokuapp.com' }),
      ],
    },
  },
  {
    name: 'router H24 with an empty status and a byte count',
    line: '2010-10-06T21:51:07-07:00 heroku[router]: at=error code=H24 desc="Forced close" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=80000ms status= bytes=18',
    expect: {
      event: { code: 'H24', status: NaN, bytes: 18 },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: 'at=error code=H24 desc="Forced close" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=80000ms status= bytes=18',
      attributes: { 'http.response.body.size': 18, 'error.type': 'H24' },
      absent: ['http.response.status_code'],
      metrics: [routerMetric(80.001, { 'http.request.method': 'GET', 'error.type': 'H24', 'server.address': 'myapp.herokuapp.com' })],
    },
  },
  {
    name: 'router H80 maintenance mode (at=info)',
    line: '2010-10-06T21:51:07-07:00 heroku[router]: at=info code=H80 desc="Maintenance mode" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
    expect: {
      event: { at: 'info', code: 'H80' },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":503,"error.type":"H80","server.address":"myapp.herokuapp.com"})],
      severityText: 'INFO',
      body: 'at=info code=H80 desc="Maintenance mode" method=GET path="/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno= connect= service= status=503 bytes=',
      attributes: { 'error.type': 'H80', 'heroku.error.description': 'Maintenance mode', 'http.response.status_code': 503 },
    },
  },
  {
    name: 'router H81 blank app (at=info), real capture',
    line: '2014-09-02T08:26:14.180253+00:00 heroku[router]: at=info code=H81 desc="Blank app" method=GET path="/" host=user-agent-service.herokuapp.com request_id=b85e7bc9-d86a-4e23-aec5-9b410ba732dc fwd="54.87.115.122" dyno= connect= service= status=502 bytes=',
    expect: {
      event: { at: 'info', code: 'H81', desc: 'Blank app', requestId: 'b85e7bc9-d86a-4e23-aec5-9b410ba732dc' },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":502,"error.type":"H81","server.address":"user-agent-service.herokuapp.com"})],
      severityText: 'INFO',
      body: 'at=info code=H81 desc="Blank app" method=GET path="/" host=user-agent-service.herokuapp.com request_id=b85e7bc9-d86a-4e23-aec5-9b410ba732dc fwd="54.87.115.122" dyno= connect= service= status=502 bytes=',
      attributes: { 'error.type': 'H81', 'heroku.error.description': 'Blank app', 'http.response.status_code': 502, 'client.address': '54.87.115.122' },
    },
  },
  {
    name: 'router H25 with unit-less timings (connect=0 service=1)',
    line: '2014-03-20T14:22:00.203382+00:00 heroku[router]: at=error code=H25 desc="HTTP restriction: invalid content length" method=GET path="/" host=myapp.herokuapp.com request_id=3f336f1a-9be3-4791-afe3-596a1f2a481f fwd="17.17.17.17" dyno=web.1 connect=0 service=1 status=502 bytes=537',
    expect: {
      event: { code: 'H25', desc: 'HTTP restriction: invalid content length', connectMs: 0, serviceMs: 1, status: 502, bytes: 537 },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: 'at=error code=H25 desc="HTTP restriction: invalid content length" method=GET path="/" host=myapp.herokuapp.com request_id=3f336f1a-9be3-4791-afe3-596a1f2a481f fwd="17.17.17.17" dyno=web.1 connect=0 service=1 status=502 bytes=537',
      attributes: { 'heroku.error.description': 'HTTP restriction: invalid content length', 'heroku.router.connect.duration': 0, 'heroku.router.service.duration': 0.001 },
      metrics: [
        routerMetric(0.001, { 'http.request.method': 'GET', 'http.response.status_code': 502, 'error.type': 'H25', 'server.address': 'myapp.herokuapp.com' }),
      ],
    },
  },
  {
    name: 'router H26 with an unknown key (cause=) kept as heroku.router.cause',
    line: '2014-05-14T17:17:37.456997+00:00 heroku[router]: at=error code=H26 desc="Request Error" cause="unsupported expect header value" method=GET path="/" host=myapp.herokuapp.com request_id=3f336f1a-9be3-4791-afe3-596a1f2a481f fwd="17.17.17.17" dyno= connect= service= status=417 bytes=',
    expect: {
      event: { code: 'H26', extra: { cause: 'unsupported expect header value' } },
      eventName: 'heroku.router.request',
      // Every request counts in the histogram; no dyno answered, so it took 0 s on one.
      metrics: [routerMetric(0, {"http.request.method":"GET","http.response.status_code":417,"error.type":"H26","server.address":"myapp.herokuapp.com"})],
      severityText: 'ERROR',
      body: 'at=error code=H26 desc="Request Error" cause="unsupported expect header value" method=GET path="/" host=myapp.herokuapp.com request_id=3f336f1a-9be3-4791-afe3-596a1f2a481f fwd="17.17.17.17" dyno= connect= service= status=417 bytes=',
      attributes: { 'heroku.router.cause': 'unsupported expect header value', 'http.response.status_code': 417, 'error.type': 'H26' },
    },
  },
  ...(
    [
      ['H11', 'Backlog too deep', 'error', 503],
      ['H13', 'Connection closed without response', 'error', 503],
      ['H15', 'Idle connection', 'error', 503],
      ['H17', 'Poorly formatted HTTP response', 'error', 503],
      ['H19', 'Backend connection timeout', 'error', 503],
      ['H20', 'App boot timeout', 'error', 503],
      ['H21', 'Backend connection refused', 'error', 503],
      ['H22', 'Connection limit reached', 'error', 503],
      ['H23', 'Endpoint misconfigured', 'error', 503],
      ['H27', 'Client Request Interrupted', 'info', 499],
      ['H28', 'Client Connection Idle', 'info', 499],
      ['H31', 'Misdirected Request', 'error', 421],
      ['H32', 'TLS Certificate Mismatch', 'error', 421],
      ['H70', 'Access to bamboo HTTP endpoint denied', 'error', 403],
      ['H82', 'Free dyno quota exhausted', 'error', 503],
      ['H83', 'Planned Service Degradation', 'error', 503],
      ['H99', 'Platform error', 'error', 503],
    ] as const
  ).map(([code, desc, at, status]) => hCodeCase(code, desc, at, status)),
  {
    name: 'router line from Router 2.0: protocol=http1.1, tls=true, tls_version=unknown',
    line: '2025-09-16T02:42:41.772115+00:00 heroku[router]: at=info method=GET path="/" host=daily-mailer-39029f0bfc36.herokuapp.com request_id=2e97c191-3b3f-2d41-7cf1-d30e9a7b34c5 fwd="31.125.50.224" dyno=web.1 connect=0ms service=793ms status=304 bytes=0 protocol=http1.1 tls=true tls_version=unknown',
    expect: {
      event: { protocol: 'http1.1', tlsVersion: 'unknown', extra: { tls: 'true' } },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: 'at=info method=GET path="/" host=daily-mailer-39029f0bfc36.herokuapp.com request_id=2e97c191-3b3f-2d41-7cf1-d30e9a7b34c5 fwd="31.125.50.224" dyno=web.1 connect=0ms service=793ms status=304 bytes=0 protocol=http1.1 tls=true tls_version=unknown',
      attributes: {
        'url.scheme': 'https',
        'heroku.router.protocol': 'http1.1',
        'network.protocol.name': 'http',
        'network.protocol.version': '1.1',
        'heroku.router.tls': 'true',
        'http.response.status_code': 304,
      },
      absent: ['tls.protocol.name', 'tls.protocol.version'],
      metrics: [
        // Router 2.0 names the HTTP version, which the conventions recommend on this histogram.
        routerMetric(0.793, {
          'http.request.method': 'GET',
          'http.response.status_code': 304,
          'url.scheme': 'https',
          'server.address': 'daily-mailer-39029f0bfc36.herokuapp.com',
          'network.protocol.version': '1.1',
        }),
      ],
    },
  },
  {
    name: 'router line with tls_version=TLSv1.3 and HTTP/2',
    line: `${TS} heroku[router]: at=info method=GET path="/api/items" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.3 connect=1ms service=12ms status=200 bytes=99 protocol=http2 tls=true tls_version=TLSv1.3`,
    expect: {
      event: { protocol: 'http2', tlsVersion: 'TLSv1.3' },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/api/items" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.3 connect=1ms service=12ms status=200 bytes=99 protocol=http2 tls=true tls_version=TLSv1.3`,
      attributes: { 'url.scheme': 'https', 'network.protocol.version': '2', 'tls.protocol.name': 'tls', 'tls.protocol.version': '1.3' },
      metrics: [routerMetric(0.013, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST, 'network.protocol.version': '2' })],
    },
  },
  {
    name: 'router line with tls=false: plain http',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=http1.1 tls=false`,
    expect: {
      event: { protocol: 'http1.1', extra: { tls: 'false' } },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=http1.1 tls=false`,
      attributes: { 'url.scheme': 'http', 'heroku.router.tls': 'false' },
      metrics: [routerMetric(0.003, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'http', 'server.address': HOST, 'network.protocol.version': '1.1' })],
    },
  },
  {
    name: 'router quoted path with spaces and = in path and query',
    line: `${TS} heroku[router]: at=info method=GET path="/files/a b=c.txt?name=x y&eq==" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
    expect: {
      event: { path: '/files/a b=c.txt', query: 'name=x y&eq==', host: HOST },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/files/a b=c.txt?name=x y&eq==" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
      attributes: { 'url.path': '/files/a b=c.txt', 'url.query': 'name=x y&eq==', 'server.address': HOST },
      metrics: [routerMetric(0.003, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router path with an escaped quote and an empty query',
    line: `${TS} heroku[router]: at=info method=GET path="/say/\\"hi\\"?" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
    expect: {
      event: { path: '/say/"hi"', query: '' },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/say/\\"hi\\"?" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
      attributes: { 'url.path': '/say/"hi"', 'url.query': '' },
      metrics: [routerMetric(0.003, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router path with unicode',
    line: `${TS} heroku[router]: at=info method=GET path="/café/日本語?q=über 🎉" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
    expect: {
      event: { path: '/café/日本語', query: 'q=über 🎉' },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/café/日本語?q=über 🎉" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=3ms status=200 bytes=10 protocol=https`,
      attributes: { 'url.path': '/café/日本語', 'url.query': 'q=über 🎉', 'http.response.status_code': 200 },
      metrics: [routerMetric(0.003, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router line from Dev Center with a stray quote after host',
    line: '2010-09-16T15:13:46.723498+00:00 heroku[router]: at=info method=GET path="/posts" host=myapp.herokuapp.com" fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=975',
    expect: {
      event: { host: 'myapp.herokuapp.com', fwd: ['204.204.204.204'], path: '/posts', status: 200, bytes: 975 },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: 'at=info method=GET path="/posts" host=myapp.herokuapp.com" fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=975',
      attributes: { 'server.address': 'myapp.herokuapp.com', 'client.address': '204.204.204.204', 'http.response.body.size': 975 },
      metrics: [routerMetric(0.019, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'server.address': 'myapp.herokuapp.com' })],
    },
  },
  {
    name: 'router line with an unquoted path and no request_id (Logplex test suite, 2013)',
    line: '2013-05-27T19:59:36.538297+00:00 heroku[router]: at=info method=POST path=/drain host=fakeapp.herokuapp.com fwd="108.21.18.132" dyno=web.1 connect=2ms service=3ms status=200 bytes=0',
    expect: {
      event: { method: 'POST', path: '/drain', query: undefined, fwd: ['108.21.18.132'], requestId: undefined },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: 'at=info method=POST path=/drain host=fakeapp.herokuapp.com fwd="108.21.18.132" dyno=web.1 connect=2ms service=3ms status=200 bytes=0',
      attributes: { 'url.path': '/drain', 'http.request.method': 'POST', 'client.address': '108.21.18.132' },
      metrics: [routerMetric(0.005, { 'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': 'fakeapp.herokuapp.com' })],
    },
  },
  {
    name: 'router fwd with backslash-escaped quotes (copied from source code)',
    line: '2013-05-27T19:59:36.538297+00:00 heroku[router]: at=info method=POST path=/drain host=fakeapp.herokuapp.com fwd=\\"108.21.18.132\\" dyno=web.1 connect=2ms service=3ms status=200 bytes=0',
    expect: {
      event: { fwd: ['108.21.18.132'] },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: 'at=info method=POST path=/drain host=fakeapp.herokuapp.com fwd=\\"108.21.18.132\\" dyno=web.1 connect=2ms service=3ms status=200 bytes=0',
      attributes: { 'client.address': '108.21.18.132', 'heroku.router.fwd': ['108.21.18.132'] },
      metrics: [routerMetric(0.005, { 'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': 'fakeapp.herokuapp.com' })],
    },
  },
  {
    name: 'router line with an unknown HTTP method: _OTHER plus the original',
    line: `${TS} heroku[router]: at=info method=PROPFIND path="/dav/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=207 bytes=120 protocol=https`,
    expect: {
      event: { method: 'PROPFIND' },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=PROPFIND path="/dav/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=207 bytes=120 protocol=https`,
      attributes: { 'http.request.method': '_OTHER', 'http.request.method_original': 'PROPFIND', 'http.response.status_code': 207 },
      metrics: [routerMetric(0.004, { 'http.request.method': '_OTHER', 'http.response.status_code': 207, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router line with new keys (Router 2.0 style) kept as heroku.router.<key>',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https region=eu edge="ams 1" early_hints=false`,
    expect: {
      event: { extra: { region: 'eu', edge: 'ams 1', early_hints: 'false' } },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} request_id=${RID} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https region=eu edge="ams 1" early_hints=false`,
      attributes: { 'heroku.router.region': 'eu', 'heroku.router.edge': 'ams 1', 'heroku.router.early_hints': 'false', 'heroku.router.request_id': RID },
      metrics: [routerMetric(0.004, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router line in a Logplex HTTPS drain frame (Vector test line)',
    line: '<158>1 2020-01-08T22:33:57.353034+00:00 host heroku router - at=info method=GET path="/cart_link" host=lumberjack-store.timber.io request_id=05726858-c44e-4f94-9a20-37df73be9006 fwd="73.75.38.87" dyno=web.1 connect=1ms service=22ms status=304 bytes=656 protocol=http',
    expect: {
      event: { kind: 'router', path: '/cart_link', status: 304, protocol: 'http' },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: 'at=info method=GET path="/cart_link" host=lumberjack-store.timber.io request_id=05726858-c44e-4f94-9a20-37df73be9006 fwd="73.75.38.87" dyno=web.1 connect=1ms service=22ms status=304 bytes=656 protocol=http',
      attributes: { ...frameEnv('router', 158, 'heroku', 'router', 'web.1'), 'url.scheme': 'http', 'client.address': '73.75.38.87' },
      absent: ['heroku.syslog.hostname', 'heroku.drain.fingerprint'],
      metrics: [
        routerMetric(0.023, { 'http.request.method': 'GET', 'http.response.status_code': 304, 'url.scheme': 'http', 'server.address': 'lumberjack-store.timber.io' }),
      ],
    },
  },
  {
    name: 'router line in a syslog drain message: the token is fingerprinted, never emitted',
    line: `<158>1 2024-05-01T12:00:00.123456+00:00 d.fc6b856b-3332-4546-93de-7d0ee272c3bd heroku router - - at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https`,
    expect: {
      event: { kind: 'router', status: 200 },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https`,
      attributes: { 'heroku.log.shape': 'syslog', 'heroku.syslog.facility': 19, 'heroku.syslog.severity': 6 },
      absent: ['heroku.syslog.hostname', 'heroku.syslog.structured_data', 'heroku.syslog.msg_id'],
      metrics: [routerMetric(0.004, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router error in the pre-2012 shape (Dev Center "errors" page)',
    line: '2011-03-01T16:16:59-08:00 heroku[router]: Error H10 (App crashed) -> GET crasher.heroku.com/ dyno=none queue=0 wait=0ms service=0ms bytes=0',
    expect: {
      event: { kind: 'router', at: 'error', code: 'H10', desc: 'App crashed', method: 'GET', host: 'crasher.heroku.com', path: '/', dyno: undefined, serviceMs: 0, bytes: 0, extra: { queue: '0', wait: '0ms' } },
      eventName: 'heroku.router.request',
      severityText: 'ERROR',
      body: 'Error H10 (App crashed) -> GET crasher.heroku.com/ dyno=none queue=0 wait=0ms service=0ms bytes=0',
      attributes: {
        ...logsEnv('router', 'heroku', 'router', null),
        'http.request.method': 'GET',
        'server.address': 'crasher.heroku.com',
        'url.path': '/',
        'error.type': 'H10',
        'heroku.error.description': 'App crashed',
        'heroku.router.queue': '0',
        'heroku.router.wait': '0ms',
      },
      absent: ['heroku.dyno.name'],
      metrics: [routerMetric(0, { 'http.request.method': 'GET', 'error.type': 'H10', 'server.address': 'crasher.heroku.com' })],
    },
  },
  {
    name: 'router line with a CRLF ending',
    line: `${TS} heroku[router]: at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https\r\n`,
    expect: {
      event: { protocol: 'https', bytes: 120 },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=200 bytes=120 protocol=https`,
      attributes: { 'url.scheme': 'https', 'heroku.router.protocol': 'https' },
      metrics: [routerMetric(0.004, { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
  {
    name: 'router line with a very long quoted path',
    line: `${TS} heroku[router]: at=info method=GET path="/${'a'.repeat(8000)}?q=${'b'.repeat(1000)}" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=414 bytes=0 protocol=https`,
    expect: {
      event: { path: `/${'a'.repeat(8000)}`, query: `q=${'b'.repeat(1000)}`, status: 414 },
      eventName: 'heroku.router.request',
      severityText: 'INFO',
      body: `at=info method=GET path="/${'a'.repeat(8000)}?q=${'b'.repeat(1000)}" host=${HOST} fwd="203.0.113.9" dyno=web.1 connect=0ms service=4ms status=414 bytes=0 protocol=https`,
      attributes: { 'url.path': `/${'a'.repeat(8000)}`, 'http.response.status_code': 414, 'server.address': HOST },
      metrics: [routerMetric(0.004, { 'http.request.method': 'GET', 'http.response.status_code': 414, 'url.scheme': 'https', 'server.address': HOST })],
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Dyno runtime metrics (log-runtime-metrics)

const DYNO_ID = 'heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456';
const MB = 1048576;

function gauge(name: string, unit: string, value: number, attributes: Attrs): ExpectedMetric {
  return { name, unit, type: 'gauge', value, attributes };
}

/** A running total the source reports (Heroku documents it as cumulative). */
function total(name: string, unit: string, value: number, attributes: Attrs): ExpectedMetric {
  return { name, unit, type: 'total', value, attributes };
}

const web1 = { 'heroku.dyno.name': 'web.1', 'heroku.dyno.type': 'web' };

const runtimeCases: HerokuLineCase[] = [
  {
    name: 'runtime load averages (1m, 5m, 15m)',
    line: `${TS} heroku[web.1]: source=web.1 dyno=${DYNO_ID} sample#load_avg_1m=2.46 sample#load_avg_5m=1.06 sample#load_avg_15m=0.99`,
    expect: {
      event: {
        kind: 'runtime',
        source: 'web.1',
        dynoId: DYNO_ID,
        samples: [
          { key: 'load_avg_1m', value: 2.46, unit: '' },
          { key: 'load_avg_5m', value: 1.06, unit: '' },
          { key: 'load_avg_15m', value: 0.99, unit: '' },
        ],
      },
      eventName: 'heroku.runtime.sample',
      severityText: 'INFO',
      body: `source=web.1 dyno=${DYNO_ID} sample#load_avg_1m=2.46 sample#load_avg_5m=1.06 sample#load_avg_15m=0.99`,
      attributes: {
        ...logsEnv('runtime', 'heroku', 'web.1'),
        'heroku.dyno.id': DYNO_ID,
        'heroku.sample.load_avg_1m': 2.46,
        'heroku.sample.load_avg_5m': 1.06,
        'heroku.sample.load_avg_15m': 0.99,
      },
      metrics: [
        gauge('heroku.dyno.load_avg_1m', '1', 2.46, web1),
        gauge('heroku.dyno.load_avg_5m', '1', 1.06, web1),
        gauge('heroku.dyno.load_avg_15m', '1', 0.99, web1),
      ],
    },
  },
  {
    name: 'runtime memory: MB are binary and become bytes, pages stay pages',
    line: `${TS} heroku[web.1]: source=web.1 dyno=${DYNO_ID} sample#memory_total=21.00MB sample#memory_rss=21.22MB sample#memory_cache=0.00MB sample#memory_swap=0.00MB sample#memory_pgpgin=348836pages sample#memory_pgpgout=343403pages sample#memory_quota=512.00MB`,
    expect: {
      event: {
        kind: 'runtime',
        samples: [
          { key: 'memory_total', value: 21, unit: 'MB' },
          { key: 'memory_rss', value: 21.22, unit: 'MB' },
          { key: 'memory_cache', value: 0, unit: 'MB' },
          { key: 'memory_swap', value: 0, unit: 'MB' },
          { key: 'memory_pgpgin', value: 348836, unit: 'pages' },
          { key: 'memory_pgpgout', value: 343403, unit: 'pages' },
          { key: 'memory_quota', value: 512, unit: 'MB' },
        ],
      },
      eventName: 'heroku.runtime.sample',
      severityText: 'INFO',
      body: `source=web.1 dyno=${DYNO_ID} sample#memory_total=21.00MB sample#memory_rss=21.22MB sample#memory_cache=0.00MB sample#memory_swap=0.00MB sample#memory_pgpgin=348836pages sample#memory_pgpgout=343403pages sample#memory_quota=512.00MB`,
      attributes: {
        ...logsEnv('runtime', 'heroku', 'web.1'),
        'heroku.sample.memory_total': 21 * MB,
        'heroku.sample.memory_rss': Math.round(21.22 * MB),
        'heroku.sample.memory_cache': 0,
        'heroku.sample.memory_swap': 0,
        'heroku.sample.memory_pgpgin': 348836,
        'heroku.sample.memory_pgpgout': 343403,
        'heroku.sample.memory_quota': 512 * MB,
      },
      metrics: [
        gauge('heroku.dyno.memory_total', 'By', 22020096, web1),
        gauge('heroku.dyno.memory_rss', 'By', 22250783, web1),
        gauge('heroku.dyno.memory_cache', 'By', 0, web1),
        gauge('heroku.dyno.memory_swap', 'By', 0, web1),
        total('heroku.dyno.memory_pgpgin', '{page}', 348836, web1),
        total('heroku.dyno.memory_pgpgout', '{page}', 343403, web1),
        gauge('heroku.dyno.memory_quota', 'By', 536870912, web1),
      ],
    },
  },
  {
    name: 'runtime load without 15m',
    line: `${TS} heroku[worker.2]: source=worker.2 dyno=${DYNO_ID} sample#load_avg_1m=0.01 sample#load_avg_5m=0.02`,
    expect: {
      event: { kind: 'runtime', source: 'worker.2', samples: [{ key: 'load_avg_1m', value: 0.01, unit: '' }, { key: 'load_avg_5m', value: 0.02, unit: '' }] },
      eventName: 'heroku.runtime.sample',
      severityText: 'INFO',
      body: `source=worker.2 dyno=${DYNO_ID} sample#load_avg_1m=0.01 sample#load_avg_5m=0.02`,
      attributes: { ...logsEnv('runtime', 'heroku', 'worker.2'), 'heroku.sample.load_avg_1m': 0.01, 'heroku.sample.load_avg_5m': 0.02 },
      absent: ['heroku.sample.load_avg_15m'],
      metrics: [
        gauge('heroku.dyno.load_avg_1m', '1', 0.01, { 'heroku.dyno.name': 'worker.2', 'heroku.dyno.type': 'worker' }),
        gauge('heroku.dyno.load_avg_5m', '1', 0.02, { 'heroku.dyno.name': 'worker.2', 'heroku.dyno.type': 'worker' }),
      ],
    },
  },
  {
    name: 'runtime sample of a one-off dyno: source=run.6221 without dyno=',
    line: `${TS} heroku[run.6221]: source=run.6221 sample#load_avg_1m=1.36`,
    expect: {
      event: { kind: 'runtime', source: 'run.6221', dynoId: undefined, samples: [{ key: 'load_avg_1m', value: 1.36, unit: '' }] },
      eventName: 'heroku.runtime.sample',
      severityText: 'INFO',
      body: 'source=run.6221 sample#load_avg_1m=1.36',
      attributes: { ...logsEnv('runtime', 'heroku', 'run.6221'), 'heroku.sample.load_avg_1m': 1.36 },
      absent: ['heroku.dyno.id'],
      metrics: [gauge('heroku.dyno.load_avg_1m', '1', 1.36, { 'heroku.dyno.name': 'run.6221', 'heroku.dyno.type': 'run' })],
    },
  },
  {
    name: 'runtime memory of a scheduler dyno, in a Logplex frame',
    line: `<134>1 ${TS} host heroku scheduler.4321 - source=scheduler.4321 dyno=${DYNO_ID} sample#memory_total=470.22MB sample#memory_rss=400.5MB`,
    expect: {
      event: { kind: 'runtime', source: 'scheduler.4321', samples: [{ key: 'memory_total', value: 470.22, unit: 'MB' }, { key: 'memory_rss', value: 400.5, unit: 'MB' }] },
      eventName: 'heroku.runtime.sample',
      severityText: 'INFO',
      body: `source=scheduler.4321 dyno=${DYNO_ID} sample#memory_total=470.22MB sample#memory_rss=400.5MB`,
      attributes: { ...frameEnv('runtime', 134, 'heroku', 'scheduler.4321'), 'heroku.sample.memory_total': Math.round(470.22 * MB), 'heroku.sample.memory_rss': 419954688 },
      metrics: [
        gauge('heroku.dyno.memory_total', 'By', Math.round(470.22 * MB), { 'heroku.dyno.name': 'scheduler.4321', 'heroku.dyno.type': 'scheduler' }),
        gauge('heroku.dyno.memory_rss', 'By', 419954688, { 'heroku.dyno.name': 'scheduler.4321', 'heroku.dyno.type': 'scheduler' }),
      ],
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Add-ons: Heroku Postgres, Heroku Redis, pgbouncer, and Postgres's own log

const KB = 1024;
const pgSeries = { 'heroku.addon.name': 'postgresql-reticulated-12345', 'heroku.source': 'HEROKU_POSTGRESQL_YELLOW' };
const PG_FULL =
  'source=HEROKU_POSTGRESQL_YELLOW addon=postgresql-reticulated-12345 sample#current_transaction=19028263 sample#db_size=10311979679bytes sample#tables=1443 sample#active-connections=11 sample#waiting-connections=0 sample#index-cache-hit-rate=0.99814 sample#table-cache-hit-rate=0.96729 sample#load-avg-1m=0 sample#load-avg-5m=0 sample#load-avg-15m=0 sample#read-iops=0 sample#write-iops=0.21311 sample#tmp-disk-used=543600640 sample#tmp-disk-available=72435191808 sample#memory-total=8036340kB sample#memory-free=80640kB sample#memory-cached=7319340kB sample#memory-postgres=23380kB sample#wal-percentage-used=0.06427136779541504';
const redisSeries = { 'heroku.addon.name': 'redis-closed-12345', 'heroku.source': 'REDIS' };
const REDIS_FULL =
  'source=REDIS addon=redis-closed-12345 sample#active-connections=1 sample#load-avg-1m=0.145 sample#load-avg-5m=0.145 sample#load-avg-15m=0.155 sample#read-iops=0 sample#write-iops=0 sample#memory-total=16082928kB sample#memory-free=11453204kB sample#memory-cached=2528244kB sample#memory-redis=460192bytes sample#hit-rate=0.92675 sample#evicted-keys=0';
const PGB = 'source=pgbouncer addon=postgresql-contoured-12345 sample#client_active=56 sample#client_waiting=0 sample#server_active=0 sample#server_idle=16 sample#max_wait=0 sample#avg_query=8751 sample#avg_recv=37568 sample#avg_sent=1339005';
const pgbSeries = { 'heroku.addon.name': 'postgresql-contoured-12345', 'heroku.source': 'pgbouncer' };

const addonCases: HerokuLineCase[] = [
  {
    name: 'Heroku Postgres metrics, every sample# key (pganalyze capture, Logplex frame)',
    line: `<134>1 2023-06-05T19:27:18+00:00 host app heroku-postgres - ${PG_FULL}`,
    expect: {
      event: { kind: 'addon', type: 'sample', service: 'heroku-postgres', source: 'HEROKU_POSTGRESQL_YELLOW', addon: 'postgresql-reticulated-12345', extra: undefined },
      eventName: 'heroku.addon.sample',
      severityText: 'INFO',
      body: PG_FULL,
      attributes: {
        ...frameEnv('addon', 134, 'app', 'heroku-postgres', null),
        'heroku.addon.service': 'heroku-postgres',
        'heroku.addon.name': 'postgresql-reticulated-12345',
        'heroku.source': 'HEROKU_POSTGRESQL_YELLOW',
        'heroku.sample.current_transaction': 19028263,
        'heroku.sample.db_size': 10311979679,
        'heroku.sample.tables': 1443,
        'heroku.sample.active_connections': 11,
        'heroku.sample.waiting_connections': 0,
        'heroku.sample.index_cache_hit_rate': 0.99814,
        'heroku.sample.table_cache_hit_rate': 0.96729,
        'heroku.sample.load_avg_1m': 0,
        'heroku.sample.load_avg_5m': 0,
        'heroku.sample.load_avg_15m': 0,
        'heroku.sample.read_iops': 0,
        'heroku.sample.write_iops': 0.21311,
        'heroku.sample.tmp_disk_used': 543600640,
        'heroku.sample.tmp_disk_available': 72435191808,
        'heroku.sample.memory_total': 8036340 * KB,
        'heroku.sample.memory_free': 80640 * KB,
        'heroku.sample.memory_cached': 7319340 * KB,
        'heroku.sample.memory_postgres': 23380 * KB,
        'heroku.sample.wal_percentage_used': 0.06427136779541504,
      },
      metrics: [
        gauge('heroku.postgres.current_transaction', '{transaction}', 19028263, pgSeries),
        gauge('heroku.postgres.db_size', 'By', 10311979679, pgSeries),
        gauge('heroku.postgres.tables', '{table}', 1443, pgSeries),
        gauge('heroku.postgres.active_connections', '{connection}', 11, pgSeries),
        gauge('heroku.postgres.waiting_connections', '{connection}', 0, pgSeries),
        gauge('heroku.postgres.index_cache_hit_rate', '1', 0.99814, pgSeries),
        gauge('heroku.postgres.table_cache_hit_rate', '1', 0.96729, pgSeries),
        gauge('heroku.postgres.load_avg_1m', '1', 0, pgSeries),
        gauge('heroku.postgres.load_avg_5m', '1', 0, pgSeries),
        gauge('heroku.postgres.load_avg_15m', '1', 0, pgSeries),
        gauge('heroku.postgres.read_iops', '{operation}/s', 0, pgSeries),
        gauge('heroku.postgres.write_iops', '{operation}/s', 0.21311, pgSeries),
        gauge('heroku.postgres.tmp_disk_used', 'By', 543600640, pgSeries),
        gauge('heroku.postgres.tmp_disk_available', 'By', 72435191808, pgSeries),
        gauge('heroku.postgres.memory_total', 'By', 8036340 * KB, pgSeries),
        gauge('heroku.postgres.memory_free', 'By', 80640 * KB, pgSeries),
        gauge('heroku.postgres.memory_cached', 'By', 7319340 * KB, pgSeries),
        gauge('heroku.postgres.memory_postgres', 'By', 23380 * KB, pgSeries),
        gauge('heroku.postgres.wal_percentage_used', '1', 0.06427136779541504, pgSeries),
      ],
    },
  },
  {
    name: 'Heroku Postgres follower: float kB, unknown and newer keys all kept',
    line: `${TS} app[heroku-postgres]: source=DATABASE addon=postgresql-curly-12345 sample#memory-postgres=15405636.0kB sample#follower-lag-commits=10441 sample#db-size-percentage-used=0.51 sample#max-connections=500 sample#connections-percentage-used=0.02 sample#iops-percentage-used=0.1 sample#brand-new-metric=7`,
    expect: {
      event: {
        kind: 'addon',
        type: 'sample',
        source: 'DATABASE',
        addon: 'postgresql-curly-12345',
        samples: [
          { key: 'memory-postgres', value: 15405636, unit: 'kB' },
          { key: 'follower-lag-commits', value: 10441, unit: '' },
          { key: 'db-size-percentage-used', value: 0.51, unit: '' },
          { key: 'max-connections', value: 500, unit: '' },
          { key: 'connections-percentage-used', value: 0.02, unit: '' },
          { key: 'iops-percentage-used', value: 0.1, unit: '' },
          { key: 'brand-new-metric', value: 7, unit: '' },
        ],
      },
      eventName: 'heroku.addon.sample',
      severityText: 'INFO',
      body: 'source=DATABASE addon=postgresql-curly-12345 sample#memory-postgres=15405636.0kB sample#follower-lag-commits=10441 sample#db-size-percentage-used=0.51 sample#max-connections=500 sample#connections-percentage-used=0.02 sample#iops-percentage-used=0.1 sample#brand-new-metric=7',
      attributes: {
        ...logsEnv('addon', 'app', 'heroku-postgres', null),
        'heroku.sample.memory_postgres': 15405636 * KB,
        'heroku.sample.follower_lag_commits': 10441,
        'heroku.sample.db_size_percentage_used': 0.51,
        'heroku.sample.max_connections': 500,
        'heroku.sample.connections_percentage_used': 0.02,
        'heroku.sample.iops_percentage_used': 0.1,
        'heroku.sample.brand_new_metric': 7,
      },
      metrics: [
        gauge('heroku.postgres.memory_postgres', 'By', 15405636 * KB, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.follower_lag_commits', '{commit}', 10441, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.db_size_percentage_used', '1', 0.51, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.max_connections', '{connection}', 500, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.connections_percentage_used', '1', 0.02, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.iops_percentage_used', '1', 0.1, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
        gauge('heroku.postgres.brand_new_metric', '1', 7, { 'heroku.addon.name': 'postgresql-curly-12345', 'heroku.source': 'DATABASE' }),
      ],
    },
  },
  {
    name: 'Heroku Postgres metrics as documented in 2013 (heroku source, no addon=)',
    line: '2013-05-07T17:41:06+00:00 heroku[heroku-postgres]: source=HEROKU_POSTGRESQL_VIOLET sample#current_transaction=1873 sample#db_size=26219348792bytes sample#tables=13 sample#read-iops=0 sample#write-iops=2.875',
    expect: {
      event: { kind: 'addon', type: 'sample', service: 'heroku-postgres', source: 'HEROKU_POSTGRESQL_VIOLET', addon: undefined },
      eventName: 'heroku.addon.sample',
      severityText: 'INFO',
      body: 'source=HEROKU_POSTGRESQL_VIOLET sample#current_transaction=1873 sample#db_size=26219348792bytes sample#tables=13 sample#read-iops=0 sample#write-iops=2.875',
      attributes: { ...logsEnv('addon', 'heroku', 'heroku-postgres', null), 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET', 'heroku.sample.db_size': 26219348792, 'heroku.sample.write_iops': 2.875 },
      absent: ['heroku.addon.name'],
      metrics: [
        gauge('heroku.postgres.current_transaction', '{transaction}', 1873, { 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET' }),
        gauge('heroku.postgres.db_size', 'By', 26219348792, { 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET' }),
        gauge('heroku.postgres.tables', '{table}', 13, { 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET' }),
        gauge('heroku.postgres.read_iops', '{operation}/s', 0, { 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET' }),
        gauge('heroku.postgres.write_iops', '{operation}/s', 2.875, { 'heroku.source': 'HEROKU_POSTGRESQL_VIOLET' }),
      ],
    },
  },
  {
    name: 'Heroku Redis metrics: memory-redis in bytes, the rest in kB',
    line: `<134>1 2023-06-05T19:35:51+00:00 host app heroku-redis - ${REDIS_FULL}`,
    expect: {
      event: { kind: 'addon', type: 'sample', service: 'heroku-redis', source: 'REDIS', addon: 'redis-closed-12345' },
      eventName: 'heroku.addon.sample',
      severityText: 'INFO',
      body: REDIS_FULL,
      attributes: {
        ...frameEnv('addon', 134, 'app', 'heroku-redis', null),
        'heroku.addon.service': 'heroku-redis',
        'heroku.addon.name': 'redis-closed-12345',
        'heroku.source': 'REDIS',
        'heroku.sample.active_connections': 1,
        'heroku.sample.load_avg_1m': 0.145,
        'heroku.sample.load_avg_5m': 0.145,
        'heroku.sample.load_avg_15m': 0.155,
        'heroku.sample.read_iops': 0,
        'heroku.sample.write_iops': 0,
        'heroku.sample.memory_total': 16082928 * KB,
        'heroku.sample.memory_free': 11453204 * KB,
        'heroku.sample.memory_cached': 2528244 * KB,
        'heroku.sample.memory_redis': 460192,
        'heroku.sample.hit_rate': 0.92675,
        'heroku.sample.evicted_keys': 0,
      },
      metrics: [
        gauge('heroku.redis.active_connections', '{connection}', 1, redisSeries),
        gauge('heroku.redis.load_avg_1m', '1', 0.145, redisSeries),
        gauge('heroku.redis.load_avg_5m', '1', 0.145, redisSeries),
        gauge('heroku.redis.load_avg_15m', '1', 0.155, redisSeries),
        gauge('heroku.redis.read_iops', '{operation}/s', 0, redisSeries),
        gauge('heroku.redis.write_iops', '{operation}/s', 0, redisSeries),
        gauge('heroku.redis.memory_total', 'By', 16082928 * KB, redisSeries),
        gauge('heroku.redis.memory_free', 'By', 11453204 * KB, redisSeries),
        gauge('heroku.redis.memory_cached', 'By', 2528244 * KB, redisSeries),
        gauge('heroku.redis.memory_redis', 'By', 460192, redisSeries),
        gauge('heroku.redis.hit_rate', '1', 0.92675, redisSeries),
        total('heroku.redis.evicted_keys', '{key}', 0, redisSeries),
      ],
    },
  },
  {
    name: 'pgbouncer metrics (keys with underscores)',
    line: `<134>1 2022-03-24T23:59:39+00:00 host app heroku-pgbouncer - ${PGB}`,
    expect: {
      event: { kind: 'addon', type: 'sample', service: 'heroku-pgbouncer', source: 'pgbouncer', addon: 'postgresql-contoured-12345' },
      eventName: 'heroku.addon.sample',
      severityText: 'INFO',
      body: PGB,
      attributes: { ...frameEnv('addon', 134, 'app', 'heroku-pgbouncer', null), 'heroku.addon.service': 'heroku-pgbouncer', 'heroku.sample.client_active': 56, 'heroku.sample.avg_query_duration': 0.008751, 'heroku.sample.avg_sent': 1339005 },
      absent: ['heroku.sample.avg_query'],
      metrics: [
        gauge('heroku.pgbouncer.client_active', '{connection}', 56, pgbSeries),
        gauge('heroku.pgbouncer.client_waiting', '{connection}', 0, pgbSeries),
        gauge('heroku.pgbouncer.server_active', '{connection}', 0, pgbSeries),
        gauge('heroku.pgbouncer.server_idle', '{connection}', 16, pgbSeries),
        gauge('heroku.pgbouncer.max_wait', 's', 0, pgbSeries),
        // pgbouncer's microseconds, in seconds under a name that says it is a duration.
        gauge('heroku.pgbouncer.avg_query_duration', 's', 0.008751, pgbSeries),
        gauge('heroku.pgbouncer.avg_recv', 'By/s', 37568, pgbSeries),
        gauge('heroku.pgbouncer.avg_sent', 'By/s', 1339005, pgbSeries),
      ],
    },
  },
  {
    name: 'Postgres log, 2012 format: [seq] then [COLOR]',
    line: '2012-11-01T17:41:42+00:00 app[postgres]: [15521-1]  [CHARCOAL] LOG:  checkpoint starting: time',
    expect: {
      event: { kind: 'addon', type: 'postgres_log', source: 'CHARCOAL', lineId: '15521-1', level: 'LOG', sqlErrorCode: undefined, message: 'checkpoint starting: time' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'checkpoint starting: time',
      attributes: {
        ...logsEnv('addon', 'app', 'postgres', null),
        'heroku.addon.service': 'heroku-postgres',
        'db.system.name': 'postgresql',
        'heroku.source': 'CHARCOAL',
        'heroku.postgres.line_id': '15521-1',
        'heroku.postgres.level': 'LOG',
      },
      absent: ['db.response.status_code', 'error.type'],
    },
  },
  {
    name: 'Postgres log, 2012 format without any prefix',
    line: '2012-11-01T17:41:42+00:00 app[postgres]: LOG:  could not receive data from client: Connection reset by peer',
    expect: {
      event: { type: 'postgres_log', source: undefined, lineId: undefined, level: 'LOG', message: 'could not receive data from client: Connection reset by peer' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'could not receive data from client: Connection reset by peer',
      attributes: { 'heroku.postgres.level': 'LOG', 'db.system.name': 'postgresql' },
      absent: ['heroku.source', 'heroku.postgres.line_id'],
    },
  },
  {
    name: 'Postgres log, sql_error_code with spaces (2017+)',
    line: '2017-06-28T15:10:02+00:00 app[postgres.13761]: [DATABASE] [7-1]  sql_error_code = 00000 LOG:  duration: 4822.012 ms  statement: BEGIN READ ONLY;',
    expect: {
      event: { type: 'postgres_log', source: 'DATABASE', lineId: '7-1', sqlErrorCode: '00000', level: 'LOG', message: 'duration: 4822.012 ms  statement: BEGIN READ ONLY;', fields: undefined },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'duration: 4822.012 ms  statement: BEGIN READ ONLY;',
      attributes: { ...logsEnv('addon', 'app', 'postgres.13761', null), 'heroku.source': 'DATABASE', 'heroku.postgres.line_id': '7-1', 'db.response.status_code': '00000' },
      absent: ['error.type'],
    },
  },
  {
    name: 'Postgres log continuation line: no level, the SQL kept whole as the body',
    line: '2017-06-28T15:10:02+00:00 app[postgres.13761]: [DATABASE] [7-2]       SELECT column',
    expect: {
      event: { type: 'postgres_log', source: 'DATABASE', lineId: '7-2', level: undefined, sqlErrorCode: undefined, message: 'SELECT column' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'SELECT column',
      attributes: { 'heroku.postgres.line_id': '7-2', 'heroku.source': 'DATABASE' },
      absent: ['heroku.postgres.level'],
    },
  },
  {
    name: 'Postgres log continuation line that reads like pairs (`status = 1`): SQL, not fields',
    line: "2017-06-28T15:10:02+00:00 app[postgres.13761]: [DATABASE] [7-2]    status = 'active', retries = 0",
    expect: {
      event: { type: 'postgres_log', lineId: '7-2', level: undefined, sqlErrorCode: undefined, fields: undefined, message: "status = 'active', retries = 0" },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: "status = 'active', retries = 0",
      attributes: { 'heroku.postgres.line_id': '7-2' },
      absent: ['heroku.postgres.status', 'heroku.postgres.retries'],
    },
  },
  {
    name: 'Postgres log continuation line indented with a tab (pganalyze capture)',
    line: '85 <134>1 2023-06-05T19:33:14+00:00 host app postgres.1105947 - [YELLOW] [12-2] \tSELECT',
    expect: {
      event: { type: 'postgres_log', source: 'YELLOW', lineId: '12-2', level: undefined, message: 'SELECT' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'SELECT',
      attributes: { ...frameEnv('addon', 134, 'app', 'postgres.1105947', null), 'heroku.source': 'YELLOW' },
    },
  },
  {
    name: 'Postgres FATAL with sql_error_code= and no spaces',
    line: '2024-05-01T12:00:00+00:00 app[postgres.1234]: [DATABASE] [9-1] sql_error_code=28P01 FATAL:  password authentication failed for user "x"',
    expect: {
      event: { type: 'postgres_log', sqlErrorCode: '28P01', level: 'FATAL', message: 'password authentication failed for user "x"' },
      eventName: 'heroku.addon.log',
      severityText: 'FATAL',
      body: 'password authentication failed for user "x"',
      attributes: { 'db.response.status_code': '28P01', 'error.type': '28P01', 'heroku.postgres.level': 'FATAL' },
    },
  },
  {
    name: 'Postgres ERROR, 2022+ format with key=value metadata (PRI local0.warning)',
    line: '<132>1 2022-08-11T02:47:50+00:00 host app postgres.3796759 - [GREEN] [11-1]  sql_error_code = 23505 time_ms = "2022-08-11 02:47:50.521 UTC" pid="275326" proc_start_time="2022-08-11 02:26:10 UTC" session_id="62f468c2.4337e" vtid="8/75647105" tid="2423517980" log_line="1" database="dciabc12i2cbbe" connection_source="[local]" user="uestabchn12ae1" application_name="sidekiq 5.2.10 app [6 of 16 busy] - 123.456.789.1:28429" ERROR:  duplicate key value violates unique constraint "idx_index_123"',
    expect: {
      event: {
        type: 'postgres_log',
        source: 'GREEN',
        lineId: '11-1',
        sqlErrorCode: '23505',
        level: 'ERROR',
        message: 'duplicate key value violates unique constraint "idx_index_123"',
        fields: {
          time_ms: '2022-08-11 02:47:50.521 UTC',
          pid: '275326',
          proc_start_time: '2022-08-11 02:26:10 UTC',
          session_id: '62f468c2.4337e',
          vtid: '8/75647105',
          tid: '2423517980',
          log_line: '1',
          database: 'dciabc12i2cbbe',
          connection_source: '[local]',
          user: 'uestabchn12ae1',
          application_name: 'sidekiq 5.2.10 app [6 of 16 busy] - 123.456.789.1:28429',
        },
      },
      eventName: 'heroku.addon.log',
      severityText: 'ERROR',
      body: 'duplicate key value violates unique constraint "idx_index_123"',
      attributes: {
        ...frameEnv('addon', 132, 'app', 'postgres.3796759', null),
        'db.system.name': 'postgresql',
        'db.response.status_code': '23505',
        'error.type': '23505',
        'db.namespace': 'dciabc12i2cbbe',
        'heroku.postgres.pid': '275326',
        'heroku.postgres.user': 'uestabchn12ae1',
        'heroku.postgres.application_name': 'sidekiq 5.2.10 app [6 of 16 busy] - 123.456.789.1:28429',
        'heroku.postgres.connection_source': '[local]',
        'heroku.postgres.time_ms': '2022-08-11 02:47:50.521 UTC',
      },
      absent: ['heroku.postgres.database', 'heroku.postgres.sql_error_code'],
    },
  },
  {
    name: 'Postgres background LOG, 2022+ format with vtid=""',
    line: '<134>1 2022-08-11T02:47:50+00:00 host app postgres.69018 - [GREEN] [12453-1]  sql_error_code = 00000 time_ms = "2022-10-22 04:40:14.217 UTC" pid="8" proc_start_time="2022-09-10 02:35:17 UTC" session_id="631abce5.8" vtid="" tid="0" log_line="12448" LOG:  checkpoint complete: wrote 3005 buffers (3.0%)',
    expect: {
      event: { type: 'postgres_log', lineId: '12453-1', level: 'LOG', sqlErrorCode: '00000', message: 'checkpoint complete: wrote 3005 buffers (3.0%)' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'checkpoint complete: wrote 3005 buffers (3.0%)',
      attributes: { 'heroku.postgres.vtid': '', 'heroku.postgres.pid': '8', 'heroku.postgres.log_line': '12448' },
      absent: ['db.namespace', 'error.type'],
    },
  },
  {
    name: 'Postgres DETAIL line (part 2 with its own sql_error_code)',
    line: '2022-03-25T00:56:43+00:00 app[postgres.2979]: [PURPLE] [13994-2]  sql_error_code = 00000 DETAIL:  last completed transaction was at log time 2022-03-25 00:56:42.690423+00',
    expect: {
      event: { type: 'postgres_log', source: 'PURPLE', lineId: '13994-2', level: 'DETAIL', message: 'last completed transaction was at log time 2022-03-25 00:56:42.690423+00' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'last completed transaction was at log time 2022-03-25 00:56:42.690423+00',
      attributes: { 'heroku.postgres.level': 'DETAIL', 'db.response.status_code': '00000' },
    },
  },
  {
    name: 'add-on text that is not a sample stays an add-on log',
    line: `${TS} app[heroku-redis]: Redis maintenance window starts in 1 hour`,
    expect: {
      event: { kind: 'app', format: 'plain', message: 'Redis maintenance window starts in 1 hour' },
      eventName: 'heroku.addon.log',
      severityText: 'INFO',
      body: 'Redis maintenance window starts in 1 hour',
      attributes: { ...logsEnv('addon', 'app', 'heroku-redis', null), 'heroku.addon.service': 'heroku-redis' },
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Platform: dyno lifecycle, R-codes, and Logplex's own errors

function platformCase(
  name: string,
  line: string,
  event: Record<string, unknown>,
  eventName: string,
  severityText: string,
  attributes: Attrs,
  more: Partial<HerokuLineCase['expect']> = {},
): HerokuLineCase {
  const text = line.slice(line.indexOf(']: ') + 3);
  return { name, line, expect: { event: { kind: 'platform', ...event }, eventName, severityText, body: text, attributes, ...more } };
}

/** Messages dropped, by code: the PROCID (`logplex`, `log-shuttle`) is no dyno, so no series of its own. */
function droppedMetric(value: number, code: string): ExpectedMetric {
  return { name: 'heroku.logplex.dropped_messages', unit: '{message}', type: 'sum', value, attributes: { 'heroku.error.code': code } };
}

const platformCases: HerokuLineCase[] = [
  platformCase(
    'state change starting to up',
    '2025-09-16T02:55:24.795370+00:00 heroku[web.1]: State changed from starting to up',
    { type: 'state_change', fromState: 'starting', toState: 'up' },
    'heroku.dyno.state_change',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'web.1'), 'heroku.dyno.state': 'up', 'heroku.dyno.state.previous': 'starting' },
  ),
  platformCase(
    'state change to crashed is an error',
    '2025-09-16T03:04:31.151160+00:00 heroku[web.1]: State changed from starting to crashed',
    { type: 'state_change', fromState: 'starting', toState: 'crashed' },
    'heroku.dyno.state_change',
    'ERROR',
    { 'heroku.dyno.state': 'crashed', 'heroku.dyno.state.previous': 'starting' },
  ),
  platformCase(
    'state change crashed to down',
    '2024-05-16T12:14:14.933958+00:00 heroku[web.1]: State changed from crashed to down',
    { type: 'state_change', fromState: 'crashed', toState: 'down' },
    'heroku.dyno.state_change',
    'INFO',
    { 'heroku.dyno.state': 'down', 'heroku.dyno.state.previous': 'crashed' },
  ),
  platformCase(
    'state change up to bouncing (2012)',
    '2012-01-10T20:56:36+00:00 heroku[web.1]: State changed from up to bouncing',
    { type: 'state_change', fromState: 'up', toState: 'bouncing' },
    'heroku.dyno.state_change',
    'INFO',
    { 'heroku.dyno.state': 'bouncing' },
  ),
  ...([0, 1, 137, 143] as const).map((status) =>
    platformCase(
      `process exit with status ${status}`,
      `2025-09-16T02:55:25.606925+00:00 heroku[web.1]: Process exited with status ${status}`,
      { type: 'process_exit', exitStatus: status },
      'heroku.dyno.exit',
      status === 0 || status === 143 ? 'INFO' : 'WARN',
      { ...logsEnv('platform', 'heroku', 'web.1'), 'process.exit.code': status },
    ),
  ),
  platformCase(
    'bare "Process exited" (oldest docs): an exit with no status',
    '2011-05-03T17:40:11+00:00 heroku[web.1]: Process exited',
    { type: 'process_exit', exitStatus: NaN },
    'heroku.dyno.exit',
    'INFO',
    { 'heroku.log.kind': 'platform' },
    { absent: ['process.exit.code'] },
  ),
  platformCase(
    'start with a command in backticks',
    '2023-07-17T08:44:23.999562+00:00 heroku[web.1]: Starting process with command `bin/rails server -p ${PORT:-5000} -e production`',
    { type: 'process_start', command: 'bin/rails server -p ${PORT:-5000} -e production', user: undefined },
    'heroku.dyno.start',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'web.1'), 'process.command_line': 'bin/rails server -p ${PORT:-5000} -e production' },
    { absent: ['heroku.user'] },
  ),
  platformCase(
    'start with a command without backticks (2025 capture)',
    '2025-09-16T02:55:27.289208+00:00 heroku[web.1]: Starting process with command npm start',
    { type: 'process_start', command: 'npm start' },
    'heroku.dyno.start',
    'INFO',
    { 'process.command_line': 'npm start' },
  ),
  platformCase(
    'start of a one-off dyno with command and user',
    '2024-05-16T12:14:14.933958+00:00 heroku[run.2660]: Starting process with command `rails console` by user dev@example.com',
    { type: 'process_start', command: 'rails console', user: 'dev@example.com' },
    'heroku.dyno.start',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'run.2660'), 'process.command_line': 'rails console', 'heroku.user': 'dev@example.com' },
  ),
  platformCase(
    'start of a scheduler dyno',
    '2024-05-16T12:14:14.933958+00:00 heroku[scheduler.4321]: Starting process with command `bundle exec rake cleanup`',
    { type: 'process_start', command: 'bundle exec rake cleanup' },
    'heroku.dyno.start',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'scheduler.4321'), 'process.command_line': 'bundle exec rake cleanup' },
  ),
  platformCase(
    'state change of a one-off dyno',
    '2024-05-16T12:14:14.933958+00:00 heroku[run.2660]: State changed from starting to up',
    { type: 'state_change', toState: 'up' },
    'heroku.dyno.state_change',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'run.2660'), 'heroku.dyno.state': 'up' },
  ),
  platformCase(
    'scheduler dyno exit',
    '2024-05-16T12:14:14.933958+00:00 heroku[scheduler.4321]: Process exited with status 0',
    { type: 'process_exit', exitStatus: 0 },
    'heroku.dyno.exit',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'scheduler.4321'), 'process.exit.code': 0 },
  ),
  {
    name: 'start line under app with "command:" (2010-era docs)',
    line: '2010-10-06T21:51:04-07:00 app[web.1]: Starting process with command: `bundle exec thin start -p 38180`',
    expect: {
      event: { kind: 'platform', type: 'process_start', command: 'bundle exec thin start -p 38180' },
      eventName: 'heroku.dyno.start',
      severityText: 'INFO',
      body: 'Starting process with command: `bundle exec thin start -p 38180`',
      attributes: { ...logsEnv('platform', 'app', 'web.1'), 'process.command_line': 'bundle exec thin start -p 38180' },
    },
  },
  platformCase(
    'stop all processes with SIGTERM',
    '2025-09-16T02:55:25.516004+00:00 heroku[web.1]: Stopping all processes with SIGTERM',
    { type: 'process_stop', signal: 'SIGTERM' },
    'heroku.dyno.stop',
    'INFO',
    { 'heroku.process.signal': 'SIGTERM' },
  ),
  platformCase(
    'stop process with SIGTERM (2012 wording)',
    '2012-01-10T20:56:39+00:00 heroku[web.1]: Stopping process with SIGTERM',
    { type: 'process_stop', signal: 'SIGTERM' },
    'heroku.dyno.stop',
    'INFO',
    { 'heroku.process.signal': 'SIGTERM' },
  ),
  platformCase(
    'stop remaining processes with SIGKILL',
    '2013-11-30T00:07:12.750525+00:00 heroku[web.1]: Stopping remaining processes with SIGKILL',
    { type: 'process_stop', signal: 'SIGKILL' },
    'heroku.dyno.stop',
    'WARN',
    { 'heroku.process.signal': 'SIGKILL' },
  ),
  platformCase(
    'stop process with SIGKILL after R10',
    '2011-05-03T17:32:40+00:00 heroku[web.1]: Stopping process with SIGKILL',
    { type: 'process_stop', signal: 'SIGKILL' },
    'heroku.dyno.stop',
    'WARN',
    { 'heroku.process.signal': 'SIGKILL' },
  ),
  platformCase(
    'one-off client gone: SIGHUP',
    '2011-05-03T17:40:11+00:00 heroku[run.1]: Client connection closed. Sending SIGHUP to all processes',
    { type: 'process_stop', signal: 'SIGHUP' },
    'heroku.dyno.stop',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'run.1'), 'heroku.process.signal': 'SIGHUP' },
  ),
  platformCase('Restarting', '2025-09-16T02:55:24.741657+00:00 heroku[web.1]: Restarting', { type: 'restart' }, 'heroku.dyno.restart', 'INFO', logsEnv('platform', 'heroku', 'web.1')),
  platformCase('Cycling (daily restart)', '2023-07-17T01:07:08.240966+00:00 heroku[web.1]: Cycling', { type: 'restart' }, 'heroku.dyno.restart', 'INFO', logsEnv('platform', 'heroku', 'web.1')),
  platformCase('Idling', '2021-01-07T20:45:39.447323+00:00 heroku[web.1]: Idling', { type: 'idle' }, 'heroku.dyno.idle', 'INFO', logsEnv('platform', 'heroku', 'web.1')),
  platformCase('Unidling', '2013-11-30T19:53:08.881086+00:00 heroku[web.1]: Unidling', { type: 'unidle' }, 'heroku.dyno.unidle', 'INFO', logsEnv('platform', 'heroku', 'web.1')),
  platformCase(
    'memory over quota, M unit (real logs since about 2015)',
    '2017-11-06T15:16:31.142395+00:00 heroku[web.1]: Process running mem=594M(109.6%)',
    { type: 'memory', memoryBytes: 594 * MB, memoryPercent: 109.6 },
    'heroku.dyno.memory',
    'WARN',
    { 'heroku.dyno.memory.usage': 594 * MB, 'heroku.dyno.memory.quota_percent': 109.6 },
  ),
  platformCase(
    'memory over quota, MB unit (old docs)',
    '2011-05-03T17:40:10+00:00 heroku[worker.1]: Process running mem=528MB(103.3%)',
    { type: 'memory', memoryBytes: 528 * MB, memoryPercent: 103.3 },
    'heroku.dyno.memory',
    'WARN',
    { ...logsEnv('platform', 'heroku', 'worker.1'), 'heroku.dyno.memory.usage': 528 * MB, 'heroku.dyno.memory.quota_percent': 103.3 },
  ),
  platformCase(
    'memory under quota',
    `${TS} heroku[web.1]: Process running mem=590M(95.2%)`,
    { type: 'memory', memoryBytes: 590 * MB, memoryPercent: 95.2 },
    'heroku.dyno.memory',
    'INFO',
    { 'heroku.dyno.memory.usage': 590 * MB, 'heroku.dyno.memory.quota_percent': 95.2 },
  ),
  platformCase(
    'R10 boot timeout with details',
    '2018-12-24T23:52:35.020294+00:00 heroku[web.1]: Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch',
    { type: 'error', code: 'R10', desc: 'Boot timeout', detail: 'Web process failed to bind to $PORT within 60 seconds of launch' },
    'heroku.platform.error',
    'ERROR',
    {
      ...logsEnv('platform', 'heroku', 'web.1'),
      'error.type': 'R10',
      'heroku.error.code': 'R10',
      'heroku.error.description': 'Boot timeout',
      'heroku.error.detail': 'Web process failed to bind to $PORT within 60 seconds of launch',
    },
  ),
  platformCase(
    'R12 exit timeout (2021+ wording)',
    '2021-11-27T09:41:07.510242+00:00 heroku[web.1]: Error R12 (Exit timeout) -> At least one process failed to exit within 30 seconds of SIGTERM',
    { type: 'error', code: 'R12', desc: 'Exit timeout', detail: 'At least one process failed to exit within 30 seconds of SIGTERM' },
    'heroku.platform.error',
    'ERROR',
    { 'error.type': 'R12', 'heroku.error.detail': 'At least one process failed to exit within 30 seconds of SIGTERM' },
  ),
  platformCase(
    'R13 attach error on a one-off dyno',
    '2011-06-29T02:13:59+00:00 heroku[run.3]: Error R13 (Attach error) -> Failed to attach to process',
    { type: 'error', code: 'R13', desc: 'Attach error', detail: 'Failed to attach to process' },
    'heroku.platform.error',
    'ERROR',
    { ...logsEnv('platform', 'heroku', 'run.3'), 'error.type': 'R13', 'heroku.error.detail': 'Failed to attach to process' },
  ),
  {
    name: 'R13 under app[run.3], as Dev Center shows it',
    line: '2011-06-29T02:13:59+00:00 app[run.3]: Error R13 (Attach error) -> Failed to attach to process',
    expect: {
      event: { kind: 'platform', type: 'error', code: 'R13', detail: 'Failed to attach to process' },
      eventName: 'heroku.platform.error',
      severityText: 'ERROR',
      body: 'Error R13 (Attach error) -> Failed to attach to process',
      attributes: { ...logsEnv('platform', 'app', 'run.3'), 'error.type': 'R13', 'heroku.error.description': 'Attach error' },
    },
  },
  platformCase(
    'R14 memory quota exceeded, no details',
    '2017-11-06T15:16:31.142499+00:00 heroku[web.1]: Error R14 (Memory quota exceeded)',
    { type: 'error', code: 'R14', desc: 'Memory quota exceeded', detail: undefined },
    'heroku.platform.error',
    'ERROR',
    { 'error.type': 'R14', 'heroku.error.code': 'R14', 'heroku.error.description': 'Memory quota exceeded' },
    { absent: ['heroku.error.detail'] },
  ),
  platformCase(
    'R15 memory quota vastly exceeded',
    '2011-05-03T17:40:11+00:00 heroku[worker.1]: Error R15 (Memory quota vastly exceeded)',
    { type: 'error', code: 'R15', desc: 'Memory quota vastly exceeded' },
    'heroku.platform.error',
    'ERROR',
    { 'error.type': 'R15', 'heroku.error.description': 'Memory quota vastly exceeded' },
  ),
  platformCase(
    'R16 detached',
    '2011-05-03T17:40:26+00:00 heroku[run.1]: Error R16 (Detached) -> An attached process is not responding to SIGHUP after its external connection was closed.',
    { type: 'error', code: 'R16', desc: 'Detached', detail: 'An attached process is not responding to SIGHUP after its external connection was closed.' },
    'heroku.platform.error',
    'ERROR',
    { 'error.type': 'R16', 'heroku.error.detail': 'An attached process is not responding to SIGHUP after its external connection was closed.' },
  ),
  platformCase(
    'R17 checksum error',
    `${TS} heroku[web.1]: Error R17 (Checksum error) -> Checksum does not match expected value`,
    { type: 'error', code: 'R17', desc: 'Checksum error' },
    'heroku.platform.error',
    'ERROR',
    { 'error.type': 'R17' },
  ),
  {
    name: 'L10 from Logplex, in a drain frame: drops counted',
    line: '<172>1 2015-09-15T16:22:25+00:00 host heroku logplex - Error L10 (output buffer overflow): 491 messages dropped since 2015-09-15T16:22:24+00:00.',
    expect: {
      event: { kind: 'platform', type: 'error', code: 'L10', desc: 'output buffer overflow', detail: '491 messages dropped since 2015-09-15T16:22:24+00:00.', droppedMessages: 491 },
      eventName: 'heroku.logplex.error',
      severityText: 'ERROR',
      body: 'Error L10 (output buffer overflow): 491 messages dropped since 2015-09-15T16:22:24+00:00.',
      attributes: {
        ...frameEnv('platform', 172, 'heroku', 'logplex', null),
        'error.type': 'L10',
        'heroku.error.code': 'L10',
        'heroku.error.description': 'output buffer overflow',
        'heroku.logplex.dropped_messages': 491,
      },
      metrics: [droppedMetric(491, 'L10')],
    },
  },
  {
    name: 'L10 in a syslog drain message (Dev Center)',
    line: '<172>1 2013-04-17T19:04:46+00:00 d.73ea7440-270a-435a-a0ea-adf50b4e5f5a heroku logplex - - Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.',
    expect: {
      event: { kind: 'platform', code: 'L10', droppedMessages: 500 },
      eventName: 'heroku.logplex.error',
      severityText: 'ERROR',
      body: 'Error L10 (output buffer overflow): 500 messages dropped since 2013-04-17T19:04:46+00:00.',
      attributes: { 'heroku.log.shape': 'syslog', 'heroku.logplex.dropped_messages': 500 },
      metrics: [droppedMetric(500, 'L10')],
    },
  },
  {
    name: 'L11 tail buffer overflow (old docs, no "Error" prefix): a warning, no loss metric',
    line: '2011-05-03T17:40:10+00:00 heroku[logplex]: L11 (Tail buffer overflow) -> This tail session dropped 1101 messages since 2011-05-03T17:35:00+00:00',
    expect: {
      event: { kind: 'platform', type: 'error', code: 'L11', desc: 'Tail buffer overflow', droppedMessages: 1101 },
      eventName: 'heroku.logplex.error',
      severityText: 'WARN',
      body: 'L11 (Tail buffer overflow) -> This tail session dropped 1101 messages since 2011-05-03T17:35:00+00:00',
      attributes: { 'error.type': 'L11', 'heroku.logplex.dropped_messages': 1101, 'heroku.error.detail': 'This tail session dropped 1101 messages since 2011-05-03T17:35:00+00:00' },
    },
  },
  {
    name: 'L12 from log-shuttle',
    line: '2013-11-04T21:31:32.125756+00:00 app[log-shuttle]: Error L12: 222 messages dropped since 2013-11-04T21:31:32.125756+00:00.',
    expect: {
      event: { kind: 'platform', type: 'error', code: 'L12', desc: undefined, droppedMessages: 222 },
      eventName: 'heroku.logplex.error',
      severityText: 'ERROR',
      body: 'Error L12: 222 messages dropped since 2013-11-04T21:31:32.125756+00:00.',
      attributes: { ...logsEnv('platform', 'app', 'log-shuttle', null), 'error.type': 'L12', 'heroku.error.description': 'Local buffer overflow', 'heroku.logplex.dropped_messages': 222 },
      metrics: [droppedMetric(222, 'L12')],
    },
  },
  {
    name: 'L13 from log-shuttle ("lost")',
    line: '2013-11-04T21:31:32.125756+00:00 app[log-shuttle]: Error L13: 111 messages lost since 2013-11-04T21:31:32.125756+00:00.',
    expect: {
      event: { kind: 'platform', type: 'error', code: 'L13', droppedMessages: 111 },
      eventName: 'heroku.logplex.error',
      severityText: 'ERROR',
      body: 'Error L13: 111 messages lost since 2013-11-04T21:31:32.125756+00:00.',
      attributes: { 'error.type': 'L13', 'heroku.error.description': 'Local delivery error', 'heroku.logplex.dropped_messages': 111 },
      metrics: [droppedMetric(111, 'L13')],
    },
  },
  platformCase(
    'a platform line we do not know: kept as a platform event',
    '2014-09-02T08:24:45+00:00 heroku[slug-compiler]: Slug compilation started',
    { type: 'other' },
    'heroku.platform.event',
    'INFO',
    { ...logsEnv('platform', 'heroku', 'slug-compiler', null) },
  ),
  {
    name: 'state change in a Logplex frame (Dev Center sample)',
    line: '<40>1 2012-11-30T06:45:29+00:00 host heroku web.3 - State changed from starting to up',
    expect: {
      event: { kind: 'platform', type: 'state_change', fromState: 'starting', toState: 'up' },
      eventName: 'heroku.dyno.state_change',
      severityText: 'INFO',
      body: 'State changed from starting to up',
      attributes: { ...frameEnv('platform', 40, 'heroku', 'web.3'), 'heroku.dyno.state': 'up' },
    },
  },
];

// ---------------------------------------------------------------------------------------------
// API events

function apiCase(
  name: string,
  line: string,
  event: Record<string, unknown>,
  eventName: string,
  attributes: Attrs,
  more: Partial<HerokuLineCase['expect']> = {},
): HerokuLineCase {
  const text = line.slice(line.indexOf(']: ') + 3);
  return { name, line, expect: { event: { kind: 'api', ...event }, eventName, severityText: 'INFO', body: text, attributes, ...more } };
}

const U = 'glacier-melt@hotmail.co.jp';
const apiEnv = logsEnv('api', 'app', 'api', null);

const apiCases: HerokuLineCase[] = [
  apiCase(
    'release created by user',
    `2023-07-17T08:40:37.509318+00:00 app[api]: Release v2 created by user ${U}`,
    { type: 'release', action: 'create', user: U, release: 'v2' },
    'heroku.api.release',
    { ...apiEnv, 'heroku.api.action': 'create', 'heroku.user': U, 'heroku.release.version': 'v2' },
  ),
  apiCase(
    'initial release',
    '2018-10-27T04:52:26.625398+00:00 app[api]: Initial release by user chrismejia10@gmail.com',
    { type: 'release', action: 'create', user: 'chrismejia10@gmail.com', release: undefined },
    'heroku.api.release',
    { 'heroku.user': 'chrismejia10@gmail.com' },
  ),
  apiCase(
    'deploy with a commit',
    `2023-07-17T08:44:19.888969+00:00 app[api]: Deploy 0b0e75c1 by user ${U}`,
    { type: 'deploy', action: 'deploy', commit: '0b0e75c1', user: U },
    'heroku.api.deploy',
    { ...apiEnv, 'heroku.release.commit': '0b0e75c1', 'heroku.user': U, 'heroku.api.action': 'deploy' },
  ),
  apiCase(
    'rollback',
    '2023-03-12T06:38:54.754091+00:00 app[api]: Rollback to v7 by user <myemail>',
    { type: 'rollback', release: 'v7', user: '<myemail>' },
    'heroku.api.rollback',
    { 'heroku.release.version': 'v7', 'heroku.user': '<myemail>' },
  ),
  apiCase(
    'set several config vars',
    `2023-07-17T08:44:18.674687+00:00 app[api]: Set LANG, RACK_ENV, RAILS_ENV, RAILS_LOG_TO_STDOUT, RAILS_SERVE_STATIC_FILES, SECRET_KEY_BASE config vars by user ${U}`,
    { type: 'config_change', action: 'set', configVars: ['LANG', 'RACK_ENV', 'RAILS_ENV', 'RAILS_LOG_TO_STDOUT', 'RAILS_SERVE_STATIC_FILES', 'SECRET_KEY_BASE'], user: U },
    'heroku.api.config_change',
    { 'heroku.api.action': 'set', 'heroku.config.vars': ['LANG', 'RACK_ENV', 'RAILS_ENV', 'RAILS_LOG_TO_STDOUT', 'RAILS_SERVE_STATIC_FILES', 'SECRET_KEY_BASE'], 'heroku.user': U },
  ),
  apiCase(
    'set one config var',
    '2025-09-16T02:55:24.470866+00:00 app[api]: Set CRON_ENABLED config vars by user kofiarhin69@gmail.com',
    { type: 'config_change', action: 'set', configVars: ['CRON_ENABLED'] },
    'heroku.api.config_change',
    { 'heroku.config.vars': ['CRON_ENABLED'], 'heroku.user': 'kofiarhin69@gmail.com' },
  ),
  apiCase(
    'remove config vars',
    '2025-09-16T02:55:24.470866+00:00 app[api]: Remove CRON_ENABLED, OLD_KEY config vars by user kofiarhin69@gmail.com',
    { type: 'config_change', action: 'remove', configVars: ['CRON_ENABLED', 'OLD_KEY'] },
    'heroku.api.config_change',
    { 'heroku.api.action': 'remove', 'heroku.config.vars': ['CRON_ENABLED', 'OLD_KEY'] },
  ),
  apiCase(
    'scaled to several process types',
    `2023-07-17T08:44:19.903361+00:00 app[api]: Scaled to console@0:Basic rake@0:Basic web@1:Basic by user ${U}`,
    { type: 'scale', formation: ['console@0:Basic', 'rake@0:Basic', 'web@1:Basic'], user: U },
    'heroku.api.scale',
    { 'heroku.api.action': 'scale', 'heroku.formation': ['console@0:Basic', 'rake@0:Basic', 'web@1:Basic'], 'heroku.user': U },
  ),
  apiCase(
    'legacy heroku[api] scale wording, no "user"',
    '2014-12-07T13:52:25.191250+00:00 heroku[api]: Scale to web=1 by miketheman@gmail.com',
    { type: 'scale', formation: ['web=1'], user: 'miketheman@gmail.com' },
    'heroku.api.scale',
    { ...logsEnv('api', 'heroku', 'api', null), 'heroku.formation': ['web=1'], 'heroku.user': 'miketheman@gmail.com' },
  ),
  apiCase(
    'legacy heroku[api] release, no "user"',
    '2014-12-07T13:52:03.676664+00:00 heroku[api]: Release v2 created by miketheman@gmail.com',
    { type: 'release', release: 'v2', user: 'miketheman@gmail.com' },
    'heroku.api.release',
    { 'heroku.release.version': 'v2', 'heroku.user': 'miketheman@gmail.com' },
  ),
  apiCase(
    'legacy heroku[api] deploy and config set',
    '2014-12-07T13:52:24.780943+00:00 heroku[api]: Set LANG, RACK_ENV config vars by miketheman@gmail.com',
    { type: 'config_change', configVars: ['LANG', 'RACK_ENV'], user: 'miketheman@gmail.com' },
    'heroku.api.config_change',
    { 'heroku.config.vars': ['LANG', 'RACK_ENV'] },
  ),
  apiCase(
    'attach an add-on by @ref',
    `2023-07-17T08:44:19.512238+00:00 app[api]: Attach DATABASE (@ref:postgresql-flexible-35202) by user ${U}`,
    { type: 'addon_change', action: 'attach', addon: 'postgresql-flexible-35202', user: U },
    'heroku.api.addon_change',
    { 'heroku.api.action': 'attach', 'heroku.addon.name': 'postgresql-flexible-35202', 'heroku.user': U },
  ),
  apiCase(
    'detach an add-on without a user',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Detach LOGDNA (@ref:logdna-deep-31633)',
    { type: 'addon_change', action: 'detach', addon: 'logdna-deep-31633', user: undefined },
    'heroku.api.addon_change',
    { 'heroku.api.action': 'detach', 'heroku.addon.name': 'logdna-deep-31633' },
    { absent: ['heroku.user'] },
  ),
  apiCase(
    'update an add-on',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Update LOGDNA by user dev@example.com',
    { type: 'addon_change', action: 'update', addon: 'LOGDNA', user: 'dev@example.com' },
    'heroku.api.addon_change',
    { 'heroku.api.action': 'update', 'heroku.addon.name': 'LOGDNA' },
  ),
  apiCase(
    'legacy attach of a resource',
    '2014-09-02T08:26:17.009057+00:00 heroku[api]: Attach HEROKU_POSTGRESQL_MAUVE resource by c.pilka@asconix.com',
    { type: 'addon_change', action: 'attach', addon: 'HEROKU_POSTGRESQL_MAUVE', user: 'c.pilka@asconix.com' },
    'heroku.api.addon_change',
    { 'heroku.addon.name': 'HEROKU_POSTGRESQL_MAUVE' },
  ),
  apiCase(
    '@ref provisioning completed (note the period before "by user")',
    `2023-07-17T08:44:19.523741+00:00 app[api]: @ref:postgresql-flexible-35202 completed provisioning, setting DATABASE_URL. by user ${U}`,
    { type: 'addon_change', action: 'provision', addon: 'postgresql-flexible-35202', user: U, configVars: ['DATABASE_URL'] },
    'heroku.api.addon_change',
    { 'heroku.api.action': 'provision', 'heroku.addon.name': 'postgresql-flexible-35202', 'heroku.user': U, 'heroku.config.vars': ['DATABASE_URL'] },
  ),
  apiCase(
    'provisioning completed without @ref, several config vars set',
    `2024-05-01T12:00:00.000000+00:00 app[api]: redis-closed-12345 completed provisioning, setting REDIS_URL, REDIS_TLS_URL and REDIS_SENTINEL_URL. by user ${U}`,
    { type: 'addon_change', action: 'provision', addon: 'redis-closed-12345', user: U, configVars: ['REDIS_URL', 'REDIS_TLS_URL', 'REDIS_SENTINEL_URL'] },
    'heroku.api.addon_change',
    { 'heroku.api.action': 'provision', 'heroku.addon.name': 'redis-closed-12345', 'heroku.user': U, 'heroku.config.vars': ['REDIS_URL', 'REDIS_TLS_URL', 'REDIS_SENTINEL_URL'] },
  ),
  apiCase(
    'build started',
    `2023-07-17T08:41:40.000000+00:00 app[api]: Build started by user ${U}`,
    { type: 'build', action: 'started', user: U },
    'heroku.api.build',
    { 'heroku.api.action': 'started', 'heroku.user': U },
  ),
  apiCase('build succeeded', '2021-04-12T19:52:51.000000+00:00 app[api]: Build succeeded', { type: 'build', action: 'succeeded', user: undefined }, 'heroku.api.build', {
    'heroku.api.action': 'succeeded',
  }),
  apiCase(
    'build failed is a warning',
    '2023-07-17T08:41:43.000000+00:00 app[api]: Build failed -- check your build output: https://dashboard.heroku.com/apps/270149df-d54b-4785-9650-854a1da72e93/activity/builds/aac64e95-28c4-4ceb-b9cb-4af2a378bd26',
    { type: 'build', action: 'failed' },
    'heroku.api.build',
    { 'heroku.api.action': 'failed' },
    { severityText: 'WARN' },
  ),
  apiCase(
    'enable Logplex',
    `2023-07-17T08:40:37.509318+00:00 app[api]: Enable Logplex by user ${U}`,
    { type: 'other', action: 'enable', user: U },
    'heroku.api.event',
    { 'heroku.api.action': 'enable', 'heroku.user': U },
  ),
  apiCase(
    'stack changed',
    `2023-07-17T08:41:20.275332+00:00 app[api]: Stack changed from heroku-22 to heroku-20 by user ${U}`,
    { type: 'other', action: 'stack', user: U },
    'heroku.api.event',
    { 'heroku.user': U },
  ),
  apiCase(
    'release phase commands name the release',
    `2023-07-17T08:44:19.512238+00:00 app[api]: Running release v5 commands by user ${U}`,
    { type: 'other', action: 'running', release: 'v5', user: U },
    'heroku.api.event',
    { 'heroku.release.version': 'v5', 'heroku.user': U },
  ),
  apiCase(
    'maintenance mode on',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Enable maintenance mode by user dev@example.com',
    { type: 'maintenance', action: 'enable', user: 'dev@example.com' },
    'heroku.api.maintenance',
    { 'heroku.api.action': 'enable' },
  ),
  apiCase(
    'one-off command with its user: command and user apart',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Starting process with command `rails console` by user dev@example.com',
    { type: 'command', action: 'run', command: 'rails console', user: 'dev@example.com' },
    'heroku.api.command',
    { ...apiEnv, 'process.command_line': 'rails console', 'heroku.user': 'dev@example.com', 'heroku.api.action': 'run' },
  ),
  apiCase(
    'scheduled command run by the scheduler add-on',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Starting process with command `bundle exec rake db:cleanup` by user scheduler@addons.heroku.com',
    { type: 'command', command: 'bundle exec rake db:cleanup', user: 'scheduler@addons.heroku.com' },
    'heroku.api.command',
    { 'process.command_line': 'bundle exec rake db:cleanup', 'heroku.user': 'scheduler@addons.heroku.com' },
  ),
  apiCase(
    'command that itself says "by user"',
    '2024-05-01T12:00:00.000000+00:00 app[api]: Starting process with command `echo "done by user x"` by user dev@example.com',
    { type: 'command', command: 'echo "done by user x"', user: 'dev@example.com' },
    'heroku.api.command',
    { 'process.command_line': 'echo "done by user x"', 'heroku.user': 'dev@example.com' },
  ),
];

// ---------------------------------------------------------------------------------------------
// App output

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

function appCase(
  name: string,
  text: string,
  event: Record<string, unknown>,
  severityText: string,
  body: string,
  attributes: Attrs,
  more: Partial<HerokuLineCase['expect']> = {},
  proc = 'web.1',
): HerokuLineCase {
  return {
    name,
    line: `${TS} app[${proc}]: ${text}`,
    expect: { event: { kind: 'app', ...event }, eventName: 'heroku.app.log', severityText, body, attributes: { ...logsEnv('app', 'app', proc), ...attributes }, ...more },
  };
}

const appCases: HerokuLineCase[] = [
  appCase('plain text without a level', 'Listening on port 3000', { format: 'plain', level: undefined, message: 'Listening on port 3000' }, 'INFO', 'Listening on port 3000', {
    'heroku.log.format': 'plain',
  }),
  appCase('plain text with a leading level word', 'ERROR something broke', { format: 'plain', level: 'error' }, 'ERROR', 'ERROR something broke', {}),
  appCase('plain text with a bracketed level', '[warn] disk 91% full', { format: 'plain', level: 'warn' }, 'WARN', '[warn] disk 91% full', {}),
  appCase('plain text with a level word later on only', 'request finished without ERROR', { format: 'plain', level: undefined }, 'INFO', 'request finished without ERROR', {}),
  appCase(
    "Ruby Logger line: 'E, [...] ERROR -- :'",
    'E, [2024-05-01T12:00:00.123456 #4] ERROR -- : boom',
    { format: 'plain', level: 'error', message: 'E, [2024-05-01T12:00:00.123456 #4] ERROR -- : boom' },
    'ERROR',
    'E, [2024-05-01T12:00:00.123456 #4] ERROR -- : boom',
    {},
  ),
  appCase(
    "Ruby Logger info line: 'I, [...]  INFO -- :'",
    'I, [2024-05-01T12:00:00.123456 #4]  INFO -- : Completed 200 OK in 5ms',
    { format: 'plain', level: 'info' },
    'INFO',
    'I, [2024-05-01T12:00:00.123456 #4]  INFO -- : Completed 200 OK in 5ms',
    {},
  ),
  appCase("Python logging 'ERROR:root:'", 'ERROR:root:failed to connect', { format: 'plain', level: 'error' }, 'ERROR', 'ERROR:root:failed to connect', {}, {}, 'worker.1'),
  appCase("Python logging 'WARNING:celery:'", 'WARNING:celery.worker:retrying', { format: 'plain', level: 'warn' }, 'WARN', 'WARNING:celery.worker:retrying', {}, {}, 'worker.1'),
  appCase(
    'logfmt with at= and a quoted msg',
    'at=warn msg="cache miss ratio high" ratio=0.4 path="/a b"',
    { format: 'logfmt', level: 'warn', message: 'cache miss ratio high', fields: { ratio: '0.4', path: '/a b' } },
    'WARN',
    'cache miss ratio high',
    { 'heroku.log.format': 'logfmt', ratio: '0.4', path: '/a b' },
  ),
  appCase(
    'logfmt with level, err and trace context',
    `level=error msg="db down" err="connection refused" trace_id=${TRACE} span_id=${SPAN}`,
    { format: 'logfmt', level: 'error', message: 'db down', error: 'connection refused', traceId: TRACE, spanId: SPAN },
    'ERROR',
    'db down',
    { 'exception.message': 'connection refused' },
    { trace: { traceId: TRACE, spanId: SPAN, traceFlags: 0 }, absent: ['trace_id', 'span_id'] },
  ),
  appCase(
    'logfmt with empty values, escaped quotes and an unterminated quote',
    'at=info msg="said \\"hi\\"" empty= note="runs to the end',
    { format: 'logfmt', level: 'info', message: 'said "hi"', fields: { empty: '', note: 'runs to the end' } },
    'INFO',
    'said "hi"',
    { empty: '', note: 'runs to the end' },
  ),
  appCase(
    'JSON with level, message, string error and trace ids',
    `{"level":"error","message":"payment failed","error":"card declined","trace_id":"${TRACE}","span_id":"${SPAN}","user_id":42,"ok":false}`,
    { format: 'json', level: 'error', message: 'payment failed', error: 'card declined', traceId: TRACE, spanId: SPAN, fields: { user_id: 42, ok: false } },
    'ERROR',
    'payment failed',
    { 'heroku.log.format': 'json', 'exception.message': 'card declined', user_id: 42, ok: false },
    { trace: { traceId: TRACE, spanId: SPAN, traceFlags: 0 }, absent: ['trace_id', 'span_id', 'level', 'message', 'error'] },
  ),
  appCase(
    'JSON from pino: numeric level, msg, error object with stack',
    '{"level":50,"time":1714564800123,"pid":4,"hostname":"web-1","msg":"request failed","err":{"type":"Error","message":"boom","stack":"Error: boom\\n    at f (/app/x.js:1:1)"}}',
    { format: 'json', level: 'error', message: 'request failed', error: 'boom', errorType: 'Error', errorStack: 'Error: boom\n    at f (/app/x.js:1:1)', fields: { time: 1714564800123, pid: 4, hostname: 'web-1' } },
    'ERROR',
    'request failed',
    { 'exception.message': 'boom', 'exception.type': 'Error', 'exception.stacktrace': 'Error: boom\n    at f (/app/x.js:1:1)', pid: 4, hostname: 'web-1' },
  ),
  appCase('JSON from pino at info (30)', '{"level":30,"msg":"ok"}', { format: 'json', level: 'info', message: 'ok' }, 'INFO', 'ok', {}),
  appCase('JSON from pino at warn (40)', '{"level":40,"msg":"slow"}', { format: 'json', level: 'warn' }, 'WARN', 'slow', {}),
  appCase(
    'JSON with severity (GCP style), traceparent and a nested object',
    `{"severity":"WARNING","message":"slow","traceparent":"00-${TRACE}-${SPAN}-01","nested":{"a":1}}`,
    { format: 'json', level: 'warn', traceId: TRACE, spanId: SPAN, traceFlags: 1, fields: { nested: '{"a":1}' } },
    'WARN',
    'slow',
    { nested: '{"a":1}' },
    { trace: { traceId: TRACE, spanId: SPAN, traceFlags: 1 }, absent: ['traceparent'] },
  ),
  appCase(
    'JSON error object with name and message but no stack',
    '{"message":"x","level":"WARN","error":{"message":"bad","name":"TypeError"}}',
    { format: 'json', level: 'warn', error: 'bad', errorType: 'TypeError' },
    'WARN',
    'x',
    { 'exception.message': 'bad', 'exception.type': 'TypeError' },
  ),
  appCase(
    'JSON with an all-zero trace id: no trace context',
    `{"msg":"a","trace_id":"00000000000000000000000000000000","span_id":"${SPAN}"}`,
    { format: 'json', traceId: undefined, spanId: undefined },
    'INFO',
    'a',
    {},
  ),
  appCase('text that only starts like JSON', '{not json', { format: 'plain', message: '{not json' }, 'INFO', '{not json', { 'heroku.log.format': 'plain' }),
  appCase(
    'l2met count, measure, sample and unique with units',
    'count#orders.created=1 measure#db.query=12.5ms sample#queue.depth=3 unique#user=u42 source=web.1',
    {
      format: 'l2met',
      source: 'web.1',
      measurements: [
        { type: 'count', name: 'orders.created', value: 1, unit: '' },
        { type: 'measure', name: 'db.query', value: 12.5, unit: 'ms' },
        { type: 'sample', name: 'queue.depth', value: 3, unit: '' },
        { type: 'unique', name: 'user', raw: 'u42' },
      ],
    },
    'INFO',
    'count#orders.created=1 measure#db.query=12.5ms sample#queue.depth=3 unique#user=u42 source=web.1',
    { 'heroku.log.format': 'l2met', 'heroku.source': 'web.1', 'heroku.l2met.unique.user': 'u42' },
    {
      metrics: [
        { name: 'orders.created', unit: '1', type: 'sum', value: 1, attributes: { 'heroku.dyno.name': 'web.1', 'heroku.source': 'web.1' } },
        { name: 'db.query', unit: 's', type: 'histogram', value: 0.0125, attributes: { 'heroku.dyno.type': 'web', 'heroku.source': 'web.1' } },
        { name: 'queue.depth', unit: '1', type: 'gauge', value: 3, attributes: { 'heroku.dyno.name': 'web.1', 'heroku.source': 'web.1' } },
      ],
    },
  ),
  appCase(
    'l2met measures in s and kB, and a bare count#',
    'measure#render=0.25s measure#payload=2kB count#hits',
    {
      format: 'l2met',
      measurements: [
        { type: 'measure', name: 'render', value: 0.25, unit: 's' },
        { type: 'measure', name: 'payload', value: 2, unit: 'kB' },
        { type: 'count', name: 'hits', value: 1, unit: '' },
      ],
    },
    'INFO',
    'measure#render=0.25s measure#payload=2kB count#hits',
    { 'heroku.log.format': 'l2met' },
    {
      metrics: [
        { name: 'render', unit: 's', type: 'histogram', value: 0.25, attributes: { 'heroku.dyno.type': 'web' } },
        { name: 'payload', unit: 'By', type: 'histogram', value: 2048, attributes: { 'heroku.dyno.type': 'web' } },
        { name: 'hits', unit: '1', type: 'sum', value: 1, attributes: { 'heroku.dyno.name': 'web.1' } },
      ],
    },
  ),
  appCase(
    "Node's uncaught exception: 'Error:' in title case",
    'Error: connect ECONNREFUSED 127.0.0.1:5432',
    { format: 'plain', level: 'error' },
    'ERROR',
    'Error: connect ECONNREFUSED 127.0.0.1:5432',
    {},
  ),
  appCase('title-case word that is not a level', 'Note: cache warmed', { format: 'plain', level: undefined }, 'INFO', 'Note: cache warmed', {}),
  appCase('unicode text', 'héllo wörld 日本語 🎉', { format: 'plain', message: 'héllo wörld 日本語 🎉' }, 'INFO', 'héllo wörld 日本語 🎉', {}),
  appCase('an empty line', '', { format: 'plain', message: '' }, 'INFO', '', {}),
  {
    name: 'app text with a CRLF ending',
    line: `${TS} app[web.1]: windows line\r\n`,
    expect: {
      event: { kind: 'app', format: 'plain', message: 'windows line' },
      eventName: 'heroku.app.log',
      severityText: 'INFO',
      body: 'windows line',
      attributes: logsEnv('app', 'app', 'web.1'),
    },
  },
  appCase(
    'one-off dyno output',
    'Running `rails console` attached to terminal... up, run.2660',
    { format: 'plain' },
    'INFO',
    'Running `rails console` attached to terminal... up, run.2660',
    {},
    {},
    'run.2660',
  ),
  appCase('scheduler dyno output', 'Cleaning up 3 stale records', { format: 'plain' }, 'INFO', 'Cleaning up 3 stale records', {}, {}, 'scheduler.1234'),
  appCase(
    'scheduler dyno output as JSON',
    '{"level":"warn","msg":"job slow","job":"cleanup"}',
    { format: 'json', level: 'warn', message: 'job slow' },
    'WARN',
    'job slow',
    { job: 'cleanup' },
    {},
    'scheduler.1234',
  ),
  appCase(
    'app output that merely mentions an R-code stays app output',
    'Error R14 happened yesterday, investigating',
    { format: 'plain', level: undefined },
    'INFO',
    'Error R14 happened yesterday, investigating',
    { 'heroku.log.kind': 'app' },
  ),
  {
    name: 'app text in a Logplex frame: severity from the PRI',
    line: `<187>1 ${TS} host app web.1 - stderr text`,
    expect: {
      event: { kind: 'app', format: 'plain', level: undefined },
      eventName: 'heroku.app.log',
      severityText: 'ERROR',
      body: 'stderr text',
      attributes: frameEnv('app', 187, 'app', 'web.1'),
    },
  },
  {
    name: 'a line with no header at all is kept raw',
    line: 'just some text',
    expect: {
      event: { kind: 'app', format: 'plain', message: 'just some text' },
      eventName: 'heroku.app.log',
      severityText: '',
      body: 'just some text',
      attributes: { 'heroku.log.kind': 'app', 'heroku.log.shape': 'raw', 'heroku.log.parse_error': 'no syslog or heroku logs header' },
      absent: ['heroku.log.format', 'heroku.dyno.name'],
    },
  },
];

export const herokuLineCases: readonly HerokuLineCase[] = [...routerCases, ...runtimeCases, ...addonCases, ...platformCases, ...apiCases, ...appCases];
