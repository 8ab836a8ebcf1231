/**
 * Issue 16's done-when: Collector configs (otelcol-contrib's components and keys, receivers
 * aside) run here unchanged, with the expected effect on the data. Every test/collector-configs/
 * <name>.yaml runs as the real sidecar process; one Logplex POST goes in; a local OTLP backend
 * decodes what comes out (opentelemetry-proto's generated code) and it is compared with
 * <name>.expected.json. The format is in test/collector-configs/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpTestServer } from './support/otlp-server.ts';
import { startSidecar, type RunningSidecar } from './support/sidecar.ts';

const DIR = new URL('./collector-configs/', import.meta.url).pathname;
const CONFIGS = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

interface Expected {
  description?: string;
  env?: Record<string, string>;
  input: string[];
  logs?: Array<{ body?: string; bodyMatches?: string; severityNumber?: number; severityText?: string; attributes?: Record<string, unknown>; absent?: string[]; resource?: Record<string, unknown>; resourceAbsent?: string[] }>;
  metrics?: Array<{ name: string; attributes?: Record<string, unknown>; absent?: string[] }>;
  metricsAbsent?: string[];
}

/** An OTLP AnyValue as a plain value. */
function plain(v: any): unknown {
  if (v === undefined || v === null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(plain);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv: any) => [kv.key, plain(kv.value)]));
  return undefined;
}

const attributesOf = (list: any[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));

let running: RunningSidecar | undefined;
let backend: OtlpTestServer | undefined;
afterEach(async () => {
  running?.proc.kill('SIGKILL');
  await running?.exited;
  await backend?.stop();
  running = undefined;
  backend = undefined;
});

describe('Collector configs run unchanged (test/collector-configs)', () => {
  it('has configs to run', () => {
    expect(CONFIGS.length).toBeGreaterThan(0);
  });

  it.each(CONFIGS)('%s', async (name) => {
    const expected = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, 'utf8')) as Expected;
    backend = new OtlpTestServer();
    const url = await backend.start();
    const validate = await startValidate(name, url, expected.env ?? {});
    expect(validate, `${name}.yaml: validate`).toEqual({ code: 0, problems: '' });
    running = await startSidecar(['start', '--config', `${DIR}${name}.yaml`], { PORT: '0', OTLP_ENDPOINT: url, ...expected.env });
    const body = expected.input.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
    const res = await fetch(`http://127.0.0.1:${running.port}/logs?app=shop-web`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(expected.input.length), 'logplex-frame-id': `frame-${name}`, 'logplex-drain-token': 'd.collector-configs' },
    });
    expect(res.status, `${name}: POST answered`).toBe(200);
    // SIGTERM flushes every pipeline (logs batches, the metrics aggregation) before exiting.
    running.proc.kill('SIGTERM');
    expect(await running.exited, `${name}: exit code; stderr:\n${running.stderr()}`).toBe(0);
    running = undefined;

    const resourceLogs = backend.requests.filter((r) => r.path === '/v1/logs').flatMap((r) => r.body.resourceLogs ?? []);
    const logs = resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords.map((lr: any) => ({ lr, resource: attributesOf(rl.resource?.attributes) }))));
    if (expected.logs !== undefined) {
      expect(logs.length, `${name}: log records exported`).toBe(expected.logs.length);
      expected.logs.forEach((want, i) => {
        const { lr, resource } = logs[i]!;
        const where = `${name}: log record ${i}`;
        const attributes = attributesOf(lr.attributes);
        if (want.body !== undefined) expect(plain(lr.body), `${where}: body`).toBe(want.body);
        if (want.bodyMatches !== undefined) expect(String(plain(lr.body)), `${where}: body`).toMatch(new RegExp(want.bodyMatches));
        if (want.severityNumber !== undefined) expect(lr.severityNumber ?? 0, `${where}: severityNumber`).toBe(want.severityNumber);
        if (want.severityText !== undefined) expect(lr.severityText ?? '', `${where}: severityText`).toBe(want.severityText);
        for (const [k, v] of Object.entries(want.attributes ?? {})) expect(attributes[k], `${where}: attribute ${k}`).toEqual(v);
        for (const k of want.absent ?? []) expect(attributes, `${where}: attribute ${k} should be absent`).not.toHaveProperty([k]);
        for (const [k, v] of Object.entries(want.resource ?? {})) expect(resource[k], `${where}: resource attribute ${k}`).toEqual(v);
        for (const k of want.resourceAbsent ?? []) expect(resource, `${where}: resource attribute ${k} should be absent`).not.toHaveProperty([k]);
      });
    }
    const points = backend
      .metrics()
      .flatMap((m: any) => [...(m.gauge?.dataPoints ?? []), ...(m.sum?.dataPoints ?? []), ...(m.histogram?.dataPoints ?? [])].map((p: any) => ({ name: m.name as string, attributes: attributesOf(p.attributes) })));
    for (const want of expected.metrics ?? []) {
      const found = points.some((p) => p.name === want.name && Object.entries(want.attributes ?? {}).every(([k, v]) => JSON.stringify(p.attributes[k]) === JSON.stringify(v)) && (want.absent ?? []).every((k) => !(k in p.attributes)));
      expect(found, `${name}: a ${want.name} point with ${JSON.stringify(want.attributes ?? {})}${want.absent ? ` and without ${want.absent.join(', ')}` : ''}; got ${JSON.stringify(points.filter((p) => p.name === want.name).slice(0, 3))}`).toBe(true);
    }
    for (const absent of expected.metricsAbsent ?? []) expect(points.filter((p) => p.name === absent).length, `${name}: ${absent} points`).toBe(0);
  }, 30_000);
});

/** `validate --config` of the config, as a user runs it first: exit code and problems. */
async function startValidate(name: string, url: string, env: Record<string, string>): Promise<{ code: number | null; problems: string }> {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('./support/sidecar.ts');
  const proc = spawn(process.execPath, [BIN, 'validate', '--config', `${DIR}${name}.yaml`], { env: { ...process.env, PORT: '0', OTLP_ENDPOINT: url, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, problems: code === 0 ? '' : out };
}
