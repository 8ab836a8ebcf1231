import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTraceParent, traceIdsOfRequest } from '../../src/translate/trace-context.ts';

describe('trace ids of a request id', () => {
  it("of a UUID (the router's own ids): its hex digits in lower case, and its halves XORed as the span id", () => {
    const id = 'f2b8e1d4-6c3a-4b7e-9a21-3d5c7e9f1a2b';
    const hex = id.replace(/-/g, '');
    const xor = Array.from({ length: 16 }, (_, i) => (parseInt(hex[i]!, 16) ^ parseInt(hex[i + 16]!, 16)).toString(16)).join('');
    expect(traceIdsOfRequest(id)).toEqual({ traceId: hex, spanId: xor });
    expect(traceIdsOfRequest(id.toUpperCase())).toEqual(traceIdsOfRequest(id));
  });

  it('of any other id (a client X-Request-ID), or a UUID whose ids would be zero: the documented SHA-256 slices', () => {
    for (const id of ['client-request-7f3a9b2c4d5e', '00000000-0000-0000-0000-000000000000', 'abcdef12-3456-7890-abcd-ef1234567890'.slice(0, 35) + 'x', '12345678-1234-1234-1234-123456781234'.replace(/-/g, '_')]) {
      const h = createHash('sha256').update(`heroku-request-id:${id}`, 'utf8').digest('hex');
      expect(traceIdsOfRequest(id), id).toEqual({ traceId: h.slice(0, 32), spanId: h.slice(32, 48) });
    }
    // A UUID whose two halves are equal would have a zero span id.
    const twin = '0123abcd-0123-4567-0123-abcd01234567';
    const h = createHash('sha256').update(`heroku-request-id:${twin}`, 'utf8').digest('hex');
    expect(traceIdsOfRequest(twin)).toEqual({ traceId: h.slice(0, 32), spanId: h.slice(32, 48) });
  });

  it('differ between request ids, and read non-ASCII ids as UTF-8', () => {
    expect(traceIdsOfRequest('a').traceId).not.toBe(traceIdsOfRequest('b').traceId);
    const h = createHash('sha256').update('heroku-request-id:é', 'utf8').digest('hex');
    expect(traceIdsOfRequest('é').traceId).toBe(h.slice(0, 32));
  });
});

describe('traceparent', () => {
  it('reads version 00 and a later version with extra fields', () => {
    expect(parseTraceParent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    expect(parseTraceParent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later')?.traceFlags).toBe(0);
  });

  it.each([
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['00 with more after it', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'],
    ['too short', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['not hex', '00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01'],
    ['empty', ''],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });
});
