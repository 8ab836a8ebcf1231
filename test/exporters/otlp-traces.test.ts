/**
 * Spans in OTLP: our protobuf encoder's ExportTraceServiceRequest decoded with the code generated
 * from opentelemetry-proto gives back every field of every span (ids, trace state, parent or
 * none, flags, name, kind, times, attributes, status and its message); it says what our OTLP/JSON
 * says (itself round-tripped through the same code) and what the SDK's own trace serializer says;
 * a partial success's rejected_spans is read from either encoding.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SCOPE } from '../../src/exporters/exporter.ts';
import { OtlpProtoEncoder } from '../../src/exporters/otlphttp/proto.ts';
import { partialSuccess } from '../../src/exporters/otlphttp/response.ts';
import { otlpJsonLines, tracesRequest } from '../../src/translate/otlp-json.ts';
import { SPAN_KIND_SERVER, SPAN_STATUS_ERROR, SPAN_STATUS_OK, SPAN_STATUS_UNSET, type Attributes, type SpanData } from '../../src/translate/telemetry.ts';
import { decodeTracesRequest, withoutEmptyArrays } from '../support/otlp.ts';
import { toReadableSpans } from '../support/sdk-oracle.ts';
import { routerSpan, routerSpans } from '../support/spans.ts';

const require = createRequire(import.meta.url);
const transformer = require('otlp-proto-generated') as any;
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const TracesRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const TracesResponse = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false, json: true };

const RESOURCE: Attributes = { 'service.name': 'shop-web', 'cloud.provider': 'heroku', 'heroku.app.name': 'shop' };

function hex(value: any): any {
  for (const rs of value.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) if (s[k] !== undefined) s[k] = Buffer.from(s[k], 'base64').toString('hex');
      }
    }
  }
  return value;
}

function decode(bytes: Uint8Array): any {
  return hex(TracesRequest.toObject(TracesRequest.decode(bytes), TO_OBJECT));
}

function spansOf(request: any): any[] {
  return request.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans ?? []));
}

/** What our OTLP/JSON encoding says, through the generated code. */
function json(resource: Attributes, spans: readonly SpanData[]): any {
  return decodeTracesRequest(JSON.parse(JSON.stringify(tracesRequest(resource, SCOPE, spans))));
}

/** Drops scalar fields at their proto3 default (0, "0", "") and messages left empty, which read the same as absent. */
function withoutZeros(value: any): any {
  if (Array.isArray(value)) return value.map(withoutZeros);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === 0 || v === '0' || v === '') continue;
      const inner = withoutZeros(v);
      if (inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 0) continue;
      out[k] = inner;
    }
    return out;
  }
  return value;
}

describe('OTLP protobuf encoding of spans', () => {
  const spans = routerSpans(0, 40);

  it('gives back every field of every span, decoded by opentelemetry-proto', () => {
    const request = decode(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, spans));
    expect(request.resourceSpans).toHaveLength(1);
    expect(request.resourceSpans[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    // The same scope as logs and metrics.
    expect(request.resourceSpans[0].scopeSpans[0].scope).toEqual({ name: SCOPE.name, version: SCOPE.version });
    const decoded = spansOf(request);
    expect(decoded).toHaveLength(40);

    // A root span: no parent, no trace state, flags 0, status unset.
    const root = decoded[0];
    expect(root.traceId).toBe(spans[0]!.traceId);
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.spanId).toBe(spans[0]!.spanId);
    expect(root).not.toHaveProperty('parentSpanId');
    expect(root).not.toHaveProperty('traceState');
    expect(root).not.toHaveProperty('flags');
    expect(root).not.toHaveProperty('status');
    expect(root.name).toBe('POST /orders/{id}');
    expect(root.kind).toBe(SPAN_KIND_SERVER);
    expect(root.startTimeUnixNano).toBe('1714564800104521000');
    expect(root.endTimeUnixNano).toBe(String((spans[0]!.endUnixMicros) * 1000));
    expect(root.attributes).toContainEqual({ key: 'http.response.status_code', value: { intValue: '200' } });
    expect(root.attributes).toContainEqual({ key: 'heroku.router.service.duration', value: { doubleValue: 0.012 } });
    expect(root.attributes).toContainEqual({ key: 'heroku.router.fwd', value: { arrayValue: { values: [{ stringValue: '203.0.113.9' }, { stringValue: '198.51.100.4' }] } } });

    // A span that came with a traceparent: its caller's span as parent, flags and trace state.
    const child = decoded[3];
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e0003');
    expect(child.parentSpanId).toBe('00f067aa0ba902b7');
    expect(child.flags).toBe(1);
    expect(child.traceState).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');

    // An H12: an error status with its message.
    const failed = decoded[4];
    expect(failed.status).toEqual({ code: SPAN_STATUS_ERROR, message: 'H12 Request timeout: the app did not answer within 30 seconds' });
    expect(failed.attributes).toContainEqual({ key: 'error.type', value: { stringValue: 'H12' } });

    // Every span, field by field, against the SpanData it came from.
    decoded.forEach((d: any, i: number) => {
      const s = spans[i]!;
      expect({ traceId: d.traceId, spanId: d.spanId, parentSpanId: d.parentSpanId, traceState: d.traceState ?? '', flags: d.flags ?? 0, name: d.name, kind: d.kind }).toEqual({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        traceState: s.traceState,
        flags: s.traceFlags,
        name: s.name,
        kind: s.kind,
      });
      expect([d.startTimeUnixNano, d.endTimeUnixNano]).toEqual([`${s.startUnixMicros}000`, `${s.endUnixMicros}000`]);
      expect(d.attributes.map((a: any) => a.key)).toEqual(Object.keys(s.attributes));
      expect(d.status?.code ?? 0).toBe(s.statusCode);
      expect(d.status?.message ?? '').toBe(s.statusMessage);
    });
  });

  it('says what our OTLP/JSON says, and what the SDK trace serializer says, for the same spans', () => {
    const ours = decode(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, spans));
    expect(withoutZeros(ours)).toEqual(withoutZeros(withoutEmptyArrays(json(RESOURCE, spans))));
    const theirs = decode(transformer.ProtobufTraceSerializer.serializeRequest(toReadableSpans(RESOURCE, spans)));
    // That serializer writes no span flags (a field added to the proto after it).
    for (const s of spansOf(ours)) delete s.flags;
    expect(withoutZeros(ours)).toEqual(withoutZeros(theirs));
  });

  it('an OK status without a message, and a message under an unset status, each survive', () => {
    const ok = { ...routerSpan(1), statusCode: SPAN_STATUS_OK };
    const noted = { ...routerSpan(2), statusCode: SPAN_STATUS_UNSET, statusMessage: 'noted' };
    const [a, b] = spansOf(decode(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, [ok, noted])));
    expect(a.status).toEqual({ code: SPAN_STATUS_OK });
    expect(b.status).toEqual({ message: 'noted' });
  });

  it('encodes the same bytes from any first buffer size: growth never loses or garbles a byte', () => {
    const reference = Buffer.from(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, spans.slice(0, 12)));
    for (let size = 1; size <= 1500; size += size < 500 ? 1 : 7) {
      expect(Buffer.from(new OtlpProtoEncoder(SCOPE, size).spans(RESOURCE, spans.slice(0, 12)))).toEqual(reference);
    }
  });

  it('reuses its buffer across signals and calls, each call complete in itself', () => {
    const encoder = new OtlpProtoEncoder(SCOPE);
    const small = Buffer.from(encoder.spans(RESOURCE, spans.slice(0, 3)));
    encoder.spans({ 'service.name': 'other' }, routerSpans(0, 500));
    encoder.logs(RESOURCE, []);
    expect(Buffer.from(encoder.spans(RESOURCE, spans.slice(0, 3)))).toEqual(small);
  });

  it('leaves out an id that is not hex of its length rather than garble the message', () => {
    const bad = { ...routerSpan(3), parentSpanId: 'not-hex-at-all!!' };
    const [d] = spansOf(decode(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, [bad])));
    expect(d).not.toHaveProperty('parentSpanId');
    expect(d.spanId).toBe(bad.spanId);
    expect(d.name).toBe(bad.name);
  });

  // Strings around the lengths where a varint grows, in one- to four-byte UTF-8 (well formed:
  // a lone surrogate has no UTF-8, and the JSON side's protobufjs replaces it otherwise than Node).
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.tuple(fc.constantFrom('a', 'é', '€', '😀'), fc.constantFrom(0, 1, 63, 64, 126, 127, 128, 129, 16383, 16384)).map(([c, n]) => c.repeat(n)),
  );
  const value = fc.oneof(text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)), fc.boolean(), fc.array(text, { maxLength: 3 }));
  const hexId = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
  const micros = fc.integer({ min: 1, max: 2 ** 51 });
  const span: fc.Arbitrary<SpanData> = fc.record({
    traceId: hexId(16),
    spanId: hexId(8),
    parentSpanId: fc.option(hexId(8), { nil: undefined }),
    traceState: fc.oneof(fc.constant(''), fc.constant('rojo=00f067aa0ba902b7'), text),
    traceFlags: fc.integer({ min: 0, max: 255 }),
    name: text,
    kind: fc.integer({ min: 0, max: 5 }),
    startUnixMicros: micros,
    endUnixMicros: micros,
    attributes: fc.dictionary(fc.string({ maxLength: 20 }), value, { maxKeys: 6 }),
    statusCode: fc.constantFrom(SPAN_STATUS_UNSET, SPAN_STATUS_OK, SPAN_STATUS_ERROR),
    statusMessage: fc.oneof(fc.constant(''), text),
  });

  it('agrees with the OTLP/JSON encoding on generated spans, whatever the buffer size it starts from', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2048 }), fc.array(span, { minLength: 1, maxLength: 6 }), (initialBytes, generated) => {
        const bytes = new OtlpProtoEncoder(SCOPE, initialBytes).spans(RESOURCE, generated);
        expect(withoutZeros(decode(bytes))).toEqual(withoutZeros(withoutEmptyArrays(json(RESOURCE, generated))));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
  });
});

describe('OTLP/JSON encoding of spans', () => {
  it('writes ids as hex strings, times as decimal strings, and survives a protobuf round trip unchanged', () => {
    const spans = routerSpans(0, 10);
    const request = JSON.parse(JSON.stringify(tracesRequest(RESOURCE, SCOPE, spans)));
    const span = request.resourceSpans[0].scopeSpans[0].spans[3];
    expect(span.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e0003');
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    expect(span.startTimeUnixNano).toBe(`${spans[3]!.startUnixMicros}000`);
    expect(request.resourceSpans[0].scopeSpans[0].spans[0]).not.toHaveProperty('parentSpanId');
    expect(request.resourceSpans[0].scopeSpans[0].spans[4].status).toEqual({ code: 2, message: spans[4]!.statusMessage });
    expect(decodeTracesRequest(request)).toEqual(withoutEmptyArrays(request));
  });

  it('makes a resourceSpans line beside the logs and metrics lines, as the Collector file exporter', () => {
    const lines = otlpJsonLines(RESOURCE, SCOPE, [], [], routerSpans(0, 5));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(['resourceSpans']);
    expect(otlpJsonLines(RESOURCE, SCOPE, [], [])).toEqual([]);
  });
});

describe('partial success of a traces export', () => {
  it('reads rejected_spans and the message from an ExportTraceServiceResponse in protobuf and in JSON', () => {
    const proto = Buffer.from(TracesResponse.encode(TracesResponse.fromObject({ partialSuccess: { rejectedSpans: 3, errorMessage: 'span too old' } })).finish());
    expect(partialSuccess(proto, true, 'traces')).toEqual({ rejected: 3, message: 'span too old' });
    const body = Buffer.from(JSON.stringify({ partialSuccess: { rejectedSpans: '4', errorMessage: 'bad ids' } }));
    expect(partialSuccess(body, false, 'traces')).toEqual({ rejected: 4, message: 'bad ids' });
    // A logs count in a traces answer is not a span count.
    expect(partialSuccess(Buffer.from('{"partialSuccess":{"rejectedLogRecords":"2"}}'), false, 'traces')).toBeUndefined();
    expect(partialSuccess(Buffer.from(TracesResponse.encode(TracesResponse.fromObject({})).finish()), true, 'traces')).toBeUndefined();
  });
});
