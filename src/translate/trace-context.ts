/**
 * Trace context for a Heroku request, derived from the router's `request_id` alone, so that
 * every line of one request gets the same ids wherever and whenever it is read: the router
 * line, the app lines that log the request id (which Logplex delivers before the router line,
 * often in another batch), a frame Logplex sends again, a second sidecar instance, a restart.
 *
 *   h = SHA-256(UTF-8 bytes of "heroku-request-id:" + request_id)
 *   trace id = hex(h[0..16]), span id (the router's SERVER span) = hex(h[16..24])
 *
 * The prefix keeps the ids from matching a plain SHA-256 of the id that something else computes.
 * A request id is chosen by the router (a UUID) or by the client (X-Request-ID, 20-200
 * characters), so it is unique enough; an all-zero id (invalid in W3C) cannot come out in practice
 * but is mapped to 1 anyway.
 */
import { hash } from 'node:crypto';

export interface TraceIds {
  traceId: string;
  spanId: string;
}

const PREFIX = 'heroku-request-id:';
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The trace id and the router span's id of the request `requestId` (non-empty). */
export function traceIdsOfRequest(requestId: string): TraceIds {
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
