/**
 * The OTTL subset of the filter and transform processors (src/processors/ottl/ottl.ts): what a
 * condition or statement written for contrib's processors does here, and the message a user sees
 * for one this subset does not read.
 */
import { describe, expect, it } from 'vitest';
import { compileCondition, compileStatement, inferContext, type Target } from '../../src/processors/ottl/ottl.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Attributes, LogRecordData, MetricPointData } from '../../src/translate/telemetry.ts';

const record = (body: string, attributes: Attributes, severityNumber = 9): LogRecordData => ({ timeUnixMicros: 1, observedUnixMicros: 1, severityNumber, severityText: 'INFO', body, eventName: '', attributes, traceId: undefined, spanId: undefined, traceFlags: 0 });
const log = (r: LogRecordData, resource: Attributes = { 'service.name': 'shop-web' }): Target => ({ record: r, resource });
const point = (name: string, value: number, attributes: Attributes = {}): MetricPointData => ({ name, unit: 's', type: 'gauge', value, timeUnixMicros: 1, attributes, bounds: undefined });

describe('OTTL conditions', () => {
  const router = record('GET /health', { 'url.path': '/health', 'http.response.status_code': 200, 'http.request.method': 'GET' });
  const cases: Array<[string, boolean]> = [
    ['attributes["url.path"] == "/health"', true],
    ['log.attributes["url.path"] == "/health" and attributes["http.response.status_code"] < 400', true],
    ['attributes["http.response.status_code"] >= 500 or attributes["url.path"] == "/cart"', false],
    ['not (attributes["url.path"] == "/health")', false],
    ['attributes["http.response.status_code"] == "200"', false], // a string is never equal to an int
    ['attributes["http.response.status_code"] == 200.0', true], // ints and floats compare as numbers
    ['attributes["missing"] == nil', true],
    ['attributes["missing"] != nil', false],
    ['attributes["missing"] > 3', false],
    ['IsMatch(body, "^GET /(health|ping)$")', true],
    ['IsMatch(attributes["url.path"], "^/api")', false],
    ['severity_number < SEVERITY_NUMBER_WARN', true],
    ['ToLowerCase(attributes["http.request.method"]) == "get"', true],
    ['Len(body) == 11', true],
    ['resource.attributes["service.name"] == "shop-web"', true],
    ['true', true],
  ];
  it.each(cases)('%s -> %s', (source, expected) => {
    expect(compileCondition(source, 'log')(log(router))).toBe(expected);
  });

  it('metric and datapoint contexts read the metric name, type and the point value', () => {
    expect(compileCondition('name == "heroku.dyno.load.avg.15m"', 'metric')({ point: point('heroku.dyno.load.avg.15m', 1), resource: {} })).toBe(true);
    expect(compileCondition('metric.type == METRIC_DATA_TYPE_GAUGE and value_double > 0.5', 'datapoint')({ point: point('x', 0.7), resource: {} })).toBe(true);
    expect(compileCondition('attributes["heroku.dyno.type"] == "run"', 'datapoint')({ point: point('x', 1, { 'heroku.dyno.type': 'web' }), resource: {} })).toBe(false);
  });

  it('says where a condition it cannot read goes wrong', () => {
    expect(() => compileCondition('attributes["a" == 1', 'log')).toThrow(/expected "\]", got "==" \(column 16\)/);
    expect(() => compileCondition('spans.name == "x"', 'log')).toThrow(/path "spans.name" is not supported in the log context \(column 1\)/);
    expect(() => compileCondition('ParseJSON(body) == nil', 'log')).toThrow(/converter ParseJSON is not supported here/);
    expect(() => compileCondition('body == "unclosed', 'log')).toThrow(/a string is not closed \(column 9\)/);
  });
});

describe('OTTL statements', () => {
  it('set, delete_key, delete_matching_keys, keep_keys, truncate_all, limit, replace_pattern, replace_all_patterns, replace_match, with where', () => {
    const r = record('login token=abc123 user=ann', { 'url.path': '/login', 'http.request.header.cookie': 'x', 'http.request.header.accept': 'y', long: 'abcdefghij', n: 1 });
    const t = log(r);
    for (const s of [
      'set(attributes["team"], "shop") where resource.attributes["service.name"] == "shop-web"',
      'set(attributes["never"], "x") where attributes["url.path"] == "/other"',
      'set(severity_text, "NOTICE")',
      'delete_key(attributes, "n")',
      'delete_matching_keys(attributes, "^http\\\\.request\\\\.header\\\\.")',
      'truncate_all(attributes, 4)',
      'replace_pattern(body, "token=[^ ]+", "token=***")',
      'replace_pattern(attributes["url.path"], "^/(?P<first>[a-z]+)$", "/x-${first}")',
      'replace_match(attributes["team"], "sh*", "store")',
    ]) compileStatement(s, 'log')(t);
    expect(r.body).toBe('login token=*** user=ann');
    expect(r.severityText).toBe('NOTICE');
    expect(r.attributes).toEqual({ 'url.path': '/x-log', long: 'abcd', team: 'store' });
    const k = record('b', { a: 1, b: 2, c: 3 });
    compileStatement('keep_keys(attributes, ["a", "c"])', 'log')(log(k));
    expect(k.attributes).toEqual({ a: 1, c: 3 });
    const l = record('b', { a: 1, b: 2, c: 3 });
    compileStatement('limit(attributes, 1, ["c"])', 'log')(log(l));
    expect(l.attributes).toEqual({ c: 3 });
    const ra = record('b', { 'k.one': 'v-1' });
    compileStatement('replace_all_patterns(attributes, "value", "-", "_")', 'log')(log(ra));
    compileStatement('replace_all_patterns(attributes, "key", "\\\\.", "_")', 'log')(log(ra));
    expect(ra.attributes).toEqual({ k_one: 'v_1' });
  });

  it('refuses editors and targets it cannot run, with the column', () => {
    expect(() => compileStatement('merge_maps(attributes, cache, "upsert")', 'log')).toThrow(/editor merge_maps is not supported here/);
    expect(() => compileStatement('set(resource.attributes["x"], "y")', 'log')).toThrow(/set\(target, value\): the target must be a path that can be set/);
    expect(() => compileStatement('set(attributes["x"], "y") where', 'log')).toThrow(/expected a value, got the end/);
  });

  it("reads patterns as Go's RE2, as attributes and redaction do: (?i) first, (?P<name>), lookaround refused", () => {
    const r = record('Payment ERROR in checkout', {});
    expect(compileCondition('IsMatch(body, "(?i)error")', 'log')(log(r))).toBe(true);
    compileStatement('replace_pattern(body, "(?i)(?P<word>error)", "[${word}]")', 'log')(log(r));
    expect(r.body).toBe('Payment [ERROR] in checkout');
    expect(() => compileCondition('IsMatch(body, "err(?=or)")', 'log')).toThrow(/lookahead and lookbehind .* the Collector refuses them/);
    expect(() => compileStatement('replace_pattern(body, "(?<=a)b", "c")', 'log')).toThrow(/lookahead and lookbehind/);
  });

  it('refuses arguments an editor would ignore', () => {
    expect(() => compileStatement('set(attributes["a"], "b", "c")', 'log')).toThrow(/set takes 2 arguments here, got 3/);
    expect(() => compileStatement('replace_pattern(body, "a", "b", "%s")', 'log')).toThrow(/replace_pattern takes 3 arguments here, got 4 \(the optional function and replacement format are not supported here\)/);
    expect(() => compileStatement('delete_key(attributes)', 'log')).toThrow(/delete_key takes 2 arguments here, got 1/);
    expect(() => compileStatement('limit(attributes, 2)', 'log')).not.toThrow();
  });

  it('infers the context of a flat statement from its paths, as contrib does', () => {
    expect(inferContext('set(attributes["x"], "y")', 'logs')).toBe('log');
    expect(inferContext('set(resource.attributes["x"], "y")', 'logs')).toBe('resource');
    expect(inferContext('set(attributes["x"], "y") where metric.name == "a"', 'metrics')).toBe('datapoint');
  });
});

describe('filter and transform configs', () => {
  const problems = (processors: Record<string, unknown>) =>
    validateConfig({ receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } }, processors, exporters: { debug: {} }, service: { pipelines: { logs: { receivers: ['logplex'], processors: Object.keys(processors), exporters: ['debug'] } } } }, {}).problems.join('\n');

  it('name the key of a condition or statement the subset does not read', () => {
    expect(problems({ filter: { logs: { log_record: ['attributes["a"] = 1'] } } })).toMatch(/processors\.filter\.logs\.log_record\[0\]: not a condition this OTTL subset reads: unexpected "=" \(column 17\)/);
    expect(problems({ transform: { log_statements: [{ context: 'log', statements: ['set(attributes["a"], Nope(body))'] }] } })).toMatch(/processors\.transform\.log_statements\[0\]\.statements\[0\]: .*converter Nope is not supported/);
    expect(problems({ filter: { logs: { include: { match_type: 'strict', bodies: ['x'] } } } })).toMatch(/processors\.filter\.logs\.include: the legacy include\/exclude match properties are not supported/);
    expect(problems({ transform: { log_statements: [{ context: 'scope', statements: ['set(attributes["a"], "b")'] }] } })).toMatch(/context: expected one of log, resource here \(scope and spanevent contexts are not supported\)/);
  });
});
