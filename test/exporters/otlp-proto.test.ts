/**
 * Our OTLP protobuf encoder, decoded with the code generated from opentelemetry-proto: it must say
 * exactly what our OTLP/JSON says (itself checked against the schema) and what the SDK's own
 * serializer says for the same data, for every kind of Heroku line and for generated records
 * whose strings cross every length boundary, in any script.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SCOPE } from '../../src/exporters/exporter.ts';
import { OtlpProtoEncoder } from '../../src/exporters/otlphttp/proto.ts';
import { interpretLine } from '../../src/heroku/classify.ts';
import { readCapture } from '../../src/heroku/input.ts';
import { MetricsStage } from '../../src/processors/interval/stage.ts';
import { CumulativeToDelta } from '../../src/processors/cumulativetodelta/processor.ts';
import { logsRequest, metricsRequest } from '../../src/translate/otlp-json.ts';
import { newTelemetryBatch, type Attributes, type LogRecordData, type MetricPointData } from '../../src/translate/telemetry.ts';
import { translateEvent } from '../../src/translate/translate.ts';
import { herokuLineCases } from '../cases/heroku-lines.ts';
import { routerSpans } from '../support/spans.ts';
import { decodeLogsRequest, decodeMetricsRequest, withoutEmptyArrays } from '../support/otlp.ts';
import { toReadableLogRecords, toResourceMetrics } from '../support/sdk-oracle.ts';

const require = createRequire(import.meta.url);
// The SDK's serializers (otlp-transformer 0.205) and the generated code it ships.
const transformer = require('otlp-proto-generated') as any;
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const LogsRequest = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
const MetricsRequest = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

const RESOURCE: Attributes = { 'service.name': 'shop-web', 'cloud.provider': 'heroku', 'heroku.app.name': 'shop' };
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: false, json: true };

function hexIds(value: any): any {
  for (const rl of value.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        if (r.traceId) r.traceId = Buffer.from(r.traceId, 'base64').toString('hex');
        if (r.spanId) r.spanId = Buffer.from(r.spanId, 'base64').toString('hex');
      }
    }
  }
  return value;
}

function decodeLogs(bytes: Uint8Array): any {
  return hexIds(LogsRequest.toObject(LogsRequest.decode(bytes), TO_OBJECT));
}

function decodeMetrics(bytes: Uint8Array): any {
  return MetricsRequest.toObject(MetricsRequest.decode(bytes), TO_OBJECT);
}

/** What our OTLP/JSON encoding says, through the generated code. */
function jsonLogs(resource: Attributes, logs: readonly LogRecordData[]): any {
  return decodeLogsRequest(JSON.parse(JSON.stringify(logsRequest(resource, SCOPE, logs))));
}

function jsonMetrics(resource: Attributes, points: readonly MetricPointData[]): any {
  return decodeMetricsRequest(JSON.parse(JSON.stringify(metricsRequest(resource, SCOPE, points))));
}

/** Drops scalar fields at their proto3 default (0, "0", ""), which read the same as absent. */
function withoutZeros(value: any): any {
  if (Array.isArray(value)) return value.map(withoutZeros);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== 0 && v !== '0' && v !== '') out[k] = withoutZeros(v);
    return out;
  }
  return value;
}

function translateCases() {
  const batch = newTelemetryBatch();
  for (const c of herokuLineCases) {
    readCapture(Buffer.from(c.line + '\n'), (line, status) => translateEvent(line, interpretLine(line), 1_714_564_800_123_456, batch, status));
  }
  readCapture(readFileSync(new URL('../../examples/captures/mixed.logplex', import.meta.url)), (line, status) =>
    translateEvent(line, interpretLine(line), 1_714_564_800_000_001, batch, status),
  );
  return batch;
}

describe('OTLP protobuf encoder', () => {
  const batch = translateCases();

  it('encodes every kind of Heroku line as our OTLP/JSON does', () => {
    expect(batch.logs.length).toBeGreaterThan(150);
    const encoder = new OtlpProtoEncoder(SCOPE);
    expect(withoutZeros(decodeLogs(encoder.logs(RESOURCE, batch.logs)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, batch.logs))));
    expect(withoutZeros(decodeMetrics(encoder.metrics(RESOURCE, batch.metrics)))).toEqual(withoutZeros(withoutEmptyArrays(jsonMetrics(RESOURCE, batch.metrics))));
  });

  it("says what the SDK's own protobuf serializer says for the same records", () => {
    const encoder = new OtlpProtoEncoder(SCOPE);
    const sdkLogs = transformer.ProtobufLogsSerializer.serializeRequest(toReadableLogRecords(RESOURCE, batch.logs));
    const ours = decodeLogs(encoder.logs(RESOURCE, batch.logs));
    const theirs = decodeLogs(sdkLogs);
    // The SDK writes zero fields that a decoder reads the same as absent ones.
    expect(withoutZeros(ours)).toEqual(withoutZeros(theirs));

    const sdkMetrics = transformer.ProtobufMetricsSerializer.serializeRequest(toResourceMetrics(RESOURCE, batch.metrics));
    const oursMetrics = decodeMetrics(encoder.metrics(RESOURCE, batch.metrics));
    const theirsMetrics = decodeMetrics(sdkMetrics);
    // The SDK gives gauges a start time and sums their aggregation; we leave a gauge's start out.
    for (const m of theirsMetrics.resourceMetrics[0].scopeMetrics[0].metrics) {
      delete m.description;
      if (m.gauge) for (const p of m.gauge.dataPoints) delete p.startTimeUnixNano;
    }
    expect(withoutZeros(oursMetrics)).toEqual(withoutZeros(theirsMetrics));
  });

  it('encodes the same bytes from any first buffer size: growth never loses or garbles a byte', () => {
    const reference = Buffer.from(new OtlpProtoEncoder(SCOPE).metrics(RESOURCE, batch.metrics));
    const logs = Buffer.from(new OtlpProtoEncoder(SCOPE).logs(RESOURCE, batch.logs.slice(0, 40)));
    const metrics60 = Buffer.from(new OtlpProtoEncoder(SCOPE).metrics(RESOURCE, batch.metrics.slice(0, 60)));
    // Every size up to a few records' worth, then every 7th: each boundary meets some write.
    for (let size = 1; size <= 1200; size += size < 400 ? 1 : 7) {
      expect(Buffer.from(new OtlpProtoEncoder(SCOPE, size).metrics(RESOURCE, batch.metrics.slice(0, 60)))).toEqual(metrics60);
      expect(Buffer.from(new OtlpProtoEncoder(SCOPE, size).logs(RESOURCE, batch.logs.slice(0, 40)))).toEqual(logs);
    }
    expect(Buffer.from(new OtlpProtoEncoder(SCOPE, 1).metrics(RESOURCE, batch.metrics))).toEqual(reference);
    // Many sum points in one metric: lengths of three bytes, then a second metric right after.
    const sums = Array.from({ length: 600 }, (_, i): MetricPointData => ({ name: 'l2met.count', unit: '', type: 'sum', value: i, timeUnixMicros: 1 + i, attributes: { k: 'v' }, bounds: undefined }));
    const two = [...sums, { ...sums[0]!, name: 'other' }];
    const expected = Buffer.from(new OtlpProtoEncoder(SCOPE).metrics(RESOURCE, two));
    for (const size of [6287, 12574, 25148, 25149, 25150]) expect(Buffer.from(new OtlpProtoEncoder(SCOPE, size).metrics(RESOURCE, two))).toEqual(expected);
    expect(withoutZeros(decodeMetrics(expected))).toEqual(withoutZeros(withoutEmptyArrays(jsonMetrics(RESOURCE, two))));
  });

  it("reuses its buffer across calls and drains, each call's view complete in itself", () => {
    const encoder = new OtlpProtoEncoder(SCOPE);
    const small = Buffer.from(encoder.logs(RESOURCE, batch.logs.slice(0, 10)));
    // A larger batch grows the buffer; a smaller one after it must not carry its tail.
    encoder.logs({ 'service.name': 'other' }, batch.logs);
    expect(Buffer.from(encoder.logs(RESOURCE, batch.logs.slice(0, 10)))).toEqual(small);
    const other = decodeLogs(encoder.logs({ 'service.name': 'other' }, batch.logs.slice(0, 3)));
    expect(other.resourceLogs[0].resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'other' } }]);
    expect(other.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(3);
  });

  it('a request made of fragments (what a sending queue holds) is byte for byte the request of their records, however they were cut', () => {
    const fragments = new OtlpProtoEncoder(SCOPE, 64);
    const requests = new OtlpProtoEncoder(SCOPE, 64);
    const logs = batch.logs;
    const whole = Buffer.from(new OtlpProtoEncoder(SCOPE).logs(RESOURCE, logs));
    for (const cut of [1, 7, 50, logs.length]) {
      const parts: Buffer[] = [];
      for (let i = 0; i < logs.length; i += cut) parts.push(fragments.logFragments(logs.slice(i, i + cut)));
      expect(Buffer.from(requests.logsOf(RESOURCE, parts))).toEqual(whole);
    }
    const spans = routerSpans(0, 40);
    const wholeSpans = Buffer.from(new OtlpProtoEncoder(SCOPE).spans(RESOURCE, spans));
    expect(Buffer.from(requests.spansOf(RESOURCE, [fragments.spanFragments(spans.slice(0, 3)), fragments.spanFragments(spans.slice(3))]))).toEqual(wholeSpans);
    // A fragment is a copy: the encoder's next call does not change it.
    const first = fragments.logFragments(logs.slice(0, 5));
    const copy = Buffer.from(first);
    fragments.logFragments(logs.slice(5, 200));
    expect(first).toEqual(copy);
  });

  // Strings around the lengths where a varint grows (127/128, 16383/16384) in one-, two-, three- and four-byte UTF-8.
  const boundaryStrings = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.tuple(fc.constantFrom('a', 'é', '€', '😀', '\ud800'), fc.constantFrom(40, 42, 43, 63, 64, 125, 126, 127, 128, 129, 5460, 5462, 16383, 16384)).map(([c, n]) => c.repeat(Math.ceil(n / c.length)).slice(0, n)),
  );
  const values = fc.oneof(
    boundaryStrings,
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(0, -1, 2 ** 31, 2 ** 32, 2 ** 32 - 1, -(2 ** 32), 2 ** 53 - 1, 2 ** 60, 0.5, -0, 1e300, Infinity, -Infinity, NaN),
    fc.double(),
    fc.boolean(),
    fc.array(boundaryStrings, { maxLength: 5 }),
  );
  const attributes = fc.dictionary(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('http.request.method', 'url.path', 'clé')), values, { maxKeys: 8 });
  const micros = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 51 }), fc.constant(1_714_564_800_123_456));
  const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
  const records: fc.Arbitrary<LogRecordData> = fc.record({
    timeUnixMicros: micros,
    observedUnixMicros: micros.filter((m) => m > 0),
    severityNumber: fc.integer({ min: 0, max: 24 }),
    severityText: fc.oneof(fc.constant(''), boundaryStrings),
    body: boundaryStrings,
    eventName: fc.oneof(fc.constant(''), fc.constantFrom('heroku.router', 'heroku.platform.crash')),
    attributes,
    traceId: fc.option(hex(16), { nil: undefined }),
    spanId: fc.option(hex(8), { nil: undefined }),
    traceFlags: fc.integer({ min: 0, max: 255 }),
  });
  const points: fc.Arbitrary<MetricPointData> = fc.record({
    name: fc.constantFrom('heroku.dyno.memory.rss', 'http.server.request.duration', 'http.server.request.duration', 'l2met.count'),
    unit: fc.constantFrom('By', 's', '', '{request}'),
    type: fc.constantFrom('gauge' as const, 'sum' as const, 'total' as const, 'histogram' as const),
    // JSON has no -0: a point of -0 reads back as 0 there.
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()).map((v) => (Object.is(v, -0) ? 0 : v)),
    timeUnixMicros: micros.filter((m) => m > 0),
    attributes,
    bounds: fc.constantFrom(undefined, [], [0.005, 0.01, 0.5, 30]),
  });

  it('agrees with the OTLP/JSON encoding on generated records and points, whatever the buffer size it starts from', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2048 }), attributes, fc.array(records, { maxLength: 6 }), fc.array(points, { maxLength: 6 }), (initialBytes, resource, logs, metrics) => {
        // A small first buffer makes every write meet the buffer's end somewhere.
        const encoder = new OtlpProtoEncoder(SCOPE, initialBytes);
        // JSON cannot say whether a trace id came without its span id: records carry both or neither.
        for (const r of logs) if (r.traceId === undefined || r.spanId === undefined) r.traceId = r.spanId = undefined;
        if (logs.length > 0) expect(withoutZeros(decodeLogs(encoder.logs(resource, logs)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(resource, logs))));
        if (metrics.length > 0) {
          expect(withoutZeros(decodeMetrics(encoder.metrics(resource, metrics)))).toEqual(withoutZeros(withoutEmptyArrays(jsonMetrics(resource, metrics))));
          // As the aggregation stage sends them (cumulative, merged histograms), and as deltas of two exports.
          const stage = new MetricsStage('t', { intervalMs: 1000, maxStreams: 100, maxStaleMs: 60_000, instanceId: 'i' }, () => {}, () => {});
          const toDelta = new CumulativeToDelta({ initial_value: 'keep' } as never);
          for (const at of [2e12, 2e12 + 1000]) {
            stage.absorb(resource, 'r', metrics, at / 1000);
            for (const [, aggregated] of stage.collect(at / 1000)) {
              for (const batch of [aggregated, toDelta.transform(aggregated)]) {
                for (const p of batch) delete p.series;
                if (batch.length > 0) expect(withoutZeros(decodeMetrics(encoder.metrics(resource, batch)))).toEqual(withoutZeros(withoutEmptyArrays(jsonMetrics(resource, batch))));
              }
            }
          }
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});
