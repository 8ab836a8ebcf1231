/**
 * Records a processor held back (tail_sampling's app lines) leave through the host's emitLogs
 * `after` position: the steps their pipeline lists after that processor run on them, those
 * before it do not run again, and each goes only to the pipeline it was held for. Real service,
 * real file exporters, their OTLP/JSON read back.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { Service } from '../../src/service/service.ts';
import { drainResource } from '../../src/translate/resource.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';

let service: Service | undefined;
afterEach(async () => {
  await service?.shutdown(5000);
  service = undefined;
});

function records(file: string): Array<{ body: string; attributes: Record<string, unknown> }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
    .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords))
    .map((r: any) => ({ body: r.body.stringValue, attributes: Object.fromEntries(r.attributes.map((a: any) => [a.key, Object.values(a.value)[0]])) }));
}

const APP = '<190>1 2024-05-01T12:00:00.500000+00:00 host app web.1 - at=info msg="charging card" trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331';

describe('emitLogs after a processor', () => {
  it("runs the pipeline's later steps on held records, once, in the pipeline they were held for", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-after-'));
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  attributes/before: { actions: [{ key: heroku.dyno.name, action: hash }] }
  tail_sampling: { decision_wait: 1h, policies: [{ name: errors, type: status_code, status_code: { status_codes: [ERROR] } }] }
  attributes/after: { actions: [{ key: released, value: "yes", action: upsert }] }
exporters:
  file/a: { path: ${join(dir, 'a.jsonl')} }
  file/b: { path: ${join(dir, 'b.jsonl')} }
  file/plain: { path: ${join(dir, 'plain.jsonl')} }
service:
  pipelines:
    logs/a: { receivers: [logplex], processors: [attributes/before, tail_sampling, attributes/after], exporters: [file/a] }
    logs/b: { receivers: [logplex], processors: [tail_sampling], exporters: [file/b] }
    logs/plain: { receivers: [logplex], exporters: [file/plain] }
`;
    const { config, problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.startWithoutReceivers();
    const batch = newTelemetryBatch();
    translateLineSafely(parseAnyLine(APP), 1, batch);
    await service.ingest(drainResource({ 'service.name': 'shop-web' }), batch);
    // Held (no router line yet, an hour to wait): only the pipeline without tail_sampling has it.
    const sampler = service.processors.get('tail_sampling') as unknown as { counts: { holdingRecords: number } };
    expect(sampler.counts.holdingRecords).toBe(2);
    await service.shutdown(5000);
    service = undefined;

    const a = records(join(dir, 'a.jsonl'));
    const b = records(join(dir, 'b.jsonl'));
    const plain = records(join(dir, 'plain.jsonl'));
    expect([a.length, b.length, plain.length]).toEqual([1, 1, 1]);
    // Hashed once (the step before did not run again), the step after ran, the adjusted count set.
    expect(a[0]!.attributes['heroku.dyno.name']).toBe(createHash('sha256').update('web.1').digest('hex'));
    expect(a[0]!.attributes.released).toBe('yes');
    expect(a[0]!.attributes.SampleRate).toBe('1'); // an intValue, a string in OTLP/JSON
    expect(b[0]!.attributes['heroku.dyno.name']).toBe('web.1');
    expect(b[0]!.attributes.released).toBeUndefined();
    expect(plain[0]!.attributes.SampleRate).toBeUndefined();
  });
});
