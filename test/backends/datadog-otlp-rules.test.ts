/**
 * The Datadog OTLP intake test backend (test/support/datadog-otlp-rules.ts) on hand-built
 * requests, each rule against the Datadog page (or report) it comes from.
 */
import { describe, expect, it } from 'vitest';
import { DATADOG_CUMULATIVE_MESSAGE, DatadogOtlpChecker, datadogMetricName, datadogTag } from '../support/datadog-otlp-rules.ts';
import { APP, CUMULATIVE, DELTA, exponentialHistogram, gauge, histogram, NOW, request, sum } from './requests.ts';

const KEY = { 'dd-api-key': 'k' };
const datadog = () => new DatadogOtlpChecker({ now: () => NOW });

describe('Datadog OTLP metrics intake', () => {
  it('refuses a request without dd-api-key (403), and one over 500 KB uncompressed (413)', () => {
    // docs.datadoghq.com/opentelemetry/setup/otlp_ingest/metrics/: "Configure the required HTTP
    // headers" (dd-api-key), "Error: 403 Forbidden", "Error: 413 Request Entity Too Large".
    const body = request(APP, [gauge('g', '', [{ t: NOW, v: 1 }])]);
    expect(datadog().check(body, { headers: {} })).toMatchObject({ status: 403, message: 'Forbidden', errorFormat: 'status' });
    expect(new DatadogOtlpChecker({ apiKeys: ['right'], now: () => NOW }).check(body, { headers: { 'dd-api-key': 'wrong' } }).status).toBe(403);
    expect(datadog().check(body, { headers: KEY, wireBytes: 512_001, decodedBytes: 512_001 }).status).toBe(413);
    expect(datadog().check(body, { headers: { ...KEY, 'content-encoding': 'gzip' }, wireBytes: 100_000, decodedBytes: 5_000_000 }).status).toBe(200);
  });

  it('answers cumulative monotonic sums and cumulative histograms with a 200 partial success, and keeps the delta points beside them', () => {
    // otlp_ingest/metrics: "accepts only delta metrics. If you attempt to send cumulative
    // metrics ... you will receive an error"; the error is a partial success, as the intake
    // answered in runs-on/runs-on#433.
    const checker = datadog();
    const verdict = checker.check(
      request(APP, [
        sum('heroku.router.requests', '{request}', CUMULATIVE, true, [{ t: NOW, st: NOW - 10_000, v: 5 }]),
        histogram('http.server.request.duration', 's', CUMULATIVE, [{ t: NOW, st: NOW - 10_000, bounds: [1], counts: [1, 0], sum: 0.2 }]),
        exponentialHistogram('heroku.router.service', 's', CUMULATIVE, NOW, NOW - 10_000, 3),
        sum('heroku.router.errors', '{request}', DELTA, true, [{ t: NOW, st: NOW - 500, v: 2 }]),
      ]),
      { headers: KEY },
    );
    expect(verdict).toMatchObject({ status: 200, partial: true, rejectedDataPoints: 3, message: DATADOG_CUMULATIVE_MESSAGE });
    expect(verdict.points.map((p) => p.accepted)).toEqual([false, false, false, true]);
    expect(checker.series().map((s) => [s.key, s.type])).toEqual([['heroku.router.errors{cloud_provider:heroku,service:shop-web}', 'count']]);
  });

  it('refuses unspecified temporality too', () => {
    expect(datadog().check(request(APP, [sum('s', '', 0, true, [{ t: NOW, st: NOW - 1, v: 1 }])]), { headers: KEY }).rejectedDataPoints).toBe(1);
  });

  it('maps a cumulative non-monotonic sum to a gauge, a delta histogram to a distribution, and drops zero-count histograms without loss', () => {
    // docs.datadoghq.com/metrics/open_telemetry/otlp_metric_types/: "Cumulative non-monotonic sums
    // are exported as Datadog gauges", "Delta histograms are reported as Datadog distributions
    // ... Histograms with a count of 0 are dropped."
    const checker = datadog();
    const verdict = checker.check(
      request(APP, [
        sum('heroku.postgres.connections', '{connection}', CUMULATIVE, false, [{ t: NOW, st: NOW - 10_000, v: 11 }]),
        histogram('http.server.request.duration', 's', DELTA, [
          { attrs: { 'http.response.status_code': 200 }, t: NOW, st: NOW - 500, bounds: [1], counts: [2, 1], sum: 1.4 },
          { attrs: { 'http.response.status_code': 500 }, t: NOW, st: NOW - 500, bounds: [1], counts: [0, 0], sum: 0 },
        ]),
      ]),
      { headers: KEY },
    );
    expect(verdict).toMatchObject({ status: 200, partial: false });
    expect(checker.series().map((s) => [s.key, s.type])).toEqual([
      ['heroku.postgres.connections{cloud_provider:heroku,service:shop-web}', 'gauge'],
      ['http.server.request.duration{cloud_provider:heroku,http.response.status_code:200,service:shop-web}', 'distribution'],
    ]);
    expect(checker.losses).toEqual([]);
  });

  it('keeps the last of two points of one series in one second and records the first as lost', () => {
    // otlp_ingest/metrics, "Missing datapoints or lower than expected metric values": "Datadog
    // only accepts the last datapoint, and previous datapoints are dropped (last-write-wins)".
    const checker = datadog();
    checker.check(request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW + 100, st: NOW - 400, v: 4 }])]), { headers: KEY, writer: 'a' });
    checker.check(request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW + 600, st: NOW + 100, v: 3 }])]), { headers: KEY, writer: 'a' });
    checker.check(request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW + 1100, st: NOW + 600, v: 1 }])]), { headers: KEY, writer: 'a' });
    expect(checker.losses).toEqual([expect.objectContaining({ rule: 'last-write-wins', second: NOW / 1000, writer: 'a' })]);
    expect([...checker.series()[0]!.points.values()].map((p) => p.v)).toEqual([3, 1]);
  });

  it('does not tell two instances apart by service.instance.id unless resource_attributes_as_tags is set', () => {
    // docs.datadoghq.com/opentelemetry/mapping/semantic_mapping/ maps service.name, not
    // service.instance.id; otlp_ingest/metrics: dd-otel-metric-config resource_attributes_as_tags.
    const point = (instance: string) => request({ ...APP, 'service.instance.id': instance }, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW, st: NOW - 500, v: 1 }])]);
    const merged = datadog();
    merged.check(point('a'), { headers: KEY, writer: 'a' });
    merged.check(point('b'), { headers: KEY, writer: 'b' });
    expect(merged.sharedSeries('a', 'b')).toEqual(['heroku.router.requests{cloud_provider:heroku,service:shop-web}']);
    expect(merged.losses.map((l) => l.rule)).toEqual(['last-write-wins']);

    const tagged = datadog();
    const headers = { ...KEY, 'dd-otel-metric-config': '{"resource_attributes_as_tags": true}' };
    tagged.check(point('a'), { headers, writer: 'a' });
    tagged.check(point('b'), { headers, writer: 'b' });
    expect(tagged.sharedSeries('a', 'b')).toEqual([]);
    expect(tagged.losses).toEqual([]);
  });

  it('does not keep points more than 10 minutes ahead or an hour old', () => {
    // docs.datadoghq.com/api/latest/metrics/#submit-metrics (the series API behind the intake).
    const checker = datadog();
    const verdict = checker.check(request(APP, [gauge('g', '', [{ t: NOW - 61 * 60_000, v: 1 }, { t: NOW + 11 * 60_000, v: 1 }])]), { headers: KEY });
    expect(verdict.status).toBe(200);
    expect(checker.losses.map((l) => l.rule)).toEqual(['outside-time-window', 'outside-time-window']);
  });

  it('names metrics and tags as Datadog does', () => {
    // docs.datadoghq.com/metrics/custom_metrics/#naming-custom-metrics and getting_started/tagging/#define-tags.
    expect(datadogMetricName('http.server.request-duration')).toBe('http.server.request_duration');
    expect(datadogTag('HTTP.Route', '/Orders/{id}')).toBe('http.route:/orders/_id_');
  });
});
