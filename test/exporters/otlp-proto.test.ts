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

/**
 * Our logs request, read back by the generated code, after checking that it writes the request
 * again byte for byte: it reads leniently (a KeyValue whose length is a byte short of its value
 * reads right), but writes fields in number order and at their shortest, as we do.
 */
function decodeOurLogs(bytes: Uint8Array): any {
  expect(Buffer.from(LogsRequest.encode(LogsRequest.decode(bytes)).finish())).toEqual(Buffer.from(bytes));
  return decodeLogs(bytes);
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
    expect(withoutZeros(decodeOurLogs(encoder.logs(RESOURCE, batch.logs)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, batch.logs))));
    expect(withoutZeros(decodeMetrics(encoder.metrics(RESOURCE, batch.metrics)))).toEqual(withoutZeros(withoutEmptyArrays(jsonMetrics(RESOURCE, batch.metrics))));
  });

  it("says what the SDK's own protobuf serializer says for the same records", () => {
    const encoder = new OtlpProtoEncoder(SCOPE);
    const sdkLogs = transformer.ProtobufLogsSerializer.serializeRequest(toReadableLogRecords(RESOURCE, batch.logs));
    const ours = decodeOurLogs(encoder.logs(RESOURCE, batch.logs));
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
    // Fragments of several batches of one drain in one request; none at all is a request without records.
    const twice = decodeOurLogs(requests.logsOf(RESOURCE, [first, first]));
    expect(twice.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(10);
    expect(Buffer.from(requests.logsOf(RESOURCE, []))).toEqual(Buffer.from(requests.logs(RESOURCE, [])));
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
        if (logs.length > 0) expect(withoutZeros(decodeOurLogs(encoder.logs(resource, logs)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(resource, logs))));
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

  describe('edges of strings, numbers and keys', () => {
    const record = (attributes: Attributes, body = 'b'): LogRecordData => ({
      timeUnixMicros: 1_714_564_800_123_456,
      observedUnixMicros: 1_714_564_800_123_457,
      severityNumber: 9,
      severityText: 'INFO',
      body,
      eventName: '',
      attributes,
      traceId: undefined,
      spanId: undefined,
      traceFlags: 0,
    });
    /** What a UTF-8 decoder reads back of `s`: a lone surrogate has no UTF-8 form, U+FFFD stands for it. */
    const readBack = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
    const decodedRecords = (bytes: Uint8Array) => decodeOurLogs(bytes).resourceLogs[0].scopeLogs[0].logRecords;
    const attributeMap = (r: any) => Object.fromEntries((r.attributes ?? []).map((kv: any) => [kv.key, kv.value]));

    const strings = [
      '',
      'a',
      'é',
      'ÿ',
      'Ā',
      '€',
      '😀',
      '\ud800',
      '\udc00',
      'a\ud800b',
      '\udc00\ud800',
      '😀'.slice(0, 1) + 'x',
      'x'.repeat(47) + 'é',
      'x'.repeat(49) + 'é',
      'ÿ'.repeat(100),
      'Ā'.repeat(100),
      'x'.repeat(200) + '\ud83d',
      'x'.repeat(124),
      'x'.repeat(125),
      'x'.repeat(126),
      'x'.repeat(16_400),
      '\u0000\u007f\u0080',
    ];

    it('writes any string as valid UTF-8, lone surrogates as U+FFFD, as body, attribute value, array element and key', () => {
      const encoder = new OtlpProtoEncoder(SCOPE, 64);
      const records = strings.map((s) => record({ [s]: s, [`arr ${s}`]: [s, '', s], 'after.key': 7 }, s));
      // A surrogate written as such (ED A0 80) would read back as itself, not as U+FFFD.
      const decoded = decodedRecords(encoder.logs(RESOURCE, records));
      expect(decoded).toHaveLength(strings.length);
      strings.forEach((s, i) => {
        const r = decoded[i];
        expect(r.body?.stringValue ?? '').toBe(readBack(s));
        const attributes = attributeMap(r);
        expect(attributes[readBack(s)]?.stringValue ?? '').toBe(readBack(s));
        expect((attributes[`arr ${readBack(s)}`].arrayValue.values as any[]).map((v) => v.stringValue ?? '')).toEqual([readBack(s), '', readBack(s)]);
        expect(attributes['after.key']).toEqual({ intValue: '7' });
      });
    });

    it('writes integers at every varint length exactly, negatives as ten-byte int64, the rest as doubles or text', () => {
      const ints: number[] = [0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
      for (let k = 0; k <= 52; k++) ints.push(2 ** k, 2 ** k - 1, -(2 ** k), 1 - 2 ** k);
      const others = [0.5, -1.25, 2 ** 53, -(2 ** 53), 2 ** 64, 1e300, Number.MIN_VALUE, Infinity, -Infinity, NaN];
      const encoder = new OtlpProtoEncoder(SCOPE, 16);
      const attributes: Attributes = {};
      for (const [i, v] of [...ints, ...others].entries()) attributes[`n${i}`] = v;
      // A key long enough that the KeyValue's length takes two bytes.
      attributes['k'.repeat(126)] = 2 ** 40;
      const decoded = attributeMap(decodedRecords(encoder.logs(RESOURCE, [record(attributes)]))[0]);
      // Zero too: the value's oneof is set, so its field is written.
      ints.forEach((v, i) => expect(decoded[`n${i}`]).toEqual({ intValue: String(v) }));
      others.forEach((v, j) => {
        const value = decoded[`n${ints.length + j}`];
        if (Number.isFinite(v)) expect(value).toEqual({ doubleValue: v });
        else expect(value).toEqual({ stringValue: String(v) });
      });
      expect(decoded['k'.repeat(126)]).toEqual({ intValue: String(2 ** 40) });
      expect(withoutZeros(decodeOurLogs(encoder.logs(RESOURCE, [record(attributes)])))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, [record(attributes)]))));
    });

    it('encodes keys of any length and in any order, from objects in any state', () => {
      const encoder = new OtlpProtoEncoder(SCOPE, 32);
      const long = 'long.'.repeat(60);
      // Integer-like keys come first in an object's own order; a deleted key turns it into a dictionary.
      const dictionary: Attributes = { a: 'x', '10': 1, '2': true, b: ['y'] };
      for (let i = 0; i < 40; i++) dictionary[`extra.${i}`] = i;
      delete dictionary['extra.3'];
      const records = [
        record({ 'http.request.method': 'GET', 'url.path': '/a', 'http.response.status_code': 200 }),
        // The same keys in another order, one missing, one added: the key order learnt from the last record is wrong.
        record({ 'url.path': '/b', 'http.request.method': 'POST', 'url.scheme': 'https' }),
        record({ [long]: 'v', [`${long}é`]: true, '': 'empty key', ['k'.repeat(127)]: 'x'.repeat(127) }),
        record(dictionary),
        record({ 'http.request.method': 'GET', 'url.path': '/a', 'http.response.status_code': 200 }),
      ];
      for (let round = 0; round < 2; round++) {
        expect(withoutZeros(decodeOurLogs(encoder.logs(RESOURCE, records)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, records))));
      }
      const decoded = decodedRecords(encoder.logs(RESOURCE, records));
      expect(decoded[3].attributes.slice(0, 4).map((kv: any) => kv.key)).toEqual(['2', '10', 'a', 'b']);
      expect(attributeMap(decoded[2])['']).toEqual({ stringValue: 'empty key' });
    });

    it('keeps its key cache bounded, whatever keys an app sends, and encodes right across its emptying', () => {
      const encoder = new OtlpProtoEncoder(SCOPE);
      const common: Attributes = { 'heroku.log.kind': 'app', 'heroku.dyno.name': 'web.1', 'http.response.status_code': 500 };
      let peak = 0;
      // 20,000 distinct keys in records of ten, as an app logging ids as JSON keys would send them.
      for (let batch = 0; batch < 40; batch++) {
        const records: LogRecordData[] = [];
        for (let r = 0; r < 50; r++) {
          const attributes: Attributes = { ...common };
          for (let k = 0; k < 10; k++) attributes[`user.${batch}.${r}.${k}`] = k;
          records.push(record(attributes));
        }
        const bytes = encoder.logs(RESOURCE, records);
        peak = Math.max(peak, encoder.cachedKeys);
        if (batch % 13 === 0) expect(withoutZeros(decodeOurLogs(bytes))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, records))));
      }
      expect(peak).toBeGreaterThan(1000);
      expect(peak).toBeLessThanOrEqual(2048);
      // One record with more keys than the cache holds: emptied in the middle of it.
      const many: Attributes = { ...common };
      for (let k = 0; k < 5000; k++) many[`k${k}`] = `v${k}`;
      expect(withoutZeros(decodeOurLogs(encoder.logs(RESOURCE, [record(many), record(common)])))).toEqual(
        withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, [record(many), record(common)]))),
      );
      expect(encoder.cachedKeys).toBeLessThanOrEqual(2048);
      // Keys too long to cache are encoded each time and take no room.
      const before = encoder.cachedKeys;
      const long = Array.from({ length: 100 }, (_, i) => record({ [`${'x'.repeat(200)}${i}`]: i }));
      expect(withoutZeros(decodeOurLogs(encoder.logs(RESOURCE, long)))).toEqual(withoutZeros(withoutEmptyArrays(jsonLogs(RESOURCE, long))));
      expect(encoder.cachedKeys).toBe(before);
    });
  });
});
