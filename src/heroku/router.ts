/**
 * Heroku router lines (APP `heroku`, PROCID `router`):
 * `at=info method=GET path="/a?b=c" host=x request_id=... fwd="1.2.3.4" dyno=web.1 connect=0ms
 * service=41ms status=200 bytes=1834 protocol=https`, and error lines with `code=` and `desc=`
 * whose values may be empty (`dyno= connect= service= bytes=`). Unknown keys are kept.
 */
import { leadingNumber, unescapeQuoted } from './logfmt.ts';
import type { RouterEvent } from './events.ts';


/**
 * Splits `fwd` (X-Forwarded-For) into addresses: comma and/or whitespace separated, brackets and
 * ports dropped. Quotes and backslashes separate too: no address holds one, and captures copied
 * out of source code carry `fwd=\"1.2.3.4\"`.
 */
export function splitForwarded(value: string): string[] {
  return splitForwardedRange(value, 0, value.length);
}

/**
 * splitForwarded over `text[start, end)`, so the router reader needs no slice of the value. Most
 * lines forward one address: its array is made for it, not grown from an empty one.
 */
function splitForwardedRange(text: string, start: number, end: number): string[] {
  let first: string | undefined;
  let out: string[] | undefined;
  let from = -1;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 44;
    if (c === 44 /* , */ || c <= 32 || c === 34 /* " */ || c === 92 /* \ */) {
      if (from >= 0) {
        const address = bareAddress(text, from, i);
        if (first === undefined) first = address;
        else if (out === undefined) out = [first, address];
        else out.push(address);
        from = -1;
      }
    } else if (from < 0) {
      from = i;
    }
  }
  return out ?? (first === undefined ? [] : [first]);
}

/**
 * `[2001:db8::1]` and `[2001:db8::1]:443` become `2001:db8::1`, `203.0.113.9:51234` becomes
 * `203.0.113.9`: `client.address` is an address, never a port. A bare IPv6 address has several
 * colons and is kept whole.
 */
function bareAddress(text: string, start: number, end: number): string {
  const address = text.slice(start, end);
  if (address.charCodeAt(0) === 91 /* [ */) {
    const close = address.indexOf(']');
    return close > 0 ? address.slice(1, close) : address.slice(1);
  }
  const colon = address.indexOf(':');
  if (colon > 0 && address.indexOf(':', colon + 1) < 0) return address.slice(0, colon);
  return address;
}

/**
 * Whether a text looks like a router line: logfmt with an `at=` key, first as a rule, but client
 * errors (H27, H28) lead with `sock=client at=warning`.
 */
export function looksLikeRouterLine(text: string): boolean {
  return text.startsWith('at=') || text.includes(' at=');
}

function newRouterEvent(): RouterEvent {
  return {
    kind: 'router',
    at: '',
    code: undefined,
    desc: undefined,
    method: undefined,
    path: undefined,
    query: undefined,
    host: undefined,
    requestId: undefined,
    fwd: [],
    dyno: undefined,
    connectMs: NaN,
    serviceMs: NaN,
    status: NaN,
    bytes: NaN,
    protocol: undefined,
    tlsVersion: undefined,
    sock: undefined,
    extra: undefined,
  };
}

/**
 * Parses a router line's logfmt from `start` (the text after the syslog header, so the caller can
 * pass the whole decoded message: scanning a flat string is faster than a slice of it).
 */
export function parseRouterLine(text: string, start = 0): RouterEvent {
  return readRouterPairs(newRouterEvent(), text, start);
}

/** An array that is never written: the `fwd` of a reused event whose line had none. */
const NO_ADDRESSES: string[] = Object.freeze([]) as unknown as string[];

/**
 * parseRouterLine into `ev`, which is overwritten rather than a new event made: for a caller
 * that is done with one line's event before it reads the next (translation). `ev.fwd` is a new
 * array when the line forwards addresses, else an empty array that must not be written to.
 */
export function parseRouterLineInto(ev: RouterEvent, text: string, start = 0): RouterEvent {
  ev.at = '';
  ev.code = undefined;
  ev.desc = undefined;
  ev.method = undefined;
  ev.path = undefined;
  ev.query = undefined;
  ev.host = undefined;
  ev.requestId = undefined;
  ev.fwd = NO_ADDRESSES;
  ev.dyno = undefined;
  ev.connectMs = NaN;
  ev.serviceMs = NaN;
  ev.status = NaN;
  ev.bytes = NaN;
  ev.protocol = undefined;
  ev.tlsVersion = undefined;
  ev.sock = undefined;
  ev.extra = undefined;
  return readRouterPairs(ev, text, start);
}

/** A router event to pass to parseRouterLineInto. */
export function emptyRouterEvent(): RouterEvent {
  return newRouterEvent();
}

/** Whether `text[start, end)` is exactly `key`. */
function isKey(text: string, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (text.charCodeAt(start + i) !== key.charCodeAt(i)) return false;
  return true;
}

/** A non-negative decimal at `text[start, end)`, a unit after it ignored (`41ms`); NaN if none. */
function leadingInteger(text: string, start: number, end: number): number {
  let n = 0;
  let i = start;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === start) return NaN;
  // A fraction (`12.5ms`, seen on some routers) is rare: the general parser takes it.
  if (i < end && text.charCodeAt(i) === 46) return leadingNumber(text, start, end);
  // Twenty digits of `bytes=` are no count anyone can use exactly: the body keeps them.
  return n <= Number.MAX_SAFE_INTEGER ? n : NaN;
}

/**
 * A key's characters as one number, 7 bits each: exact, so equal numbers are equal keys, for
 * ASCII keys of up to 7 characters (49 bits, under 2^53); longer keys are compared as well.
 * Keys of different lengths never pack alike, as a key holds no character below `!`.
 */
function packKey(key: string): number {
  let n = 0;
  for (let i = 0; i < key.length; i++) n = n * 128 + key.charCodeAt(i);
  return n;
}

const KEY_AT = packKey('at');
const KEY_CODE = packKey('code');
const KEY_DESC = packKey('desc');
const KEY_METHOD = packKey('method');
const KEY_PATH = packKey('path');
const KEY_HOST = packKey('host');
const KEY_REQUEST_ID = packKey('request_id');
const KEY_FWD = packKey('fwd');
const KEY_DYNO = packKey('dyno');
const KEY_CONNECT = packKey('connect');
const KEY_SERVICE = packKey('service');
const KEY_STATUS = packKey('status');
const KEY_BYTES = packKey('bytes');
const KEY_PROTOCOL = packKey('protocol');
const KEY_TLS_VERSION = packKey('tls_version');
const KEY_SOCK = packKey('sock');

/**
 * Reads the logfmt pairs of `text` from `start` into `ev`. This is the hottest code of the
 * sidecar (80 % of lines), so it finds `=`, `"`, spaces and backslashes with indexOf, which V8
 * runs natively (a loop of charCodeAt over a line's length costs more: measured), tells keys
 * apart by one number (packKey), and builds no string but the values it keeps.
 * The rules are LogfmtScanner's: quoted values may hold spaces and `\"`, an unterminated quote
 * runs to the end, a quote that closes nothing is dropped.
 */
function readRouterPairs(ev: RouterEvent, text: string, start: number): RouterEvent {
  const end = text.length;
  // The first backslash from here on, or `end`: most lines hold none, so no quoted value needs
  // a look for escapes.
  let backslash = text.indexOf('\\', start);
  if (backslash < 0) backslash = end;
  let i = start;
  while (i < end) {
    if (text.charCodeAt(i) <= 32) {
      i++;
      continue;
    }
    const keyStart = i;
    let eq = text.indexOf('=', i);
    if (eq < 0) eq = end;
    // Keys are short: a separator before `=` makes this a bare word. The key's characters are
    // packed into one number on the way (see packKey), which then names the key.
    let keyEnd = i;
    let packed = 0;
    let bits = 0;
    while (keyEnd < eq) {
      const c = text.charCodeAt(keyEnd);
      if (c <= 32) break;
      packed = packed * 128 + c;
      bits |= c;
      keyEnd++;
    }
    if (keyEnd < eq || eq === end) {
      (ev.extra ??= {})[text.slice(keyStart, keyEnd)] = '';
      i = keyEnd;
      continue;
    }
    let valueStart = eq + 1;
    let valueEnd: number;
    let escaped = false;
    if (backslash < valueStart) {
      backslash = text.indexOf('\\', valueStart);
      if (backslash < 0) backslash = end;
    }
    if (text.charCodeAt(valueStart) === 34 /* " */) {
      valueStart++;
      let q = text.indexOf('"', valueStart);
      if (backslash < (q < 0 ? end : q)) {
        while (q > 0 && text.charCodeAt(q - 1) === 92 /* \ */ && isEscapedAt(text, valueStart, q - 1)) q = text.indexOf('"', q + 1);
      }
      valueEnd = q < 0 ? end : q;
      i = q < 0 ? end : q + 1;
      escaped = backslash < valueEnd;
    } else if (backslash === valueStart && text.charCodeAt(valueStart + 1) === 34 /* " */) {
      // A line copied out of JSON or source code: `fwd=\"203.0.113.9, 10.0.0.1\"` is a quoted
      // value whose quotes were escaped; its spaces are inside it, not between keys.
      valueStart += 2;
      const q = text.indexOf('\\"', valueStart);
      valueEnd = q < 0 ? end : q;
      i = q < 0 ? end : q + 2;
    } else {
      let sp = text.indexOf(' ', valueStart);
      if (sp < 0) sp = end;
      i = sp;
      valueEnd = sp;
      // A CRLF line's `\r` or a trailing tab is no part of the value.
      while (valueEnd > valueStart && text.charCodeAt(valueEnd - 1) < 32) valueEnd--;
      // Dev Center's own example has `host=myapp.herokuapp.com"`: a quote that closes nothing.
      if (valueEnd > valueStart + 1 && text.charCodeAt(valueEnd - 1) === 34) valueEnd--;
    }
    const empty = valueEnd === valueStart;
    // Only an ASCII key can be one of ours (and only then is the packing exact), in line order.
    if (bits < 128) {
      switch (packed) {
        case KEY_AT:
          ev.at = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_CODE:
          if (!empty) ev.code = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_DESC:
          if (!empty) ev.desc = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_METHOD:
          if (!empty) ev.method = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_PATH:
          if (!empty) readPath(ev, text, valueStart, valueEnd, escaped);
          continue;
        case KEY_HOST:
          if (!empty) ev.host = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_REQUEST_ID:
          if (!isKey(text, keyStart, keyEnd, 'request_id')) break;
          if (!empty) ev.requestId = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_FWD:
          if (!empty) ev.fwd = splitForwardedRange(text, valueStart, valueEnd);
          continue;
        case KEY_DYNO:
          if (!empty) ev.dyno = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_CONNECT:
          ev.connectMs = leadingInteger(text, valueStart, valueEnd);
          continue;
        case KEY_SERVICE:
          ev.serviceMs = leadingInteger(text, valueStart, valueEnd);
          continue;
        case KEY_STATUS:
          ev.status = leadingInteger(text, valueStart, valueEnd);
          continue;
        case KEY_BYTES:
          ev.bytes = leadingInteger(text, valueStart, valueEnd);
          continue;
        case KEY_PROTOCOL:
          if (!isKey(text, keyStart, keyEnd, 'protocol')) break;
          if (!empty) ev.protocol = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_TLS_VERSION:
          if (!isKey(text, keyStart, keyEnd, 'tls_version')) break;
          if (!empty) ev.tlsVersion = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
        case KEY_SOCK:
          if (!empty) ev.sock = sliceValue(text, valueStart, valueEnd, escaped);
          continue;
      }
    }
    (ev.extra ??= {})[text.slice(keyStart, keyEnd)] = sliceValue(text, valueStart, valueEnd, escaped);
  }
  return ev;
}

/** `path=`: the query is kept apart, as `url.path` never carries it. */
function readPath(ev: RouterEvent, text: string, start: number, end: number, escaped: boolean): void {
  if (!escaped) {
    const q = text.indexOf('?', start);
    if (q >= 0 && q < end) {
      ev.path = text.slice(start, q);
      ev.query = text.slice(q + 1, end);
    } else {
      ev.path = text.slice(start, end);
    }
    return;
  }
  const full = unescapeQuoted(text.slice(start, end));
  const q = full.indexOf('?');
  ev.path = q < 0 ? full : full.slice(0, q);
  if (q >= 0) ev.query = full.slice(q + 1);
}

function sliceValue(text: string, start: number, end: number, escaped: boolean): string {
  const raw = text.slice(start, end);
  return escaped ? unescapeQuoted(raw) : raw;
}

/** Whether the backslash at `at` escapes what follows: an odd run of backslashes ends there. */
function isEscapedAt(text: string, from: number, at: number): boolean {
  let n = 0;
  while (at - n >= from && text.charCodeAt(at - n) === 92) n++;
  return n % 2 === 1;
}

/** Whether a text is a router error in the pre-2012 shape: `Error H10 (App crashed) -> GET ...`. */
export function looksLikeLegacyRouterLine(text: string): boolean {
  return text.startsWith('Error H') && text.indexOf(' -> ') > 0;
}

/**
 * The pre-2012 router error shape that Dev Center's "errors" page still shows:
 * `Error H10 (App crashed) -> GET crasher.heroku.com/ dyno=none queue=0 wait=0ms service=0ms bytes=0`.
 * Method, host and path come as words rather than pairs; the pairs after them read as usual.
 * Rare, so written for clarity rather than speed.
 */
export function parseLegacyRouterLine(text: string): RouterEvent {
  const ev = newRouterEvent();
  ev.at = 'error';
  ev.code = text.slice(6, 9);
  const arrow = text.indexOf(' -> ');
  const open = text.indexOf('(');
  const close = open > 0 ? text.lastIndexOf(')', arrow) : -1;
  if (open > 0 && close > open) ev.desc = text.slice(open + 1, close);
  let i = arrow + 4;
  const words: string[] = [];
  // Up to two words before the first pair: the method, then host and path run together.
  while (words.length < 2) {
    while (text.charCodeAt(i) === 32) i++;
    let j = i;
    while (j < text.length && text.charCodeAt(j) !== 32) j++;
    const word = text.slice(i, j);
    // A pair (`dyno=none`) ends the words; a URL may hold `=` in its query, after the `/`.
    const eq = word.indexOf('=');
    const slash = word.indexOf('/');
    if (word === '' || (eq >= 0 && (slash < 0 || eq < slash))) break;
    words.push(word);
    i = j;
  }
  if (words[0] !== undefined) ev.method = words[0];
  const url = words[1];
  if (url !== undefined) {
    const slash = url.indexOf('/');
    ev.host = slash < 0 ? url : url.slice(0, slash) || undefined;
    if (slash >= 0) {
      const full = url.slice(slash);
      const q = full.indexOf('?');
      ev.path = q < 0 ? full : full.slice(0, q);
      if (q >= 0) ev.query = full.slice(q + 1);
    }
  }
  readRouterPairs(ev, text, i);
  // `dyno=none`: no dyno was reached.
  if (ev.dyno === 'none') ev.dyno = undefined;
  return ev;
}
