/**
 * The HTTP double (test/support/otlp-backends.ts): real requests in protobuf (gzip) and JSON,
 * answered as each backend answers, read back with the sidecar's own response parser; and the
 * data-model rules for backends that take both temporalities (New Relic, Honeycomb, a Collector).
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { partialSuccess, statusMessage } from '../../src/exporters/otlphttp/response.ts';
import { DatadogOtlpChecker } from '../support/datadog-otlp-rules.ts';
import { OtlpBackendDouble, OtlpDataModelChecker } from '../support/otlp-backends.ts';
import { PrometheusOtlpChecker, type MetricsRules } from '../support/prometheus-otlp-rules.ts';
import { APP, CUMULATIVE, DELTA, gauge, histogram, NOW, request, sum } from './requests.ts';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

let double: OtlpBackendDouble | undefined;
afterEach(async () => {
  await double?.stop();
  double = undefined;
});

async function start<R extends MetricsRules>(rules: R): Promise<OtlpBackendDouble<R>> {
  const d = new OtlpBackendDouble(rules);
  double = d;
  await d.start();
  return d;
}

async function post(url: string, body: object, encoding: 'proto' | 'json', headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: Buffer }> {
  const payload = encoding === 'proto' ? gzipSync(Request.encode(Request.fromObject(body)).finish()) : Buffer.from(JSON.stringify(body));
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': encoding === 'proto' ? 'application/x-protobuf' : 'application/json', ...(encoding === 'proto' ? { 'content-encoding': 'gzip' } : {}), ...headers },
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

const delta = request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW, st: NOW - 500, v: 1 }])]);

describe('OtlpBackendDouble', () => {
  it('answers as Mimir: 400 with a google.rpc.Status in the request encoding, and knows which writer sent what', async () => {
    const d = await start(new PrometheusOtlpChecker({ now: () => NOW }));
    const proto = await post(d.endpointFor('a'), delta, 'proto');
    expect(proto).toMatchObject({ status: 400, type: 'application/x-protobuf' });
    expect(statusMessage(proto.body, true)).toBe('otlp parse error: invalid temporality and type combination for metric "heroku.router.requests"');
    const json = await post(d.endpointFor('b'), delta, 'json');
    expect(json).toMatchObject({ status: 400, type: 'application/json' });
    expect(statusMessage(json.body, false)).toBe('otlp parse error: invalid temporality and type combination for metric "heroku.router.requests"');
    expect(d.metricsExchanges().map((e) => [e.writer, e.status])).toEqual([
      ['a', 400],
      ['b', 400],
    ]);
    expect(d.pointVerdicts('a').map((p) => p.rule)).toEqual(['temporality']);
  });

  it('answers refused samples with 200 and a partial_success our exporter reads, in protobuf and JSON', async () => {
    const d = await start(new PrometheusOtlpChecker({ now: () => NOW }));
    const g = (t: number) => request(APP, [gauge('heroku.dyno.load.avg.1m', '1', [{ t, v: 1 }])]);
    expect((await post(d.url, g(NOW), 'proto')).status).toBe(200);
    const proto = await post(d.url, g(NOW - 1000), 'proto');
    expect(proto.status).toBe(200);
    expect(partialSuccess(proto.body, true, 'metrics')).toEqual({ rejected: 2, message: expect.stringContaining('(err-mimir-sample-out-of-order)') });
    const json = await post(d.url, g(NOW - 2000), 'json');
    expect(partialSuccess(json.body, false, 'metrics')).toEqual({ rejected: 2, message: expect.stringContaining('(err-mimir-sample-out-of-order)') });
    expect(d.rules.rejected).toHaveLength(2);
  });

  it('answers as Prometheus: text/plain errors', async () => {
    const d = await start(new PrometheusOtlpChecker({ flavor: 'prometheus', now: () => NOW }));
    const res = await post(d.url, delta, 'proto');
    expect(res).toMatchObject({ status: 500, type: 'text/plain; charset=utf-8' });
    expect(res.body.toString()).toBe('invalid temporality and type combination for metric "heroku.router.requests"\n');
  });

  it('answers as Datadog: 403 without dd-api-key, 200 partial success for cumulative data', async () => {
    const d = await start(new DatadogOtlpChecker({ now: () => NOW }));
    const cumulative = request(APP, [sum('heroku.router.requests', '{request}', CUMULATIVE, true, [{ t: NOW, st: NOW - 500, v: 1 }])]);
    const denied = await post(d.url, cumulative, 'proto');
    expect(denied.status).toBe(403);
    expect(statusMessage(denied.body, true)).toBe('Forbidden');
    const partial = await post(d.url, cumulative, 'proto', { 'dd-api-key': 'k' });
    expect(partial.status).toBe(200);
    expect(partialSuccess(partial.body, true, 'metrics')?.rejected).toBe(1);
  });

  it('answers 400 to a body it cannot decode, and 404 off the OTLP paths', async () => {
    const d = await start(new OtlpDataModelChecker());
    expect((await fetch(`${d.url}/v1/metrics`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await fetch(`${d.url}/api/v1/push`, { method: 'POST', body: '' })).status).toBe(404);
  });
});

describe('OtlpDataModelChecker (backends that take both temporalities)', () => {
  it('New Relic: the api-key header and the 1 MB payload limit', () => {
    // newrelic/docs-website src/content/docs/opentelemetry/best-practices/opentelemetry-otlp.mdx:
    // "include a header named api-key", "payloads must be smaller than the 1MB (10^6 bytes)".
    const newrelic = new OtlpDataModelChecker({ requiredHeaders: ['api-key'], maxBodyBytes: 1_000_000 });
    expect(newrelic.check(delta, { headers: {} }).status).toBe(401);
    expect(newrelic.check(delta, { headers: { 'api-key': 'k' }, wireBytes: 1_000_001 }).status).toBe(413);
    expect(newrelic.check(delta, { headers: { 'api-key': 'k' }, wireBytes: 900 }).status).toBe(200);
  });

  it('New Relic: takes cumulative and delta, but does not keep delta non-monotonic sums', () => {
    // opentelemetry-best-practices-metrics.mdx, "OTLP sum metrics": false/delta "Not supported".
    const newrelic = new OtlpDataModelChecker({ dropDeltaNonMonotonicSums: true });
    const verdict = newrelic.check(
      request(APP, [
        sum('a', '', CUMULATIVE, true, [{ t: NOW, st: NOW - 500, v: 1 }]),
        sum('b', '', DELTA, true, [{ t: NOW, st: NOW - 500, v: 1 }]),
        sum('c', '', DELTA, false, [{ t: NOW, st: NOW - 500, v: -1 }]),
        histogram('d', 's', CUMULATIVE, [{ t: NOW, st: NOW - 500, bounds: [1], counts: [1, 0], sum: 0.5 }]),
      ]),
    );
    expect(verdict.status).toBe(200);
    expect(verdict.points.map((p) => p.accepted)).toEqual([true, true, false, true]);
  });

  it('flags a cumulative stream that drops under one start time, and delta intervals that overlap', () => {
    // opentelemetry.io/docs/specs/otel/metrics/data-model/ #single-writer and #sums (delta:
    // "non-overlapping intervals"); New Relic uses start_time_unix_nano "to detect series resets".
    const checker = new OtlpDataModelChecker();
    const c = (t: number, st: number, v: number, writer: string) => checker.check(request(APP, [sum('c', '', CUMULATIVE, true, [{ t, st, v }])]), { writer });
    c(NOW, NOW - 1000, 10, 'a');
    c(NOW + 500, NOW - 1000, 4, 'b');
    c(NOW + 1000, NOW + 800, 1, 'a');
    const d = (t: number, st: number, writer: string) => checker.check(request(APP, [sum('d', '', DELTA, true, [{ t, st, v: 1 }])]), { writer });
    d(NOW, NOW - 500, 'a');
    d(NOW + 200, NOW - 300, 'b');
    expect(checker.violations().map((v) => [v.rule, v.writer])).toEqual([
      ['decrease-under-same-start-time', 'b'],
      ['start-time-went-back', 'b'],
    ]);
    expect(checker.cumulativeStreams()[0]!.resets).toEqual([{ t: NOW + 1000, from: 4, to: 1, st: NOW + 800 }]);
    expect(checker.sharedSeries('a', 'b')).toHaveLength(2);
  });
});
