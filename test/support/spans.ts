/**
 * Router spans as a traces pipeline hands them to exporters, for the exporter tests (span
 * production itself lives in translate and is tested there): ids derived from the request id by
 * src/translate/trace-context.ts, or a caller's from a W3C traceparent; attributes as the router
 * line gives them; an error status with its H-code's description.
 */
import { parseTraceParent, traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { SPAN_KIND_SERVER, SPAN_STATUS_ERROR, SPAN_STATUS_UNSET, type SpanData } from '../../src/translate/telemetry.ts';

/** 2024-05-01T12:00:00.104521Z, in microseconds. */
export const SPAN_START = 1_714_564_800_104_521;

/**
 * The `i`th request of a small mix: most are root spans of a request id; every fourth came with
 * a traceparent (a parent span and its flags, and a tracestate); every fifth is an H12 timeout.
 */
export function routerSpan(i: number): SpanData {
  const requestId = `0d3f8b7e-4c1a-4b8e-9f2d-${String(i).padStart(12, '0')}`;
  const ids = traceIdsOfRequest(requestId);
  const caller = i % 4 === 3 ? parseTraceParent(`00-4bf92f3577b34da6a3ce929d0e0e${String(i % 10000).padStart(4, '0')}-00f067aa0ba902b7-01`)! : undefined;
  const timeout = i % 5 === 4;
  const serviceMs = timeout ? 30_000 : 12 + (i % 90);
  const start = SPAN_START + i * 1_013;
  return {
    traceId: caller?.traceId ?? ids.traceId,
    spanId: ids.spanId,
    parentSpanId: caller?.parentSpanId,
    traceState: caller !== undefined ? 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' : '',
    traceFlags: caller?.traceFlags ?? 0,
    name: i % 3 === 0 ? 'POST /orders/{id}' : 'GET /users/{id}',
    kind: SPAN_KIND_SERVER,
    startUnixMicros: start,
    endUnixMicros: start + (1 + serviceMs) * 1000,
    attributes: {
      'http.request.method': i % 3 === 0 ? 'POST' : 'GET',
      'url.path': `/users/${48213 + i}`,
      'http.route': i % 3 === 0 ? '/orders/{id}' : '/users/{id}',
      'http.response.status_code': timeout ? 503 : 200,
      'server.address': 'shop.example.com',
      'client.address': '203.0.113.9',
      'service.instance.id': `web.${1 + (i % 3)}`,
      'heroku.router.request_id': requestId,
      'heroku.router.connect.duration': 0.001,
      'heroku.router.service.duration': serviceMs / 1000,
      'http.response.body.size': 1834 + i,
      'heroku.router.fwd': ['203.0.113.9', '198.51.100.4'],
      ...(timeout ? { 'error.type': 'H12' } : {}),
    },
    statusCode: timeout ? SPAN_STATUS_ERROR : SPAN_STATUS_UNSET,
    statusMessage: timeout ? 'H12 Request timeout: the app did not answer within 30 seconds' : '',
  };
}

export function routerSpans(from: number, n: number): SpanData[] {
  return Array.from({ length: n }, (_, i) => routerSpan(from + i));
}
