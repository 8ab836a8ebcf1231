/**
 * Processors run in the order each pipeline lists them, on that pipeline's own records: two
 * pipelines fed by one receiver export what each one's config says, whatever the other does.
 * Real HTTP into the logplex receiver, real file exporters, their OTLP/JSON read back.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';

let service: Service | undefined;
afterEach(async () => {
  await service?.shutdown(5000);
  service = undefined;
});

const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const ROUTER = '<158>1 2024-05-01T12:00:00.000001+00:00 host heroku router - at=info method=GET path="/login?password=hunter2" host=shop.example.com request_id=r1 fwd="81.2.69.142" dyno=web.1 connect=0ms service=41ms status=200 bytes=10 protocol=https';
const APP = '<190>1 2024-05-01T12:00:00.000002+00:00 host app web.1 - connecting to postgres://shop:s3cretpw@db.internal/shop';

function records(file: string): Array<{ body: string; attributes: Record<string, unknown> }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
    .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords))
    .map((r: any) => ({ body: r.body.stringValue, attributes: Object.fromEntries(r.attributes.map((a: any) => [a.key, Object.values(a.value)[0]])) }));
}

async function run(pipelines: string, files: string[]): Promise<Array<ReturnType<typeof records>>> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-order-'));
  const exporters = files.map((f) => `  file/${f}: { path: ${join(dir, `${f}.jsonl`)} }`).join('\n');
  const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  redact: {}
  geoip: {}
exporters:
${exporters}
service:
  pipelines:
${pipelines}
`;
  const { config, problems } = validateConfig(parseYaml(yaml), {});
  expect(problems).toEqual([]);
  service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
  await service.start();
  const res = await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body: frame(ROUTER) + frame(APP) });
  expect(res.status).toBe(200);
  await service.shutdown(5000);
  service = undefined;
  return files.map((f) => records(join(dir, `${f}.jsonl`)));
}

describe('processors in the order each pipeline lists them', () => {
  it('redacts in the pipeline that lists redact, and leaves the raw pipeline raw', async () => {
    const [masked, raw] = await run(
      `    logs: { receivers: [logplex], processors: [redact], exporters: [file/masked] }
    logs/raw: { receivers: [logplex], exporters: [file/raw] }`,
      ['masked', 'raw'],
    );
    expect(masked!.map((r) => r.body).join('\n')).not.toMatch(/hunter2|s3cretpw/);
    expect(masked!.find((r) => r.attributes['url.query'] !== undefined)!.attributes['url.query']).toBe('password=***');
    expect(raw!.map((r) => r.body)).toEqual([expect.stringContaining('password=hunter2'), expect.stringContaining('shop:s3cretpw@')]);
    expect(raw!.find((r) => r.attributes['url.query'] !== undefined)!.attributes['url.query']).toBe('password=hunter2');
  });

  it('adds geo attributes only where geoip is listed, whichever pipeline comes first', async () => {
    const [plain, located] = await run(
      `    logs/plain: { receivers: [logplex], processors: [redact], exporters: [file/plain] }
    logs/geo: { receivers: [logplex], processors: [redact, geoip], exporters: [file/geo] }`,
      ['plain', 'geo'],
    );
    const router = (rs: typeof plain) => rs!.find((r) => r.attributes['client.address'] === '81.2.69.142')!;
    expect(router(located).attributes['geo.country.iso_code']).toBe('GB');
    expect(router(plain).attributes['geo.country.iso_code']).toBeUndefined();
    expect(router(plain).attributes['url.query']).toBe('password=***');
  });

  it('runs processors in the listed order: geoip before redact sees the same address, redact masks after', async () => {
    const [geoFirst] = await run(`    logs: { receivers: [logplex], processors: [geoip, redact], exporters: [file/one] }`, ['one']);
    const router = geoFirst!.find((r) => r.attributes['client.address'] === '81.2.69.142')!;
    expect(router.attributes).toMatchObject({ 'geo.country.iso_code': 'GB', 'url.query': 'password=***' });
  });
});
