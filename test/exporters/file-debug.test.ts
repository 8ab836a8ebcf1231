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
import { decodeLogsRequest, decodeMetricsRequest, withoutEmptyArrays } from '../support/otlp.ts';

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

  it('detailed: the OTLP/JSON itself', async () => {
    const { text } = await run('detailed');
    const [, logsLine] = text.split('\n');
    expect(JSON.parse(logsLine!).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(19);
  });
});
