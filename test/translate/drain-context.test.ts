/**
 * Translation with a drain's context: app lines of a request carry the request's trace context,
 * derived from the router's request id as the router span's is (trace-context.ts); router records
 * and the duration histogram carry url.template from the drain's table.
 */
import { describe, expect, it } from 'vitest';
import { traceCorrelationSchema, urlTemplatesSchema } from '../../src/config/translation.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { newDrainContext, type DrainContext } from '../../src/translate/drain-context.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../../src/translate/telemetry.ts';
import { traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';

const RID = '6f1a3c2e-8b4d-4e0f-9a7b-5c3d2e1f0a9b';
const TS = '2024-05-01T12:00:00.000000+00:00';
const ROUTER = `<158>1 ${TS} host heroku router - at=info method=GET path="/orders/4812/items?page=2" host=shop.example.com request_id=${RID} fwd="203.0.113.9" dyno=web.1 connect=1ms service=41ms status=200 bytes=10 protocol=https`;
const APP_LINES = [
  `<190>1 ${TS} host app web.1 - [${RID}] Started GET "/orders/4812/items" for 203.0.113.9`,
  `<190>1 ${TS} host app web.1 - {"level":"info","msg":"loaded","request_id":"${RID}"}`,
  `<190>1 ${TS} host app web.1 - at=info request_id=${RID} msg="rendered"`,
];
const OTEL_APP = `<190>1 ${TS} host app web.1 - {"msg":"own","request_id":"${RID}","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"}`;

function context(settings: { trace_correlation?: unknown; url_templates?: unknown } = {}): DrainContext {
  return newDrainContext({ trace_correlation: traceCorrelationSchema.parse(settings.trace_correlation), url_templates: urlTemplatesSchema.parse(settings.url_templates) });
}

function translate(lines: string[], ctx?: DrainContext): TelemetryBatch {
  const batch = newTelemetryBatch();
  for (const l of lines) expect(translateLineSafely(parseAnyLine(l), 1, batch, undefined, undefined, ctx)).toBe(false);
  return batch;
}

describe('log-trace correlation', () => {
  it("gives a request's app lines the trace id and router span id of its request id", () => {
    const { traceId, spanId } = traceIdsOfRequest(RID);
    const batch = translate([...APP_LINES, ROUTER], context());
    const app = batch.logs.slice(0, 3);
    for (const r of app) expect([r.traceId, r.spanId, r.traceFlags]).toEqual([traceId, spanId, 1]);
    expect(batch.logs[3]!.attributes['heroku.router.request_id']).toBe(RID);
  });

  it('leaves an OpenTelemetry-instrumented line its own trace context', () => {
    const [r] = translate([OTEL_APP], context()).logs;
    expect([r!.traceId, r!.spanId]).toEqual(['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331']);
  });

  it('can be turned off, or limited to the keys given', () => {
    for (const r of translate(APP_LINES, context({ trace_correlation: { enabled: false } })).logs) expect(r.traceId).toBeUndefined();
    const onlyTags = translate(APP_LINES, context({ trace_correlation: { request_id_keys: [] } })).logs;
    expect(onlyTags.map((r) => r.traceId !== undefined)).toEqual([true, false, false]);
  });
});

describe('url.template', () => {
  it('is on the router record and the duration histogram, learned per drain', () => {
    const ctx = context();
    const batch = translate([ROUTER], ctx);
    expect(batch.logs[0]!.attributes['url.template']).toBe('/orders/{id}/items');
    const duration = batch.metrics.find((p) => p.name === 'http.server.request.duration')!;
    expect(duration.attributes['url.template']).toBe('/orders/{id}/items');
    expect(ctx.urlTemplates!.templates).toBe(1);
  });

  it('is absent when url_templates is off, or when the caller keeps no drain state', () => {
    for (const batch of [translate([ROUTER], context({ url_templates: { enabled: false } })), translate([ROUTER])]) {
      expect(batch.logs[0]!.attributes['url.template']).toBeUndefined();
      expect(batch.metrics.find((p) => p.name === 'http.server.request.duration')!.attributes['url.template']).toBeUndefined();
    }
  });

  it('applies the patterns a user gives', () => {
    const batch = translate([ROUTER], context({ url_templates: { patterns: ['/orders/{order_id}/items'] } }));
    expect(batch.logs[0]!.attributes['url.template']).toBe('/orders/{order_id}/items');
  });
});
