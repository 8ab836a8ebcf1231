/**
 * The Prometheus-family test backend (test/support/prometheus-otlp-rules.ts) on hand-built
 * requests: each rule against the source it comes from, so the double stays as strict as
 * Grafana Cloud, Mimir and Prometheus are, and no stricter.
 */
import { describe, expect, it } from 'vitest';
import { PrometheusOtlpChecker, prometheusLabelName, prometheusMetricName, type TranslatorMetricType } from '../support/prometheus-otlp-rules.ts';
import { APP, CUMULATIVE, DELTA, exponentialHistogram, gauge, histogram, NOW, request, sum } from './requests.ts';

const mimir = () => new PrometheusOtlpChecker({ now: () => NOW });
const prometheus = () => new PrometheusOtlpChecker({ flavor: 'prometheus', now: () => NOW });

describe('metric and label names (prometheus/otlptranslator, UnderscoreEscapingWithSuffixes)', () => {
  // Cases from prometheus/otlptranslator metric_namer_test.go ("UTF8Allowed = false,
  // WithMetricSuffixes = true tests"), then the sidecar's own names.
  it.each<[string, string, TranslatorMetricType, string]>([
    ['requests', '', 'monotonic_counter', 'requests_total'],
    ['cpu_usage', '1', 'gauge', 'cpu_usage_ratio'],
    ['items', '1', 'monotonic_counter', 'items_total'],
    ['response_time', 'ms', 'gauge', 'response_time_milliseconds'],
    ['memory_usage', 'By', 'gauge', 'memory_usage_bytes'],
    ['requests', '1/s', 'gauge', 'requests_per_second'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['custom_metric', 'custom_unit', 'gauge', 'custom_metric_custom_unit'],
    ['custom_metric', '{custom}', 'gauge', 'custom_metric'],
    ['custom_metric', 'By/{custom}', 'gauge', 'custom_metric_bytes'],
    ['requests_total', '', 'monotonic_counter', 'requests_total'],
    ['cpu_usage_ratio', '1', 'gauge', 'cpu_usage_ratio'],
    ['response_time_seconds', 's', 'gauge', 'response_time_seconds'],
    ['http.server.request.duration', 's', 'histogram', 'http_server_request_duration_seconds'],
    ['heroku.dyno.memory_rss', 'By', 'gauge', 'heroku_dyno_memory_rss_bytes'],
    ['heroku.dyno.memory_pgpgin', '{page}', 'monotonic_counter', 'heroku_dyno_memory_pgpgin_total'],
    // A non-monotonic sum is a gauge to Prometheus but keeps its name without _ratio or _total.
    ['heroku.postgres.connections', '{connection}', 'non_monotonic_counter', 'heroku_postgres_connections'],
    // The unit in the name and in `unit`: both stay (why issue 14 renamed connect_ms).
    ['heroku.router.connect_ms', 'ms', 'histogram', 'heroku_router_connect_ms_milliseconds'],
    ['metric@@##$$name', '', 'gauge', 'metric_name'],
    ['2xx.responses', '', 'gauge', '_2xx_responses'],
  ])('%s [%s, %s] -> %s', (name, unit, type, expected) => {
    expect(prometheusMetricName(name, unit, type)).toBe(expected);
  });

  it('refuses names that translate to nothing, with the translator message', () => {
    expect(String(prometheusMetricName('@#$%', '', 'gauge', 'UnderscoreEscapingWithoutSuffixes'))).toBe('Error: normalization for metric "@#$%" resulted in empty name');
    expect(String(prometheusMetricName('@_#_$_%', '', 'gauge', 'UnderscoreEscapingWithoutSuffixes'))).toBe('Error: normalization for metric "@_#_$_%" resulted in invalid name "_____"');
  });

  // prometheus/otlptranslator label_namer_test.go (sanitized column).
  it.each([
    ['label:with:colons', 'label_with_colons'],
    ['LabelWithCapitalLetters', 'LabelWithCapitalLetters'],
    ['label!with&special$chars)', 'label_with_special_chars_'],
    ['label_with_foreign_characters_字符', 'label_with_foreign_characters_'],
    ['label.with.dots', 'label_with_dots'],
    ['.foo', '_foo'],
    ['123label', 'key_123label'],
    ['__label_starting_with_2underscores', '_label_starting_with_2underscores'],
    ['label__with__double__underscores', 'label_with_double_underscores'],
    ['__reserved__label__name__', '__reserved_label_name__'],
    ['trailing_underscores___', 'trailing_underscores_'],
    ['http.response.status_code', 'http_response_status_code'],
    ['heroku.dyno.name', 'heroku_dyno_name'],
  ])('label %s -> %s', (key, expected) => {
    expect(prometheusLabelName(key)).toBe(expected);
  });

  it('refuses label names that are only underscores once translated', () => {
    expect(String(prometheusLabelName('ようこそ'))).toBe('Error: normalization for label name "ようこそ" resulted in invalid name "_"');
    expect(String(prometheusLabelName('__'))).toBe('Error: normalization for label name "__" resulted in invalid name "_"');
  });
});

describe('temporality (metrics_to_prw.go FromMetrics: cumulative always, delta only with AllowDeltaTemporality)', () => {
  it('Mimir: a delta sum is left out and the request answered 400 with the translator message; the gauge beside it is stored', () => {
    // grafana/mimir pkg/distributor/otel.go: "Push was successful, but OTLP converter left out
    // some samples. We let the client know about it by replying with 4xx"; grafana/mimir#6696.
    const checker = mimir();
    const verdict = checker.check(
      request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW, st: NOW - 1000, v: 3 }]), gauge('heroku.dyno.load.avg.1m', '1', [{ t: NOW, v: 0.5 }])]),
    );
    expect(verdict.status).toBe(400);
    expect(verdict.message).toBe('otlp parse error: invalid temporality and type combination for metric "heroku.router.requests"');
    expect(verdict.points.map((p) => [p.metric, p.accepted, p.rule])).toEqual([
      ['heroku.router.requests', false, 'temporality'],
      ['heroku.dyno.load.avg.1m', true, undefined],
    ]);
    expect(checker.series().map((s) => s.key)).toContain('{__name__="heroku_dyno_load_avg_1m_ratio", job="shop-web"}');
    expect(checker.series().some((s) => s.name.startsWith('heroku_router'))).toBe(false);
  });

  it('Prometheus 3.7+: a delta sum fails the whole request with a 500 (a client retries it) and nothing is stored', () => {
    // prometheus storage/remote/write_otlp_handler.go: ConsumeMetrics rolls back on error;
    // ServeHTTP answers 400 only for out-of-order/duplicate/out-of-bounds, else 500.
    const checker = prometheus();
    const verdict = checker.check(request(APP, [sum('heroku.router.requests', '{request}', DELTA, true, [{ t: NOW, st: NOW - 1000, v: 3 }]), gauge('heroku.dyno.load.avg.1m', '1', [{ t: NOW, v: 0.5 }])]));
    expect(verdict.status).toBe(500);
    expect(verdict.errorFormat).toBe('text');
    expect(verdict.message).toBe('invalid temporality and type combination for metric "heroku.router.requests"');
    expect(verdict.points.every((p) => !p.accepted)).toBe(true);
    expect(checker.series()).toEqual([]);
  });

  it('refuses delta histograms and delta exponential histograms the same way, and accepts them when native delta ingestion is on', () => {
    // metrics_to_prw_test.go: "delta histogram when not allowed", "delta histogram with buckets and convertToNHCB=false when not allowed".
    const body = request(APP, [
      histogram('http.server.request.duration', 's', DELTA, [{ t: NOW, st: NOW - 500, bounds: [0.1, 1], counts: [1, 0, 0], sum: 0.05 }]),
      exponentialHistogram('heroku.router.service', 's', DELTA, NOW, NOW - 500, 2),
    ]);
    const verdict = mimir().check(body);
    expect(verdict.status).toBe(400);
    expect(verdict.message).toBe('otlp parse error: invalid temporality and type combination for metric "http.server.request.duration"\ninvalid temporality and type combination for metric "heroku.router.service"');
    expect(new PrometheusOtlpChecker({ allowDeltaTemporality: true, now: () => NOW }).check(body).status).toBe(200);
  });

  it('refuses unspecified temporality even with native delta ingestion on', () => {
    // metrics_to_prw_test.go "unspecified temporality not allowed".
    const verdict = new PrometheusOtlpChecker({ allowDeltaTemporality: true, now: () => NOW }).check(request(APP, [sum('x', '', 0, true, [{ t: NOW, st: NOW - 1, v: 1 }])]));
    expect(verdict.status).toBe(400);
    expect(verdict.message).toContain('invalid temporality and type combination for metric "x"');
  });

  it('accepts a cumulative histogram as _bucket, _count and _sum series with job and instance; the rest of the resource goes to target_info', () => {
    // helper.go addHistogramDataPoints (cumulative bucket counts, le="+Inf" = count),
    // setResourceContext (job = service.namespace/service.name, instance = service.instance.id),
    // addResourceTargetInfo; grafana.com/docs/grafana-cloud/send-data/otlp/otlp-format-considerations/.
    const checker = mimir();
    const resource = { 'service.namespace': 'shop', 'service.name': 'web', 'service.instance.id': 'sidecar-1', 'cloud.provider': 'heroku', 'heroku.app.name': 'shop-web' };
    const verdict = checker.check(
      request(resource, [histogram('http.server.request.duration', 's', CUMULATIVE, [{ attrs: { 'http.request.method': 'GET', 'http.response.status_code': 200 }, t: NOW, st: NOW - 60_000, bounds: [0.1, 0.5], counts: [2, 1, 1], sum: 1.9 }])]),
    );
    expect(verdict).toMatchObject({ status: 200, partial: false });
    const base = 'http_request_method="GET", http_response_status_code="200", instance="sidecar-1", job="shop/web"';
    const byKey = Object.fromEntries(checker.series().map((s) => [s.key, s.samples.map((x) => x.v)]));
    expect(byKey).toEqual({
      [`{__name__="http_server_request_duration_seconds_sum", ${base}}`]: [1.9],
      [`{__name__="http_server_request_duration_seconds_count", ${base}}`]: [4],
      [`{__name__="http_server_request_duration_seconds_bucket", ${base}, le="0.1"}`]: [2],
      [`{__name__="http_server_request_duration_seconds_bucket", ${base}, le="0.5"}`]: [3],
      [`{__name__="http_server_request_duration_seconds_bucket", ${base}, le="+Inf"}`]: [4],
      '{__name__="target_info", cloud_provider="heroku", heroku_app_name="shop-web", instance="sidecar-1", job="shop/web"}': [1],
    });
  });

  it('stores a non-monotonic cumulative sum as a gauge: no _total, and going down is no reset', () => {
    // helper.go/otlp_to_openmetrics_metadata.go: a non-monotonic sum is MetricTypeGauge;
    // metric_namer.go adds _total to monotonic counters only.
    const checker = mimir();
    checker.check(request(APP, [sum('heroku.postgres.connections', '{connection}', CUMULATIVE, false, [{ t: NOW, st: NOW - 60_000, v: 11 }])]));
    checker.check(request(APP, [sum('heroku.postgres.connections', '{connection}', CUMULATIVE, false, [{ t: NOW + 1000, st: NOW - 60_000, v: 4 }])]));
    const [series] = checker.series();
    expect(series).toMatchObject({ name: 'heroku_postgres_connections', type: 'gauge', monotonic: false });
    expect(series!.samples.map((s) => s.v)).toEqual([11, 4]);
    expect(checker.violations()).toEqual([]);
  });

  it('joins the values of attributes that translate to one label name with ";", in key order', () => {
    // helper.go createAttributes: "handle conflicts by appending values".
    const checker = mimir();
    checker.check(request(APP, [gauge('g', '', [{ attrs: { 'a.b': 'dot', a_b: 'underscore' }, t: NOW, v: 1 }])]));
    expect(checker.series()[0]!.labels.a_b).toBe('dot;underscore');
  });
});

describe('cumulative series across requests (the OpenTelemetry data model: single writer, resets)', () => {
  const counter = (t: number, st: number, v: number, resource: Record<string, string> = APP) =>
    request(resource, [sum('heroku.router.requests', '{request}', CUMULATIVE, true, [{ attrs: { 'http.response.status_code': 200 }, t, st, v }])]);

  it('keeps one start time and growing values from a single writer', () => {
    const checker = mimir();
    for (const [i, v] of [3, 7, 7, 12].entries()) expect(checker.check(counter(NOW + i * 500, NOW - 10_000, v)).status).toBe(200);
    const [series] = checker.cumulativeSeries();
    expect(series).toMatchObject({ name: 'heroku_router_requests_total', startTimes: [NOW - 10_000], resets: [], violations: [] });
    expect(series!.samples.map((s) => s.v)).toEqual([3, 7, 7, 12]);
  });

  it('stores a counter that decreases under the same start time, but flags it: that is two writers on one series', () => {
    // https://opentelemetry.io/docs/specs/otel/metrics/data-model/#single-writer: a cumulative
    // series has one writer; two interleaving writers with their own totals make it go down
    // under one start time, which PromQL's rate() reads as a counter reset. Prometheus and
    // Mimir store it without a word (tsdb/head_append.go checks time order, not values).
    const checker = mimir();
    checker.check(counter(NOW, NOW - 10_000, 40));
    const verdict = checker.check(counter(NOW + 500, NOW - 10_000, 3), { writer: 'b' });
    expect(verdict.status).toBe(200);
    expect(checker.violations()).toEqual([
      expect.objectContaining({ rule: 'decrease-under-same-start-time', t: NOW + 500, writer: 'b', message: `dropped from 40 to 3 at ${NOW + 500} under start time ${NOW - 10_000} (default then b)` }),
    ]);
  });

  it('accepts a decrease that comes with a new start time as a reset (a restart)', () => {
    // data-model.md #resets-and-gaps: a new start time marks a reset.
    const checker = mimir();
    checker.check(counter(NOW, NOW - 10_000, 40));
    checker.check(counter(NOW + 2000, NOW + 1500, 2));
    const [series] = checker.cumulativeSeries();
    expect(series!.violations).toEqual([]);
    expect(series!.resets).toEqual([{ t: NOW + 2000, from: 40, to: 2, st: NOW + 1500 }]);
    expect(series!.startTimes).toEqual([NOW - 10_000, NOW + 1500]);
  });

  it('flags a start time that goes back (two writers alternating) and one after its own sample time', () => {
    const checker = mimir();
    checker.check(counter(NOW, NOW - 5000, 10));
    checker.check(counter(NOW + 500, NOW - 9000, 11));
    checker.check(request({ 'service.name': 'other' }, [sum('c', '', CUMULATIVE, true, [{ t: NOW, st: NOW + 1, v: 1 }])]));
    expect(checker.violations().map((v) => v.rule).sort()).toEqual(['start-after-time', 'start-time-went-back']);
  });

  it('two instances without service.instance.id write the same series; with one each, their series are disjoint', () => {
    const shared = mimir();
    shared.check(counter(NOW, NOW - 10_000, 5), { writer: 'a' });
    shared.check(counter(NOW + 100, NOW - 20_000, 2), { writer: 'b' });
    expect(shared.sharedSeries('a', 'b')).toEqual(['{__name__="heroku_router_requests_total", http_response_status_code="200", job="shop-web"}', '{__name__="target_info", cloud_provider="heroku", job="shop-web"}']);
    expect(shared.violations().map((v) => v.rule)).toEqual(['start-time-went-back']);

    const disjoint = mimir();
    disjoint.check(counter(NOW, NOW - 10_000, 5, { ...APP, 'service.instance.id': 'a' }), { writer: 'a' });
    disjoint.check(counter(NOW + 100, NOW - 20_000, 2, { ...APP, 'service.instance.id': 'b' }), { writer: 'b' });
    expect(disjoint.sharedSeries('a', 'b')).toEqual([]);
    expect(disjoint.violations()).toEqual([]);
  });
});

describe('sample order and time (tsdb/head_append.go appendable, no out-of-order window)', () => {
  const g = (t: number, v: number) => request(APP, [gauge('heroku.dyno.load.avg.1m', '1', [{ t, v }])]);

  it('Mimir refuses an out-of-order sample alone and answers 200 with partial_success', () => {
    // grafana/mimir#12579, #14789: soft ingester errors -> HTTP 200, partial_success with
    // rejected_data_points; runbook err-mimir-sample-out-of-order.
    const checker = mimir();
    checker.check(g(NOW, 1));
    const verdict = checker.check(request(APP, [gauge('heroku.dyno.load.avg.1m', '1', [{ t: NOW - 1000, v: 2 }]), gauge('heroku.dyno.load.avg.5m', '1', [{ t: NOW, v: 3 }])]));
    // Two samples refused: the gauge's, and target_info's at the request's earliest point time.
    expect(verdict).toMatchObject({ status: 200, partial: true, rejectedDataPoints: 2 });
    expect(verdict.message).toBe(
      'the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order). The affected sample has timestamp 2026-01-15T11:59:59Z and is from series {__name__="heroku_dyno_load_avg_1m_ratio", job="shop-web"}',
    );
    expect(verdict.points.map((p) => p.accepted)).toEqual([false, true]);
    expect(checker.series().find((s) => s.name === 'heroku_dyno_load_avg_5m_ratio')!.samples).toHaveLength(1);
  });

  it('Prometheus answers 400 "out of order sample" and keeps nothing of that request', () => {
    // write_otlp_handler.go ServeHTTP: ErrOutOfOrderSample -> 400 "to prevent retries"; storage/interface.go.
    const checker = prometheus();
    checker.check(g(NOW, 1));
    const verdict = checker.check(request(APP, [gauge('heroku.dyno.load.avg.1m', '1', [{ t: NOW - 1000, v: 2 }]), gauge('heroku.dyno.load.avg.5m', '1', [{ t: NOW, v: 3 }])]));
    // The gauge's sample and target_info's, joined as errors.Join does.
    expect(verdict).toMatchObject({ status: 400, message: 'out of order sample\nout of order sample' });
    expect(checker.series().map((s) => s.name).sort()).toEqual(['heroku_dyno_load_avg_1m_ratio', 'target_info']);
  });

  it('keeps an exact duplicate once and refuses the same timestamp with another value', () => {
    // head_append.go: "We are allowing exact duplicates"; storage/errors.go; runbook err-mimir-sample-duplicate-timestamp.
    const checker = mimir();
    checker.check(g(NOW, 1));
    expect(checker.check(g(NOW, 1))).toMatchObject({ status: 200, partial: false });
    const verdict = checker.check(g(NOW, 2));
    expect(verdict.partial).toBe(true);
    expect(verdict.message).toContain('(err-mimir-sample-duplicate-timestamp)');
    expect(prometheus().check(request(APP, [gauge('x', '', [{ t: NOW, v: 1 }, { t: NOW, v: 2 }])])).message).toBe(`duplicate sample for timestamp ${NOW}; overrides not allowed: existing 1, new value 2`);
    expect(checker.series()[0]!.samples).toHaveLength(1);
  });

  it('refuses samples more than 10 minutes ahead, and more than an hour behind the newest stored', () => {
    // write_handler.go maxAheadTime (Mimir: err-mimir-too-far-in-future); head minValidTime =
    // max time - 1h (Mimir: err-mimir-sample-timestamp-too-old).
    const checker = prometheus();
    expect(checker.check(g(NOW + 11 * 60_000, 1))).toMatchObject({ status: 400, message: 'out of bounds: timestamp is too far in the future\nout of bounds: timestamp is too far in the future' });
    checker.check(g(NOW, 1));
    const old = checker.check(request(APP, [gauge('new.series', '', [{ t: NOW - 61 * 60_000, v: 1 }])]));
    expect(old).toMatchObject({ status: 400, message: 'out of bounds\nout of bounds' });
  });

  it('orders target_info by each request\'s point times: a request of older points is refused on target_info alone', () => {
    // helper.go addResourceTargetInfo writes target_info at the request's earliest and latest
    // point times; gauges stamped with their log line's time can be older than the last request's.
    const checker = mimir();
    checker.check(g(NOW, 1));
    const verdict = checker.check(request(APP, [gauge('heroku.dyno.load.avg.5m', '1', [{ t: NOW - 2000, v: 1 }])]));
    expect(verdict).toMatchObject({ status: 200, partial: true, rejectedDataPoints: 1 });
    expect(verdict.points.every((p) => p.accepted)).toBe(true);
    expect(verdict.message).toContain('is from series {__name__="target_info", cloud_provider="heroku", job="shop-web"}');
  });
});
