import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { interpretLine } from '../src/heroku/classify.ts';
import { readCapture } from '../src/heroku/input.ts';
import { logsRequest, metricsRequest, bucketIndex } from '../src/translate/otlp-json.ts';
import { newTelemetryBatch } from '../src/translate/telemetry.ts';
import { translateEvent, HTTP_DURATION_BUCKETS } from '../src/translate/translate.ts';
import { decodeLogsRequest, decodeMetricsRequest, withoutEmptyArrays } from './support/otlp.ts';

const SCOPE = { name: 'heroku-otel-drain', version: 'test' };
const capture = readFileSync(new URL('../examples/captures/mixed.logplex', import.meta.url));

function translateCapture() {
  const batch = newTelemetryBatch();
  readCapture(capture, (line, status) => translateEvent(line, interpretLine(line), 1_714_564_800_000_000, batch, status));
  return batch;
}

describe('OTLP/JSON encoding', () => {
  it('survives a protobuf round trip unchanged: every field is an OTLP field of the right type', () => {
    const batch = translateCapture();
    const logs = JSON.parse(JSON.stringify(logsRequest({ 'service.name': 'shop' }, SCOPE, batch.logs)));
    expect(decodeLogsRequest(logs)).toEqual(withoutEmptyArrays(logs));
    const metrics = JSON.parse(JSON.stringify(metricsRequest({ 'service.name': 'shop' }, SCOPE, batch.metrics)));
    expect(decodeMetricsRequest(metrics)).toEqual(withoutEmptyArrays(metrics));
  });

  it('keeps trace context from JSON app logs as hex ids on the record', () => {
    const batch = translateCapture();
    const logs = decodeLogsRequest(JSON.parse(JSON.stringify(logsRequest({}, SCOPE, batch.logs))));
    // Router records carry their request's span ids too (src/translate/spans.ts); the app's own are these.
    const withTrace = logs.resourceLogs[0].scopeLogs[0].logRecords.filter((r: any) => r.traceId && r.eventName !== 'heroku.router.request');
    expect(withTrace).toHaveLength(1);
    expect(withTrace[0].traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(withTrace[0].spanId).toBe('00f067aa0ba902b7');
  });

  it('puts a histogram observation in the bucket whose upper bound holds it', () => {
    expect(bucketIndex(HTTP_DURATION_BUCKETS, 0.005)).toBe(0);
    expect(bucketIndex(HTTP_DURATION_BUCKETS, 0.0051)).toBe(1);
    expect(bucketIndex(HTTP_DURATION_BUCKETS, 30)).toBe(HTTP_DURATION_BUCKETS.length);
    const batch = translateCapture();
    const m = metricsRequest({}, SCOPE, batch.metrics) as any;
    const duration = m.resourceMetrics[0].scopeMetrics[0].metrics.find((x: any) => x.name === 'http.server.request.duration');
    expect(duration.unit).toBe('s');
    const [fast, timeout] = duration.histogram.dataPoints;
    expect(fast.sum).toBeCloseTo(0.041);
    expect(fast.bucketCounts[bucketIndex(HTTP_DURATION_BUCKETS, 0.041)]).toBe('1');
    expect(timeout.sum).toBeCloseTo(30.001);
    expect(timeout.bucketCounts.at(-1)).toBe('1');
  });
});
