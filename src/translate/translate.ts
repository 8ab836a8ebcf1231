/**
 * Typed Heroku events to OpenTelemetry: one log record per line, plus metric points for samples,
 * router timings and l2met measurements. Pure: no I/O, no clock (the caller passes the observed
 * time), so the same line always gives the same output.
 *
 * Attribute keys are written as string literals, not as the generated ATTR_* constants: V8 keeps
 * an object whose keys are literals in fast mode, while keys that are variables send any object of
 * more than a dozen attributes to dictionary mode (measured on a router record: 54 ns against
 * 970 ns to build, and slower for every consumer after). test/semconv.test.ts checks every key
 * this file emits against the registry, with its type.
 */
import { createHash } from 'node:crypto';
import * as A from '../semconv/attributes.ts';
import * as E from '../semconv/events.ts';
import * as M from '../semconv/metrics.ts';
import { interpretLine, kindFromMessage } from '../heroku/classify.ts';
import { ERROR_CODE_DESCRIPTIONS } from '../heroku/codes.ts';
import { dynoType } from '../heroku/dyno.ts';
import type {
  AddonSampleEvent,
  ApiEvent,
  AppLogEvent,
  HerokuEvent,
  PlatformEvent,
  PostgresLogEvent,
  RouterEvent,
  RuntimeSampleEvent,
  Sample,
} from '../heroku/events.ts';
import type { HerokuLine } from '../heroku/line.ts';
import type { FrameStatus } from '../heroku/octet-frames.ts';
import { requestIdOf } from '../heroku/request-id.ts';
import { emptyRouterEvent } from '../heroku/router.ts';
import { STATELESS_CONTEXT, type DrainContext } from './drain-context.ts';
import {
  SEVERITY_ERROR,
  SEVERITY_INFO,
  SEVERITY_UNSPECIFIED,
  SEVERITY_WARN,
  severityFromName,
  severityFromSyslog,
  type Severity,
} from './severity.ts';
import { appendRouterSpan } from './spans.ts';
import type { Attributes, LogRecordData, MetricPointData, TelemetryBatch } from './telemetry.ts';
import { traceIdsOfRequest } from './trace-context.ts';
import { toBaseUnit } from './units.ts';

/** The semantic conventions' advised buckets for `http.server.request.duration`, in seconds. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The SDK's default histogram buckets, for l2met measures in units other than seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

// ---------------------------------------------------------------------------------------------
// Drain tokens: a syslog drain's HOSTNAME is its token, which authenticates it. Never emit it.

const fingerprints = new Map<string, string>();

/**
 * HOSTNAMEs that carry no secret: the words Heroku's own senders and local tools write there.
 * Any other HOSTNAME may be a drain token: Heroku's are `d.` and a UUID, but a drain added with a
 * token of the user's own (or a sender that puts a secret there) can have any form, so anything
 * else is fingerprinted, never written in clear. (Logplex's literal `host` is not written at all.)
 */
const PUBLIC_HOSTNAMES = new Set(['heroku', 'app', 'localhost']);

/** First 16 hex digits of the token's SHA-256: tells drains apart without revealing the token. */
export function drainFingerprint(token: string): string {
  let fp = fingerprints.get(token);
  if (fp === undefined) {
    fp = createHash('sha256').update(token).digest('hex').slice(0, 16);
    if (fingerprints.size >= 10_000) fingerprints.clear();
    fingerprints.set(token, fp);
  }
  return fp;
}

// ---------------------------------------------------------------------------------------------

const RAW_PARSE_ERROR = 'no syslog or heroku logs header';

/**
 * Attributes every record gets from its envelope (the event's name is the record's EventName
 * field, not an attribute). `dyno` is the dyno the line may be about: the PROCID unless the line
 * names another (a router line's serving dyno, a sample's `source=`); it becomes heroku.dyno.name
 * and heroku.dyno.type only when shaped like a dyno's name (`web.1`, not `router` or `api`).
 */
function envelopeAttributes(
  line: HerokuLine,
  kind: string,
  frameStatus: FrameStatus | undefined,
  dyno: string | null = line.procId,
): Attributes {
  return new (EnvelopeAttributes as unknown as EnvelopeAttributesConstructor)(line, kind, frameStatus, dyno);
}

interface EnvelopeAttributesConstructor {
  new (line: HerokuLine, kind: string, frameStatus: FrameStatus | undefined, dyno: string | null): Attributes;
}

/**
 * Record attributes are built by `new` on functions whose prototype is Object.prototype (what
 * they build is a plain object like any other): V8 gives an object made by a constructor room
 * for the keys its body assigns, and more, then trims it to what was used. An object literal
 * given its keys one by one copies its property store every third key instead: for a router
 * record's ~20 keys, 824 bytes allocated against 192, and 4x the time.
 */
function EnvelopeAttributes(this: Attributes, line: HerokuLine, kind: string, frameStatus: FrameStatus | undefined, dyno: string | null): void {
  this['heroku.log.kind'] = kind;
  this['heroku.log.shape'] = line.shape;
  if (line.facility >= 0) {
    this['heroku.syslog.facility'] = line.facility;
    this['heroku.syslog.severity'] = line.severity;
  }
  if (line.appName !== '') this['heroku.syslog.app_name'] = line.appName;
  if (line.procId !== '') this['heroku.syslog.proc_id'] = line.procId;
  const type = dyno === null ? undefined : dynoType(dyno);
  if (type !== undefined) {
    this['heroku.dyno.name'] = dyno!;
    this['heroku.dyno.type'] = type;
  }
  envelopeRarities(this, line, frameStatus);
}
EnvelopeAttributes.prototype = Object.prototype;

/** The envelope's attributes that most lines do not have (a Logplex frame as Heroku writes it, none). */
function envelopeRarities(attrs: Attributes, line: HerokuLine, frameStatus: FrameStatus | undefined): void {
  if (line.msgId !== '') attrs['heroku.syslog.msg_id'] = line.msgId;
  if (line.structuredData !== '') attrs['heroku.syslog.structured_data'] = line.structuredData;
  const host = line.hostname;
  if (host !== '' && host !== 'host') {
    if (PUBLIC_HOSTNAMES.has(host)) attrs['heroku.syslog.hostname'] = host;
    else attrs['heroku.drain.fingerprint'] = drainFingerprint(host);
  }
  if (frameStatus !== undefined && frameStatus !== 'ok') attrs['heroku.log.frame_status'] = frameStatus;
  if (line.shape === 'raw') attrs['heroku.log.parse_error'] = RAW_PARSE_ERROR;
  // An irregular header's kind was inferred: say from what, so a user can audit it.
  if (line.irregularHeader === true) attrs['heroku.log.kind_source'] = kindFromMessage(line) === undefined ? 'header' : 'message';
}

function record(
  line: HerokuLine,
  observedUnixMicros: number,
  severity: Severity,
  body: string,
  eventName: string,
  attributes: Attributes,
): LogRecordData {
  return {
    timeUnixMicros: otlpTime(line.timeUnixMicros, 0),
    observedUnixMicros,
    severityNumber: severity.number,
    severityText: severity.text,
    body,
    eventName,
    attributes,
    traceId: undefined,
    spanId: undefined,
    traceFlags: 0,
  };
}

function point(
  name: string,
  unit: string,
  type: MetricPointData['type'],
  value: number,
  timeUnixMicros: number,
  attributes: Attributes,
  bounds: readonly number[] | undefined,
): MetricPointData {
  return { name, unit, type, value, timeUnixMicros, attributes, bounds };
}

/** 2^64 nanoseconds, in microseconds: OTLP times are unsigned 64-bit nanoseconds. */
const MAX_OTLP_MICROS = 18_446_744_073_709_551;

/** The time if OTLP can carry it (1970 to 2554), else `fallback`: a line of 1969 has no usable time. */
function otlpTime(micros: number, fallback: number): number {
  return micros >= 0 && micros < MAX_OTLP_MICROS ? micros : fallback;
}

/** The line's time for metric points, the observed time when the line had none. */
function pointTime(line: HerokuLine, observedUnixMicros: number): number {
  return otlpTime(line.timeUnixMicros, observedUnixMicros);
}

// ---------------------------------------------------------------------------------------------
// Router

function normaliseScheme(ev: RouterEvent): string | undefined {
  const p = ev.protocol;
  if (p === 'https' || p === 'http') return p;
  const tls = ev.extra?.tls;
  if (tls === 'true') return 'https';
  if (tls === 'false') return 'http';
  if (ev.tlsVersion !== undefined && ev.tlsVersion !== 'unknown') return 'https';
  return undefined;
}

/** `example.com:443` to `example.com` (a CONNECT request's authority); IPv6 in brackets too. */
export function hostOnly(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return host;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    return close > 0 ? host.slice(1, close) : host;
  }
  // More than one colon and no brackets: a bare IPv6 address, no port.
  return host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** An absolute-form request target (`http://a.example/x`, sent to proxies) to its path. */
function pathOnly(path: string): string {
  if (path.charCodeAt(0) === 47 /* / */) return path;
  const scheme = path.indexOf('://');
  if (scheme < 0) return path;
  const slash = path.indexOf('/', scheme + 3);
  return slash < 0 ? '/' : path.slice(slash);
}

/** Digits, hex letters, dots and colons only: an IPv4 or IPv6 address, not `unknown`. */
function looksLikeAddress(s: string): boolean {
  let sawDigitOrColon = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 58) sawDigitOrColon = true;
    else if (!(c === 46 || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return sawDigitOrColon;
}

/** `http1.1`, `HTTP/1.1`, `http/2`, `h2` to an HTTP version; undefined for `http`/`https`. */
export function httpVersion(protocol: string | undefined): string | undefined {
  if (protocol === undefined || protocol === 'http' || protocol === 'https') return undefined;
  const lower = protocol.toLowerCase();
  if (lower === 'h2' || lower === 'h2c') return '2';
  if (lower === 'h3') return '3';
  if (!lower.startsWith('http')) return undefined;
  let v = lower.slice(4);
  if (v.startsWith('/')) v = v.slice(1);
  if (v === '2.0') v = '2';
  if (v === '3.0') v = '3';
  return /^\d(\.\d)?$/.test(v) ? v : undefined;
}

/** `TLSv1.3` to name `tls`, version `1.3`; `SSLv3` to `ssl`, `3`. A scan: it runs on router lines. */
export function tlsProtocol(version: string | undefined): [string, string] | undefined {
  if (version === undefined || version.length < 4) return undefined;
  // Lower-cased by setting bit 5, which maps no other character onto a letter of `tls` or `ssl`.
  const c0 = version.charCodeAt(0) | 32;
  const c1 = version.charCodeAt(1) | 32;
  const c2 = version.charCodeAt(2) | 32;
  let name: string;
  if (c0 === 116 && c1 === 108 && c2 === 115) name = 'tls';
  else if (c0 === 115 && c1 === 115 && c2 === 108) name = 'ssl';
  else return undefined;
  let i = (version.charCodeAt(3) | 32) === 118 /* v */ ? 4 : 3;
  const from = i;
  // Digits, then at most one `.` followed by digits, to the end.
  let dot = -1;
  for (; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c === 46 && dot < 0 && i > from) dot = i;
    else if (c < 48 || c > 57) return undefined;
  }
  if (i === from || dot === version.length - 1) return undefined;
  return [name, version.slice(from)];
}

interface RouterAttributesConstructor {
  new (
    line: HerokuLine,
    ev: RouterEvent,
    frameStatus: FrameStatus | undefined,
    path: string | undefined,
    template: string | undefined,
    method: string | undefined,
    scheme: string | undefined,
    host: string | undefined,
    version: string | undefined,
  ): Attributes;
}

/** A router record's attributes, in one allocation (see EnvelopeAttributes); the envelope's first. */
function RouterAttributes(
  this: Attributes,
  line: HerokuLine,
  ev: RouterEvent,
  frameStatus: FrameStatus | undefined,
  path: string | undefined,
  template: string | undefined,
  method: string | undefined,
  scheme: string | undefined,
  host: string | undefined,
  version: string | undefined,
): void {
  // EnvelopeAttributes's, written out: only keys assigned in this body count towards its room.
  this['heroku.log.kind'] = 'router';
  this['heroku.log.shape'] = line.shape;
  if (line.facility >= 0) {
    this['heroku.syslog.facility'] = line.facility;
    this['heroku.syslog.severity'] = line.severity;
  }
  if (line.appName !== '') this['heroku.syslog.app_name'] = line.appName;
  if (line.procId !== '') this['heroku.syslog.proc_id'] = line.procId;
  const dyno = ev.dyno;
  const type = dyno === undefined ? undefined : dynoType(dyno);
  if (type !== undefined) {
    this['heroku.dyno.name'] = dyno!;
    this['heroku.dyno.type'] = type;
  }
  envelopeRarities(this, line, frameStatus);

  // The route, learned per drain: on the record, the span's name and the duration histogram.
  if (template !== undefined) this['url.template'] = template;
  if (method !== undefined) {
    this['http.request.method'] = method;
    if (method === '_OTHER') this['http.request.method_original'] = ev.method!;
  }
  if (path !== undefined) this['url.path'] = path;
  if (ev.query !== undefined) this['url.query'] = ev.query;
  if (scheme !== undefined) this['url.scheme'] = scheme;
  if (host !== undefined) {
    this['server.address'] = host;
    if (host.length !== ev.host!.length) {
      const port = Number(ev.host!.slice(ev.host!.lastIndexOf(':') + 1));
      if (Number.isInteger(port) && port > 0 && port < 65536) this['server.port'] = port;
    }
  }
  if (ev.fwd.length > 0) {
    // `fwd="unknown"` and the like are no address: kept in heroku.router.fwd only.
    if (looksLikeAddress(ev.fwd[0]!)) this['client.address'] = ev.fwd[0]!;
    this['heroku.router.fwd'] = ev.fwd;
  }
  if (Number.isFinite(ev.status)) this['http.response.status_code'] = ev.status;
  if (Number.isFinite(ev.bytes)) this['http.response.body.size'] = ev.bytes;
  if (ev.code !== undefined) {
    this['error.type'] = ev.code;
    this['heroku.error.code'] = ev.code;
    const desc = ev.desc ?? ERROR_CODE_DESCRIPTIONS[ev.code];
    if (desc !== undefined) this['heroku.error.description'] = desc;
  } else if (ev.desc !== undefined) {
    this['heroku.error.description'] = ev.desc;
  }
  if (ev.requestId !== undefined) this['heroku.router.request_id'] = ev.requestId;
  // The conventions' unit for durations is the second; the line writes milliseconds.
  if (Number.isFinite(ev.connectMs)) this['heroku.router.connect.duration'] = ev.connectMs / 1000;
  if (Number.isFinite(ev.serviceMs)) this['heroku.router.service.duration'] = ev.serviceMs / 1000;
  if (ev.sock !== undefined) this['heroku.router.sock'] = ev.sock;
  // `protocol=` is the scheme on the classic router (`https`), the HTTP version on Router 2.0 (`http1.1`).
  if (ev.protocol !== undefined) {
    this['heroku.router.protocol'] = ev.protocol;
    if (version !== undefined) {
      this['network.protocol.name'] = 'http';
      this['network.protocol.version'] = version;
    }
  }
  if (ev.tlsVersion !== undefined) {
    this['heroku.router.tls_version'] = ev.tlsVersion;
    const tls = tlsProtocol(ev.tlsVersion);
    if (tls !== undefined) {
      this['tls.protocol.name'] = tls[0];
      this['tls.protocol.version'] = tls[1];
    }
  }
  if (ev.extra !== undefined) {
    for (const key in ev.extra) {
      const name = A.ATTR_HEROKU_ROUTER_PREFIX + key;
      if (!(name in this)) this[name] = ev.extra[key]!;
    }
  }
}
RouterAttributes.prototype = Object.prototype;

interface RequestDurationAttributesConstructor {
  new (
    method: string | undefined,
    template: string | undefined,
    status: number,
    scheme: string | undefined,
    code: string | undefined,
    host: string | undefined,
    version: string | undefined,
  ): Attributes;
}

/**
 * The attributes of a `http.server.request.duration` point: the conventions', without the dyno
 * (a series per dyno would multiply every bucket by the app's number of dynos). One allocation,
 * as RouterAttributes.
 */
function RequestDurationAttributes(
  this: Attributes,
  method: string | undefined,
  template: string | undefined,
  status: number,
  scheme: string | undefined,
  code: string | undefined,
  host: string | undefined,
  version: string | undefined,
): void {
  if (method !== undefined) this['http.request.method'] = method;
  if (template !== undefined) this['url.template'] = template;
  if (Number.isFinite(status)) this['http.response.status_code'] = status;
  if (scheme !== undefined) this['url.scheme'] = scheme;
  if (code !== undefined) this['error.type'] = code;
  if (host !== undefined) this['server.address'] = host;
  if (version !== undefined) this['network.protocol.version'] = version;
}
RequestDurationAttributes.prototype = Object.prototype;

function translateRouter(line: HerokuLine, ev: RouterEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined, ctx: DrainContext): void {
  const path = ev.path === undefined ? undefined : pathOnly(ev.path);
  const template = path === undefined ? undefined : ctx.urlTemplates?.templateOf(path);
  const method = ev.method === undefined ? undefined : KNOWN_METHODS.has(ev.method) ? ev.method : '_OTHER';
  const scheme = normaliseScheme(ev);
  const host = ev.host === undefined ? undefined : hostOnly(ev.host);
  const version = httpVersion(ev.protocol);
  const attrs = new (RouterAttributes as unknown as RouterAttributesConstructor)(line, ev, frame, path, template, method, scheme, host, version);
  const severity = ev.at === 'error' ? SEVERITY_ERROR : ev.at === 'info' ? SEVERITY_INFO : (severityFromName(ev.at) ?? SEVERITY_INFO);
  out.logs.push(record(line, observed, severity, line.text, E.EVENT_HEROKU_ROUTER_REQUEST, attrs));

  // The request's duration as the router saw it. Every request counts, so that request and 5xx
  // rates built from the histogram include outages: lines where no dyno answered (H10, H14,
  // `connect= service=`) took no measurable time on a dyno and count as 0 s. The attributes are
  // the conventions' for this metric, without the dyno: a series per dyno would multiply every
  // bucket by the app's number of dynos.
  const status = ev.status;
  if (ev.method !== undefined || Number.isFinite(status)) {
    const connect = ev.connectMs;
    const service = ev.serviceMs;
    const seconds = ((Number.isFinite(connect) ? connect : 0) + (Number.isFinite(service) ? service : 0)) / 1000;
    const mAttrs = new (RequestDurationAttributes as unknown as RequestDurationAttributesConstructor)(method, template, status, scheme, ev.code, host, version);
    out.metrics.push(
      point(M.METRIC_HTTP_SERVER_REQUEST_DURATION, 's', 'histogram', seconds, pointTime(line, observed), mAttrs, HTTP_DURATION_BUCKETS),
    );
  }
  // The record pushed above is the last one: its trace context (with trace_correlation on), and the span when asked.
  appendRouterSpan(line, ev, out.logs[out.logs.length - 1]!, observed, out, ctx.requestIds !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Samples

/** What a sample key becomes: its metric name, attribute key, unit and point type, worked out once. */
interface SampleNames {
  metric: string;
  attribute: string;
  fallbackUnit: string;
  /** The unit of a value the line writes without one, when it is not the registry's (`us`). */
  lineUnit: string;
  /** `total` where the registry names a counter: the source's own running total (`pgpgin`). */
  type: 'gauge' | 'total';
}

/**
 * Sample keys whose metric is not `heroku.<scope>.<key>`: pgbouncer's `avg_query` is a duration
 * the line writes in microseconds, without a unit; the conventions want seconds, and a name
 * that says what it measures.
 */
const RENAMED_SAMPLES: Readonly<Record<string, { metric: string; lineUnit: string }>> = {
  'heroku.pgbouncer.avg_query': { metric: M.METRIC_HEROKU_PGBOUNCER_AVG_QUERY_DURATION, lineUnit: 'us' },
};

// Sample keys repeat on every line of a dyno or add-on: their names are built once and reused,
// which also hands V8 the same key strings each time. One table per prefix, so that a lookup
// hashes the key as the line has it rather than a string joined for it. Bounded, as keys come
// from the input.
const sampleNames = new Map<string, Map<string, SampleNames>>();
let sampleNamesHeld = 0;

function namesOf(prefix: string, rawKey: string): SampleNames {
  let byKey = sampleNames.get(prefix);
  if (byKey === undefined) {
    byKey = new Map();
    sampleNames.set(prefix, byKey);
  }
  let names = byKey.get(rawKey);
  if (names === undefined) {
    // `memory-total` to `memory_total`: the metric-name form of a sample key.
    const key = rawKey.indexOf('-') < 0 ? rawKey : rawKey.replace(/-/g, '_');
    const renamed = RENAMED_SAMPLES[prefix + key];
    const metric = renamed?.metric ?? prefix + key;
    const attribute = A.ATTR_HEROKU_SAMPLE_PREFIX + metric.slice(prefix.length);
    const type = M.METRIC_INSTRUMENTS[metric] === 'counter' ? 'total' : 'gauge';
    names = { metric, attribute, fallbackUnit: M.METRIC_UNITS[metric] ?? unitFromKey(key), lineUnit: renamed?.lineUnit ?? '', type };
    if (sampleNamesHeld >= 10_000) {
      sampleNames.clear();
      sampleNamesHeld = 0;
      byKey = new Map();
      sampleNames.set(prefix, byKey);
    }
    byKey.set(rawKey, names);
    sampleNamesHeld++;
  }
  return names;
}

/**
 * Appends one point per sample (a gauge, or a total where the source reports a running count) and
 * the value (base units) as a `heroku.sample.<key>` attribute.
 */
function emitSamples(
  samples: Sample[],
  prefix: string,
  attrs: Attributes,
  metricAttrs: Attributes,
  time: number,
  out: TelemetryBatch,
): void {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // `1e999` is a number to the parser but nothing a backend can store: the body keeps it.
    if (!Number.isFinite(s.value)) continue;
    const names = namesOf(prefix, s.key);
    // The value's own suffix wins; else the unit Heroku documents for a bare value (`us`), else
    // the registry's, else the key's words (unitFromKey).
    const base = toBaseUnit(s.unit === '' ? names.lineUnit : s.unit, names.fallbackUnit);
    // Bytes are whole: `470.22MB` is a rounded figure, its fraction of a byte means nothing.
    const value = base.factor === 1 ? s.value : base.unit === 'By' ? Math.round(s.value * base.factor) : s.value * base.factor;
    attrs[names.attribute] = value;
    out.metrics.push(point(names.metric, base.unit, names.type, value, time, metricAttrs, undefined));
  }
}

/**
 * The unit of a sample key whose value has no suffix and that the registry does not list, read
 * from the key's whole words (`_`-separated, the metric-name form), never from a prefix: a
 * `memory-*` key is not bytes by its name (Redis's `memory-percentage-used` is a fraction).
 * - a word `percentage` or `percent`: `1`, the value kept as it is. Every percentage Heroku
 *   documents is written as a fraction 0-1 (`wal-percentage-used` is healthy at 0.75 or lower).
 * - a last word `rate` (`hit-rate`, `*-cache-hit-rate`): a ratio, `1`.
 * - a word `iops`: `{operation}/s`; a word `connections`: `{connection}`; a last word `bytes`, or
 *   `maxmemory` (Redis's setting of that name, in bytes): `By`.
 * - anything else, `load-avg-*` included: `1`, a plain number (the unit l2met's bare
 *   `sample#` values get too), rather than a unit guessed from part of a name.
 */
export function unitFromKey(key: string): string {
  const words = key.split('_');
  const last = words[words.length - 1];
  if (words.includes('percentage') || words.includes('percent')) return '1';
  if (last === 'rate') return '1';
  if (words.includes('iops')) return '{operation}/s';
  if (words.includes('connections')) return '{connection}';
  if (last === 'bytes' || words.includes('maxmemory')) return 'By';
  return '1';
}

function translateRuntime(line: HerokuLine, ev: RuntimeSampleEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined): void {
  const attrs = envelopeAttributes(line, 'runtime', frame, ev.source ?? line.procId);
  if (ev.dynoId !== undefined) attrs['heroku.dyno.id'] = ev.dynoId;
  // The metric series is the dyno's name (`web.1`), never its id, which changes at each restart.
  const mAttrs: Attributes = {};
  const dyno = attrs['heroku.dyno.name'];
  if (dyno !== undefined) {
    mAttrs['heroku.dyno.name'] = dyno;
    mAttrs['heroku.dyno.type'] = attrs['heroku.dyno.type']!;
  }
  emitSamples(ev.samples, 'heroku.dyno.', attrs, mAttrs, pointTime(line, observed), out);
  out.logs.push(record(line, observed, SEVERITY_INFO, line.text, E.EVENT_HEROKU_RUNTIME_SAMPLE, attrs));
}

const addonPrefixes = new Map<string, string>();

/** `heroku-postgres` to `heroku.postgres.`: the prefix of add-on metric names. */
function addonPrefix(service: string): string {
  let prefix = addonPrefixes.get(service);
  if (prefix === undefined) {
    const s = service.startsWith('heroku-') ? service.slice(7) : service;
    prefix = `heroku.${s.replace(/[^A-Za-z0-9_]+/g, '_')}.`;
    if (addonPrefixes.size >= 1000) addonPrefixes.clear();
    addonPrefixes.set(service, prefix);
  }
  return prefix;
}

function translateAddonSample(line: HerokuLine, ev: AddonSampleEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined): void {
  const attrs = envelopeAttributes(line, 'addon', frame, null);
  attrs['heroku.addon.service'] = ev.service;
  const mAttrs: Attributes = {};
  if (ev.addon !== undefined) {
    attrs['heroku.addon.name'] = ev.addon;
    mAttrs['heroku.addon.name'] = ev.addon;
  }
  if (ev.source !== undefined) {
    attrs['heroku.source'] = ev.source;
    mAttrs['heroku.source'] = ev.source;
  }
  if (ev.extra !== undefined) {
    for (const key in ev.extra) attrs[A.ATTR_HEROKU_ADDON_PREFIX + key] = ev.extra[key]!;
  }
  emitSamples(ev.samples, addonPrefix(ev.service), attrs, mAttrs, pointTime(line, observed), out);
  out.logs.push(record(line, observed, SEVERITY_INFO, line.text, E.EVENT_HEROKU_ADDON_SAMPLE, attrs));
}

function translatePostgresLog(line: HerokuLine, ev: PostgresLogEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined): void {
  // `postgres.1234` is Postgres's process, not a dyno, though shaped like a dyno's name.
  const attrs = envelopeAttributes(line, 'addon', frame, null);
  attrs['heroku.addon.service'] = 'heroku-postgres';
  attrs['db.system.name'] = 'postgresql';
  if (ev.source !== undefined) attrs['heroku.source'] = ev.source;
  if (ev.lineId !== undefined) attrs['heroku.postgres.line_id'] = ev.lineId;
  if (ev.level !== undefined) attrs['heroku.postgres.level'] = ev.level;
  if (ev.sqlErrorCode !== undefined) attrs['db.response.status_code'] = ev.sqlErrorCode;
  const severity = ev.level !== undefined ? (severityFromName(ev.level) ?? SEVERITY_INFO) : lineSeverity(line, SEVERITY_INFO);
  // SQLSTATE classes 00 (success), 01 (warning) and 02 (no data) are no errors; the DETAIL and
  // STATEMENT parts of an error carry its code too, so they group with it.
  const code = ev.sqlErrorCode;
  if (code !== undefined && code.length === 5 && !(code.startsWith('00') || code.startsWith('01') || code.startsWith('02'))) {
    attrs['error.type'] = code;
  }
  if (ev.fields !== undefined) {
    for (const key in ev.fields) {
      if (key === 'database') attrs['db.namespace'] = ev.fields[key]!;
      else attrs[A.ATTR_HEROKU_POSTGRES_PREFIX + key] = ev.fields[key]!;
    }
  }
  // The body is Postgres's message: the `[DATABASE] [9-1] sql_error_code = ... LEVEL:` prefix is
  // in the attributes.
  out.logs.push(record(line, observed, severity, ev.message, E.EVENT_HEROKU_ADDON_LOG, attrs));
}

// ---------------------------------------------------------------------------------------------
// Platform and API

export const PLATFORM_EVENT_NAMES: Readonly<Record<PlatformEvent['type'], string>> = {
  state_change: E.EVENT_HEROKU_DYNO_STATE_CHANGE,
  process_exit: E.EVENT_HEROKU_DYNO_EXIT,
  process_start: E.EVENT_HEROKU_DYNO_START,
  process_stop: E.EVENT_HEROKU_DYNO_STOP,
  restart: E.EVENT_HEROKU_DYNO_RESTART,
  idle: E.EVENT_HEROKU_DYNO_IDLE,
  unidle: E.EVENT_HEROKU_DYNO_UNIDLE,
  memory: E.EVENT_HEROKU_DYNO_MEMORY,
  error: E.EVENT_HEROKU_PLATFORM_ERROR,
  other: E.EVENT_HEROKU_PLATFORM_EVENT,
};

/** L-codes that mean logs were lost; L11 and L15 only affect `heroku logs --tail`. */
const LOG_LOSS_CODES = new Set(['L10', 'L12', 'L13', 'L14']);

function platformSeverity(ev: PlatformEvent): Severity {
  switch (ev.type) {
    case 'error':
      return ev.code === 'L11' || ev.code === 'L15' ? SEVERITY_WARN : SEVERITY_ERROR;
    case 'state_change':
      return ev.toState === 'crashed' ? SEVERITY_ERROR : SEVERITY_INFO;
    case 'process_exit':
      // 0 is a clean exit and 143 (128 + SIGTERM) the normal answer to a restart's SIGTERM.
      return ev.exitStatus === 0 || ev.exitStatus === 143 || ev.exitStatus !== ev.exitStatus ? SEVERITY_INFO : SEVERITY_WARN;
    case 'process_stop':
      return ev.signal === 'SIGKILL' ? SEVERITY_WARN : SEVERITY_INFO;
    case 'memory':
      return ev.memoryPercent > 100 ? SEVERITY_WARN : SEVERITY_INFO;
    default:
      return SEVERITY_INFO;
  }
}

function translatePlatform(line: HerokuLine, ev: PlatformEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined): void {
  const isLogplex = ev.code !== undefined && ev.code.charCodeAt(0) === 76; /* L */
  const eventName = isLogplex ? E.EVENT_HEROKU_LOGPLEX_ERROR : PLATFORM_EVENT_NAMES[ev.type];
  const attrs = envelopeAttributes(line, 'platform', frame);
  if (ev.code !== undefined) {
    attrs['error.type'] = ev.code;
    attrs['heroku.error.code'] = ev.code;
    const desc = ev.desc ?? ERROR_CODE_DESCRIPTIONS[ev.code];
    if (desc !== undefined) attrs['heroku.error.description'] = desc;
  }
  if (ev.detail !== undefined) attrs['heroku.error.detail'] = ev.detail;
  if (ev.toState !== undefined) attrs['heroku.dyno.state'] = ev.toState;
  if (ev.fromState !== undefined) attrs['heroku.dyno.state.previous'] = ev.fromState;
  if (Number.isFinite(ev.exitStatus)) attrs['process.exit.code'] = ev.exitStatus;
  if (ev.command !== undefined) attrs['process.command_line'] = ev.command;
  if (ev.user !== undefined) attrs['heroku.user'] = ev.user;
  if (ev.signal !== undefined) attrs['heroku.process.signal'] = ev.signal;
  if (Number.isFinite(ev.memoryBytes)) attrs['heroku.dyno.memory.usage'] = Math.round(ev.memoryBytes);
  if (Number.isFinite(ev.memoryPercent)) attrs['heroku.dyno.memory.quota_percent'] = ev.memoryPercent;
  if (ev.droppedSince !== undefined) attrs['heroku.logplex.dropped_since'] = ev.droppedSince;
  let body = line.text;
  if (ev.drainToken !== undefined) {
    // The drain's id is its token: only its fingerprint leaves, in the body and detail too.
    const fingerprint = drainFingerprint(ev.drainToken);
    attrs['heroku.drain.fingerprint'] = fingerprint;
    body = body.split(ev.drainToken).join(`[fingerprint ${fingerprint}]`);
    if (ev.detail !== undefined) attrs['heroku.error.detail'] = ev.detail.split(ev.drainToken).join(`[fingerprint ${fingerprint}]`);
  }
  if (Number.isFinite(ev.droppedMessages)) {
    attrs['heroku.logplex.dropped_messages'] = ev.droppedMessages;
    if (ev.code !== undefined && LOG_LOSS_CODES.has(ev.code)) {
      const mAttrs: Attributes = { 'heroku.error.code': ev.code };
      out.metrics.push(
        point(M.METRIC_HEROKU_LOGPLEX_DROPPED_MESSAGES, '{message}', 'sum', ev.droppedMessages, pointTime(line, observed), mAttrs, undefined),
      );
    }
  }
  out.logs.push(record(line, observed, platformSeverity(ev), body, eventName, attrs));
}

export const API_EVENT_NAMES: Readonly<Record<ApiEvent['type'], string>> = {
  release: E.EVENT_HEROKU_API_RELEASE,
  deploy: E.EVENT_HEROKU_API_DEPLOY,
  rollback: E.EVENT_HEROKU_API_ROLLBACK,
  config_change: E.EVENT_HEROKU_API_CONFIG_CHANGE,
  scale: E.EVENT_HEROKU_API_SCALE,
  addon_change: E.EVENT_HEROKU_API_ADDON_CHANGE,
  command: E.EVENT_HEROKU_API_COMMAND,
  maintenance: E.EVENT_HEROKU_API_MAINTENANCE,
  build: E.EVENT_HEROKU_API_BUILD,
  other: E.EVENT_HEROKU_API_EVENT,
};

function translateApi(line: HerokuLine, ev: ApiEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined): void {
  const eventName = API_EVENT_NAMES[ev.type];
  const attrs = envelopeAttributes(line, 'api', frame, null);
  if (ev.action !== undefined) attrs['heroku.api.action'] = ev.action;
  if (ev.user !== undefined) attrs['heroku.user'] = ev.user;
  if (ev.release !== undefined) attrs['heroku.release.version'] = ev.release;
  if (ev.commit !== undefined) attrs['heroku.release.commit'] = ev.commit;
  if (ev.command !== undefined) attrs['process.command_line'] = ev.command;
  if (ev.configVars !== undefined) attrs['heroku.config.vars'] = ev.configVars;
  if (ev.formation !== undefined) attrs['heroku.formation'] = ev.formation;
  if (ev.addon !== undefined) attrs['heroku.addon.name'] = ev.addon;
  // A failed build or release phase: the deploy did not happen, the running release is unharmed.
  const severity = (ev.type === 'build' || ev.type === 'release') && ev.action === 'failed' ? SEVERITY_WARN : SEVERITY_INFO;
  out.logs.push(record(line, observed, severity, line.text, eventName, attrs));
}

// ---------------------------------------------------------------------------------------------
// App output

/**
 * The PRI's severity when the line has one, else `fallback`. Heroku's own PRIs say little (its
 * documentation shows `<40>`, emergency, on a state change): from `app` or `heroku` envelopes an
 * emergency, alert or critical PRI reads as `fallback` rather than paging someone.
 */
function lineSeverity(line: HerokuLine, fallback: Severity): Severity {
  const s = line.severity;
  if (s < 0) return fallback;
  if (s <= 2 && (line.appName === 'app' || line.appName === 'heroku')) return fallback;
  return severityFromSyslog(s);
}

function translateApp(line: HerokuLine, ev: AppLogEvent, observed: number, out: TelemetryBatch, frame: FrameStatus | undefined, ctx: DrainContext): void {
  // A line that logs the router's request id joins the request's trace, unless it has its own.
  if (ev.traceId === undefined && ctx.requestIds !== undefined) {
    const requestId = requestIdOf(ev, ctx.requestIds);
    if (requestId !== undefined) {
      const ids = traceIdsOfRequest(requestId);
      ev.traceId = ids.traceId;
      ev.spanId = ids.spanId;
      ev.traceFlags = 1;
    }
  }
  const isAddon = line.procId.startsWith('heroku-');
  const kind = isAddon ? 'addon' : 'app';
  const eventName = isAddon ? E.EVENT_HEROKU_ADDON_LOG : E.EVENT_HEROKU_APP_LOG;
  // The app's own fields first, so that ours, set after, win on a clash.
  const fields = ev.fields;
  let attrs: Attributes;
  if (fields !== undefined) {
    attrs = {};
    for (const key in fields) attrs[key] = fields[key]!;
    Object.assign(attrs, envelopeAttributes(line, kind, frame));
  } else {
    attrs = envelopeAttributes(line, kind, frame);
  }
  if (isAddon) attrs['heroku.addon.service'] = line.procId;
  if (line.shape !== 'raw') attrs['heroku.log.format'] = ev.format;
  if (ev.error !== undefined) attrs['exception.message'] = ev.error;
  if (ev.errorType !== undefined) attrs['exception.type'] = ev.errorType;
  if (ev.errorStack !== undefined) attrs['exception.stacktrace'] = ev.errorStack;
  if (ev.source !== undefined) attrs['heroku.source'] = ev.source;
  if (ev.parseError !== undefined) {
    attrs['heroku.log.parse_error'] = line.shape === 'raw' ? `${RAW_PARSE_ERROR}; ${ev.parseError}` : ev.parseError;
  }

  let severity: Severity;
  if (ev.level !== undefined) {
    severity = severityFromName(ev.level) ?? lineSeverity(line, SEVERITY_INFO);
  } else if (line.shape === 'raw') {
    severity = SEVERITY_UNSPECIFIED;
  } else {
    severity = lineSeverity(line, SEVERITY_INFO);
  }
  const rec = record(line, observed, severity, line.shape === 'raw' ? line.original : ev.message, eventName, attrs);
  if (ev.traceId !== undefined && ev.spanId !== undefined) {
    rec.traceId = ev.traceId;
    rec.spanId = ev.spanId;
    rec.traceFlags = ev.traceFlags;
  }
  out.logs.push(rec);

  const measurements = ev.measurements;
  if (measurements === undefined) return;
  const mAttrs: Attributes = {};
  // Histograms per dyno type, not per dyno: 16 buckets times every dyno is the series explosion
  // the conventions warn of. An app that wants them per dyno says so with its own `source=`.
  const hAttrs: Attributes = {};
  // From the PROCID, not from attrs, where an app field of that name may stand when it is no dyno.
  const type = dynoType(line.procId);
  if (type !== undefined) {
    mAttrs['heroku.dyno.name'] = line.procId;
    hAttrs['heroku.dyno.type'] = type;
  }
  if (ev.source !== undefined) mAttrs['heroku.source'] = hAttrs['heroku.source'] = ev.source;
  const time = pointTime(line, observed);
  for (const m of measurements) {
    if (m.type === 'unique') {
      attrs[A.ATTR_HEROKU_L2MET_UNIQUE_PREFIX + m.name] = m.raw;
      continue;
    }
    if (!Number.isFinite(m.value)) continue; // not a number: the record keeps the text
    const base = toBaseUnit(m.unit);
    const value = base.factor === 1 ? m.value : m.value * base.factor;
    if (m.type === 'count') out.metrics.push(point(m.name, base.unit, 'sum', value, time, mAttrs, undefined));
    else if (m.type === 'measure')
      out.metrics.push(point(m.name, base.unit, 'histogram', value, time, hAttrs, base.unit === 's' ? HTTP_DURATION_BUCKETS : DEFAULT_BUCKETS));
    else out.metrics.push(point(m.name, base.unit, 'gauge', value, time, mAttrs, undefined));
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Appends the line's log record (exactly one) and its metric points to `out`, and a router
 * request's span when `out.spans` is set (see spans.ts). `frameStatus` is the octet framing's
 * verdict, when the line came in a frame; `context` the drain's state (its route templates, its
 * request-id keys: see drain-context.ts), one per drain.
 */
export function translateEvent(
  line: HerokuLine,
  event: HerokuEvent,
  observedUnixMicros: number,
  out: TelemetryBatch,
  frameStatus?: FrameStatus,
  context: DrainContext = STATELESS_CONTEXT,
): void {
  switch (event.kind) {
    case 'router':
      return translateRouter(line, event, observedUnixMicros, out, frameStatus, context);
    case 'runtime':
      return translateRuntime(line, event, observedUnixMicros, out, frameStatus);
    case 'addon':
      return event.type === 'sample'
        ? translateAddonSample(line, event, observedUnixMicros, out, frameStatus)
        : translatePostgresLog(line, event, observedUnixMicros, out, frameStatus);
    case 'platform':
      return translatePlatform(line, event, observedUnixMicros, out, frameStatus);
    case 'api':
      return translateApi(line, event, observedUnixMicros, out, frameStatus);
    case 'app':
      return translateApp(line, event, observedUnixMicros, out, frameStatus, context);
  }
}

// ---------------------------------------------------------------------------------------------
// The last line of defence

/** What translateLineSafely saw, for a receiver's counters: add to it line after line. */
export interface LineTally {
  /** Lines whose handling threw (a bug of ours, caught), each kept as one unparsed record. */
  lineErrors: number;
  /** App lines that looked like JSON but were kept as text: too deep or too long to read. */
  jsonKeptAsText: number;
}

/**
 * Interprets and translates one line (exactly one log record, and its metric points) and never
 * throws: should the handling of a line throw, what it had appended is taken back and the line is
 * kept as one record with its text unparsed (see unparsedRecord), so that one line cannot take a
 * request, a connection or the process down with it. Returns true when that happened. One
 * try/catch per line costs nothing measurable in V8.
 */
/**
 * The router event translateLineSafely parses each router line into: translation is done with
 * it before the next line, and router lines are most lines.
 */
const routerScratch = emptyRouterEvent();

export function translateLineSafely(
  line: HerokuLine,
  observedUnixMicros: number,
  out: TelemetryBatch,
  frameStatus?: FrameStatus,
  tally?: LineTally,
  context: DrainContext = STATELESS_CONTEXT,
): boolean {
  const logs = out.logs.length;
  const metrics = out.metrics.length;
  const spans = out.spans?.length ?? 0;
  try {
    const event = interpretLine(line, routerScratch);
    if (tally !== undefined && event.kind === 'app' && event.parseError !== undefined) tally.jsonKeptAsText++;
    translateEvent(line, event, observedUnixMicros, out, frameStatus, context);
    return false;
  } catch (error) {
    out.logs.length = logs;
    out.metrics.length = metrics;
    if (out.spans !== undefined) out.spans.length = spans;
    out.logs.push(unparsedRecord(line, observedUnixMicros, frameStatus, error));
    if (tally !== undefined) tally.lineErrors++;
    return true;
  }
}

/**
 * A line whose handling threw, from what was read before any parsing: the message text as body
 * (the header, which holds a syslog drain's token, only through the envelope attributes, which
 * fingerprint it), and the error's type, never its message (a message may quote the line).
 */
function unparsedRecord(line: HerokuLine, observedUnixMicros: number, frameStatus: FrameStatus | undefined, error: unknown): LogRecordData {
  const reason = `${error instanceof Error ? error.name : typeof error} while reading the line: kept unparsed`;
  let attrs: Attributes;
  let severity = SEVERITY_UNSPECIFIED;
  try {
    attrs = envelopeAttributes(line, 'app', frameStatus);
    if (line.severity >= 0) severity = severityFromSyslog(line.severity);
  } catch {
    attrs = { 'heroku.log.kind': 'app' };
  }
  attrs['heroku.log.parse_error'] = reason;
  return {
    timeUnixMicros: otlpTime(line.timeUnixMicros, 0),
    observedUnixMicros,
    severityNumber: severity.number,
    severityText: severity.text,
    body: typeof line.text === 'string' ? line.text : '',
    eventName: E.EVENT_HEROKU_APP_LOG,
    attributes: attrs,
    traceId: undefined,
    spanId: undefined,
    traceFlags: 0,
  };
}
