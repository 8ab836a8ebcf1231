/**
 * The same work done the obvious way, as a first version usually is: the body decoded and split on
 * newlines, a regex for the frame and one for the header, a regex per field, `split` for lists,
 * `Date.parse` for timestamps, and `JSON.parse(JSON.stringify(...))` to copy attributes.
 *
 * It extracts the same fields and emits the same records, attributes and metric points as
 * `src/` (run.ts checks this before timing), so the ratio compares ways of working, not amounts of
 * work. Shared lookup tables (severities, units, error codes, semconv names) are reused as is: they
 * are data, not method. Everything else (which keys mean what, which words are levels, how a host,
 * a path or an address is cut) is written again here with regexes, `split` and `includes`.
 */
import { createHash } from 'node:crypto';
import * as A from '../src/semconv/attributes.ts';
import * as E from '../src/semconv/events.ts';
import * as M from '../src/semconv/metrics.ts';
import { LEVEL_WORDS } from '../src/heroku/app.ts';
import { ERROR_CODE_DESCRIPTIONS } from '../src/heroku/codes.ts';
import {
  SEVERITY_ERROR,
  SEVERITY_INFO,
  SEVERITY_UNSPECIFIED,
  SEVERITY_WARN,
  severityFromName,
  severityFromSyslog,
  type Severity,
} from '../src/translate/severity.ts';
import { toBaseUnit } from '../src/translate/units.ts';
import type { Attributes, LogRecordData, TelemetryBatch } from '../src/translate/telemetry.ts';
import { API_EVENT_NAMES, HTTP_DURATION_BUCKETS, DEFAULT_BUCKETS, PLATFORM_EVENT_NAMES } from '../src/translate/translate.ts';
import type { Body } from './mix.ts';
import type { Scenario } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Framing and header

export interface NaiveLine {
  shape: 'logplex' | 'syslog' | 'raw';
  facility: number;
  severity: number;
  timestamp: string;
  timeUnixMicros: number;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  text: string;
  original: string;
}

const FRAME_RE = /^(\d+) (<\d+>[^]*)$/;
const HEADER_RE = /^<(\d{1,3})>(\d{1,3}) (\S+) (\S+) (\S+) (\S+) (\S+)(?: ([^]*))?$/;
/** A syslog drain's NILVALUE STRUCTURED-DATA, `- ` before the text. */
const NIL_SD_RE = /^-(?: ([^]*))?$/;
/** `[id key="value" ...]...` then a space or the end: a syslog drain's STRUCTURED-DATA. */
const SD_RE = /^((?:\[[\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]+(?: [\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]+="(?:[^"\\]|\\[^])*")+\])+)(?: ([^]*))?$/;

/** The frames of a body: decode it all, split on newlines, drop the blank ones. */
export function naiveFrames(body: Buffer): string[] {
  return body
    .toString('utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

export function naiveTimestamp(ts: string): number {
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return NaN;
  const frac = /\.(\d+)/.exec(ts);
  const micros = frac ? Number(frac[1]!.slice(0, 6).padEnd(6, '0')) : 0;
  return Math.floor(ms / 1000) * 1_000_000 + micros;
}

export function naiveHeader(frame: string): NaiveLine | null {
  const f = FRAME_RE.exec(frame);
  const msg = f ? f[2]! : frame;
  const m = HEADER_RE.exec(msg);
  if (!m) return null;
  const pri = parseInt(m[1]!, 10);
  if (pri > 191) return null;
  let hostname = m[4]!;
  let appName = m[5]!;
  let procId = m[6]!;
  const shape = hostname === 'host' ? 'logplex' : 'syslog';
  let text = m[8] ?? '';
  let structuredData = '';
  if (shape === 'syslog') {
    const nil = NIL_SD_RE.exec(text);
    const sd = nil ? null : SD_RE.exec(text);
    if (nil) text = nil[1] ?? '';
    else if (sd) {
      structuredData = sd[1]!;
      text = sd[2] ?? '';
    }
  }
  if (hostname === '-') hostname = '';
  // The labs-era HTTPS drains' order: `heroku web.3 d.<token>` in HOSTNAME, APP-NAME, PROCID.
  if (/^d\..*-/.test(procId) && /^.+\./.test(appName)) [hostname, appName, procId] = [procId, hostname, appName];
  // A NILVALUE STRUCTURED-DATA on an HTTPS frame of what Heroku writes.
  if (shape === 'logplex' && /^- /.test(text) && (appName === 'heroku' || /^(?:api$|heroku-|postgres)/.test(procId))) text = text.slice(2);
  return {
    shape,
    facility: pri >> 3,
    severity: pri & 7,
    timestamp: m[3] === '-' ? '' : m[3]!,
    timeUnixMicros: naiveTimestamp(m[3]!),
    hostname,
    appName,
    procId,
    msgId: m[7] === '-' ? '' : m[7]!,
    structuredData,
    text,
    original: msg,
  };
}

// ---------------------------------------------------------------------------------------------
// Router: one regex per field

const ROUTER_KEYS = ['at', 'code', 'desc', 'method', 'path', 'host', 'request_id', 'fwd', 'dyno', 'connect', 'service', 'status', 'bytes', 'protocol', 'tls_version', 'sock'];
const ROUTER_RE: Record<string, RegExp> = {};
for (const k of ROUTER_KEYS) ROUTER_RE[k] = new RegExp(`(?:^|[\\x00-\\x20])${k}=(?:"((?:[^"\\\\]+|\\\\[^])*)"?|([^ ]*))`);
/** Any logfmt pair or bare word: `key=value`, `key="quoted \" value"`, `bare`. */
const PAIR_RE = /([^\x00-\x20=]+)(?:=(?:"((?:[^"\\]+|\\[^])*)"?|([^ ]*)))?/g;

/** A quoted value's backslash escapes. */
function unescapeValue(raw: string): string {
  return raw.replace(/\\([^])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** An unquoted value without a line end's control characters or a quote that closes nothing. */
function cleanValue(raw: string): string {
  return /["\x00-\x1f]$/.test(raw) ? raw.replace(/[\x00-\x1f]+$/, '').replace(/^([^]+)"$/, '$1') : raw;
}

function pairValue(quoted: string | undefined, bare: string | undefined, raw = false): string {
  if (quoted !== undefined) return raw ? quoted : unescapeValue(quoted);
  return cleanValue(bare ?? '');
}

function field(key: string, text: string, raw = false): string | undefined {
  const m = ROUTER_RE[key]!.exec(text);
  if (!m) return undefined;
  const v = pairValue(m[1], m[2], raw);
  return v === '' ? undefined : v;
}

/** A router number: leading digits, a fraction if one follows, the unit after them ignored. */
function num(v: string | undefined): number {
  const m = v === undefined ? null : /^\d+(?:\.\d*(?:[eE][-+]?\d+)?)?/.exec(v);
  return m ? Number(m[0]) : NaN;
}

export interface NaiveRouter {
  kind: 'router';
  at: string;
  code?: string;
  desc?: string;
  method?: string;
  path?: string;
  query?: string;
  host?: string;
  requestId?: string;
  fwd: string[];
  dyno?: string;
  connectMs: number;
  serviceMs: number;
  status: number;
  bytes: number;
  protocol?: string;
  tlsVersion?: string;
  sock?: string;
  extra?: Record<string, string>;
}

/** `[2001:db8::1]:443` to `2001:db8::1`, `203.0.113.9:51234` to `203.0.113.9`. */
function naiveBareAddress(a: string): string {
  const v6 = /^\[([^\]]*)/.exec(a);
  if (v6) return v6[1]!;
  return a.replace(/^([^:]+):[^:]*$/, '$1');
}

/** The documented trace ids of a request id, written the plain way: a UUID's hex digits and its halves XORed, else SHA-256. */
function naiveTraceIds(requestId: string): { traceId: string; spanId: string } {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requestId) ? requestId.replace(/-/g, '').toLowerCase() : undefined;
  const half = uuid === undefined ? '' : Array.from({ length: 16 }, (_, i) => (parseInt(uuid[i]!, 16) ^ parseInt(uuid[i + 16]!, 16)).toString(16)).join('');
  if (uuid !== undefined && /[1-9a-f]/.test(half)) return { traceId: uuid, spanId: half };
  const h = createHash('sha256').update(`heroku-request-id:${requestId}`).digest('hex');
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48) };
}

export function naiveRouter(text: string): NaiveRouter {
  const full = field('path', text);
  let path: string | undefined;
  let query: string | undefined;
  if (full !== undefined) {
    const parts = full.split('?');
    path = parts[0];
    if (parts.length > 1) query = parts.slice(1).join('?');
  }
  const fwd = field('fwd', text, true);
  const ev: NaiveRouter = {
    kind: 'router',
    at: field('at', text) ?? '',
    code: field('code', text),
    desc: field('desc', text),
    method: field('method', text),
    path,
    query,
    host: field('host', text),
    requestId: field('request_id', text),
    fwd: fwd
      ? fwd
          .split(/[\x00-\x20,"\\]+/)
          .filter((a) => a !== '')
          .map(naiveBareAddress)
      : [],
    dyno: field('dyno', text),
    connectMs: num(field('connect', text)),
    serviceMs: num(field('service', text)),
    status: num(field('status', text)),
    bytes: num(field('bytes', text)),
    protocol: field('protocol', text),
    tlsVersion: field('tls_version', text),
    sock: field('sock', text),
  };
  for (const m of text.matchAll(PAIR_RE)) {
    const bare = m[2] === undefined && m[3] === undefined;
    if (bare) (ev.extra ??= {})[m[1]!] = '';
    else if (!ROUTER_KEYS.includes(m[1]!)) (ev.extra ??= {})[m[1]!] = pairValue(m[2], m[3]);
  }
  return ev;
}

/** The pre-2012 shape: `Error H10 (App crashed) -> GET crasher.heroku.com/ dyno=none ...`. */
export function naiveLegacyRouter(text: string): NaiveRouter {
  const [head, ...tail] = text.split(' -> ');
  let rest = tail.join(' -> ');
  const words: string[] = [];
  while (words.length < 2) {
    const w = /^ *([^ ]*)/.exec(rest)!;
    if (w[1] === '' || /^[^/]*=/.test(w[1]!)) break;
    words.push(w[1]!);
    rest = rest.slice(w[0].length);
  }
  const ev = naiveRouter(rest);
  if (!/(?:^|[\x00-\x20])at=/.test(rest)) ev.at = 'error';
  ev.code ??= text.slice(6, 9);
  ev.desc ??= /\((.*)\)/.exec(head!)?.[1];
  ev.method ??= words[0];
  const url = words[1] === undefined ? null : /^([^/]*)(?:(\/[^?]*)(?:\?(.*))?)?$/.exec(words[1]);
  if (url) {
    ev.host ??= url[1] || undefined;
    ev.path ??= url[2];
    ev.query ??= url[3];
  }
  if (ev.dyno === 'none') ev.dyno = undefined;
  return ev;
}

// ---------------------------------------------------------------------------------------------
// Samples

interface NaiveSample {
  key: string;
  value: number;
  unit: string;
}

export interface NaiveSamples {
  kind: 'runtime' | 'addon';
  service?: string;
  source?: string;
  dyno?: string;
  addon?: string;
  samples: NaiveSample[];
  extra?: Record<string, string>;
}

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?';
const SAMPLE_RE = new RegExp(`(?:^|\\s)sample#([^\\s=]+)=(${NUMBER})(\\S*)`, 'g');
const NUMBER_PREFIX_RE = new RegExp(`^(${NUMBER})([^]*)$`);

function naiveSamples(kind: 'runtime' | 'addon', text: string, service?: string): NaiveSamples {
  const ev: NaiveSamples = {
    kind,
    service,
    source: /(?:^|\s)source=(\S+)/.exec(text)?.[1],
    dyno: /(?:^|\s)dyno=(\S+)/.exec(text)?.[1],
    addon: /(?:^|\s)addon=(\S+)/.exec(text)?.[1],
    samples: [...text.matchAll(SAMPLE_RE)].map((m) => ({
      key: m[1]!,
      value: parseFloat(m[2]!),
      unit: m[3]!,
    })),
  };
  for (const m of text.matchAll(PAIR_RE)) {
    const k = m[1]!;
    const v = pairValue(m[2], m[3]);
    if (/^sample#./.test(k) && NUMBER_PREFIX_RE.test(v)) continue;
    if (k === 'source' || k === 'addon' || (k === 'dyno' && kind === 'runtime')) continue;
    (ev.extra ??= {})[k] = v;
  }
  return ev;
}

// ---------------------------------------------------------------------------------------------
// App output

export interface NaiveApp {
  kind: 'app';
  format: 'plain' | 'logfmt' | 'json' | 'l2met';
  level?: string;
  message: string;
  error?: string;
  errorType?: string;
  errorStack?: string;
  traceId?: string;
  spanId?: string;
  traceFlags: number;
  fields?: Record<string, string | number | boolean>;
  measurements?: { type: string; name: string; value: number; unit: string; raw: string }[];
  source?: string;
}

const LEVEL_KEYS = ['level', 'lvl', 'severity', 'loglevel', 'log_level', 'levelname', 'log.level', 'severity_text', '@l', 'LogLevel', 'Level'];
const MESSAGE_KEYS = ['message', 'msg', '@m', 'Message'];
const FALLBACK_MESSAGE_KEYS = ['event', '@mt', 'MessageTemplate'];
const ERROR_KEYS = ['error', 'err', 'exception', 'Exception'];
const STACK_KEYS = ['stack', 'stacktrace', 'stack_trace', 'exc_info', '@x'];
const TRACE_ID_KEYS = ['trace_id', 'traceId', 'traceid', 'trace.id', 'otelTraceID', 'TraceId'];
const SPAN_ID_KEYS = ['span_id', 'spanId', 'spanid', 'span.id', 'otelSpanID', 'SpanId', 'logging.googleapis.com/spanId'];
const TRACE_FLAGS_KEYS = ['trace_flags', 'traceFlags', 'otelTraceSampled'];
const NUMERIC_LEVELS: [number, string][] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
];

/** A level as loggers write it (any case, colour escapes, slog's `INFO+2`) to a level word. */
function naiveLevel(raw: string): string | undefined {
  const lower = raw.toLowerCase();
  if (LEVEL_WORDS[lower] !== undefined) return LEVEL_WORDS[lower];
  const bare = lower
    .replace(/^\x1b[^]*/, (s) => s.replace(/\x1b\[[0-9;]*m/g, ''))
    .replace(/(?<=.)[+-]\d+$/, '')
    .trim();
  return LEVEL_WORDS[bare];
}

const HEX32_RE = /^(?!0+$)[0-9a-f]{32}$/i;
const HEX16_RE = /^(?!0+$)[0-9a-f]{16}$/i;

/** 32 hex digits, or GCP's `projects/p/traces/<hex>`. */
function naiveTraceId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(?:.*\/traces\/)?((?!0+$)[0-9a-f]{32})$/i.exec(value);
  return m ? m[1]!.toLowerCase() : undefined;
}

function naiveSpanId(value: unknown): string | undefined {
  return typeof value === 'string' && HEX16_RE.test(value) ? value.toLowerCase() : undefined;
}

/** Datadog's decimal 64-bit ids, to hex. */
function naiveDecimalId(value: unknown, length: number): string | undefined {
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d{1,20}$/.test(String(value))) return undefined;
  const n = BigInt(String(value));
  return n === 0n || n >= 1n << 64n ? undefined : n.toString(16).padStart(length, '0');
}

function naiveJson(text: string): NaiveApp | null {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const ev: NaiveApp = { kind: 'app', format: 'json', message: text, traceFlags: 0 };
  let message: string | undefined;
  let fallback: [string, string] | undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (value === null || value === undefined) continue;
    if (ev.level === undefined && LEVEL_KEYS.includes(key) && (typeof value === 'string' || typeof value === 'number')) {
      ev.level = typeof value === 'number' ? (NUMERIC_LEVELS.find(([n]) => value >= n)?.[1] ?? 'trace') : (naiveLevel(value) ?? value.toLowerCase());
      continue;
    }
    if (ev.level === undefined && key === 'status' && typeof value === 'string' && naiveLevel(value) !== undefined) {
      ev.level = naiveLevel(value);
      continue;
    }
    if (MESSAGE_KEYS.includes(key) && message === undefined && typeof value === 'string') {
      message = value;
      continue;
    }
    if (FALLBACK_MESSAGE_KEYS.includes(key) && fallback === undefined && typeof value === 'string') fallback = [key, value];
    if (ERROR_KEYS.includes(key) && ev.error === undefined && ev.errorStack === undefined) {
      if (typeof value === 'object' && !Array.isArray(value)) {
        const o = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
        if (typeof o.message === 'string') ev.error = o.message;
        ev.errorType = typeof o.type === 'string' ? o.type : typeof o.name === 'string' ? o.name : undefined;
        if (typeof o.stack === 'string') ev.errorStack = o.stack;
        if (ev.error === undefined && ev.errorStack === undefined) ev.error = JSON.stringify(value);
      } else {
        ev.error = typeof value === 'string' ? value : JSON.stringify(value);
      }
      continue;
    }
    if (STACK_KEYS.includes(key) && ev.errorStack === undefined && typeof value === 'string') {
      ev.errorStack = value;
      continue;
    }
    if ((TRACE_ID_KEYS.includes(key) || key === 'logging.googleapis.com/trace') && naiveTraceId(value) !== undefined) {
      ev.traceId = naiveTraceId(value);
      continue;
    }
    if (SPAN_ID_KEYS.includes(key) && naiveSpanId(value) !== undefined) {
      ev.spanId = naiveSpanId(value);
      continue;
    }
    if (key === 'dd.trace_id' && naiveDecimalId(value, 32) !== undefined) {
      ev.traceId = naiveDecimalId(value, 32);
      continue;
    }
    if (key === 'dd.span_id' && naiveDecimalId(value, 16) !== undefined) {
      ev.spanId = naiveDecimalId(value, 16);
      continue;
    }
    if (TRACE_FLAGS_KEYS.includes(key) && ['number', 'string', 'boolean'].includes(typeof value)) {
      ev.traceFlags = value === true || value === 'true' ? 1 : Number(value) & 0xff || 0;
      continue;
    }
    if (key === 'traceparent' && typeof value === 'string') {
      const p = value.split('-');
      if (p.length >= 4 && HEX32_RE.test(p[1]!) && HEX16_RE.test(p[2]!)) {
        ev.traceId = p[1]!.toLowerCase();
        ev.spanId = p[2]!.toLowerCase();
        ev.traceFlags = parseInt(p[3]!, 16) & 0xff || 0;
        continue;
      }
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      const o = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
      const only = Object.keys(o).length === 1;
      if (key === 'dd' && naiveDecimalId(o.trace_id, 32) !== undefined && naiveDecimalId(o.span_id, 16) !== undefined) {
        ev.traceId = naiveDecimalId(o.trace_id, 32);
        ev.spanId = naiveDecimalId(o.span_id, 16);
        continue;
      }
      if (key === 'trace' && only && naiveTraceId(o.id) !== undefined) {
        ev.traceId = naiveTraceId(o.id);
        continue;
      }
      if (key === 'span' && only && naiveSpanId(o.id) !== undefined) {
        ev.spanId = naiveSpanId(o.id);
        continue;
      }
    }
    (ev.fields ??= {})[key] = typeof value === 'object' ? JSON.stringify(value) : (value as string | number | boolean);
  }
  if (message === undefined && fallback !== undefined) {
    message = fallback[1];
    delete ev.fields![fallback[0]];
  }
  if (message !== undefined) ev.message = message;
  if (ev.traceId === undefined || ev.spanId === undefined) ev.traceId = ev.spanId = undefined;
  return ev;
}

function naiveLogfmt(text: string): NaiveApp {
  const ev: NaiveApp = { kind: 'app', format: 'logfmt', message: text, traceFlags: 0 };
  let message: string | undefined;
  for (const m of text.matchAll(PAIR_RE)) {
    const key = m[1]!;
    if (m[2] === undefined && m[3] === undefined) {
      // A bare `count#hits` is `count#hits=1`; other bare words are prose.
      const c = /^count#(.+)$/.exec(key);
      if (c) (ev.measurements ??= []).push({ type: 'count', name: c[1]!, value: 1, unit: '', raw: '' });
      continue;
    }
    const value = pairValue(m[2], m[3]);
    const l2 = /^(count|measure|sample|unique)#(.+)$/.exec(key);
    if (l2) {
      const n = NUMBER_PREFIX_RE.exec(value);
      const type = l2[1]!;
      (ev.measurements ??= []).push({
        type,
        name: l2[2]!,
        value: type === 'unique' ? NaN : n ? Number(n[1]!) : type === 'count' && value === '' ? 1 : NaN,
        unit: type === 'unique' ? '' : n ? n[2]! : value,
        raw: value,
      });
    } else if (ev.level === undefined && (LEVEL_KEYS.includes(key) || key === 'at')) {
      ev.level = naiveLevel(value) ?? value.toLowerCase();
    } else if (message === undefined && MESSAGE_KEYS.includes(key)) {
      message = value;
    } else if (ev.error === undefined && ERROR_KEYS.includes(key)) {
      ev.error = value;
    } else if (TRACE_ID_KEYS.includes(key) && HEX32_RE.test(value)) {
      ev.traceId = value.toLowerCase();
    } else if (key === 'dd.trace_id' && naiveDecimalId(value, 32) !== undefined) {
      ev.traceId = naiveDecimalId(value, 32);
    } else if (key === 'dd.span_id' && naiveDecimalId(value, 16) !== undefined) {
      ev.spanId = naiveDecimalId(value, 16);
    } else if (SPAN_ID_KEYS.includes(key) && HEX16_RE.test(value)) {
      ev.spanId = value.toLowerCase();
    } else if (key === 'source' && ev.source === undefined) {
      ev.source = value;
    } else {
      (ev.fields ??= {})[key] = value;
    }
  }
  if (ev.measurements) ev.format = 'l2met';
  if (message !== undefined) ev.message = message;
  if (ev.traceId === undefined || ev.spanId === undefined) ev.traceId = ev.spanId = undefined;
  return ev;
}

const PLAIN_LEVELS: Record<string, string> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  NOTICE: 'notice',
  WARN: 'warn',
  WARNING: 'warn',
  ERROR: 'error',
  ERR: 'error',
  CRITICAL: 'critical',
  CRIT: 'critical',
  FATAL: 'fatal',
  PANIC: 'fatal',
  EMERGENCY: 'fatal',
  ALERT: 'fatal',
};
const TITLE_LEVELS: Record<string, string> = { 'Error:': 'error', 'Warning:': 'warn', 'Warn:': 'warn', 'Fatal:': 'fatal', 'Info:': 'info', 'Debug:': 'debug', 'panic: ': 'fatal' };

/**
 * The level a plain line states: Ruby's Logger, `Error:`, or an upper-case (or bracketed) level
 * word among the first eight words, before the prose starts.
 */
function naivePlainLevel(text: string): string | undefined {
  const ruby = /^([DIWEF]), \[/.exec(text);
  if (ruby) return { D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal' }[ruby[1]!];
  const titled = /^(?:Error:|Warning:|Warn:|Fatal:|Info:|Debug:|panic: )/.exec(text);
  if (titled) return TITLE_LEVELS[titled[0]];
  const words = text
    .slice(0, 160)
    .split(/ +/)
    .filter((w) => w !== '')
    .slice(0, 8);
  for (const word of words) {
    const [, bracket, letters, rest] = /^([[(]?)([A-Za-z]*)([^]*)$/.exec(word)!;
    const bracketed = bracket !== '';
    if (letters!.length < 3 || letters!.length > 9 || !/^(?:$|[:\])|,])/.test(rest!)) {
      // Letters then something else (`pid=4`, `12:00:00`): a prefix, read on.
      if (!bracketed && rest === '' && letters !== '') return undefined;
      continue;
    }
    const level = letters === letters!.toUpperCase() || bracketed ? PLAIN_LEVELS[letters!.toUpperCase()] : undefined;
    if (level !== undefined) return level;
    // A plain word that is no level starts the prose.
    if (!bracketed && rest === '') return undefined;
  }
  return undefined;
}

export function naiveApp(text: string): NaiveApp {
  const trimmed = text.trim();
  if (/^\{[^]*\}$/.test(trimmed)) {
    const ev = naiveJson(trimmed);
    if (ev) return ev;
  }
  if (/^[\w.\-#/]+=/.test(text)) return naiveLogfmt(text);
  return { kind: 'app', format: 'plain', message: text, traceFlags: 0, level: naivePlainLevel(text) };
}

// ---------------------------------------------------------------------------------------------
// Platform, API, Postgres

export interface NaivePlatform {
  kind: 'platform';
  type: string;
  code?: string;
  desc?: string;
  detail?: string;
  fromState?: string;
  toState?: string;
  exitStatus?: number;
  command?: string;
  user?: string;
  signal?: string;
  memoryBytes?: number;
  memoryPercent?: number;
  droppedMessages?: number;
}

const UNIT_BYTES: Record<string, number> = { '': 1, B: 1, BYTES: 1, K: 1024, KB: 1024, M: 1048576, MB: 1048576, G: 1073741824, GB: 1073741824 };

function commandAndUser(rest: string): { command: string; user?: string } {
  const m = /^(.*) by user (.*)$/.exec(rest);
  return { command: (m ? m[1]! : rest).trim().replace(/^`(.*)`$/, '$1'), user: m?.[2]!.trim() || undefined };
}

export function naivePlatform(text: string): NaivePlatform {
  let m = /^(?:Error )?([RHL]\d\d)(?=$| |:) *(?:\(([^)]*)\))?(?:\s*(?:->|:|-)?\s*(.*))?$/.exec(text);
  if (m) {
    const detail = m[3]?.trim();
    const ev: NaivePlatform = { kind: 'platform', type: 'error', code: m[1], desc: m[2], detail: detail || undefined };
    const d = /(\d+) messages? (?:dropped|lost)|dropped (\d+) messages?/.exec(detail ?? '');
    if (m[1]!.startsWith('L') && d) ev.droppedMessages = Number(d[1] ?? d[2]);
    return ev;
  }
  if ((m = /^State changed from (.*?)(?: to (.*))?$/.exec(text))) return { kind: 'platform', type: 'state_change', fromState: m[1]!.trim(), toState: m[2]?.trim() };
  if ((m = /^Process exited(?: with status \s*([-+]?\d+))?/.exec(text))) return { kind: 'platform', type: 'process_exit', exitStatus: m[1] === undefined ? undefined : parseInt(m[1], 10) };
  if ((m = /^Starting process with command:?(.*)$/.exec(text))) return { kind: 'platform', type: 'process_start', ...commandAndUser(m[1]!) };
  if (/^Stopping /.test(text)) return { kind: 'platform', type: 'process_stop', signal: /.* with (.*)$/.exec(text)?.[1]!.trim().replace(/\.$/, '') };
  if (/Sending SIGHUP/.test(text)) return { kind: 'platform', type: 'process_stop', signal: 'SIGHUP' };
  if ((m = /^Process running mem=([\d.]*)([A-Za-z]*)(?:[^(]*\(([^%]*)%)?/.exec(text))) {
    return {
      kind: 'platform',
      type: 'memory',
      memoryBytes: Number(m[1]) * (UNIT_BYTES[m[2]!.toUpperCase()] ?? NaN),
      memoryPercent: m[3] === undefined ? undefined : Number(m[3]),
    };
  }
  if (/^\s*(?:Cycling|Restarting)(?: |\s*$)/.test(text)) return { kind: 'platform', type: 'restart' };
  if (/^\s*Idling(?: |\s*$)/.test(text)) return { kind: 'platform', type: 'idle' };
  if (/^\s*Unidling(?: |\s*$)/.test(text)) return { kind: 'platform', type: 'unidle' };
  return { kind: 'platform', type: 'other' };
}

export interface NaiveApi {
  kind: 'api';
  type: string;
  action?: string;
  user?: string;
  release?: string;
  commit?: string;
  command?: string;
  configVars?: string[];
  formation?: string[];
  addon?: string;
}

const ADDON_VERBS = ['attach', 'detach', 'update', 'provision', 'deprovision', 'destroy', 'create', 'add', 'remove', 'promote'];

export function naiveApi(text: string): NaiveApi {
  const t = text.trim();
  let m = /^Starting process with command (.*)$/.exec(t);
  if (m) return { kind: 'api', type: 'command', action: 'run', ...commandAndUser(m[1]!) };
  const byUser = /^(.*) by user (.*)$/.exec(t);
  const by = byUser ? null : /^(.*) by ([^ ]+)$/.exec(t);
  const head = byUser ? byUser[1]! : by ? by[1]! : t;
  const user = byUser ? byUser[2]!.trim() || undefined : by?.[2];
  const [first, ...words] = head.split(' ');
  const verb = first!.toLowerCase();
  const rest = words.join(' ').trim();
  const firstWord = rest.split(' ')[0]!;
  if (verb === 'release' && /^v\d+/.test(rest)) return { kind: 'api', type: 'release', action: / failed/.test(rest) ? 'failed' : 'create', user, release: firstWord };
  if (head === 'Initial release') return { kind: 'api', type: 'release', action: 'create', user };
  if (verb === 'running' && /^release v/.test(rest)) return { kind: 'api', type: 'other', action: verb, user, release: rest.slice(8).split(' ')[0] };
  if (/^@ref:/.test(verb)) return { kind: 'api', type: 'addon_change', action: /provisioning/.test(rest) ? 'provision' : firstWord, user, addon: first!.slice(5) };
  if (verb === 'deploy') return { kind: 'api', type: 'deploy', action: 'deploy', user, commit: rest ? firstWord : undefined };
  if (verb === 'rollback') return { kind: 'api', type: 'rollback', action: 'rollback', user, release: /v\d+/.exec(rest)?.[0] };
  if ((m = /^(set|remove|unset|add) (.*) config vars?$/.exec(`${verb} ${rest}`))) {
    return { kind: 'api', type: 'config_change', action: verb, user, configVars: m[2]!.split(/,\s*|\s+and\s+/).map((s) => s.trim()).filter(Boolean) };
  }
  if (verb === 'scaled' || verb === 'scale') return { kind: 'api', type: 'scale', action: 'scale', user, formation: rest.replace(/^to\s+/, '').split(/[\s,]+/).filter(Boolean) };
  if (/maintenance mode/i.test(head)) return { kind: 'api', type: 'maintenance', action: verb, user };
  if (verb === 'build') return { kind: 'api', type: 'build', action: firstWord.toLowerCase() || 'build', user };
  if (ADDON_VERBS.includes(verb) && rest) return { kind: 'api', type: 'addon_change', action: verb, user, addon: /@ref:([^\s)]+)/.exec(rest)?.[1] ?? firstWord };
  return { kind: 'api', type: 'other', action: verb || undefined, user };
}

export interface NaivePostgres {
  kind: 'postgres';
  source?: string;
  lineId?: string;
  sqlErrorCode?: string;
  level?: string;
  message: string;
  fields?: Record<string, string>;
}

const PG_LEVEL_RE = /^(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):[ \t]*([^]*)$/;
const PG_PAIR = '([^ =:]+)[ \\t]*=[ \\t]*(?:"([^"]*)"?|([^ ]*))';
const PG_PAIRS_RE = new RegExp(`^((?:${PG_PAIR.replace(/\((?!\?)/g, '(?:')}[ \\t]*)*)([^]*)$`);
const PG_PAIR_RE = new RegExp(PG_PAIR, 'g');

export function naivePostgres(text: string): NaivePostgres {
  const ev: NaivePostgres = { kind: 'postgres', message: text };
  // `[DATABASE] [9-1]`, or `[15521-1] [CHARCOAL]`.
  let rest = text.replace(/^[ \t]*/, '');
  for (let group = 0; group < 2; group++) {
    const b = /^\[([^\]]*)\][ \t]*/.exec(rest);
    if (!b) break;
    if (ev.lineId === undefined && /^\d+-\d+$/.test(b[1]!)) ev.lineId = b[1];
    else if (ev.source === undefined) ev.source = b[1];
    else break;
    rest = rest.slice(b[0].length);
  }
  // `sql_error_code = X key="value" ... LEVEL:  message`; a line not opening so is all message.
  if (/^sql_error_code/.test(rest)) {
    const p = PG_PAIRS_RE.exec(rest)!;
    for (const pair of p[1]!.matchAll(PG_PAIR_RE)) {
      const value = pair[2] ?? pair[3]!;
      if (pair[1] === 'sql_error_code') ev.sqlErrorCode = value;
      else (ev.fields ??= {})[pair[1]!] = value;
    }
    rest = p[2]!;
  }
  const lv = PG_LEVEL_RE.exec(rest);
  ev.level = lv?.[1];
  ev.message = lv ? lv[2]! : rest;
  return ev;
}

export type NaiveEvent = NaiveRouter | NaiveSamples | NaiveApp | NaivePlatform | NaiveApi | NaivePostgres;

export function naiveInterpret(line: NaiveLine): NaiveEvent {
  const { appName, procId, text } = line;
  if (appName === 'heroku' || appName === 'app') {
    if (procId === 'api') return naiveApi(text);
    if (/^heroku-/.test(procId) && /sample#/.test(text)) return naiveSamples('addon', text, procId);
    if (procId === 'logplex' || procId === 'log-shuttle') return naivePlatform(text);
  }
  if (appName === 'heroku') {
    if (procId === 'router' && /^at=| at=/.test(text)) return naiveRouter(text);
    if (procId === 'router' && /^Error H.* -> /.test(text)) return naiveLegacyRouter(text);
    if (/^source=.*sample#/.test(text)) return naiveSamples('runtime', text);
    return naivePlatform(text);
  }
  if (appName === 'app' && /^postgres(\.|$)/.test(procId)) return naivePostgres(text);
  if (appName === 'app' && /^(?:Error R\d\d \(|Starting process with command|State changed from |Process exited with status)/.test(text)) return naivePlatform(text);
  return naiveApp(text);
}

// ---------------------------------------------------------------------------------------------
// Mapping to OpenTelemetry

function envelope(line: NaiveLine, kind: string, process: string | undefined): Attributes {
  const token = /^d\.[A-Za-z0-9-]+$/.test(line.hostname);
  const dyno = process !== undefined && /^[A-Za-z0-9_-]+\.\d+$/.test(process) ? process : undefined;
  const base: Record<string, unknown> = {
    [A.ATTR_HEROKU_LOG_KIND]: kind,
    [A.ATTR_HEROKU_LOG_SHAPE]: line.shape,
    [A.ATTR_HEROKU_SYSLOG_FACILITY]: line.facility >= 0 ? line.facility : undefined,
    [A.ATTR_HEROKU_SYSLOG_SEVERITY]: line.facility >= 0 ? line.severity : undefined,
    [A.ATTR_HEROKU_SYSLOG_APP_NAME]: line.appName || undefined,
    [A.ATTR_HEROKU_SYSLOG_PROC_ID]: line.procId || undefined,
    [A.ATTR_HEROKU_DYNO_NAME]: dyno,
    [A.ATTR_HEROKU_DYNO_TYPE]: dyno?.split('.')[0],
    [A.ATTR_HEROKU_SYSLOG_MSG_ID]: line.msgId || undefined,
    [A.ATTR_HEROKU_SYSLOG_STRUCTURED_DATA]: line.structuredData || undefined,
    [A.ATTR_HEROKU_SYSLOG_HOSTNAME]: line.hostname !== '' && line.hostname !== 'host' && !token ? line.hostname : undefined,
    [A.ATTR_HEROKU_DRAIN_FINGERPRINT]: token ? createHash('sha256').update(line.hostname).digest('hex').slice(0, 16) : undefined,
    [A.ATTR_HEROKU_LOG_PARSE_ERROR]: line.shape === 'raw' ? 'no syslog or heroku logs header' : undefined,
  };
  // A copy the caller may change freely, without the keys left undefined.
  return JSON.parse(JSON.stringify(base));
}

/** Sets the attributes that have a value: not undefined, and a finite number if a number. */
function setDefined(attrs: Attributes, add: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(add)) if (v !== undefined && !(typeof v === 'number' && !Number.isFinite(v))) attrs[k] = v as string;
}

function logRecord(line: NaiveLine, observed: number, severity: Severity, body: string, eventName: string, attributes: Attributes): LogRecordData {
  return {
    timeUnixMicros: Number.isNaN(line.timeUnixMicros) ? 0 : line.timeUnixMicros,
    observedUnixMicros: observed,
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

/** The PRI's severity; Heroku's emergency, alert and critical PRIs read as the fallback. */
function lineSeverity(line: NaiveLine, fallback: Severity): Severity {
  if (line.severity < 0 || (line.severity <= 2 && /^(?:app|heroku)$/.test(line.appName))) return fallback;
  return severityFromSyslog(line.severity);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** `example.com:443` to `example.com`, `[::1]:443` to `::1`; a bare IPv6 address stays whole. */
function naiveHostOnly(host: string): string {
  if (!host.includes(':')) return host;
  const v6 = /^\[([^\]]*)\]/.exec(host);
  if (v6) return v6[1]!;
  if (host.startsWith('[')) return host;
  const parts = host.split(':');
  return parts.length === 2 ? parts[0]! : host;
}

/** `http://a.example/x` (absolute form) to `/x`. */
function naivePathOnly(path: string): string {
  if (path.startsWith('/')) return path;
  const m = /:\/\/[^/]*(\/.*)?$/.exec(path);
  return m ? (m[1] ?? '/') : path;
}

function naiveHttpVersion(protocol: string | undefined): string | undefined {
  if (protocol === undefined || protocol === 'http' || protocol === 'https') return undefined;
  const m = /^(?:(h2)c?|(h3)|http\/?(\d(?:\.\d)?))$/i.exec(protocol);
  if (!m) return undefined;
  return m[1] ? '2' : m[2] ? '3' : m[3] === '2.0' ? '2' : m[3] === '3.0' ? '3' : m[3];
}

function naiveMapRouter(line: NaiveLine, ev: NaiveRouter, observed: number, out: TelemetryBatch): void {
  const attrs = envelope(line, 'router', ev.dyno);
  const method = ev.method === undefined ? undefined : METHODS.includes(ev.method) ? ev.method : '_OTHER';
  const tlsFlag = ev.extra?.tls;
  const scheme =
    ev.protocol === 'http' || ev.protocol === 'https'
      ? ev.protocol
      : tlsFlag === 'true'
        ? 'https'
        : tlsFlag === 'false'
          ? 'http'
          : ev.tlsVersion !== undefined && ev.tlsVersion !== 'unknown'
            ? 'https'
            : undefined;
  const host = ev.host === undefined ? undefined : naiveHostOnly(ev.host);
  const port = host !== undefined && host !== ev.host ? Number(ev.host!.split(':').pop()) : NaN;
  const client = ev.fwd[0];
  const tls = ev.tlsVersion ? /^(tls|ssl)v?(\d+(?:\.\d+)?)$/i.exec(ev.tlsVersion) : null;
  const version = naiveHttpVersion(ev.protocol);
  setDefined(attrs, {
    [A.ATTR_HTTP_REQUEST_METHOD]: method,
    [A.ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: method === '_OTHER' ? ev.method : undefined,
    [A.ATTR_URL_PATH]: ev.path === undefined ? undefined : naivePathOnly(ev.path),
    [A.ATTR_URL_QUERY]: ev.query,
    [A.ATTR_URL_SCHEME]: scheme,
    [A.ATTR_SERVER_ADDRESS]: host,
    [A.ATTR_SERVER_PORT]: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined,
    [A.ATTR_CLIENT_ADDRESS]: client !== undefined && /^[0-9a-fA-F.:]*$/.test(client) && /[0-9:]/.test(client) ? client : undefined,
    [A.ATTR_HEROKU_ROUTER_FWD]: ev.fwd.length ? ev.fwd : undefined,
    [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: ev.status,
    [A.ATTR_HTTP_RESPONSE_BODY_SIZE]: ev.bytes,
    [A.ATTR_ERROR_TYPE]: ev.code,
    [A.ATTR_HEROKU_ERROR_CODE]: ev.code,
    [A.ATTR_HEROKU_ERROR_DESCRIPTION]: ev.desc ?? (ev.code ? ERROR_CODE_DESCRIPTIONS[ev.code] : undefined),
    [A.ATTR_HEROKU_ROUTER_REQUEST_ID]: ev.requestId,
    [A.ATTR_HEROKU_ROUTER_CONNECT_DURATION]: ev.connectMs / 1000,
    [A.ATTR_HEROKU_ROUTER_SERVICE_DURATION]: ev.serviceMs / 1000,
    [A.ATTR_HEROKU_ROUTER_SOCK]: ev.sock,
    [A.ATTR_HEROKU_ROUTER_PROTOCOL]: ev.protocol,
    [A.ATTR_NETWORK_PROTOCOL_NAME]: version === undefined ? undefined : 'http',
    [A.ATTR_NETWORK_PROTOCOL_VERSION]: version,
    [A.ATTR_HEROKU_ROUTER_TLS_VERSION]: ev.tlsVersion,
    [A.ATTR_TLS_PROTOCOL_NAME]: tls?.[1]!.toLowerCase(),
    [A.ATTR_TLS_PROTOCOL_VERSION]: tls?.[2],
  });
  for (const [k, v] of Object.entries(ev.extra ?? {})) if (!(A.ATTR_HEROKU_ROUTER_PREFIX + k in attrs)) attrs[A.ATTR_HEROKU_ROUTER_PREFIX + k] = v;
  const severity = ev.at === 'error' ? SEVERITY_ERROR : (severityFromName(ev.at) ?? SEVERITY_INFO);
  const record = logRecord(line, observed, severity, line.text, E.EVENT_HEROKU_ROUTER_REQUEST, attrs);
  // A request's record carries its trace context (trace_correlation on): from request_id, else the whole line.
  if (ev.method !== undefined || Number.isFinite(ev.status)) {
    const ids = naiveTraceIds(ev.requestId ?? line.original);
    record.traceId = ids.traceId;
    record.spanId = ids.spanId;
    record.traceFlags = 1;
  }
  out.logs.push(record);
  // Every request counts in the histogram; one no dyno answered took 0 s.
  if (ev.method !== undefined || Number.isFinite(ev.status)) {
    const mAttrs: Attributes = {};
    setDefined(mAttrs, {
      [A.ATTR_HTTP_REQUEST_METHOD]: method,
      [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: ev.status,
      [A.ATTR_URL_SCHEME]: scheme,
      [A.ATTR_ERROR_TYPE]: ev.code,
      [A.ATTR_SERVER_ADDRESS]: host,
      [A.ATTR_NETWORK_PROTOCOL_VERSION]: version,
    });
    out.metrics.push({
      name: M.METRIC_HTTP_SERVER_REQUEST_DURATION,
      unit: 's',
      type: 'histogram',
      value: [ev.connectMs, ev.serviceMs].filter(Number.isFinite).reduce((a, b) => a + b, 0) / 1000,
      timeUnixMicros: Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros,
      attributes: mAttrs,
      bounds: HTTP_DURATION_BUCKETS,
    });
  }
}

/** The unit of a sample no registry entry names, from the words of its key. */
function naiveUnitFromKey(key: string): string {
  if (/connections$/.test(key)) return '{connection}';
  if (/iops$/.test(key)) return '{operation}/s';
  if (/memory|disk|bytes$|_size$/.test(key)) return 'By';
  return '1';
}

function naiveMapSamples(line: NaiveLine, ev: NaiveSamples, observed: number, out: TelemetryBatch): void {
  const runtime = ev.kind === 'runtime';
  const process = runtime ? (ev.source ?? line.procId) : line.procId;
  const eventName = runtime ? E.EVENT_HEROKU_RUNTIME_SAMPLE : E.EVENT_HEROKU_ADDON_SAMPLE;
  const attrs = envelope(line, runtime ? 'runtime' : 'addon', runtime ? process : undefined);
  const mAttrs: Attributes = {};
  let prefix: string;
  if (runtime) {
    if (ev.dyno) attrs[A.ATTR_HEROKU_DYNO_ID] = ev.dyno;
    if (attrs[A.ATTR_HEROKU_DYNO_NAME] !== undefined) {
      mAttrs[A.ATTR_HEROKU_DYNO_NAME] = attrs[A.ATTR_HEROKU_DYNO_NAME];
      mAttrs[A.ATTR_HEROKU_DYNO_TYPE] = attrs[A.ATTR_HEROKU_DYNO_TYPE]!;
    }
    prefix = 'heroku.dyno.';
  } else {
    attrs[A.ATTR_HEROKU_ADDON_SERVICE] = ev.service!;
    if (ev.addon) attrs[A.ATTR_HEROKU_ADDON_NAME] = mAttrs[A.ATTR_HEROKU_ADDON_NAME] = ev.addon;
    if (ev.source) attrs[A.ATTR_HEROKU_SOURCE] = mAttrs[A.ATTR_HEROKU_SOURCE] = ev.source;
    for (const [k, v] of Object.entries(ev.extra ?? {})) attrs[A.ATTR_HEROKU_ADDON_PREFIX + k] = v;
    prefix = `heroku.${ev.service!.replace(/^heroku-/, '').replace(/[^A-Za-z0-9_]+/g, '_')}.`;
  }
  const time = Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros;
  for (const s of ev.samples) {
    if (!Number.isFinite(s.value)) continue;
    let key = s.key.split('-').join('_');
    // pgbouncer's avg_query: microseconds without a unit on the line, sent in seconds.
    const renamed = prefix + key === 'heroku.pgbouncer.avg_query';
    if (renamed) key = 'avg_query_duration';
    const name = prefix + key;
    const base = toBaseUnit(s.unit === '' && renamed ? 'us' : s.unit, M.METRIC_UNITS[name] ?? naiveUnitFromKey(key));
    const value = base.factor === 1 ? s.value : base.unit === 'By' ? Math.round(s.value * base.factor) : s.value * base.factor;
    attrs[A.ATTR_HEROKU_SAMPLE_PREFIX + key] = value;
    const type = M.METRIC_INSTRUMENTS[name] === 'counter' ? 'total' : 'gauge';
    out.metrics.push({ name, unit: base.unit, type, value, timeUnixMicros: time, attributes: { ...mAttrs }, bounds: undefined });
  }
  out.logs.push(logRecord(line, observed, SEVERITY_INFO, line.text, eventName, attrs));
}

const NAIVE_REQUEST_ID = /^[A-Za-z0-9+/=-]{20,200}$/;
const NAIVE_TAGS = /^(?:[A-Z], \[[^\]]*\]\s+\w+ -- [^:]*: )?((?:\[[^\]]*\] ?)+)/;

/** The router request id an app line logs, the obvious way: the default keys, then Rails tags by regex. */
function naiveRequestId(ev: NaiveApp): string | undefined {
  for (const key of ['request_id', 'requestId', 'request.id']) {
    const v = ev.fields?.[key];
    if (typeof v === 'string' && NAIVE_REQUEST_ID.test(v)) return v;
  }
  const request = ev.format === 'json' ? ev.fields?.request : undefined;
  if (typeof request === 'string' && request.startsWith('{')) {
    const id = (JSON.parse(request) as { id?: unknown }).id;
    if (typeof id === 'string' && NAIVE_REQUEST_ID.test(id)) return id;
  }
  if (ev.format !== 'plain') return undefined;
  const m = NAIVE_TAGS.exec(ev.message);
  if (!m) return undefined;
  for (const t of m[1]!.match(/\[[^\]]*\]/g)!.slice(0, 8)) {
    const tag = t.slice(1, -1);
    if (!NAIVE_REQUEST_ID.test(tag)) continue;
    if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(tag)) return tag;
    if (/^[0-9a-fA-F]+$/.test(tag) ? /\d/.test(tag) : (tag.match(/\d/g)?.length ?? 0) >= 3 && /[A-Za-z]/.test(tag)) return tag;
  }
  return undefined;
}

function naiveMapApp(line: NaiveLine, ev: NaiveApp, observed: number, out: TelemetryBatch): void {
  const isAddon = line.procId.startsWith('heroku-');
  const raw = line.shape === 'raw';
  const eventName = isAddon ? E.EVENT_HEROKU_ADDON_LOG : E.EVENT_HEROKU_APP_LOG;
  const attrs: Attributes = { ...ev.fields, ...envelope(line, isAddon ? 'addon' : 'app', line.procId) };
  setDefined(attrs, {
    [A.ATTR_HEROKU_ADDON_SERVICE]: isAddon ? line.procId : undefined,
    [A.ATTR_HEROKU_LOG_FORMAT]: raw ? undefined : ev.format,
    [A.ATTR_EXCEPTION_MESSAGE]: ev.error,
    [A.ATTR_EXCEPTION_TYPE]: ev.errorType,
    [A.ATTR_EXCEPTION_STACKTRACE]: ev.errorStack,
    [A.ATTR_HEROKU_SOURCE]: ev.source,
  });
  const severity =
    ev.level !== undefined ? (severityFromName(ev.level) ?? lineSeverity(line, SEVERITY_INFO)) : raw ? SEVERITY_UNSPECIFIED : lineSeverity(line, SEVERITY_INFO);
  const rec = logRecord(line, observed, severity, raw ? line.original : ev.message, eventName, attrs);
  if (ev.traceId && ev.spanId) {
    rec.traceId = ev.traceId;
    rec.spanId = ev.spanId;
    rec.traceFlags = ev.traceFlags;
  } else {
    const requestId = naiveRequestId(ev);
    if (requestId !== undefined) {
      const ids = naiveTraceIds(requestId);
      rec.traceId = ids.traceId;
      rec.spanId = ids.spanId;
      rec.traceFlags = 1;
    }
  }
  out.logs.push(rec);
  const mAttrs: Attributes = {};
  setDefined(mAttrs, { [A.ATTR_HEROKU_DYNO_NAME]: /^[A-Za-z0-9_-]+\.\d+$/.test(line.procId) ? line.procId : undefined, [A.ATTR_HEROKU_SOURCE]: ev.source });
  const time = Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros;
  for (const m of ev.measurements ?? []) {
    if (m.type === 'unique') {
      attrs[A.ATTR_HEROKU_L2MET_UNIQUE_PREFIX + m.name] = m.raw;
      continue;
    }
    if (!Number.isFinite(m.value)) continue;
    const base = toBaseUnit(m.unit);
    const type = m.type === 'count' ? 'sum' : m.type === 'measure' ? 'histogram' : 'gauge';
    const bounds = m.type === 'measure' ? (base.unit === 's' ? HTTP_DURATION_BUCKETS : DEFAULT_BUCKETS) : undefined;
    out.metrics.push({ name: m.name, unit: base.unit, type, value: m.value * base.factor, timeUnixMicros: time, attributes: { ...mAttrs }, bounds });
  }
}


function naiveMapPlatform(line: NaiveLine, ev: NaivePlatform, observed: number, out: TelemetryBatch): void {
  const isLogplex = ev.code?.startsWith('L') ?? false;
  const eventName = isLogplex ? E.EVENT_HEROKU_LOGPLEX_ERROR : (PLATFORM_EVENT_NAMES as Readonly<Record<string, string>>)[ev.type]!;
  const attrs = envelope(line, 'platform', line.procId);
  setDefined(attrs, {
    [A.ATTR_ERROR_TYPE]: ev.code,
    [A.ATTR_HEROKU_ERROR_CODE]: ev.code,
    [A.ATTR_HEROKU_ERROR_DESCRIPTION]: ev.desc ?? (ev.code ? ERROR_CODE_DESCRIPTIONS[ev.code] : undefined),
    [A.ATTR_HEROKU_ERROR_DETAIL]: ev.detail,
    [A.ATTR_HEROKU_DYNO_STATE]: ev.toState,
    [A.ATTR_HEROKU_DYNO_STATE_PREVIOUS]: ev.fromState,
    [A.ATTR_PROCESS_EXIT_CODE]: ev.exitStatus,
    [A.ATTR_PROCESS_COMMAND_LINE]: ev.command,
    [A.ATTR_HEROKU_USER]: ev.user,
    [A.ATTR_HEROKU_PROCESS_SIGNAL]: ev.signal,
    [A.ATTR_HEROKU_DYNO_MEMORY_USAGE]: ev.memoryBytes === undefined ? undefined : Math.round(ev.memoryBytes),
    [A.ATTR_HEROKU_DYNO_MEMORY_QUOTA_PERCENT]: ev.memoryPercent,
    [A.ATTR_HEROKU_LOGPLEX_DROPPED_MESSAGES]: ev.droppedMessages,
  });
  if (ev.droppedMessages !== undefined && Number.isFinite(ev.droppedMessages) && ['L10', 'L12', 'L13', 'L14'].includes(ev.code!)) {
    const mAttrs: Attributes = { [A.ATTR_HEROKU_ERROR_CODE]: ev.code! };
    out.metrics.push({
      name: M.METRIC_HEROKU_LOGPLEX_DROPPED_MESSAGES,
      unit: '{message}',
      type: 'sum',
      value: ev.droppedMessages,
      timeUnixMicros: Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros,
      attributes: mAttrs,
      bounds: undefined,
    });
  }
  let severity = SEVERITY_INFO;
  if (ev.type === 'error') severity = ev.code === 'L11' || ev.code === 'L15' ? SEVERITY_WARN : SEVERITY_ERROR;
  else if (ev.type === 'state_change' && ev.toState === 'crashed') severity = SEVERITY_ERROR;
  else if (ev.type === 'process_exit' && ![0, 143, undefined, NaN].includes(ev.exitStatus)) severity = SEVERITY_WARN;
  else if (ev.type === 'process_stop' && ev.signal === 'SIGKILL') severity = SEVERITY_WARN;
  else if (ev.type === 'memory' && ev.memoryPercent! > 100) severity = SEVERITY_WARN;
  out.logs.push(logRecord(line, observed, severity, line.text, eventName, attrs));
}


function naiveMapApi(line: NaiveLine, ev: NaiveApi, observed: number, out: TelemetryBatch): void {
  const eventName = (API_EVENT_NAMES as Readonly<Record<string, string>>)[ev.type]!;
  const attrs = envelope(line, 'api', undefined);
  setDefined(attrs, {
    [A.ATTR_HEROKU_API_ACTION]: ev.action,
    [A.ATTR_HEROKU_USER]: ev.user,
    [A.ATTR_HEROKU_RELEASE_VERSION]: ev.release,
    [A.ATTR_HEROKU_RELEASE_COMMIT]: ev.commit,
    [A.ATTR_PROCESS_COMMAND_LINE]: ev.command,
    [A.ATTR_HEROKU_CONFIG_VARS]: ev.configVars,
    [A.ATTR_HEROKU_FORMATION]: ev.formation,
    [A.ATTR_HEROKU_ADDON_NAME]: ev.addon,
  });
  const severity = ['build', 'release'].includes(ev.type) && ev.action === 'failed' ? SEVERITY_WARN : SEVERITY_INFO;
  out.logs.push(logRecord(line, observed, severity, line.text, eventName, attrs));
}

function naiveMapPostgres(line: NaiveLine, ev: NaivePostgres, observed: number, out: TelemetryBatch): void {
  const attrs = envelope(line, 'addon', undefined);
  attrs[A.ATTR_HEROKU_ADDON_SERVICE] = 'heroku-postgres';
  attrs[A.ATTR_DB_SYSTEM_NAME] = 'postgresql';
  const severity = ev.level !== undefined ? (severityFromName(ev.level) ?? SEVERITY_INFO) : lineSeverity(line, SEVERITY_INFO);
  setDefined(attrs, {
    [A.ATTR_HEROKU_SOURCE]: ev.source,
    [A.ATTR_HEROKU_POSTGRES_LINE_ID]: ev.lineId,
    [A.ATTR_HEROKU_POSTGRES_LEVEL]: ev.level,
    [A.ATTR_DB_RESPONSE_STATUS_CODE]: ev.sqlErrorCode,
    // SQLSTATE classes 00, 01 and 02 are no errors; any other code is, whatever the part's level.
    [A.ATTR_ERROR_TYPE]: ev.sqlErrorCode !== undefined && /^(?!0[012]).{5}$/.test(ev.sqlErrorCode) ? ev.sqlErrorCode : undefined,
  });
  for (const [k, v] of Object.entries(ev.fields ?? {})) attrs[k === 'database' ? A.ATTR_DB_NAMESPACE : A.ATTR_HEROKU_POSTGRES_PREFIX + k] = v;
  out.logs.push(logRecord(line, observed, severity, ev.message, E.EVENT_HEROKU_ADDON_LOG, attrs));
}

export function naiveTranslate(line: NaiveLine, ev: NaiveEvent, observed: number, out: TelemetryBatch): void {
  switch (ev.kind) {
    case 'router':
      return naiveMapRouter(line, ev, observed, out);
    case 'runtime':
    case 'addon':
      return naiveMapSamples(line, ev, observed, out);
    case 'app':
      return naiveMapApp(line, ev, observed, out);
    case 'platform':
      return naiveMapPlatform(line, ev, observed, out);
    case 'api':
      return naiveMapApi(line, ev, observed, out);
    case 'postgres':
      return naiveMapPostgres(line, ev, observed, out);
  }
}

/** A frame without a syslog header is kept whole (less its octet count), as an app line, like src does. */
function rawNaiveLine(frame: string): NaiveLine {
  frame = frame.replace(/^\d+ /, '');
  return {
    shape: 'raw',
    facility: -1,
    severity: -1,
    timestamp: '',
    timeUnixMicros: NaN,
    hostname: '',
    appName: '',
    procId: '',
    msgId: '',
    structuredData: '',
    text: frame,
    original: frame,
  };
}

/** One body through naive framing, header parsing and mapping, appended to `out`. */
export function naiveBody(body: Buffer, observed: number, out: TelemetryBatch): void {
  for (const frame of naiveFrames(body)) {
    const line = naiveHeader(frame) ?? rawNaiveLine(frame);
    naiveTranslate(line, naiveInterpret(line), observed, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

export function naiveClassifyParse(bodies: readonly Body[], lines: number): Scenario {
  return {
    name: 'naive classify+parse',
    what: 'the same, the obvious way: split on newlines, regex per field',
    items: lines,
    pass: () => {
      let n = 0;
      let acc = 0;
      for (let i = 0; i < bodies.length; i++) {
        for (const frame of naiveFrames(bodies[i]!.buf)) {
          const line = naiveHeader(frame) ?? rawNaiveLine(frame);
          acc += naiveInterpret(line).kind.length;
          n++;
        }
      }
      if (n !== lines) throw new Error(`naive classify+parse read ${n} lines, expected ${lines}`);
      return acc;
    },
  };
}

export function naiveParseMap(bodies: readonly Body[], lines: number): Scenario {
  const batch: TelemetryBatch = { logs: [], metrics: [] };
  return {
    name: 'naive parse+map',
    what: 'the same, the obvious way, plus mapping with JSON round-trip copies',
    items: lines,
    pass: () => {
      let logs = 0;
      let acc = 0;
      for (let i = 0; i < bodies.length; i++) {
        batch.logs.length = 0;
        batch.metrics.length = 0;
        naiveBody(bodies[i]!.buf, Date.now() * 1000, batch);
        logs += batch.logs.length;
        acc += batch.metrics.length + batch.logs[batch.logs.length - 1]!.severityNumber;
      }
      if (logs !== lines) throw new Error(`naive parse+map made ${logs} log records, expected ${lines}`);
      return acc;
    },
  };
}
