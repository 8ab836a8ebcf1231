/**
 * The same work done the obvious way, as a first version usually is: the body decoded and split on
 * newlines, a regex for the frame and one for the header, a regex per field, `split` for lists,
 * `Date.parse` for timestamps, and `JSON.parse(JSON.stringify(...))` to copy attributes.
 *
 * It extracts the same fields and emits the same records, attributes and metric points as
 * `src/` (run.ts checks this before timing), so the ratio compares ways of working, not amounts of
 * work. Shared lookup tables (severities, units, error codes, semconv names) are reused as is: they
 * are data, not method.
 */
import * as A from '../src/semconv/attributes.ts';
import * as E from '../src/semconv/events.ts';
import * as M from '../src/semconv/metrics.ts';
import { ERROR_CODE_DESCRIPTIONS } from '../src/heroku/codes.ts';
import {
  SEVERITY_ERROR,
  SEVERITY_INFO,
  SEVERITY_WARN,
  severityFromName,
  severityFromSyslog,
  type Severity,
} from '../src/translate/severity.ts';
import { toBaseUnit } from '../src/translate/units.ts';
import type { Attributes, LogRecordData, MetricPointData, TelemetryBatch } from '../src/translate/telemetry.ts';
import { HTTP_DURATION_BUCKETS, DEFAULT_BUCKETS } from '../src/translate/translate.ts';
import type { Body } from './mix.ts';
import type { Scenario } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Framing and header

export interface NaiveLine {
  facility: number;
  severity: number;
  timestamp: string;
  timeUnixMicros: number;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  text: string;
  original: string;
}

const FRAME_RE = /^(\d+) (<\d+>.*)$/;
const HEADER_RE = /^<(\d+)>(\d+) (\S+) (\S+) (\S+) (\S+) (\S+)(?: (.*))?$/;

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
  return {
    facility: pri >> 3,
    severity: pri & 7,
    timestamp: m[3]!,
    timeUnixMicros: naiveTimestamp(m[3]!),
    hostname: m[4]!,
    appName: m[5]!,
    procId: m[6]!,
    msgId: m[7] === '-' ? '' : m[7]!,
    text: m[8] ?? '',
    original: msg,
  };
}

// ---------------------------------------------------------------------------------------------
// Router: one regex per field

const ROUTER_KEYS = ['at', 'code', 'desc', 'method', 'path', 'host', 'request_id', 'fwd', 'dyno', 'connect', 'service', 'status', 'bytes', 'protocol', 'tls_version', 'sock'];
const ROUTER_RE: Record<string, RegExp> = {};
for (const k of ROUTER_KEYS) ROUTER_RE[k] = new RegExp(`(?:^| )${k}=(?:"([^"]*)"|(\\S*))`);

function field(key: string, text: string): string | undefined {
  const m = ROUTER_RE[key]!.exec(text);
  if (!m) return undefined;
  const v = m[1] ?? m[2]!;
  return v === '' ? undefined : v;
}

function num(v: string | undefined): number {
  return v === undefined ? NaN : parseFloat(v);
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

export function naiveRouter(text: string): NaiveRouter {
  const full = field('path', text);
  let path: string | undefined;
  let query: string | undefined;
  if (full !== undefined) {
    const parts = full.split('?');
    path = parts[0];
    if (parts.length > 1) query = parts.slice(1).join('?');
  }
  const fwd = field('fwd', text);
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
          .split(/[\s,]+/)
          .filter((a) => a !== '')
          .map((a) => a.replace(/^\[([^\]]*)\].*$/, '$1'))
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
  for (const m of text.matchAll(/([^\s=]+)=(?:"([^"]*)"|(\S*))/g)) {
    if (!ROUTER_KEYS.includes(m[1]!)) (ev.extra ??= {})[m[1]!] = m[2] ?? m[3]!;
  }
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

function naiveSamples(kind: 'runtime' | 'addon', text: string, service?: string): NaiveSamples {
  const ev: NaiveSamples = {
    kind,
    service,
    source: /(?:^| )source=(\S+)/.exec(text)?.[1],
    dyno: /(?:^| )dyno=(\S+)/.exec(text)?.[1],
    addon: /(?:^| )addon=(\S+)/.exec(text)?.[1],
    samples: [...text.matchAll(/sample#([^\s=]+)=([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)(\S*)/g)].map((m) => ({
      key: m[1]!,
      value: parseFloat(m[2]!),
      unit: m[3]!,
    })),
  };
  for (const m of text.matchAll(/([^\s=]+)=(\S*)/g)) {
    const k = m[1]!;
    if (k.startsWith('sample#') || k === 'source' || k === 'addon' || (k === 'dyno' && kind === 'runtime')) continue;
    (ev.extra ??= {})[k] = m[2]!;
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
  traceId?: string;
  spanId?: string;
  traceFlags: number;
  fields?: Record<string, string | number | boolean>;
  measurements?: { type: string; name: string; value: number; unit: string; raw: string }[];
  source?: string;
}

const LEVEL_KEYS = ['level', 'lvl', 'severity', 'loglevel', 'log_level', 'levelname', 'log.level', 'severity_text'];
const NUMERIC_LEVELS: [number, string][] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
  [0, 'trace'],
];

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
  for (const [key, value] of Object.entries(obj)) {
    if (value === null || value === undefined) continue;
    if (LEVEL_KEYS.includes(key) && ev.level === undefined && (typeof value === 'string' || typeof value === 'number')) {
      ev.level = typeof value === 'number' ? NUMERIC_LEVELS.find(([n]) => value >= n)![1] : value.toLowerCase();
    } else if ((key === 'message' || key === 'msg') && message === undefined && typeof value === 'string') {
      message = value;
    } else if (['error', 'err', 'exception'].includes(key) && ev.error === undefined) {
      const o = value as Record<string, unknown>;
      ev.error =
        typeof value === 'string'
          ? value
          : typeof o.stack === 'string'
            ? o.stack
            : typeof o.message === 'string'
              ? (typeof o.type === 'string' ? `${o.type}: ` : typeof o.name === 'string' ? `${o.name}: ` : '') + o.message
              : JSON.stringify(value);
    } else if (/^trace[_.]?id$/i.test(key) && typeof value === 'string' && /^(?!0+$)[0-9a-f]{32}$/i.test(value)) {
      ev.traceId = value.toLowerCase();
    } else if (/^span[_.]?id$/i.test(key) && typeof value === 'string' && /^(?!0+$)[0-9a-f]{16}$/i.test(value)) {
      ev.spanId = value.toLowerCase();
    } else {
      (ev.fields ??= {})[key] = typeof value === 'object' ? JSON.stringify(value) : (value as string | number | boolean);
    }
  }
  if (message !== undefined) ev.message = message;
  if (ev.traceId === undefined || ev.spanId === undefined) ev.traceId = ev.spanId = undefined;
  return ev;
}

function naiveLogfmt(text: string): NaiveApp {
  const ev: NaiveApp = { kind: 'app', format: 'logfmt', message: text, traceFlags: 0 };
  let message: string | undefined;
  for (const m of text.matchAll(/([^\s=]+)=(?:"([^"]*)"|(\S*))/g)) {
    const key = m[1]!;
    const value = m[2] ?? m[3]!;
    const l2 = /^(count|measure|sample|unique)#(.+)$/.exec(key);
    if (l2) {
      const n = /^([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)(.*)$/.exec(value);
      const type = l2[1]!;
      (ev.measurements ??= []).push({
        type,
        name: l2[2]!,
        value: type === 'unique' ? NaN : n ? parseFloat(n[1]!) : type === 'count' && value === '' ? 1 : NaN,
        unit: type === 'unique' ? '' : n ? n[2]! : value,
        raw: value,
      });
    } else if (ev.level === undefined && (LEVEL_KEYS.includes(key) || key === 'at')) {
      ev.level = value.toLowerCase();
    } else if (message === undefined && (key === 'msg' || key === 'message')) {
      message = value;
    } else if (ev.error === undefined && ['error', 'err', 'exception'].includes(key)) {
      ev.error = value;
    } else if (key === 'source' && ev.source === undefined) {
      ev.source = value;
    } else {
      (ev.fields ??= {})[key] = value;
    }
  }
  if (ev.measurements) ev.format = 'l2met';
  if (message !== undefined) ev.message = message;
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
};

export function naiveApp(text: string): NaiveApp {
  if (/^\{.*\}$/.test(text)) {
    const ev = naiveJson(text);
    if (ev) return ev;
  }
  if (/^[\w.\-#/]+=/.test(text)) return naiveLogfmt(text);
  const ev: NaiveApp = { kind: 'app', format: 'plain', message: text, traceFlags: 0 };
  const ruby = /^([DIWEF]), \[/.exec(text);
  const word = /^(?:\[([A-Za-z]{1,10})\]|([A-Z]{1,10})(?=$|[ :|]))/.exec(text);
  if (ruby) ev.level = { D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal' }[ruby[1]!];
  else if (word) ev.level = PLAIN_LEVELS[(word[1] ?? word[2]!).toUpperCase()];
  return ev;
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

const UNIT_BYTES: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1048576, MB: 1048576, G: 1073741824, GB: 1073741824 };

function commandAndUser(rest: string): { command: string; user?: string } {
  const m = /^(.*?)(?: by user (.*))?$/.exec(rest)!;
  return { command: m[1]!.trim().replace(/^`(.*)`$/, '$1'), user: m[2]?.trim() || undefined };
}

export function naivePlatform(text: string): NaivePlatform {
  let m = /^(?:Error )?([RHL]\d\d)(?: \(([^)]*)\))?(?:\s*(?:->|:|-)?\s*(.*))?$/.exec(text);
  if (m) {
    const ev: NaivePlatform = { kind: 'platform', type: 'error', code: m[1], desc: m[2], detail: m[3] || undefined };
    const d = /(\d+) messages? (?:dropped|lost)|dropped (\d+) messages?/.exec(m[3] ?? '');
    if (m[1]!.startsWith('L') && d) ev.droppedMessages = Number(d[1] ?? d[2]);
    return ev;
  }
  if ((m = /^State changed from (.*?)(?: to (.*))?$/.exec(text))) return { kind: 'platform', type: 'state_change', fromState: m[1]!.trim(), toState: m[2]?.trim() };
  if ((m = /^Process exited with status (\d+)/.exec(text))) return { kind: 'platform', type: 'process_exit', exitStatus: parseInt(m[1]!, 10) };
  if ((m = /^Starting process with command (.*)$/.exec(text))) return { kind: 'platform', type: 'process_start', ...commandAndUser(m[1]!) };
  if ((m = /^Stopping .* with (\S+?)\.?$/.exec(text))) return { kind: 'platform', type: 'process_stop', signal: m[1] };
  if ((m = /^Process running mem=([\d.]+)([A-Za-z]*)\(([\d.]+)%\)/.exec(text))) {
    return { kind: 'platform', type: 'memory', memoryBytes: Number(m[1]) * (UNIT_BYTES[m[2]!.toUpperCase()] ?? NaN), memoryPercent: Number(m[3]) };
  }
  if (/^\s*(Cycling|Restarting)\b/.test(text)) return { kind: 'platform', type: 'restart' };
  if (/^\s*Idling\b/.test(text)) return { kind: 'platform', type: 'idle' };
  if (/^\s*Unidling\b/.test(text)) return { kind: 'platform', type: 'unidle' };
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

export function naiveApi(text: string): NaiveApi {
  let m = /^Starting process with command (.*)$/.exec(text.trim());
  if (m) return { kind: 'api', type: 'command', action: 'run', ...commandAndUser(m[1]!) };
  const u = /^(.*?) by (?:user )?(\S+)$/.exec(text.trim());
  const head = u ? u[1]! : text.trim();
  const user = u?.[2];
  if ((m = /^Release (v\d+)/.exec(head))) return { kind: 'api', type: 'release', action: 'create', user, release: m[1] };
  if ((m = /^Deploy (\S+)/.exec(head))) return { kind: 'api', type: 'deploy', action: 'deploy', user, commit: m[1] };
  if ((m = /^(Set|Remove|Unset|Add) (.*) config vars?$/.exec(head))) {
    return { kind: 'api', type: 'config_change', action: m[1]!.toLowerCase(), user, configVars: m[2]!.split(/,\s*|\s+and\s+/).map((s) => s.trim()).filter(Boolean) };
  }
  if ((m = /^Scaled? (?:to )?(.*)$/.exec(head))) return { kind: 'api', type: 'scale', action: 'scale', user, formation: m[1]!.split(/[\s,]+/).filter(Boolean) };
  return { kind: 'api', type: 'other', action: head.split(' ')[0]!.toLowerCase() || undefined, user };
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

export function naivePostgres(text: string): NaivePostgres {
  const ev: NaivePostgres = { kind: 'postgres', message: text };
  const m = /^\s*\[([^\]]*)\]\s*\[(\d+-\d+)\]\s*(.*)$/.exec(text);
  if (!m) return ev;
  ev.source = m[1];
  ev.lineId = m[2];
  const rest = m[3]!;
  const lv = /(?:^|\s)(LOG|ERROR|FATAL|WARNING|NOTICE|INFO|DEBUG|PANIC|STATEMENT|DETAIL|HINT|CONTEXT):\s+(.*)$/.exec(rest);
  const prefix = lv ? rest.slice(0, lv.index) : rest;
  for (const p of prefix.matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|(\S+))/g)) {
    if (p[1] === 'sql_error_code') ev.sqlErrorCode = p[2] ?? p[3];
    else (ev.fields ??= {})[p[1]!] = p[2] ?? p[3]!;
  }
  if (lv) {
    ev.level = lv[1];
    ev.message = lv[2]!;
  }
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
    if (procId === 'router' && /^at=/.test(text)) return naiveRouter(text);
    if (/^source=.*sample#/.test(text)) return naiveSamples('runtime', text);
    return naivePlatform(text);
  }
  if (appName === 'app' && /^postgres(\.\d+)?$/.test(procId)) return naivePostgres(text);
  return naiveApp(text);
}

// ---------------------------------------------------------------------------------------------
// Mapping to OpenTelemetry

function envelope(line: NaiveLine, kind: string, eventName: string, process: string | undefined): Attributes {
  const base: Attributes = {
    [A.ATTR_EVENT_NAME]: eventName,
    [A.ATTR_HEROKU_LOG_KIND]: kind,
    [A.ATTR_HEROKU_LOG_SHAPE]: line.hostname === 'host' ? 'logplex' : 'syslog',
    [A.ATTR_HEROKU_SYSLOG_FACILITY]: line.facility,
    [A.ATTR_HEROKU_SYSLOG_SEVERITY]: line.severity,
    [A.ATTR_HEROKU_SYSLOG_APP_NAME]: line.appName,
    [A.ATTR_HEROKU_SYSLOG_PROC_ID]: line.procId,
  };
  if (process) {
    base[A.ATTR_HEROKU_PROCESS_NAME] = process;
    base[A.ATTR_HEROKU_PROCESS_TYPE] = process.split('.')[0]!;
  }
  // A copy the caller may change freely.
  return JSON.parse(JSON.stringify(base));
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

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

function naiveMapRouter(line: NaiveLine, ev: NaiveRouter, observed: number, out: TelemetryBatch): void {
  const attrs = envelope(line, 'router', E.EVENT_HEROKU_ROUTER_REQUEST, ev.dyno);
  const method = ev.method === undefined ? undefined : METHODS.includes(ev.method) ? ev.method : '_OTHER';
  const scheme = ev.protocol === 'http' || ev.protocol === 'https' ? ev.protocol : ev.tlsVersion ? 'https' : undefined;
  const tls = ev.tlsVersion ? /^(tls|ssl)v?(\d+(?:\.\d+)?)$/i.exec(ev.tlsVersion) : null;
  const desc = ev.desc ?? (ev.code ? ERROR_CODE_DESCRIPTIONS[ev.code] : undefined);
  const add: Record<string, unknown> = {
    [A.ATTR_HTTP_REQUEST_METHOD]: method,
    [A.ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: method === '_OTHER' ? ev.method : undefined,
    [A.ATTR_URL_PATH]: ev.path,
    [A.ATTR_URL_QUERY]: ev.query,
    [A.ATTR_URL_SCHEME]: scheme,
    [A.ATTR_SERVER_ADDRESS]: ev.host,
    [A.ATTR_CLIENT_ADDRESS]: ev.fwd[0],
    [A.ATTR_HEROKU_ROUTER_FWD]: ev.fwd.length ? ev.fwd : undefined,
    [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: ev.status,
    [A.ATTR_HTTP_RESPONSE_BODY_SIZE]: ev.bytes,
    [A.ATTR_ERROR_TYPE]: ev.code,
    [A.ATTR_HEROKU_ERROR_CODE]: ev.code,
    [A.ATTR_HEROKU_ERROR_DESCRIPTION]: desc,
    [A.ATTR_HEROKU_ROUTER_REQUEST_ID]: ev.requestId,
    [A.ATTR_HEROKU_ROUTER_CONNECT_MS]: ev.connectMs,
    [A.ATTR_HEROKU_ROUTER_SERVICE_MS]: ev.serviceMs,
    [A.ATTR_HEROKU_ROUTER_SOCK]: ev.sock,
    [A.ATTR_HEROKU_ROUTER_PROTOCOL]: ev.protocol,
    [A.ATTR_TLS_PROTOCOL_NAME]: tls?.[1]!.toLowerCase(),
    [A.ATTR_TLS_PROTOCOL_VERSION]: tls?.[2],
  };
  for (const [k, v] of Object.entries(add)) if (v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) attrs[k] = v as string;
  for (const [k, v] of Object.entries(ev.extra ?? {})) if (!(A.ATTR_HEROKU_ROUTER_PREFIX + k in attrs)) attrs[A.ATTR_HEROKU_ROUTER_PREFIX + k] = v;
  const severity = ev.at === 'error' ? SEVERITY_ERROR : (severityFromName(ev.at) ?? SEVERITY_INFO);
  out.logs.push(logRecord(line, observed, severity, line.text, E.EVENT_HEROKU_ROUTER_REQUEST, attrs));
  if (!Number.isNaN(ev.connectMs) || !Number.isNaN(ev.serviceMs)) {
    const mAttrs = Object.fromEntries(
      Object.entries({
        [A.ATTR_HTTP_REQUEST_METHOD]: method,
        [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: Number.isNaN(ev.status) ? undefined : ev.status,
        [A.ATTR_URL_SCHEME]: scheme,
        [A.ATTR_ERROR_TYPE]: ev.code,
        [A.ATTR_SERVER_ADDRESS]: ev.host,
        [A.ATTR_HEROKU_PROCESS_NAME]: ev.dyno,
      }).filter(([, v]) => v !== undefined),
    ) as Attributes;
    out.metrics.push({
      name: M.METRIC_HTTP_SERVER_REQUEST_DURATION,
      unit: 's',
      type: 'histogram',
      value: ((ev.connectMs || 0) + (ev.serviceMs || 0)) / 1000,
      timeUnixMicros: Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros,
      attributes: mAttrs,
      bounds: HTTP_DURATION_BUCKETS,
    });
  }
}

function naiveMapSamples(line: NaiveLine, ev: NaiveSamples, observed: number, out: TelemetryBatch): void {
  const runtime = ev.kind === 'runtime';
  const process = runtime ? (ev.source ?? line.procId) : line.procId;
  const eventName = runtime ? E.EVENT_HEROKU_RUNTIME_SAMPLE : E.EVENT_HEROKU_ADDON_SAMPLE;
  const attrs = envelope(line, runtime ? 'runtime' : 'addon', eventName, process);
  const mAttrs: Attributes = {};
  let prefix: string;
  if (runtime) {
    if (ev.dyno) attrs[A.ATTR_HEROKU_DYNO_ID] = ev.dyno;
    mAttrs[A.ATTR_HEROKU_PROCESS_NAME] = process;
    mAttrs[A.ATTR_HEROKU_PROCESS_TYPE] = process.split('.')[0]!;
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
    const key = s.key.split('-').join('_');
    const name = prefix + key;
    const base = toBaseUnit(s.unit, M.METRIC_UNITS[name] ?? '1');
    const value = base.unit === 'By' ? Math.round(s.value * base.factor) : s.value * base.factor;
    attrs[A.ATTR_HEROKU_SAMPLE_PREFIX + key] = value;
    out.metrics.push({ name, unit: base.unit, type: 'gauge', value, timeUnixMicros: time, attributes: { ...mAttrs }, bounds: undefined });
  }
  out.logs.push(logRecord(line, observed, SEVERITY_INFO, line.text, eventName, attrs));
}

function naiveMapApp(line: NaiveLine, ev: NaiveApp, observed: number, out: TelemetryBatch): void {
  const isAddon = line.procId.startsWith('heroku-');
  const eventName = isAddon ? E.EVENT_HEROKU_ADDON_LOG : E.EVENT_HEROKU_APP_LOG;
  const attrs: Attributes = { ...ev.fields, ...envelope(line, isAddon ? 'addon' : 'app', eventName, line.procId) };
  if (isAddon) attrs[A.ATTR_HEROKU_ADDON_SERVICE] = line.procId;
  attrs[A.ATTR_HEROKU_LOG_FORMAT] = ev.format;
  if (ev.error !== undefined) attrs[A.ATTR_EXCEPTION_MESSAGE] = ev.error;
  if (ev.source !== undefined) attrs[A.ATTR_HEROKU_SOURCE] = ev.source;
  const severity = (ev.level !== undefined ? severityFromName(ev.level) : undefined) ?? severityFromSyslog(line.severity);
  const rec = logRecord(line, observed, severity, ev.message, eventName, attrs);
  if (ev.traceId && ev.spanId) {
    rec.traceId = ev.traceId;
    rec.spanId = ev.spanId;
    rec.traceFlags = ev.traceFlags;
  }
  out.logs.push(rec);
  const mAttrs: Attributes = { [A.ATTR_HEROKU_PROCESS_NAME]: line.procId };
  if (ev.source !== undefined) mAttrs[A.ATTR_HEROKU_SOURCE] = ev.source;
  const time = Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros;
  for (const m of ev.measurements ?? []) {
    if (m.type === 'unique') {
      attrs[A.ATTR_HEROKU_L2MET_UNIQUE_PREFIX + m.name] = m.raw;
      continue;
    }
    if (Number.isNaN(m.value)) continue;
    const base = toBaseUnit(m.unit);
    const type = m.type === 'count' ? 'sum' : m.type === 'measure' ? 'histogram' : 'gauge';
    const bounds = m.type === 'measure' ? (base.unit === 's' ? HTTP_DURATION_BUCKETS : DEFAULT_BUCKETS) : undefined;
    out.metrics.push({ name: m.name, unit: base.unit, type, value: m.value * base.factor, timeUnixMicros: time, attributes: { ...mAttrs }, bounds });
  }
}

const PLATFORM_NAMES: Record<string, string> = {
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

function naiveMapPlatform(line: NaiveLine, ev: NaivePlatform, observed: number, out: TelemetryBatch): void {
  const isLogplex = ev.code?.startsWith('L') ?? false;
  const eventName = isLogplex ? E.EVENT_HEROKU_LOGPLEX_ERROR : PLATFORM_NAMES[ev.type]!;
  const attrs = envelope(line, 'platform', eventName, line.procId);
  const add: Record<string, unknown> = {
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
  };
  for (const [k, v] of Object.entries(add)) if (v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) attrs[k] = v as string;
  if (ev.droppedMessages !== undefined && ['L10', 'L12', 'L13', 'L14'].includes(ev.code!)) {
    out.metrics.push({
      name: M.METRIC_HEROKU_LOGPLEX_DROPPED_MESSAGES,
      unit: '{message}',
      type: 'sum',
      value: ev.droppedMessages,
      timeUnixMicros: Number.isNaN(line.timeUnixMicros) ? observed : line.timeUnixMicros,
      attributes: { [A.ATTR_HEROKU_ERROR_CODE]: ev.code!, [A.ATTR_HEROKU_PROCESS_NAME]: line.procId },
      bounds: undefined,
    });
  }
  let severity = SEVERITY_INFO;
  if (ev.type === 'error') severity = ev.code === 'L11' || ev.code === 'L15' ? SEVERITY_WARN : SEVERITY_ERROR;
  else if (ev.type === 'state_change' && ev.toState === 'crashed') severity = SEVERITY_ERROR;
  else if (ev.type === 'process_exit' && ev.exitStatus !== 0 && ev.exitStatus !== 143) severity = SEVERITY_WARN;
  else if (ev.type === 'process_stop' && ev.signal === 'SIGKILL') severity = SEVERITY_WARN;
  else if (ev.type === 'memory' && ev.memoryPercent! > 100) severity = SEVERITY_WARN;
  out.logs.push(logRecord(line, observed, severity, line.text, eventName, attrs));
}

const API_NAMES: Record<string, string> = {
  release: E.EVENT_HEROKU_API_RELEASE,
  deploy: E.EVENT_HEROKU_API_DEPLOY,
  config_change: E.EVENT_HEROKU_API_CONFIG_CHANGE,
  scale: E.EVENT_HEROKU_API_SCALE,
  command: E.EVENT_HEROKU_API_COMMAND,
  other: E.EVENT_HEROKU_API_EVENT,
};

function naiveMapApi(line: NaiveLine, ev: NaiveApi, observed: number, out: TelemetryBatch): void {
  const eventName = API_NAMES[ev.type]!;
  const attrs = envelope(line, 'api', eventName, line.procId);
  const add: Record<string, unknown> = {
    [A.ATTR_HEROKU_API_ACTION]: ev.action,
    [A.ATTR_HEROKU_USER]: ev.user,
    [A.ATTR_HEROKU_RELEASE_VERSION]: ev.release,
    [A.ATTR_HEROKU_RELEASE_COMMIT]: ev.commit,
    [A.ATTR_PROCESS_COMMAND_LINE]: ev.command,
    [A.ATTR_HEROKU_CONFIG_VARS]: ev.configVars,
    [A.ATTR_HEROKU_FORMATION]: ev.formation,
    [A.ATTR_HEROKU_ADDON_NAME]: ev.addon,
  };
  for (const [k, v] of Object.entries(add)) if (v !== undefined) attrs[k] = v as string;
  out.logs.push(logRecord(line, observed, SEVERITY_INFO, line.text, eventName, attrs));
}

function naiveMapPostgres(line: NaiveLine, ev: NaivePostgres, observed: number, out: TelemetryBatch): void {
  const attrs = envelope(line, 'addon', E.EVENT_HEROKU_ADDON_LOG, line.procId);
  attrs[A.ATTR_HEROKU_ADDON_SERVICE] = 'heroku-postgres';
  attrs[A.ATTR_DB_SYSTEM_NAME] = 'postgresql';
  const severity = ev.level !== undefined ? (severityFromName(ev.level) ?? SEVERITY_INFO) : severityFromSyslog(line.severity);
  const add: Record<string, unknown> = {
    [A.ATTR_HEROKU_SOURCE]: ev.source,
    [A.ATTR_HEROKU_POSTGRES_LINE_ID]: ev.lineId,
    [A.ATTR_HEROKU_POSTGRES_LEVEL]: ev.level,
    [A.ATTR_DB_RESPONSE_STATUS_CODE]: ev.sqlErrorCode,
    [A.ATTR_ERROR_TYPE]: severity.number >= SEVERITY_ERROR.number ? ev.sqlErrorCode : undefined,
  };
  for (const [k, v] of Object.entries(add)) if (v !== undefined) attrs[k] = v as string;
  for (const [k, v] of Object.entries(ev.fields ?? {})) attrs[k === 'database' ? A.ATTR_DB_NAMESPACE : A.ATTR_HEROKU_POSTGRES_PREFIX + k] = v;
  out.logs.push(logRecord(line, observed, severity, ev.level !== undefined ? ev.message : line.text, E.EVENT_HEROKU_ADDON_LOG, attrs));
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

/** A frame without a syslog header is kept whole, as an app line, like src does. */
function rawNaiveLine(frame: string): NaiveLine {
  return { facility: -1, severity: -1, timestamp: '', timeUnixMicros: NaN, hostname: '', appName: '', procId: '', msgId: '', text: frame, original: frame };
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
