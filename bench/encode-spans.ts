/**
 * `otlp encode spans`: a SERVER span per router line of the mix, encoded as OTLP protobuf
 * ExportTraceServiceRequests of 1024 spans (the batch processor's default): our encoder, and the
 * SDK's ProtobufTraceSerializer (after the conversion to ReadableSpan it needs) as the baseline.
 * Spans per second (`lines_per_s` is spans encoded per second); gzip is not included.
 *
 * The spans are made here from the router log records as translate makes them (ids from
 * request_id, times from connect + service, the record's HTTP and router attributes, an error
 * status with the H-code): the same shape and size as translate's spans, without depending on it.
 */
import { createRequire } from 'node:module';
import { SCOPE } from '../src/exporters/exporter.ts';
import { OtlpProtoEncoder } from '../src/exporters/otlphttp/proto.ts';
import { drainResource } from '../src/translate/resource.ts';
import { traceIdsOfRequest } from '../src/translate/trace-context.ts';
import { SPAN_KIND_SERVER, SPAN_STATUS_ERROR, SPAN_STATUS_UNSET, type Attributes, type LogRecordData, type SpanData } from '../src/translate/telemetry.ts';
import { toReadableSpans } from '../test/support/sdk-oracle.ts';
import type { Scenario } from './harness.ts';

const require = createRequire(import.meta.url);
const BATCH = 1024;

function routerSpan(r: LogRecordData): SpanData | undefined {
  const a = r.attributes;
  const requestId = a['heroku.router.request_id'];
  if (r.eventName !== 'heroku.router.request' || typeof requestId !== 'string' || requestId === '') return undefined;
  const attributes: Attributes = {};
  for (const key in a) if (!key.startsWith('heroku.log.') && !key.startsWith('heroku.syslog.')) attributes[key] = a[key]!;
  const seconds = Number(a['heroku.router.connect.duration'] ?? 0) + Number(a['heroku.router.service.duration'] ?? 0);
  const end = r.timeUnixMicros || r.observedUnixMicros;
  const status = Number(a['http.response.status_code'] ?? 0);
  const code = a['heroku.error.code'];
  const failed = status >= 500 || code !== undefined;
  const ids = traceIdsOfRequest(requestId);
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: undefined,
    traceState: '',
    traceFlags: 0,
    name: String(a['http.request.method'] ?? 'HTTP'),
    kind: SPAN_KIND_SERVER,
    startUnixMicros: end - Math.round(seconds * 1e6),
    endUnixMicros: end,
    attributes,
    statusCode: failed ? SPAN_STATUS_ERROR : SPAN_STATUS_UNSET,
    statusMessage: failed && code !== undefined ? `${String(code)} ${String(a['heroku.error.description'] ?? '')}` : '',
  };
}

/** Batches of 1024 spans, one per router record of `logs`. */
export function spanInputs(logs: readonly LogRecordData[][]): SpanData[][] {
  const spans: SpanData[] = [];
  for (const batch of logs) for (const r of batch) {
    const s = routerSpan(r);
    if (s !== undefined) spans.push(s);
  }
  const batches: SpanData[][] = [];
  for (let i = 0; i < spans.length; i += BATCH) batches.push(spans.slice(i, i + BATCH));
  return batches;
}

export function encodeSpanScenarios(batches: readonly SpanData[][]): Scenario[] {
  const spans = batches.reduce((n, b) => n + b.length, 0);
  const resource = drainResource({ 'service.name': 'shop-web' });
  const encoder = new OtlpProtoEncoder(SCOPE);
  // The SDK's serializer as the exporter-trace-otlp-proto package uses it (otlp-transformer).
  const sdk = require(require.resolve('@opentelemetry/otlp-transformer', { paths: [require.resolve('@opentelemetry/exporter-logs-otlp-proto')] })) as {
    ProtobufTraceSerializer: { serializeRequest(spans: unknown[]): Uint8Array };
  };
  return [
    {
      name: 'otlp encode spans',
      what: 'router spans to an OTLP protobuf request, 1024 a request (our encoder)',
      items: spans,
      pass: () => {
        let bytes = 0;
        for (const b of batches) bytes += encoder.spans(resource, b).length;
        return bytes;
      },
    },
    {
      name: 'sdk otlp encode spans',
      what: "the same with the SDK's ReadableSpan and ProtobufTraceSerializer",
      items: spans,
      pass: () => {
        let bytes = 0;
        for (const b of batches) bytes += sdk.ProtobufTraceSerializer.serializeRequest(toReadableSpans(resource, b)).length;
        return bytes;
      },
    },
  ];
}
