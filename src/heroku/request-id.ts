/**
 * The router's request id in an app's own log line, so that the line can carry the trace context
 * of the request it was written for (src/translate/trace-context.ts derives it from the id).
 *
 * Where apps write it:
 * - a field: logfmt `request_id=...`, JSON `"request_id"`, `"requestId"`, `"request.id"` or
 *   `{"request": {"id": ...}}` (the keys are configurable: RequestIdKeys);
 * - a leading tag, as Rails' TaggedLogging writes `config.log_tags = [:request_id]`:
 *   `[<id>] Started GET "/" ...`, possibly after other tags (`[web.1] [abc] [<id>] ...`) or after
 *   Ruby Logger's prefix (`I, [2024-05-01T12:00:00.123456 #4]  INFO -- : [<id>] ...`).
 *
 * Only a value that can be a router request id is taken. Heroku's router makes a UUID, or keeps
 * a client's X-Request-ID when it is 20 to 200 characters of ASCII letters, digits, `+`, `/`, `=`
 * and `-` (Heroku Dev Center, "HTTP Request IDs"); anything else it replaces, so anything else
 * cannot match a router line. A tag names nothing, so a tag must look like an id on top of that:
 * a UUID, or 20 hex digits and more (older routers' ids), or at least 3 digits and a letter
 * (a client's random id) — a long slug of words (`[my-review-app-production]`) is no request id.
 *
 * All of it is scans by index: no regular expression, nothing allocated but the id itself.
 */
import type { AppLogEvent } from './events.ts';

/** Heroku's bounds on a client's X-Request-ID, which the router then logs as `request_id`. */
export const REQUEST_ID_MIN = 20;
export const REQUEST_ID_MAX = 200;

/** The fields read by default: Rails' and Heroku's docs' `request_id`, JavaScript's `requestId`, ECS-like `request.id`. */
export const DEFAULT_REQUEST_ID_KEYS: readonly string[] = ['request_id', 'requestId', 'request.id'];

/** Tags read before giving up: `[web.1] [tenant] [ip] [id]` is four. */
const MAX_TAGS = 8;

/** What to look for, built once per receiver from its config (`trace_correlation`). */
export interface RequestIdKeys {
  /** Fields whose value is the request id, in order of preference. */
  readonly keys: readonly string[];
  /** For a dotted key (`request.id`): its parts, to find it nested in a JSON object too. */
  readonly paths: ReadonlyArray<readonly string[] | undefined>;
  /** Whether leading `[...]` tags of plain lines are read. */
  readonly tags: boolean;
}

export function requestIdKeys(keys: readonly string[] = DEFAULT_REQUEST_ID_KEYS, tags = true): RequestIdKeys {
  return { keys: [...keys], paths: keys.map((k) => (k.indexOf('.') > 0 ? k.split('.') : undefined)), tags };
}

export const DEFAULT_REQUEST_ID_KEYS_CONFIG: RequestIdKeys = requestIdKeys();

/** The characters Heroku allows in an X-Request-ID: ASCII letters, digits, `+`, `/`, `=`, `-`. */
function idChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 45 || c === 43 || c === 47 || c === 61;
}

/** Whether text[from, to) is a value the router could log as request_id. */
export function isRequestIdShaped(text: string, from = 0, to = text.length): boolean {
  const n = to - from;
  if (n < REQUEST_ID_MIN || n > REQUEST_ID_MAX) return false;
  for (let i = from; i < to; i++) if (!idChar(text.charCodeAt(i))) return false;
  return true;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** 8-4-4-4-12 hex digits. */
export function isUuid(text: string, from: number, to: number): boolean {
  if (to - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHexDigit(c)) return false;
  }
  return true;
}

/** Whether a bracketed tag text[from, to) is a request id rather than a word, a host, a slug. */
function isRequestIdTag(text: string, from: number, to: number): boolean {
  if (!isRequestIdShaped(text, from, to)) return false;
  if (isUuid(text, from, to)) return true;
  let digits = 0;
  let letters = 0;
  let hex = true;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) letters++;
    if (!isHexDigit(c)) hex = false;
  }
  return hex ? digits > 0 : digits >= 3 && letters > 0;
}

/** Where Ruby Logger's `X, [time #pid]  LEVEL -- progname: ` prefix ends, or 0 when there is none. */
function rubyLoggerPrefixEnd(text: string): number {
  if (text.length < 8 || text.charCodeAt(1) !== 44 /* , */ || text.charCodeAt(2) !== 32 || text.charCodeAt(3) !== 91 /* [ */) return 0;
  const close = text.indexOf('] ', 4);
  if (close < 0 || close > 80) return 0;
  const dashes = text.indexOf(' -- ', close);
  if (dashes < 0 || dashes > close + 16) return 0;
  const colon = text.indexOf(': ', dashes + 4);
  // progname is short; past that, the colon is the message's own.
  if (colon < 0 || colon > dashes + 68) return 0;
  return colon + 2;
}

/**
 * The request id in the leading `[tag]`s of a plain line, or undefined. Tags are separated by one
 * space, as TaggedLogging writes them; reading stops at the first character that is no tag.
 */
export function requestIdOfTags(text: string): string | undefined {
  let i = text.charCodeAt(0) === 91 ? 0 : rubyLoggerPrefixEnd(text);
  for (let tag = 0; tag < MAX_TAGS && text.charCodeAt(i) === 91; tag++) {
    // A tag never holds `]`, and a request id is at most 200 characters: look no further.
    const limit = Math.min(text.length, i + 2 + REQUEST_ID_MAX);
    let close = i + 1;
    while (close < limit && text.charCodeAt(close) !== 93) close++;
    if (close >= limit) return undefined;
    if (isRequestIdTag(text, i + 1, close)) return text.slice(i + 1, close);
    i = close + 1;
    if (text.charCodeAt(i) === 32) i++;
  }
  return undefined;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return isRequestIdShaped(value) ? value : undefined;
  return undefined;
}

/**
 * The request id an app line carries, or undefined: the first configured field that holds one
 * (as a field, or nested in the JSON object for a dotted key), else its leading tags.
 */
export function requestIdOf(ev: AppLogEvent, keys: RequestIdKeys): string | undefined {
  const fields = ev.fields;
  if (fields !== undefined) {
    const names = keys.keys;
    for (let k = 0; k < names.length; k++) {
      const id = idOf(fields[names[k]!]);
      if (id !== undefined) return id;
    }
  }
  const json = ev.json;
  if (json !== undefined) {
    const paths = keys.paths;
    for (let k = 0; k < paths.length; k++) {
      const path = paths[k];
      if (path === undefined) continue;
      let value: unknown = json;
      for (let p = 0; p < path.length && value !== undefined; p++) {
        value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[path[p]!] : undefined;
      }
      const id = idOf(value);
      if (id !== undefined) return id;
    }
  }
  if (keys.tags && ev.format === 'plain') {
    const text = ev.message;
    const first = text.charCodeAt(0);
    // `[` or Ruby Logger's `I, [`: a look at two characters spares every other line the scan.
    if (first === 91 || text.charCodeAt(1) === 44) return requestIdOfTags(text);
  }
  return undefined;
}
