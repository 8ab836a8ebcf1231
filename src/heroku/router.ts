/**
 * Heroku router lines (APP `heroku`, PROCID `router`):
 * `at=info method=GET path="/a?b=c" host=x request_id=... fwd="1.2.3.4" dyno=web.1 connect=0ms
 * service=41ms status=200 bytes=1834 protocol=https`, and error lines with `code=` and `desc=`
 * whose values may be empty (`dyno= connect= service= bytes=`). Unknown keys are kept.
 */
import { LogfmtScanner } from './logfmt.ts';
import type { RouterEvent } from './events.ts';

const scanner = new LogfmtScanner();

/**
 * Splits `fwd` (X-Forwarded-For) into addresses: comma and/or whitespace separated, brackets and
 * ports dropped. Quotes and backslashes separate too: no address holds one, and captures copied
 * out of source code carry `fwd=\"1.2.3.4\"`.
 */
export function splitForwarded(value: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (c === 44 /* , */ || c <= 32 || c === 34 /* " */ || c === 92 /* \ */) {
      if (start >= 0) {
        out.push(bareAddress(value.slice(start, i)));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

/**
 * `[2001:db8::1]` and `[2001:db8::1]:443` become `2001:db8::1`, `203.0.113.9:51234` becomes
 * `203.0.113.9`: `client.address` is an address, never a port. A bare IPv6 address has several
 * colons and is kept whole.
 */
function bareAddress(address: string): string {
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

export function parseRouterLine(text: string): RouterEvent {
  return readRouterPairs(newRouterEvent(), text, 0);
}

/** Reads the logfmt pairs of `text` from `start` into `ev`. */
function readRouterPairs(ev: RouterEvent, text: string, start: number): RouterEvent {
  const sc = scanner.reset(text, start);
  while (sc.next()) {
    const keyLength = sc.keyEnd - sc.keyStart;
    const empty = sc.valueEnd === sc.valueStart;
    // Dispatch on the key's length and first letter: one or two comparisons per field.
    switch (keyLength) {
      case 2:
        if (sc.keyIs('at')) {
          ev.at = sc.value();
          continue;
        }
        break;
      case 3:
        if (sc.keyIs('fwd')) {
          if (!empty) ev.fwd = splitForwarded(sc.value());
          continue;
        }
        break;
      case 4:
        if (sc.keyIs('path')) {
          if (!empty) {
            const full = sc.value();
            const q = full.indexOf('?');
            if (q < 0) {
              ev.path = full;
            } else {
              ev.path = full.slice(0, q);
              ev.query = full.slice(q + 1);
            }
          }
          continue;
        }
        if (sc.keyIs('host')) {
          if (!empty) ev.host = sc.value();
          continue;
        }
        if (sc.keyIs('code')) {
          if (!empty) ev.code = sc.value();
          continue;
        }
        if (sc.keyIs('desc')) {
          if (!empty) ev.desc = sc.value();
          continue;
        }
        if (sc.keyIs('dyno')) {
          if (!empty) ev.dyno = sc.value();
          continue;
        }
        if (sc.keyIs('sock')) {
          if (!empty) ev.sock = sc.value();
          continue;
        }
        break;
      case 5:
        if (sc.keyIs('bytes')) {
          ev.bytes = sc.numberValue();
          continue;
        }
        break;
      case 6:
        if (sc.keyIs('method')) {
          if (!empty) ev.method = sc.value();
          continue;
        }
        if (sc.keyIs('status')) {
          ev.status = sc.numberValue();
          continue;
        }
        break;
      case 7:
        if (sc.keyIs('connect')) {
          ev.connectMs = sc.numberValue();
          continue;
        }
        if (sc.keyIs('service')) {
          ev.serviceMs = sc.numberValue();
          continue;
        }
        break;
      case 8:
        if (sc.keyIs('protocol')) {
          if (!empty) ev.protocol = sc.value();
          continue;
        }
        break;
      case 10:
        if (sc.keyIs('request_id')) {
          if (!empty) ev.requestId = sc.value();
          continue;
        }
        break;
      case 11:
        if (sc.keyIs('tls_version')) {
          if (!empty) ev.tlsVersion = sc.value();
          continue;
        }
        break;
    }
    if (keyLength === 0) continue;
    (ev.extra ??= {})[sc.key()] = sc.value();
  }
  return ev;
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
