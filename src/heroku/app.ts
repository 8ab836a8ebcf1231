/**
 * App output: whatever a dyno prints. JSON objects, logfmt (`at=warn msg="..."`), l2met
 * measurements (`count#`, `measure#`, `sample#`, `unique#`), or plain text. Nothing here can fail:
 * a line that is none of the structured forms is plain text with its whole content kept.
 */
import { LogfmtScanner, numberPrefixEnd } from './logfmt.ts';
import type { AppLogEvent, L2metMeasurement } from './events.ts';

const scanner = new LogfmtScanner();

function appEvent(format: AppLogEvent['format'], message: string): AppLogEvent {
  return {
    kind: 'app',
    format,
    level: undefined,
    message,
    error: undefined,
    errorType: undefined,
    errorStack: undefined,
    traceId: undefined,
    spanId: undefined,
    traceFlags: 0,
    fields: undefined,
    measurements: undefined,
    source: undefined,
  };
}

const LEVEL_KEYS = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'levelname', 'log.level', 'severity_text']);
const MESSAGE_KEYS = new Set(['message', 'msg']);
const ERROR_KEYS = new Set(['error', 'err', 'exception']);
const TRACE_ID_KEYS = new Set(['trace_id', 'traceId', 'traceid', 'trace.id']);
const SPAN_ID_KEYS = new Set(['span_id', 'spanId', 'spanid', 'span.id']);

function isHex(s: string, length: number): boolean {
  if (s.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    const hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
    if (!hex) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

/** A W3C `traceparent` (`00-<trace>-<span>-<flags>`) into the event's trace context. */
function applyTraceparent(ev: AppLogEvent, value: string): boolean {
  const parts = value.split('-');
  if (parts.length < 4 || !isHex(parts[1]!, 32) || !isHex(parts[2]!, 16)) return false;
  ev.traceId = parts[1]!.toLowerCase();
  ev.spanId = parts[2]!.toLowerCase();
  ev.traceFlags = Number.parseInt(parts[3]!, 16) & 0xff || 0;
  return true;
}

/** Pino/bunyan numeric levels to names. */
function numericLevel(n: number): string {
  if (n >= 60) return 'fatal';
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  if (n >= 20) return 'debug';
  return 'trace';
}

/** A JSON error, a string or an object like pino's `{type, message, stack}`, into the event. */
function applyError(ev: AppLogEvent, value: unknown): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.message === 'string') ev.error = o.message;
    if (typeof o.type === 'string') ev.errorType = o.type;
    else if (typeof o.name === 'string') ev.errorType = o.name;
    if (typeof o.stack === 'string') ev.errorStack = o.stack;
    if (ev.error === undefined && ev.errorStack === undefined) ev.error = JSON.stringify(value);
    return;
  }
  ev.error = typeof value === 'string' ? value : JSON.stringify(value);
}

function fieldValue(value: unknown): string | number | boolean {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value) ?? String(value);
}

function parseJson(text: string): AppLogEvent | null {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const ev = appEvent('json', text);
  let message: string | undefined;
  for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (LEVEL_KEYS.has(key) && ev.level === undefined && (typeof value === 'string' || typeof value === 'number')) {
      ev.level = typeof value === 'number' ? numericLevel(value) : value.toLowerCase();
      continue;
    }
    if (MESSAGE_KEYS.has(key) && message === undefined && typeof value === 'string') {
      message = value;
      continue;
    }
    if (ERROR_KEYS.has(key) && ev.error === undefined && ev.errorStack === undefined) {
      applyError(ev, value);
      continue;
    }
    if (TRACE_ID_KEYS.has(key) && typeof value === 'string' && isHex(value, 32)) {
      ev.traceId = value.toLowerCase();
      continue;
    }
    if (SPAN_ID_KEYS.has(key) && typeof value === 'string' && isHex(value, 16)) {
      ev.spanId = value.toLowerCase();
      continue;
    }
    if ((key === 'trace_flags' || key === 'traceFlags') && (typeof value === 'number' || typeof value === 'string')) {
      ev.traceFlags = Number(value) & 0xff || 0;
      continue;
    }
    if (key === 'traceparent' && typeof value === 'string' && applyTraceparent(ev, value)) continue;
    (ev.fields ??= {})[key] = fieldValue(value);
  }
  if (message !== undefined) ev.message = message;
  if (ev.spanId !== undefined && ev.traceId === undefined) ev.spanId = undefined;
  if (ev.traceId !== undefined && ev.spanId === undefined) ev.traceId = undefined;
  return ev;
}

/** Whether the text starts with `key=`: a logfmt line rather than prose that contains `=`. */
function startsWithPair(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 61) return i > 0;
    const keyChar =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45 || c === 35 || c === 47;
    if (!keyChar) return false;
  }
  return false;
}

const L2MET_TYPES = ['count#', 'measure#', 'sample#', 'unique#'] as const;

function l2metAt(text: string, keyStart: number): L2metMeasurement['type'] | undefined {
  for (const prefix of L2MET_TYPES) {
    if (text.startsWith(prefix, keyStart)) return prefix.slice(0, -1) as L2metMeasurement['type'];
  }
  return undefined;
}

function parseLogfmt(text: string): AppLogEvent {
  const ev = appEvent('logfmt', text);
  const sc = scanner.reset(text);
  let message: string | undefined;
  while (sc.next()) {
    if (sc.keyEnd === sc.keyStart) continue;
    if (!sc.hasValue) {
      // l2met lets a bare `count#hits` stand for `count#hits=1`; other bare words are prose,
      // kept in the message.
      if (sc.keyEnd - sc.keyStart > 6 && text.startsWith('count#', sc.keyStart)) {
        (ev.measurements ??= []).push({ type: 'count', name: text.slice(sc.keyStart + 6, sc.keyEnd), value: 1, unit: '', raw: '' });
      }
      continue;
    }
    const key = sc.key();
    const hash = key.indexOf('#');
    if (hash > 0) {
      const type = l2metAt(text, sc.keyStart);
      if (type !== undefined) {
        const name = key.slice(hash + 1);
        const raw = sc.value();
        let value = NaN;
        let unit = '';
        if (type !== 'unique') {
          const stop = numberPrefixEnd(raw, 0, raw.length);
          value = stop > 0 ? Number(raw.slice(0, stop)) : type === 'count' && raw === '' ? 1 : NaN;
          unit = raw.slice(stop);
        }
        if (name) {
          (ev.measurements ??= []).push({ type, name, value, unit, raw });
          continue;
        }
      }
    }
    const value = sc.value();
    if (ev.level === undefined && (LEVEL_KEYS.has(key) || key === 'at')) {
      ev.level = value.toLowerCase();
    } else if (message === undefined && MESSAGE_KEYS.has(key)) {
      message = value;
    } else if (ev.error === undefined && ERROR_KEYS.has(key)) {
      ev.error = value;
    } else if (TRACE_ID_KEYS.has(key) && isHex(value, 32)) {
      ev.traceId = value.toLowerCase();
    } else if (SPAN_ID_KEYS.has(key) && isHex(value, 16)) {
      ev.spanId = value.toLowerCase();
    } else if (key === 'source' && ev.source === undefined) {
      ev.source = value;
    } else {
      (ev.fields ??= {})[key] = value;
    }
  }
  if (ev.measurements !== undefined) ev.format = 'l2met';
  if (message !== undefined) ev.message = message;
  if (ev.traceId === undefined || ev.spanId === undefined) ev.traceId = ev.spanId = undefined;
  return ev;
}

const PLAIN_LEVELS: Readonly<Record<string, string>> = {
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
const RUBY_LOGGER_LEVELS: Readonly<Record<string, string>> = { D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal' };

/**
 * The level a plain line states up front: `ERROR ...`, `[warn] ...`, `ERROR:root:...` (Python),
 * `E, [2024-...] ERROR -- :` (Ruby's Logger). Only the first word is looked at, upper-case.
 */
export function plainTextLevel(text: string): string | undefined {
  if (text.length > 3 && text.charCodeAt(1) === 44 && text.charCodeAt(2) === 32 && text.charCodeAt(3) === 91) {
    const level = RUBY_LOGGER_LEVELS[text[0]!];
    if (level) return level;
  }
  let i = 0;
  if (text.charCodeAt(0) === 91 /* [ */) i = 1;
  const start = i;
  while (i < text.length && i - start < 10) {
    const c = text.charCodeAt(i);
    if (c < 65 || c > 90) {
      if (c >= 97 && c <= 122 && start === 1) {
        i++; // `[warn]`: lower-case is fine inside brackets
        continue;
      }
      break;
    }
    i++;
  }
  if (i === start) {
    // `Error: connect ECONNREFUSED` (Node's uncaught exceptions), `Warning: ...`: a title-case
    // level word counts only with its colon, so prose that starts with `Error` does not.
    return titleCaseLevel(text);
  }
  const next = text.charCodeAt(i);
  if (!(i === text.length || next === 32 || next === 58 || next === 93 || next === 124)) return titleCaseLevel(text);
  return PLAIN_LEVELS[text.slice(start, i).toUpperCase()];
}

/** `Error:` (Node's uncaught exceptions), `Warning:`...: one look at the first letter, then one compare. */
function titleCaseLevel(text: string): string | undefined {
  switch (text.charCodeAt(0)) {
    case 69 /* E */:
      return text.startsWith('Error:') ? 'error' : undefined;
    case 87 /* W */:
      return text.startsWith('Warning:') || text.startsWith('Warn:') ? 'warn' : undefined;
    case 70 /* F */:
      return text.startsWith('Fatal:') ? 'fatal' : undefined;
    case 73 /* I */:
      return text.startsWith('Info:') ? 'info' : undefined;
    case 68 /* D */:
      return text.startsWith('Debug:') ? 'debug' : undefined;
    default:
      return undefined;
  }
}

export function parseAppLine(text: string): AppLogEvent {
  const first = text.charCodeAt(0);
  if (first === 123 /* { */ && text.charCodeAt(text.length - 1) === 125) {
    const ev = parseJson(text);
    if (ev) return ev;
  }
  if (startsWithPair(text)) return parseLogfmt(text);
  const ev = appEvent('plain', text);
  ev.level = plainTextLevel(text);
  return ev;
}
