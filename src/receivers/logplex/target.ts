/**
 * An HTTP request target (`req.url`) to its path and query, by a byte scan: `new URL()` throws on
 * targets a client may send on purpose (`//[`, `http://[`, `//:99999`), and a thrown error in a
 * request handler would end the process. Malformed targets give undefined (the receiver answers 400).
 *
 * Origin form (`/logs?app=x`, RFC 9112 3.2.1) and absolute form (`http://host/logs`) are accepted.
 * The path must be RFC 3986 pchars and `/`, with well-formed %XX escapes; the query may hold any
 * visible ASCII (clients leave `[`, `|`, `{` and stray `%` unescaped there).
 */
export interface RequestTarget {
  path: string;
  query: string;
}

/** Bit per ASCII byte: allowed in a path (unreserved, sub-delims, ':', '@', '/', '%'). */
const PATH_BYTES = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%") PATH_BYTES[c.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Whether target[start, end) is a well-formed path, escapes included; a query (`queryPart`) only
 * needs visible ASCII: URLSearchParams reads any, and a drain URL with a stray `%` in its query
 * must not have every batch refused.
 */
function wellFormed(target: string, start: number, end: number, queryPart: boolean): boolean {
  for (let i = start; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === 37 /* % */ && !queryPart) {
      if (i + 2 >= end) return false;
      if (!isHex(target.charCodeAt(i + 1)) || !isHex(target.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (queryPart ? c <= 32 || c >= 127 : c >= 128 || PATH_BYTES[c] === 0) return false;
  }
  return true;
}

export function parseRequestTarget(target: string | undefined): RequestTarget | undefined {
  if (target === undefined || target.length === 0) return undefined;
  let pathStart = 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    // Absolute form: scheme "://" authority, then the path (or none: "/").
    const lower = target.slice(0, 8).toLowerCase();
    const schemeEnd = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : -1;
    if (schemeEnd < 0) return undefined;
    let i = schemeEnd;
    while (i < target.length) {
      const c = target.charCodeAt(i);
      if (c === 47 || c === 63) break;
      i++;
    }
    if (!wellFormedAuthority(target.slice(schemeEnd, i))) return undefined;
    if (i === target.length) return { path: '/', query: '' };
    if (target.charCodeAt(i) === 63) {
      return wellFormed(target, i + 1, target.length, true) ? { path: '/', query: target.slice(i + 1) } : undefined;
    }
    pathStart = i;
  }
  const q = target.indexOf('?', pathStart);
  const pathEnd = q < 0 ? target.length : q;
  if (!wellFormed(target, pathStart, pathEnd, false)) return undefined;
  if (q >= 0 && !wellFormed(target, q + 1, target.length, true)) return undefined;
  return { path: target.slice(pathStart, pathEnd), query: q < 0 ? '' : target.slice(q + 1) };
}

/** `[userinfo@]host[:port]`, host a name, an IPv4 address or a bracketed IPv6 address. */
function wellFormedAuthority(authority: string): boolean {
  const at = authority.lastIndexOf('@');
  if (at >= 0 && !wellFormed(authority, 0, at, false)) return false;
  const hostPort = authority.slice(at + 1);
  let portStart: number;
  if (hostPort.charCodeAt(0) === 91 /* [ */) {
    const close = hostPort.indexOf(']');
    if (close < 2) return false;
    for (let i = 1; i < close; i++) {
      const c = hostPort.charCodeAt(i);
      if (!isHex(c) && c !== 58 /* : */ && c !== 46 /* . */) return false;
    }
    if (close + 1 === hostPort.length) return true;
    if (hostPort.charCodeAt(close + 1) !== 58) return false;
    portStart = close + 2;
  } else {
    const colon = hostPort.indexOf(':');
    const hostEnd = colon < 0 ? hostPort.length : colon;
    if (hostEnd === 0) return false;
    for (let i = 0; i < hostEnd; i++) {
      const c = hostPort.charCodeAt(i);
      if (c >= 128 || PATH_BYTES[c] === 0 || c === 58 || c === 64 || c === 47) return false;
    }
    if (colon < 0) return true;
    portStart = colon + 1;
  }
  const port = hostPort.slice(portStart);
  if (port.length === 0) return true;
  if (port.length > 5) return false;
  for (let i = 0; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(port) <= 65535;
}
