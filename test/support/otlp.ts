/**
 * A real OTLP decoding of what we emit: the protobuf code generated from opentelemetry-proto (as
 * @opentelemetry/otlp-transformer 0.205 ships it, installed under the alias otlp-proto-generated)
 * encodes our OTLP/JSON to protobuf and back. A field that the proto does not know, or a value of
 * the wrong type, does not survive the round trip, so comparing before and after proves the JSON
 * is OTLP.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const v1 = root.opentelemetry.proto.collector;
const LogsRequest = v1.logs.v1.ExportLogsServiceRequest;
const MetricsRequest = v1.metrics.v1.ExportMetricsServiceRequest;
const TracesRequest = v1.trace.v1.ExportTraceServiceRequest;

const HEX_ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping expects base64. */
function hexIdsToBase64(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIdsToBase64);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = HEX_ID_KEYS.has(k) && typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : hexIdsToBase64(v);
    }
    return out;
  }
  return value;
}

function base64IdsToHex(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(base64IdsToHex);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = HEX_ID_KEYS.has(k) && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : base64IdsToHex(v);
    }
    return out;
  }
  return value;
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false, json: true };

/** Drops empty arrays, which protobuf cannot tell from absent ones. */
export function withoutEmptyArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyArrays);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v) && v.length === 0) continue;
      out[k] = withoutEmptyArrays(v);
    }
    return out;
  }
  return value;
}

function roundTrip(type: any, json: unknown): unknown {
  const message = type.fromObject(hexIdsToBase64(withoutEmptyArrays(json)));
  const problem = type.verify(message);
  if (problem) throw new Error(`not OTLP: ${problem}`);
  const bytes = type.encode(message).finish();
  return base64IdsToHex(type.toObject(type.decode(bytes), TO_OBJECT));
}

/** Decodes an ExportLogsServiceRequest through protobuf and back. */
export function decodeLogsRequest(json: unknown): any {
  return roundTrip(LogsRequest, json);
}

/** Decodes an ExportMetricsServiceRequest through protobuf and back. */
export function decodeMetricsRequest(json: unknown): any {
  return roundTrip(MetricsRequest, json);
}

/** Decodes an ExportTraceServiceRequest through protobuf and back. */
export function decodeTracesRequest(json: unknown): any {
  return roundTrip(TracesRequest, json);
}
