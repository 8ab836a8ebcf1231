/**
 * Router lines as SERVER spans (src/translate/spans.ts): ids from request_id or a logged
 * traceparent, times from the line's timestamp and its connect + service times, the HTTP
 * semantic conventions' name, status and attributes, and the router record's trace context.
 */
import { describe, expect, it } from 'vitest';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { appendRouterSpan } from '../../src/translate/spans.ts';
import { newTelemetryBatch, SPAN_KIND_SERVER, SPAN_STATUS_ERROR, SPAN_STATUS_UNSET, type SpanData, type TelemetryBatch } from '../../src/translate/telemetry.ts';
import { traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';
import { interpretLine } from '../../src/heroku/classify.ts';
import type { RouterEvent } from '../../src/heroku/events.ts';

const OBSERVED = 1_800_000_000_000_000;
const TS = '2024-05-01T12:00:00.123456+00:00';
/** TS in microseconds since the epoch, computed apart from the parser. */
const TS_MICROS = Date.parse('2024-05-01T12:00:00Z') * 1000 + 123_456;
const RID = 'f2b8e1d4-6c3a-4b7e-9a21-3d5c7e9f1a2b';

function router(fields: string, ts = TS): string {
  return `${ts} heroku[router]: ${fields}`;
}

const OK = `at=info method=GET path="/orders/48213?page=2" host=shop.example.com request_id=${RID} fwd="203.0.113.9,10.0.0.1" dyno=web.2 connect=1ms service=41ms status=200 bytes=1834 protocol=https`;

function translate(text: string, withSpans = true): TelemetryBatch {
  const batch = newTelemetryBatch(withSpans);
  translateLineSafely(parseAnyLine(text), OBSERVED, batch);
  return batch;
}

function onlySpan(text: string): { span: SpanData; batch: TelemetryBatch } {
  const batch = translate(text);
  expect(batch.spans).toHaveLength(1);
  return { span: batch.spans![0]!, batch };
}

describe('a router line as a span', () => {
  it('takes its ids from request_id, and the router record carries the same', () => {
    const { span, batch } = onlySpan(router(OK));
    const ids = traceIdsOfRequest(RID);
    expect(span).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId, parentSpanId: undefined, traceState: '', traceFlags: 1, kind: SPAN_KIND_SERVER });
    const record = batch.logs[0]!;
    expect({ traceId: record.traceId, spanId: record.spanId, traceFlags: record.traceFlags }).toEqual({ traceId: ids.traceId, spanId: ids.spanId, traceFlags: 1 });
  });

  it('ends at the line time and starts connect + service before it', () => {
    const { span } = onlySpan(router(OK));
    expect(span.endUnixMicros).toBe(TS_MICROS);
    expect(span.startUnixMicros).toBe(TS_MICROS - 42_000);
  });

  it.each([
    ['longer than a day', 'connect=1ms service=90000000ms'],
    ['longer than the time since the epoch', 'connect=1ms service=999999999999999ms'],
    ['negative', 'connect=-5ms service=-100ms'],
  ])('is a point in time when its duration is no request\'s (%s), never starting at 0', (_what, times) => {
    const { span } = onlySpan(router(OK.replace('connect=1ms service=41ms', times)));
    expect(span.endUnixMicros).toBe(TS_MICROS);
    expect(span.startUnixMicros).toBe(TS_MICROS);
  });

  it('starts when it ends when the line has no times (an H10: no dyno answered)', () => {
    const { span } = onlySpan(router(`at=error code=H10 desc="App crashed" method=GET path="/" host=shop.example.com request_id=${RID} fwd="203.0.113.9" dyno= connect= service= status=503 bytes= protocol=https`));
    expect(span.startUnixMicros).toBe(span.endUnixMicros);
    expect(span.endUnixMicros).toBe(TS_MICROS);
    expect(span.statusCode).toBe(SPAN_STATUS_ERROR);
    expect(span.statusMessage).toBe('H10 App crashed');
    expect(span.attributes).not.toHaveProperty(['heroku.dyno.name']);
  });

  it('is named by its method, HTTP for a method outside the standard ones', () => {
    expect(onlySpan(router(OK)).span.name).toBe('GET');
    expect(onlySpan(router(OK.replace('method=GET', 'method=PROPFIND'))).span.name).toBe('HTTP');
    // A line with a status and no method is still a request.
    expect(onlySpan(router(OK.replace('method=GET ', ''))).span.name).toBe('HTTP');
  });

  it('is named {method} {url.template} when the record has a template, never by the raw path', () => {
    const line = parseAnyLine(router(OK));
    const ev = interpretLine(line) as RouterEvent;
    const batch = newTelemetryBatch(true);
    const record = { timeUnixMicros: TS_MICROS, observedUnixMicros: OBSERVED, severityNumber: 9, severityText: 'INFO', body: '', eventName: 'heroku.router.request', attributes: { 'http.request.method': 'GET', 'url.template': '/orders/{id}', 'url.path': '/orders/48213' }, traceId: undefined, spanId: undefined, traceFlags: 0 };
    appendRouterSpan(line, ev, record, OBSERVED, batch);
    expect(batch.spans![0]!.name).toBe('GET /orders/{id}');
    expect(batch.spans![0]!.attributes['url.template']).toBe('/orders/{id}');
    record.attributes['http.request.method'] = '_OTHER';
    appendRouterSpan(line, ev, record, OBSERVED, batch);
    expect(batch.spans![1]!.name).toBe('HTTP /orders/{id}');
  });

  it.each([
    [200, undefined, SPAN_STATUS_UNSET, ''],
    [404, undefined, SPAN_STATUS_UNSET, ''],
    [499, undefined, SPAN_STATUS_UNSET, ''],
    [500, undefined, SPAN_STATUS_ERROR, ''],
    [503, 'H12', SPAN_STATUS_ERROR, 'H12 Request timeout'],
    [200, 'H18', SPAN_STATUS_ERROR, 'H18 Server request interrupted'],
  ])('status %s with code %s: status code %s, message %j (4xx is no server error)', (status, code, statusCode, message) => {
    const fields = OK.replace('status=200', `status=${status}`).replace('at=info', code === undefined ? 'at=info' : `at=error code=${code}`);
    const { span } = onlySpan(router(fields));
    expect({ statusCode: span.statusCode, statusMessage: span.statusMessage }).toEqual({ statusCode, statusMessage: message });
  });

  it("carries the HTTP server attributes, the router's and the dyno, in an object of its own", () => {
    const { span, batch } = onlySpan(router(OK));
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'http.response.body.size': 1834,
      'url.scheme': 'https',
      'url.path': '/orders/48213',
      'url.query': 'page=2',
      'server.address': 'shop.example.com',
      'client.address': '203.0.113.9',
      'heroku.dyno.name': 'web.2',
      'heroku.router.fwd': ['203.0.113.9', '10.0.0.1'],
      'heroku.router.request_id': RID,
      'heroku.router.connect.duration': 0.001,
      'heroku.router.service.duration': 0.041,
      'heroku.router.protocol': 'https',
    });
    // A processor changing the span's attributes does not change the record's.
    const record = batch.logs[0]!;
    span.attributes['url.query'] = 'x';
    (span.attributes['heroku.router.fwd'] as string[]).push('x');
    expect(record.attributes['url.query']).toBe('page=2');
    expect(record.attributes['heroku.router.fwd']).toEqual(['203.0.113.9', '10.0.0.1']);
  });

  it('reads a Router 2.0 line: HTTP version from protocol=, TLS', () => {
    const { span } = onlySpan(
      '2025-09-16T02:42:41.772115+00:00 heroku[router]: at=info method=GET path="/" host=daily-mailer-39029f0bfc36.herokuapp.com request_id=2e97c191-3b3f-2d41-7cf1-d30e9a7b34c5 fwd="31.125.50.224" dyno=web.1 connect=0ms service=793ms status=304 bytes=0 protocol=http1.1 tls=true tls_version=unknown',
    );
    expect(span.name).toBe('GET');
    expect(span.traceId).toBe(traceIdsOfRequest('2e97c191-3b3f-2d41-7cf1-d30e9a7b34c5').traceId);
    expect(span.endUnixMicros - span.startUnixMicros).toBe(793_000);
    expect(span.attributes).toMatchObject({ 'network.protocol.name': 'http', 'network.protocol.version': '1.1', 'url.scheme': 'https', 'heroku.router.tls': 'true', 'heroku.dyno.name': 'web.1' });
    expect(span.statusCode).toBe(SPAN_STATUS_UNSET);
  });
});

describe('a logged traceparent', () => {
  const PARENT = '4bf92f3577b34da6a3ce929d0e0e4736';
  const CALLER = '00f067aa0ba902b7';

  it('gives the trace id, the parent span and the flags; the span id stays the request id\'s', () => {
    const { span, batch } = onlySpan(router(`${OK} traceparent=00-${PARENT}-${CALLER}-00 tracestate=vendor=x`));
    expect(span).toMatchObject({ traceId: PARENT, parentSpanId: CALLER, spanId: traceIdsOfRequest(RID).spanId, traceFlags: 0, traceState: 'vendor=x' });
    const record = batch.logs[0]!;
    expect({ traceId: record.traceId, spanId: record.spanId, traceFlags: record.traceFlags }).toEqual({ traceId: PARENT, spanId: span.spanId, traceFlags: 0 });
  });

  it.each([
    ['a member without =', 'vendor=x,junk'],
    ['a value with a comma-free control character', 'vendor=a\u0001b'],
    ['an upper-case key', 'Vendor=x'],
    ['more than 512 characters', `v=${'x'.repeat(600)}`],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('drops a tracestate that breaks W3C grammar (%s), keeping the parent', (_what, state) => {
    const { span } = onlySpan(router(`${OK} traceparent=00-${PARENT}-${CALLER}-01 tracestate="${state}"`));
    expect(span).toMatchObject({ traceId: PARENT, parentSpanId: CALLER, traceState: '' });
  });

  it('is left aside when it is no valid traceparent', () => {
    const { span } = onlySpan(router(`${OK} traceparent=00-${'0'.repeat(32)}-${CALLER}-01`));
    expect(span).toMatchObject({ traceId: traceIdsOfRequest(RID).traceId, parentSpanId: undefined, traceFlags: 1 });
  });

  it('without a request id, gives the trace; the span id comes from the line', () => {
    const text = router(`${OK.replace(`request_id=${RID} `, '')} traceparent=00-${PARENT}-${CALLER}-01`);
    const { span } = onlySpan(text);
    expect(span).toMatchObject({ traceId: PARENT, parentSpanId: CALLER, spanId: traceIdsOfRequest(text).spanId, traceFlags: 1 });
  });
});

describe('a router line without a request id', () => {
  const fields = OK.replace(`request_id=${RID} `, '');

  it('takes its ids from the whole line: the same line read again (a Logplex retry) gives the same ids', () => {
    const text = router(fields);
    const a = onlySpan(text).span;
    const b = onlySpan(text).span;
    expect(a.traceId).toBe(traceIdsOfRequest(text).traceId);
    expect(a.spanId).toBe(traceIdsOfRequest(text).spanId);
    expect({ traceId: b.traceId, spanId: b.spanId }).toEqual({ traceId: a.traceId, spanId: a.spanId });
  });

  it('gives other ids for the same request a second later', () => {
    const a = onlySpan(router(fields)).span;
    const b = onlySpan(router(fields, '2024-05-01T12:00:01.123456+00:00')).span;
    expect(b.traceId).not.toBe(a.traceId);
  });
});

describe('when spans are asked', () => {
  it('a logs-only batch gets none, and the router record still carries its trace context', () => {
    const batch = translate(router(OK), false);
    expect(batch.spans).toBeUndefined();
    expect(batch.logs[0]!.traceId).toBe(traceIdsOfRequest(RID).traceId);
  });

  it('a router line with neither a method nor a status is no request: no span, no trace context', () => {
    const batch = translate(router('at=info msg="something the router says" host=shop.example.com'));
    expect(batch.logs).toHaveLength(1);
    expect(batch.spans).toEqual([]);
    expect(batch.logs[0]!.traceId).toBeUndefined();
  });

  it('lines of other kinds make no span', () => {
    expect(translate(`${TS} app[web.1]: started request_id=${RID}`).spans).toEqual([]);
    expect(translate(`${TS} heroku[web.1]: source=web.1 dyno=heroku.1.abc sample#memory_total=100.5MB`).spans).toEqual([]);
  });
});

describe('trace_correlation off', () => {
  it('leaves the router record without trace context when no traces pipeline asks, and still makes the span when one does', async () => {
    const { newDrainContext } = await import('../../src/translate/drain-context.ts');
    const { traceCorrelationSchema, urlTemplatesSchema } = await import('../../src/config/translation.ts');
    const off = newDrainContext({ trace_correlation: traceCorrelationSchema.parse({ enabled: false }), url_templates: urlTemplatesSchema.parse({ enabled: false }) });
    const logsOnly = newTelemetryBatch(false);
    translateLineSafely(parseAnyLine(router(OK)), OBSERVED, logsOnly, undefined, undefined, off);
    expect(logsOnly.logs[0]!.traceId).toBeUndefined();
    const withSpans = newTelemetryBatch(true);
    translateLineSafely(parseAnyLine(router(OK)), OBSERVED, withSpans, undefined, undefined, off);
    expect(withSpans.spans).toHaveLength(1);
    expect(withSpans.logs[0]!.spanId).toBe(withSpans.spans![0]!.spanId);
  });
});

describe("a drain's route templates", () => {
  it('name the span {method} {url.template}, with url.template among its attributes', async () => {
    const { newDrainContext } = await import('../../src/translate/drain-context.ts');
    const { traceCorrelationSchema, urlTemplatesSchema } = await import('../../src/config/translation.ts');
    const ctx = newDrainContext({ trace_correlation: traceCorrelationSchema.parse({}), url_templates: urlTemplatesSchema.parse({ patterns: ['/orders/{order_id}'] }) });
    const batch = newTelemetryBatch(true);
    translateLineSafely(parseAnyLine(router(OK)), OBSERVED, batch, undefined, undefined, ctx);
    expect(batch.spans![0]!.name).toBe('GET /orders/{order_id}');
    expect(batch.spans![0]!.attributes['url.template']).toBe('/orders/{order_id}');
    expect(batch.spans![0]!.attributes['url.path']).toBe('/orders/48213');
  });
});
