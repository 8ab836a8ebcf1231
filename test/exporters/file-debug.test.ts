import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debugConfigSchema } from '../../src/exporters/debug/config.ts';
import { DebugExporter } from '../../src/exporters/debug/exporter.ts';
import { fileConfigSchema } from '../../src/exporters/file/config.ts';
import { FileExporter } from '../../src/exporters/file/exporter.ts';
import { bodyToTelemetry } from '../../src/receivers/logplex/body.ts';
import { drainResource } from '../../src/translate/resource.ts';
import { decodeLogsRequest, decodeMetricsRequest, decodeTracesRequest, withoutEmptyArrays } from '../support/otlp.ts';
import { routerSpans } from '../support/spans.ts';

const CAPTURE = readFileSync(new URL('../../examples/captures/mixed.logplex', import.meta.url));

function batch() {
  const { telemetry } = bodyToTelemetry(CAPTURE, 1_714_564_800_000_000);
  return { resource: drainResource({ 'service.name': 'shop-web' }), logs: telemetry.logs, metrics: telemetry.metrics };
}

describe('file exporter', () => {
  it('appends OTLP/JSON lines that decode as OTLP, batch after batch, in order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hod-file-')), 'out.jsonl');
    const exporter = new FileExporter('file', fileConfigSchema.parse({ path }));
    const b = batch();
    const results = await Promise.all([exporter.export(b), exporter.export(b)]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    await exporter.shutdown();
    await exporter.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => (l.resourceLogs ? 'logs' : 'metrics'))).toEqual(['logs', 'metrics', 'logs', 'metrics']);
    for (const line of lines) {
      const decoded = line.resourceLogs ? decodeLogsRequest(line) : decodeMetricsRequest(line);
      expect(decoded).toEqual(withoutEmptyArrays(line));
    }
    expect(lines[0].resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(b.logs.length);
    expect(lines[0].resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
  });

  it('writes a traces batch as one resourceSpans line, as the Collector file exporter, that decodes as OTLP', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hod-file-')), 'out.jsonl');
    const exporter = new FileExporter('file', fileConfigSchema.parse({ path }));
    expect(exporter.endpoints.traces).toBe(path);
    const spans = routerSpans(0, 12);
    expect(await exporter.export({ resource: { 'service.name': 'shop-web' }, logs: [], metrics: [], spans })).toEqual({ ok: true });
    await exporter.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0])).toEqual(['resourceSpans']);
    expect(decodeTracesRequest(lines[0])).toEqual(withoutEmptyArrays(lines[0]));
    const written = lines[0].resourceSpans[0].scopeSpans[0].spans;
    expect(written.map((s: any) => [s.traceId, s.spanId, s.parentSpanId, s.name])).toEqual(spans.map((s) => [s.traceId, s.spanId, s.parentSpanId, s.name]));
  });

  it('reports a path it cannot write as a failed, non-retryable export', async () => {
    const exporter = new FileExporter('file', fileConfigSchema.parse({ path: tmpdir() }));
    const result = await exporter.export(batch());
    expect(result).toMatchObject({ ok: false, retryable: false });
    await exporter.shutdown();
  });
});

describe('debug exporter', () => {
  function run(verbosity: string) {
    let text = '';
    const exporter = new DebugExporter('debug', debugConfigSchema.parse({ verbosity }), { write: (t: string) => (text += t) });
    return exporter.export(batch()).then((result) => ({ result, text }));
  }

  it('basic: one line per batch', async () => {
    const { result, text } = await run('basic');
    expect(result).toEqual({ ok: true });
    expect(text).toBe('debug: shop-web: 19 log records, 36 metric points\n');
  });

  it('normal: one line per record and point, with microsecond times', async () => {
    const { text } = await run('normal');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1 + 19 + 36);
    expect(lines[1]).toBe('  2024-05-01T12:00:00.104521Z INFO heroku.router.request at=info method=GET path="/search?q=shoes&page=2" host=shop.example.com request_id=0d3f8b7e-4c1a-4b8e-9f2d-1a2b3c4d5e6f fwd="203.0.113.9" dyno=web.2 connect=0ms service=41ms status=200 bytes=1834 protocol=https');
  });

  function runSpans(verbosity: string) {
    let text = '';
    const exporter = new DebugExporter('debug', debugConfigSchema.parse({ verbosity }), { write: (t: string) => (text += t) });
    return exporter.export({ resource: { 'service.name': 'shop-web' }, logs: [], metrics: [], spans: routerSpans(3, 2) }).then(() => text);
  }

  it('spans, basic: one line with the count, as the Collector says "spans"', async () => {
    expect(await runSpans('basic')).toBe('debug: shop-web: 2 spans\n');
  });

  it('spans, normal: a line per span with its name, trace id, span id and attributes, as the Collector', async () => {
    const lines = (await runSpans('normal')).trim().split('\n');
    expect(lines).toHaveLength(3);
    const [first] = routerSpans(3, 1);
    expect(lines[1]).toBe(
      `  POST /orders/{id} ${first!.traceId} ${first!.spanId} http.request.method=POST url.path=/users/48216 http.route=/orders/{id} http.response.status_code=200 server.address=shop.example.com client.address=203.0.113.9 service.instance.id=web.1 heroku.router.request_id=0d3f8b7e-4c1a-4b8e-9f2d-000000000003 heroku.router.connect.duration=0.001 heroku.router.service.duration=0.015 http.response.body.size=1837 heroku.router.fwd=["203.0.113.9","198.51.100.4"]`,
    );
  });

  it("spans, detailed: every field of each span, in the Collector's text", async () => {
    const text = await runSpans('detailed');
    const [child, timeout] = routerSpans(3, 2);
    expect(text).toContain('ResourceSpans #0\nResource SchemaURL: \nResource attributes:\n     -> service.name: Str(shop-web)\nScopeSpans #0\n');
    expect(text).toContain(
      [
        'Span #0',
        `    Trace ID       : ${child!.traceId}`,
        '    Parent ID      : 00f067aa0ba902b7',
        `    ID             : ${child!.spanId}`,
        '    Name           : POST /orders/{id}',
        '    Kind           : Server',
        '    TraceState     : rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
        '    Start time     : 2024-05-01 12:00:00.10756 +0000 UTC',
        '    End time       : 2024-05-01 12:00:00.12356 +0000 UTC',
        '    Status code    : Unset',
        '    Status message : ',
        '    DroppedAttributesCount: 0',
        '    DroppedEventsCount: 0',
        '    DroppedLinksCount: 0',
        'Attributes:',
        '     -> http.request.method: Str(POST)',
      ].join('\n'),
    );
    expect(text).toContain('     -> http.response.status_code: Int(200)\n');
    expect(text).toContain('     -> heroku.router.connect.duration: Double(0.001)\n');
    expect(text).toContain(`Span #1\n    Trace ID       : ${timeout!.traceId}\n    Parent ID      : \n`);
    expect(text).toContain('    Status code    : Error\n    Status message : H12 Request timeout: the app did not answer within 30 seconds\n');
  });

  it('detailed: the OTLP/JSON itself', async () => {
    const { text } = await run('detailed');
    const [, logsLine] = text.split('\n');
    expect(JSON.parse(logsLine!).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(19);
  });
});
