/**
 * Processors on a traces pipeline's spans: the router spans translation makes (a real router line
 * through translateLineSafely), given to each processor as the service gives them (`spans`, no
 * records or points). Secrets in url.query and url.path are masked as in records; attributes'
 * include/exclude match spans as contrib's filterspan; geoip reads client.address; filter drops
 * and transform changes spans with OTTL's span context.
 */
import { describe, expect, it } from 'vitest';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { attributesConfigSchema } from '../../src/processors/attributes/config.ts';
import { attributesFactory } from '../../src/processors/attributes/factory.ts';
import { filterConfigSchema } from '../../src/processors/filter/config.ts';
import { filterFactory, type FilterProcessor } from '../../src/processors/filter/factory.ts';
import { geoipConfigSchema } from '../../src/processors/geoip/config.ts';
import { geoipFactory } from '../../src/processors/geoip/factory.ts';
import { compileCondition, inferContext } from '../../src/processors/ottl/ottl.ts';
import { redactConfigSchema } from '../../src/processors/redact/config.ts';
import { redactFactory } from '../../src/processors/redact/factory.ts';
import { redactionConfigSchema } from '../../src/processors/redaction/config.ts';
import { redactionFactory } from '../../src/processors/redaction/factory.ts';
import { transformConfigSchema } from '../../src/processors/transform/config.ts';
import { transformFactory } from '../../src/processors/transform/factory.ts';
import type { Processor } from '../../src/service/component.ts';
import { newTelemetryBatch, SPAN_STATUS_UNSET, type Attributes, type SpanData } from '../../src/translate/telemetry.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';

const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
const RESOURCE: Attributes = { 'service.name': 'shop-web', 'cloud.provider': 'heroku', 'service.instance.id': 'web.1' };

function spansOf(...fields: string[]): SpanData[] {
  const batch = newTelemetryBatch(true);
  for (const f of fields) translateLineSafely(parseAnyLine(`2024-05-01T12:00:00.000001+00:00 heroku[router]: ${f}`), 1, batch);
  return batch.spans!;
}

const request = (path: string, extra = '') =>
  `at=info method=GET path="${path}" host=shop.example.com request_id=r-${path.length} fwd="81.2.69.142" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https${extra}`;
const H12 = 'at=error code=H12 desc="Request timeout" method=POST path="/pay" host=shop.example.com request_id=r-h12 fwd="81.2.69.142" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https';

function run(p: Processor, spans: SpanData[], resource = RESOURCE) {
  return p.process!(resource, [], [], new Set(), spans);
}

describe('redact and redaction on spans', () => {
  it('redact masks secrets in url.query and url.path, as in records, and leaves the router\'s own fields', () => {
    const spans = spansOf(request('/reset/token=abcd1234efgh?password=hunter2&page=3'), request('/orders?page=2'));
    const p = redactFactory.create('redact', redactConfigSchema.parse({}), host);
    run(p, spans);
    expect(spans[0]!.attributes['url.query']).toBe('password=***&page=3');
    expect(spans[0]!.attributes['url.path']).toBe('/reset/token=***');
    expect(spans[0]!.attributes['heroku.router.request_id']).toBe(`r-${'/reset/token=abcd1234efgh?password=hunter2&page=3'.length}`);
    expect(spans[1]!.attributes['url.query']).toBe('page=2');
  });

  it("redaction applies contrib's blocked_values to span attributes and its allow list to the resource", () => {
    const spans = spansOf(request('/cards', '').replace('path="/cards"', 'path="/cards?number=4111111111111111"'));
    const p = redactionFactory.create('redaction', redactionConfigSchema.parse({ allow_all_keys: true, blocked_values: ['4[0-9]{15}'] }), host);
    run(p, spans);
    expect(spans[0]!.attributes['url.query']).toBe('number=****');
  });
});

describe('attributes on spans', () => {
  const processor = (config: unknown) => attributesFactory.create('attributes', attributesConfigSchema.parse(config), host);

  it("applies its actions to spans that match contrib's span properties: services, span_names, span_kinds, attributes", () => {
    const spans = spansOf(request('/orders?page=2'), H12);
    run(processor({ actions: [{ key: 'team', value: 'payments', action: 'insert' }], include: { match_type: 'strict', span_names: ['POST'], span_kinds: ['SPAN_KIND_SERVER'], services: ['shop-web'] } }), spans);
    expect(spans.map((s) => s.attributes['team'])).toEqual([undefined, 'payments']);
    run(processor({ actions: [{ key: 'url.query', action: 'delete' }], exclude: { match_type: 'regexp', attributes: [{ key: 'error.type', value: '^H' }] } }), spans);
    expect(spans.map((s) => 'url.query' in s.attributes)).toEqual([false, false]);
    const other = spansOf(request('/x?y=1'));
    run(processor({ actions: [{ key: 'team', value: 'web', action: 'insert' }], include: { match_type: 'strict', services: ['another-app'] } }), other);
    expect(other[0]!.attributes).not.toHaveProperty(['team']);
  });
});

describe('geoip on spans', () => {
  it('adds geo attributes for client.address', () => {
    const spans = spansOf(request('/'));
    const p = geoipFactory.create('geoip', geoipConfigSchema.parse({}), host);
    run(p, spans);
    expect(spans[0]!.attributes['geo.country.iso_code']).toBe('GB');
  });
});

describe("OTTL's span context", () => {
  it('reads name, kind, status, attributes, ids and the resource', () => {
    const [ok, slow] = spansOf(request('/health'), H12);
    const t = (span: SpanData) => ({ span, resource: RESOURCE });
    expect(compileCondition('name == "GET" and kind == SPAN_KIND_SERVER', 'span')(t(ok!))).toBe(true);
    expect(compileCondition('status.code == STATUS_CODE_ERROR and status.message == "H12 Request timeout"', 'span')(t(slow!))).toBe(true);
    expect(compileCondition('span.attributes["url.path"] == "/health"', 'span')(t(ok!))).toBe(true);
    expect(compileCondition('resource.attributes["service.instance.id"] == "web.1"', 'span')(t(ok!))).toBe(true);
    expect(compileCondition(`trace_id.string == "${ok!.traceId}" and parent_span_id.string == ""`, 'span')(t(ok!))).toBe(true);
    expect(() => compileCondition('body == "x"', 'span')).toThrow(/path "body" is not supported in the span context/);
    expect(inferContext('set(status.code, STATUS_CODE_UNSET)', 'traces')).toBe('span');
    expect(inferContext('set(resource.attributes["a"], "b")', 'traces')).toBe('resource');
  });

  it('filter drops the spans a traces.span condition matches, and counts them', () => {
    const spans = spansOf(request('/health'), request('/orders'), H12);
    const p = filterFactory.create('filter', filterConfigSchema.parse({ traces: { span: ['attributes["url.path"] == "/health" and status.code != STATUS_CODE_ERROR'] } }), host) as FilterProcessor;
    const r = run(p, spans);
    expect(r?.spans?.map((s) => s.attributes['url.path'])).toEqual(['/orders', '/pay']);
    expect(p.dropped.traces).toBe(1);
  });

  it('transform changes spans in place, and the resource on a copy', () => {
    const spans = spansOf(H12, request('/orders'));
    const p = transformFactory.create(
      'transform',
      transformConfigSchema.parse({
        trace_statements: [
          'set(status.code, STATUS_CODE_UNSET) where attributes["error.type"] == "H12"',
          'set(name, Concat([name, attributes["url.path"]], " "))',
          { context: 'resource', statements: ['set(attributes["deployment.environment.name"], "production")'] },
        ],
      }),
      host,
    );
    const r = run(p, spans);
    expect(spans.map((s) => [s.name, s.statusCode])).toEqual([
      ['POST /pay', SPAN_STATUS_UNSET],
      ['GET /orders', SPAN_STATUS_UNSET],
    ]);
    expect(r?.resource).toMatchObject({ ...RESOURCE, 'deployment.environment.name': 'production' });
    expect(RESOURCE).not.toHaveProperty(['deployment.environment.name']);
    expect(spans[0]!.statusMessage).toBe('H12 Request timeout');
  });
});
