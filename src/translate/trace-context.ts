/**
 * Trace context for a Heroku request, derived from the router's `request_id` alone, so that
 * every line of one request gets the same ids wherever and whenever it is read: the router
 * line, the app lines that log the request id (which Logplex delivers before the router line,
 * often in another batch), a frame Logplex sends again, a second sidecar instance, a restart.
 *
 * A request id the router made is a UUID (`f2b8e1d4-6c3a-4b7e-9a21-3d5c7e9f1a2b`): its 32 hex
 * digits, in lower case, are the trace id (so a trace is found in a backend by its request id,
 * dashes taken out), and the router span's id is its first 8 bytes XOR its last 8. Any other id
 * (a client's X-Request-ID, 20-200 characters):
 *
 *   h = SHA-256(UTF-8 bytes of "heroku-request-id:" + request_id)
 *   trace id = hex(h[0..16]), span id (the router's SERVER span) = hex(h[16..24])
 *
 * The prefix keeps the ids from matching a plain SHA-256 of the id that something else computes.
 * An id that would come out all zero (invalid in W3C) takes the SHA-256 way, and a SHA-256 that
 * is all zero (never seen) is mapped to 1.
 */
import { hash } from 'node:crypto';

export interface TraceIds {
  traceId: string;
  spanId: string;
}

const PREFIX = 'heroku-request-id:';
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

const HEX = '0123456789abcdef';

/** A hex digit's value (either case), or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Reused by uuidIds: the span id's 16 character codes, the trace id's 32 (one flat string each, no slices joined). */
const spanCodes: number[] = new Array<number>(16).fill(48);
const traceCodes: number[] = new Array<number>(32).fill(48);

/** A UUID's ids (see above), or undefined when `id` is no UUID or they would be all zero. */
function uuidIds(id: string): TraceIds | undefined {
  if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return undefined;
  let any = 0;
  // Hex digit k (0-31) of the UUID is at k + the dashes before it.
  for (let k = 0; k < 16; k++) {
    const a = id.charCodeAt(k < 8 ? k : k < 12 ? k + 1 : k + 2);
    const j = k + 16;
    const b = id.charCodeAt(j < 20 ? j + 3 : j + 4);
    const va = hexValue(a);
    const vb = hexValue(b);
    if (va < 0 || vb < 0) return undefined;
    // In lower case, as W3C writes ids.
    traceCodes[k] = a >= 65 && a <= 70 ? a + 32 : a;
    traceCodes[j] = b >= 65 && b <= 70 ? b + 32 : b;
    const x = va ^ vb;
    any |= va | vb;
    spanCodes[k] = HEX.charCodeAt(x);
  }
  if (any === 0) return undefined;
  const spanId = String.fromCharCode.apply(null, spanCodes);
  // A span id of all zero (the halves equal): the SHA-256 way.
  if (spanId === '0000000000000000') return undefined;
  return { traceId: String.fromCharCode.apply(null, traceCodes), spanId };
}

/** The trace id and the router span's id of the request `requestId` (non-empty). */
export function traceIdsOfRequest(requestId: string): TraceIds {
  const fromUuid = uuidIds(requestId);
  if (fromUuid !== undefined) return fromUuid;
  const h = hash('sha256', PREFIX + requestId, 'hex');
  let traceId = h.slice(0, 32);
  let spanId = h.slice(32, 48);
  if (traceId === ZERO_TRACE) traceId = '0'.repeat(31) + '1';
  if (spanId === ZERO_SPAN) spanId = '0'.repeat(15) + '1';
  return { traceId, spanId };
}

export interface TraceParent {
  traceId: string;
  /** The caller's span: the router span's parent. */
  parentSpanId: string;
  traceFlags: number;
}

function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * A W3C `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`), or undefined when it is not one:
 * a wrong length or version ff, upper-case or non-hex digits, an all-zero trace or span id.
 * Versions above 00 may append fields after a dash, which are ignored (W3C: parse as 00).
 */
export function parseTraceParent(value: string): TraceParent | undefined {
  const v = value.trim();
  if (v.length < 55 || (v.length > 55 && v.charCodeAt(55) !== 45 /* - */)) return undefined;
  if (v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return undefined;
  if (!isLowerHex(v, 0, 2) || !isLowerHex(v, 3, 35) || !isLowerHex(v, 36, 52) || !isLowerHex(v, 53, 55)) return undefined;
  const version = v.slice(0, 2);
  if (version === 'ff' || (version === '00' && v.length !== 55)) return undefined;
  const traceId = v.slice(3, 35);
  const parentSpanId = v.slice(36, 52);
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return undefined;
  return { traceId, parentSpanId, traceFlags: parseInt(v.slice(53, 55), 16) };
}
