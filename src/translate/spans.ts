/**
 * A router line as a SERVER span (the HTTP semantic conventions' server span), and its trace
 * context on the router's log record, so that a backend links the record, the span and the app
 * lines that logged the same request id.
 *
 * Ids (see trace-context.ts): the trace id and span id from `request_id`; a `traceparent=` field
 * (some front proxies make the router log one) gives the trace id and the parent span id instead,
 * the span id still being the request's; a line with neither gets both from its whole original
 * line (header and timestamp included: a frame Logplex sends again gives the same ids, two
 * identical requests in different seconds do not). Trace flags 1 (sampled) unless the
 * traceparent says otherwise.
 *
 * Times: the router writes its line when the request ends, so the line's timestamp is the end
 * and the start is `connect + service` milliseconds before it (the same duration as
 * `http.server.request.duration`); the start is the end when neither time is known.
 */
import type { RouterEvent } from '../heroku/events.ts';
import type { HerokuLine } from '../heroku/line.ts';
import {
  SPAN_KIND_SERVER,
  SPAN_STATUS_ERROR,
  SPAN_STATUS_UNSET,
  type AttributeValue,
  type Attributes,
  type LogRecordData,
  type TelemetryBatch,
} from './telemetry.ts';
import { parseTraceParent, traceIdsOfRequest } from './trace-context.ts';

/** 2^64 nanoseconds, in microseconds: past it OTLP cannot carry a time. */
const MAX_OTLP_MICROS = 18_446_744_073_709_551;
const ROUTER_PREFIX = 'heroku.router.';

/** Arrays are copied: a processor changing one signal's copy must not change the other's. */
function own(v: AttributeValue): AttributeValue {
  return Array.isArray(v) ? v.slice() : v;
}

/**
 * The span's attributes, from the router record's: the HTTP server span's conventions, the
 * router's own (`heroku.router.*`) and the dyno, in an object of its own. Keys are literals where
 * they can be (V8 keeps such objects in fast mode, see translate.ts).
 */
function spanAttributes(a: Attributes): Attributes {
  return new (SpanAttributes as unknown as new (a: Attributes) => Attributes)(a);
}

/**
 * Built by `new` on a function whose prototype is Object.prototype, as the record's are (see
 * EnvelopeAttributes in translate.ts): V8 makes room for the keys this body assigns at once.
 */
function SpanAttributes(this: Attributes, a: Attributes): void {
  let v: AttributeValue | undefined;
  if ((v = a['http.request.method']) !== undefined) this['http.request.method'] = v;
  if ((v = a['http.request.method_original']) !== undefined) this['http.request.method_original'] = v;
  if ((v = a['http.response.status_code']) !== undefined) this['http.response.status_code'] = v;
  if ((v = a['http.response.body.size']) !== undefined) this['http.response.body.size'] = v;
  if ((v = a['http.route']) !== undefined) this['http.route'] = v;
  if ((v = a['url.scheme']) !== undefined) this['url.scheme'] = v;
  if ((v = a['url.path']) !== undefined) this['url.path'] = v;
  if ((v = a['url.query']) !== undefined) this['url.query'] = v;
  if ((v = a['url.template']) !== undefined) this['url.template'] = v;
  if ((v = a['server.address']) !== undefined) this['server.address'] = v;
  if ((v = a['server.port']) !== undefined) this['server.port'] = v;
  if ((v = a['client.address']) !== undefined) this['client.address'] = own(v);
  if ((v = a['error.type']) !== undefined) this['error.type'] = v;
  if ((v = a['network.protocol.name']) !== undefined) this['network.protocol.name'] = v;
  if ((v = a['network.protocol.version']) !== undefined) this['network.protocol.version'] = v;
  if ((v = a['tls.protocol.name']) !== undefined) this['tls.protocol.name'] = v;
  if ((v = a['tls.protocol.version']) !== undefined) this['tls.protocol.version'] = v;
  if ((v = a['heroku.dyno.name']) !== undefined) this['heroku.dyno.name'] = v;
  // The router's own keys (its unknown keys' included): their room too is made at once, for
  // keys assigned by name or not.
  for (const key in a) if (key.startsWith(ROUTER_PREFIX)) this[key] = own(a[key]!);
}
SpanAttributes.prototype = Object.prototype;

/** The longest request a span is given a start for (a day). */
const MAX_REQUEST_MS = 86_400_000;

/**
 * Whether a logged `tracestate` is one by W3C Trace Context's grammar (at most 512 characters
 * and 32 members, each `key=value` in printable ASCII, no `,` or `=` in a value): anything else
 * is dropped, as the specification tells a vendor to do, rather than sent to a backend.
 */
export function isTraceState(value: string): boolean {
  if (value.length === 0 || value.length > 512) return false;
  const members = value.split(',');
  if (members.length > 32) return false;
  for (const raw of members) {
    const m = raw.trim();
    if (m === '') continue;
    const eq = m.indexOf('=');
    if (eq <= 0 || eq > 256 || m.length - eq - 1 > 256 || m.length - eq - 1 === 0) return false;
    for (let i = 0; i < m.length; i++) {
      const c = m.charCodeAt(i);
      if (i < eq) {
        // key: lcalpha, digits, _ - * / and @ (tenant@system)
        if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 42 || c === 47 || c === 64)) return false;
      } else if (i > eq) {
        if (c < 0x20 || c > 0x7e || c === 44 || c === 61) return false;
      }
    }
  }
  return true;
}

/**
 * Sets the trace context of a router request's record `rec` (the last record translateRouter
 * appended) and, when `out` asks for spans, appends its SERVER span. A router line with neither
 * a method nor a status is no request: nothing is done. `correlate` (the drain's
 * trace_correlation): without it and without spans the record gets no trace context, and the
 * line costs no hash.
 */
export function appendRouterSpan(line: HerokuLine, ev: RouterEvent, rec: LogRecordData, observedUnixMicros: number, out: TelemetryBatch, correlate = true): void {
  const status = ev.status;
  if (ev.method === undefined && !Number.isFinite(status)) return;
  if (!correlate && out.spans === undefined) return;
  const ids = traceIdsOfRequest(ev.requestId ?? line.original);
  let traceId = ids.traceId;
  let parentSpanId: string | undefined;
  let traceFlags = 1;
  const header = ev.extra?.traceparent;
  if (header !== undefined) {
    const parent = parseTraceParent(header);
    if (parent !== undefined) {
      traceId = parent.traceId;
      parentSpanId = parent.parentSpanId;
      traceFlags = parent.traceFlags;
    }
  }
  rec.traceId = traceId;
  rec.spanId = ids.spanId;
  rec.traceFlags = traceFlags;
  const spans = out.spans;
  if (spans === undefined) return;

  const t = line.timeUnixMicros;
  const end = t >= 0 && t < MAX_OTLP_MICROS ? t : observedUnixMicros;
  const connect = ev.connectMs;
  const service = ev.serviceMs;
  const ms = (Number.isFinite(connect) ? connect : 0) + (Number.isFinite(service) ? service : 0);
  // A request longer than a day is no router's measure (a corrupt or hostile line): a point in time then.
  const start = ms > 0 && ms <= MAX_REQUEST_MS && ms * 1000 < end ? end - Math.round(ms * 1000) : end;
  const attributes = spanAttributes(rec.attributes);
  // HTTP semconv: `{method} {target}`, the method `HTTP` when it is not a known one (or absent),
  // the target a low-cardinality template only (never the raw path).
  const method = attributes['http.request.method'];
  const verb = method === undefined || method === '_OTHER' ? 'HTTP' : (method as string);
  const template = attributes['url.template'];
  const name = typeof template === 'string' ? `${verb} ${template}` : verb;
  // 4xx is the client's error: a server span's status stays unset (HTTP semconv).
  let statusCode = SPAN_STATUS_UNSET;
  let statusMessage = '';
  if (ev.code !== undefined) {
    statusCode = SPAN_STATUS_ERROR;
    const desc = rec.attributes['heroku.error.description'];
    statusMessage = desc === undefined ? ev.code : `${ev.code} ${desc as string}`;
  } else if (status >= 500 && status < 600) {
    statusCode = SPAN_STATUS_ERROR;
  }
  const tracestate = ev.extra?.tracestate;
  spans.push({
    traceId,
    spanId: ids.spanId,
    parentSpanId,
    traceState: parentSpanId !== undefined && tracestate !== undefined && isTraceState(tracestate) ? tracestate : '',
    traceFlags,
    name,
    kind: SPAN_KIND_SERVER,
    startUnixMicros: start,
    endUnixMicros: end,
    attributes,
    statusCode,
    statusMessage,
  });
}
