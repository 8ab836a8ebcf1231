/**
 * Heroku router lines (APP `heroku`, PROCID `router`):
 * `at=info method=GET path="/a?b=c" host=x request_id=... fwd="1.2.3.4" dyno=web.1 connect=0ms
 * service=41ms status=200 bytes=1834 protocol=https`, and error lines with `code=` and `desc=`
 * whose values may be empty (`dyno= connect= service= bytes=`). Unknown keys are kept.
 */
import { LogfmtScanner } from './logfmt.ts';
import type { RouterEvent } from './events.ts';

const scanner = new LogfmtScanner();

/** Splits `fwd` (X-Forwarded-For) into addresses: comma and/or space separated, brackets dropped. */
export function splitForwarded(value: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (c === 44 /* , */ || c === 32 || c === 9) {
      if (start >= 0) {
        out.push(stripBrackets(value.slice(start, i)));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

/** `[2001:db8::1]` and `[2001:db8::1]:443` become `2001:db8::1`. */
function stripBrackets(address: string): string {
  if (address.charCodeAt(0) !== 91) return address;
  const close = address.indexOf(']');
  return close > 0 ? address.slice(1, close) : address.slice(1);
}

/** Whether a text looks like a router line: logfmt starting with `at=`. */
export function looksLikeRouterLine(text: string): boolean {
  return text.startsWith('at=');
}

export function parseRouterLine(text: string): RouterEvent {
  const ev: RouterEvent = {
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
  const sc = scanner.reset(text);
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
