/**
 * App output: whatever a dyno prints. JSON objects, logfmt (`at=warn msg="..."`), l2met
 * measurements (`count#`, `measure#`, `sample#`, `unique#`), or plain text. Nothing here can fail:
 * a line that is none of the structured forms is plain text with its whole content kept.
 *
 * App lines can hold what any web user typed, so JSON is read within bounds: a line nested deeper
 * than MAX_JSON_DEPTH (4,500 levels overflow the stack of JSON.stringify, which reads nested
 * values into attributes) or longer than MAX_JSON_CHARS is kept as plain text, with the reason in
 * `parseError`. What walks a parsed object afterwards is then bounded too.
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
    json: undefined,
    parseError: undefined,
  };
}

/** JSON app lines nesting deeper than this are kept as plain text; real loggers nest a few levels. */
export const MAX_JSON_DEPTH = 64;
/**
 * JSON app lines longer than this (UTF-16 units) are kept as plain text: Heroku limits a log line
 * to 10,000 bytes, and syslog's default `max_message_size` is 64 KiB, so only odd senders pass it.
 */
export const MAX_JSON_CHARS = 64 * 1024;

const JSON_TOO_DEEP = `JSON nested deeper than ${MAX_JSON_DEPTH} levels: kept as plain text`;
const JSON_TOO_LONG = `JSON longer than ${MAX_JSON_CHARS} characters: kept as plain text`;

/**
 * Whether the brackets (`{`, `[`) of `text` nest deeper than `max`, strings (with their escapes)
 * left out. A line holding no more than `max` brackets in all cannot, and most hold a few: they
 * are counted with indexOf, which is vectorised, before any scan char by char.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let brackets = 0;
  for (let i = text.indexOf('{'); i >= 0 && brackets <= max; i = text.indexOf('{', i + 1)) brackets++;
  for (let i = text.indexOf('['); i >= 0 && brackets <= max; i = text.indexOf('[', i + 1)) brackets++;
  if (brackets <= max) return false;
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // To the closing quote, stepping over each escaped character (`\"`, `\\`).
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Why `text` is not read as JSON, or undefined when it is within bounds. */
function jsonOutOfBounds(text: string): string | undefined {
  if (text.length > MAX_JSON_CHARS) return JSON_TOO_LONG;
  return jsonNestsDeeperThan(text, MAX_JSON_DEPTH) ? JSON_TOO_DEEP : undefined;
}

/** A JSON line kept as text: the reason is on the event, the text whole as the message. */
function unreadJson(text: string, reason: string): AppLogEvent {
  const ev = appEvent('plain', text);
  ev.level = plainTextLevel(text);
  ev.parseError = reason;
  return ev;
}

// Field names of the JSON loggers apps use: pino, bunyan, winston, zap, logrus, slog, structlog,
// python-json-logger, Serilog (CLEF), .NET's JSON console, Datadog, GCP, ECS, OpenTelemetry.
const LEVEL_KEYS = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'levelname', 'log.level', 'severity_text', '@l', 'LogLevel', 'Level']);
/** Keys that name a level only when their value is a level word (`status` is often an HTTP code). */
const MAYBE_LEVEL_KEYS = new Set(['status']);
const MESSAGE_KEYS = new Set(['message', 'msg', '@m', 'Message']);
/** Keys that hold the message when no MESSAGE_KEYS key does: structlog's `event`, CLEF's template. */
const FALLBACK_MESSAGE_KEYS = new Set(['event', '@mt', 'MessageTemplate']);
const ERROR_KEYS = new Set(['error', 'err', 'exception', 'Exception']);
const STACK_KEYS = new Set(['stack', 'stacktrace', 'stack_trace', 'exc_info', '@x']);
const TRACE_ID_KEYS = new Set(['trace_id', 'traceId', 'traceid', 'trace.id', 'otelTraceID', 'TraceId']);
const SPAN_ID_KEYS = new Set(['span_id', 'spanId', 'spanid', 'span.id', 'otelSpanID', 'SpanId', 'logging.googleapis.com/spanId']);
const TRACE_FLAGS_KEYS = new Set(['trace_flags', 'traceFlags', 'otelTraceSampled']);

/** Level words as loggers write them (lower case), to ours. Shared with the benchmark's baseline. */
export const LEVEL_WORDS: Readonly<Record<string, string>> = {
  trace: 'trace',
  trce: 'trace',
  verbose: 'trace',
  debug: 'debug',
  dbug: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'notice',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  eror: 'error',
  err: 'error',
  critical: 'critical',
  crit: 'critical',
  dpanic: 'critical',
  alert: 'fatal',
  fatal: 'fatal',
  panic: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
};

// CSI sequences, as winston's colorize leaves in `"level":"\u001b[31merror\u001b[39m"`.
const ANSI_ESCAPES = /\x1b\[[0-9;]*m/g;

/**
 * A level as loggers write it to one of our level words: any case, log15's four letters
 * (`eror`, `dbug`), slog's offsets (`DEBUG-4`, `INFO+2`), colour escapes. Undefined if no level.
 */
export function normaliseLevel(raw: string): string | undefined {
  let s = raw.toLowerCase();
  let level = LEVEL_WORDS[s];
  if (level !== undefined) return level;
  if (s.charCodeAt(0) === 27) s = s.replace(ANSI_ESCAPES, '');
  const offset = s.search(/[+-]\d+$/);
  if (offset > 0) s = s.slice(0, offset);
  level = LEVEL_WORDS[s.trim()];
  return level;
}

/** Datadog's decimal 64-bit ids to hex: a trace id padded to 128 bits, as OpenTelemetry writes it. */
function decimalIdToHex(value: unknown, hexLength: 16 | 32): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const s = String(value);
  if (!/^\d{1,20}$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n === 0n || n >= 1n << 64n) return undefined;
  return n.toString(16).padStart(hexLength, '0');
}

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

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

/** JSON's `"\ud800"` parses to a lone surrogate, which UTF-8 (and so OTLP) cannot carry. */
function wellFormed(s: string): string {
  return (s as WellFormed).isWellFormed() ? s : (s as WellFormed).toWellFormed();
}

function fieldValue(value: unknown): string | number | boolean {
  if (typeof value === 'string') return wellFormed(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return wellFormed(JSON.stringify(value) ?? String(value));
}

/** A trace id in any of the forms loggers write: 32 hex, GCP's `projects/p/traces/<hex>`. */
function traceIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isHex(value, 32)) return value.toLowerCase();
  const slash = value.lastIndexOf('/traces/');
  if (slash >= 0 && isHex(value.slice(slash + 8), 32)) return value.slice(slash + 8).toLowerCase();
  return undefined;
}

/** Trace context nested in an object: Datadog's `dd: {trace_id, span_id}`, ECS's `trace: {id}`. */
function applyNestedTrace(ev: AppLogEvent, key: string, value: Record<string, unknown>): boolean {
  if (key === 'dd') {
    const traceId = decimalIdToHex(value.trace_id, 32);
    const spanId = decimalIdToHex(value.span_id, 16);
    if (traceId === undefined || spanId === undefined) return false;
    ev.traceId = traceId;
    ev.spanId = spanId;
    return true;
  }
  if (key === 'trace' && traceIdOf(value.id) !== undefined && Object.keys(value).length === 1) {
    ev.traceId = traceIdOf(value.id);
    return true;
  }
  if (key === 'span' && typeof value.id === 'string' && isHex(value.id, 16) && Object.keys(value).length === 1) {
    ev.spanId = value.id.toLowerCase();
    return true;
  }
  return false;
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
  ev.json = obj as Record<string, unknown>;
  let message: string | undefined;
  let fallbackMessage: string | undefined;
  let fallbackKey = '';
  for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    if (ev.level === undefined && LEVEL_KEYS.has(key) && (typeof value === 'string' || typeof value === 'number')) {
      ev.level = typeof value === 'number' ? numericLevel(value) : (normaliseLevel(value) ?? value.toLowerCase());
      continue;
    }
    if (ev.level === undefined && MAYBE_LEVEL_KEYS.has(key) && typeof value === 'string' && normaliseLevel(value) !== undefined) {
      ev.level = normaliseLevel(value);
      continue;
    }
    if (MESSAGE_KEYS.has(key) && message === undefined && typeof value === 'string') {
      message = value;
      continue;
    }
    if (FALLBACK_MESSAGE_KEYS.has(key) && fallbackMessage === undefined && typeof value === 'string') {
      fallbackMessage = value;
      fallbackKey = key;
      // Kept as a field too until we know no `message` comes after it.
    }
    if (ERROR_KEYS.has(key) && ev.error === undefined && ev.errorStack === undefined) {
      applyError(ev, value);
      continue;
    }
    if (STACK_KEYS.has(key) && ev.errorStack === undefined && typeof value === 'string') {
      ev.errorStack = value;
      continue;
    }
    if (TRACE_ID_KEYS.has(key) && traceIdOf(value) !== undefined) {
      ev.traceId = traceIdOf(value);
      continue;
    }
    if (SPAN_ID_KEYS.has(key) && typeof value === 'string' && isHex(value, 16)) {
      ev.spanId = value.toLowerCase();
      continue;
    }
    if (key === 'logging.googleapis.com/trace' && traceIdOf(value) !== undefined) {
      ev.traceId = traceIdOf(value);
      continue;
    }
    if (key === 'dd.trace_id' && decimalIdToHex(value, 32) !== undefined) {
      ev.traceId = decimalIdToHex(value, 32);
      continue;
    }
    if (key === 'dd.span_id' && decimalIdToHex(value, 16) !== undefined) {
      ev.spanId = decimalIdToHex(value, 16);
      continue;
    }
    if (TRACE_FLAGS_KEYS.has(key) && (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')) {
      ev.traceFlags = value === true || value === 'true' ? 1 : Number(value) & 0xff || 0;
      continue;
    }
    if (key === 'traceparent' && typeof value === 'string' && applyTraceparent(ev, value)) continue;
    if (typeof value === 'object' && !Array.isArray(value) && applyNestedTrace(ev, key, value as Record<string, unknown>)) continue;
    (ev.fields ??= {})[wellFormed(key)] = fieldValue(value);
  }
  if (message === undefined && fallbackMessage !== undefined) {
    message = fallbackMessage;
    delete ev.fields![fallbackKey];
  }
  if (message !== undefined) ev.message = wellFormed(message);
  if (ev.error !== undefined) ev.error = wellFormed(ev.error);
  if (ev.errorStack !== undefined) ev.errorStack = wellFormed(ev.errorStack);
  if (ev.errorType !== undefined) ev.errorType = wellFormed(ev.errorType);
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
      ev.level = normaliseLevel(value) ?? value.toLowerCase();
    } else if (message === undefined && MESSAGE_KEYS.has(key)) {
      message = value;
    } else if (ev.error === undefined && ERROR_KEYS.has(key)) {
      ev.error = value;
    } else if (TRACE_ID_KEYS.has(key) && isHex(value, 32)) {
      ev.traceId = value.toLowerCase();
    } else if (key === 'dd.trace_id' && decimalIdToHex(value, 32) !== undefined) {
      ev.traceId = decimalIdToHex(value, 32);
    } else if (key === 'dd.span_id' && decimalIdToHex(value, 16) !== undefined) {
      ev.spanId = decimalIdToHex(value, 16);
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

const RUBY_LOGGER_LEVELS: Readonly<Record<string, string>> = { D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal' };

/**
 * The level a plain line states: `ERROR ...`, `[warn] ...`, `ERROR:root:...` (Python),
 * `E, [2024-...] ERROR -- :` (Ruby's Logger), and a level word after a timestamp or pid, as
 * gunicorn (`[2024-05-01 12:00:00 +0000] [4] [CRITICAL]`), Sidekiq (`... pid=4 tid=x WARN: ...`),
 * Spring Boot and nginx (`... [error] 12#0: ...`) write them. Only the first eight words are read,
 * and a word counts when it is a level in upper case, or in brackets in any case, so prose that
 * mentions an error further on is not taken for one.
 */
export function plainTextLevel(text: string): string | undefined {
  if (text.length > 3 && text.charCodeAt(1) === 44 && text.charCodeAt(2) === 32 && text.charCodeAt(3) === 91) {
    const level = RUBY_LOGGER_LEVELS[text[0]!];
    if (level) return level;
  }
  const titled = titleCaseLevel(text);
  if (titled !== undefined) return titled;
  const limit = Math.min(text.length, 160);
  let i = 0;
  for (let word = 0; word < 8 && i < limit; word++) {
    while (i < limit && text.charCodeAt(i) === 32) i++;
    let start = i;
    while (i < limit && text.charCodeAt(i) !== 32) i++;
    const end = i;
    const bracketed = text.charCodeAt(start) === 91 /* [ */ || text.charCodeAt(start) === 40; /* ( */
    if (bracketed) start++;
    // Trailing punctuation: `WARN:`, `[error]`, `INFO|`, `ERROR:root:...` (up to the first colon).
    let stop = start;
    while (stop < end && isLetter(text.charCodeAt(stop))) stop++;
    const after = stop < end ? text.charCodeAt(stop) : 32;
    if (stop - start < 3 || stop - start > 9 || !(after === 32 || after === 58 || after === 93 || after === 41 || after === 124 || after === 44)) {
      // Letters then something else (`pid=4`, `12:00:00`, `---`): a prefix, read on.
      if (!bracketed && stop === end && stop > start) return undefined;
      continue;
    }
    const w = text.slice(start, stop);
    const level = bracketed || w === w.toUpperCase() ? LEVEL_WORDS[w.toLowerCase()] : undefined;
    if (level !== undefined) return level;
    // A plain word that is no level starts the prose: what follows is the message.
    if (!bracketed && stop === end) return undefined;
  }
  return undefined;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
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
    case 112 /* p */:
      // Go's unrecovered panic.
      return text.startsWith('panic: ') ? 'fatal' : undefined;
    default:
      return undefined;
  }
}

export function parseAppLine(text: string): AppLogEvent {
  const first = text.charCodeAt(0);
  if (first === 123 /* { */ && text.charCodeAt(text.length - 1) === 125) {
    const outOfBounds = jsonOutOfBounds(text);
    if (outOfBounds !== undefined) return unreadJson(text, outOfBounds);
    const ev = parseJson(text);
    if (ev) return ev;
  } else if (first <= 32 || text.charCodeAt(text.length - 1) <= 32) {
    // `  {"level":...}  `: indentation or trailing blanks around a JSON object.
    const trimmed = text.trim();
    if (trimmed.charCodeAt(0) === 123 && trimmed.charCodeAt(trimmed.length - 1) === 125) {
      const outOfBounds = jsonOutOfBounds(trimmed);
      if (outOfBounds !== undefined) return unreadJson(text, outOfBounds);
      const ev = parseJson(trimmed);
      if (ev) return ev;
    }
  }
  if (startsWithPair(text)) return parseLogfmt(text);
  const ev = appEvent('plain', text);
  ev.level = plainTextLevel(text);
  return ev;
}
