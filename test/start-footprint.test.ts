/**
 * What a started sidecar has loaded: a dependency the running config does not use is not loaded
 * (each one is megabytes of heap and RSS on a 512 MB dyno, and start-up CPU every worker pays).
 * The real process, with bench/idle-probe.ts's module-load hook (`--import`): on SIGUSR2 it writes
 * the packages loaded so far.
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from './support/sidecar.ts';
import { until } from './support/wait.ts';

const PROBE = new URL('../bench/idle-probe.ts', import.meta.url).pathname;
const started: RunningSidecar[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const s of started.splice(0)) s.proc.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The packages loaded once `ready` says so (the self-telemetry SDK may load just after the receiver listens). */
async function loadedBy(env: NodeJS.ProcessEnv, ready: (packages: string[]) => boolean = () => true): Promise<{ packages: string[]; builtinUndici: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-footprint-'));
  dirs.push(dir);
  const out = join(dir, 'probe.json');
  const s = await startSidecar(['--import', PROBE, new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname, 'start'], { PORT: '0', WEB_CONCURRENCY: '1', IDLE_PROBE_OUT: out, IDLE_PROBE_MODULES: '1', DRAIN_QUEUE_DIRECTORY: join(dir, 'queue'), ...env }, process.execPath);
  started.push(s);
  let report: { packages: Array<{ name: string }>; builtin_undici: boolean } | undefined;
  await until(() => {
    if (existsSync(out)) {
      report = JSON.parse(readFileSync(out, 'utf8'));
      rmSync(out);
      if (ready(report!.packages.map((p) => p.name))) return true;
    }
    s.proc.kill('SIGUSR2');
    return false;
  });
  return { packages: report!.packages.map((p) => p.name), builtinUndici: report!.builtin_undici };
}

describe('what a started sidecar loads', () => {
  it('on the embedded default without an endpoint: none of the exporters, the SDK, Redis, htpasswd, geoip, YAML or the other commands', async () => {
    const { packages, builtinUndici } = await loadedBy({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    for (const unused of ['undici', 'ioredis', 'bcryptjs', 'apache-md5', 'maxmind', 'countries-list', 'yaml', 'cli-progress']) expect(packages).not.toContain(unused);
    expect(packages.filter((p) => p.startsWith('@opentelemetry/'))).toEqual([]);
    // An ES import of node:http would have loaded Node's own undici through its WebSocket getters.
    expect(builtinUndici).toBe(false);
    expect(packages).toContain('zod');
  });

  it('with an OTLP endpoint: the HTTP client and the SDK for its own metrics, still no Redis, htpasswd, geoip or YAML', async () => {
    const { packages } = await loadedBy({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, (loaded) => loaded.includes('@opentelemetry/sdk-metrics'));
    expect(packages).toContain('undici');
    expect(packages).toContain('@opentelemetry/sdk-metrics');
    for (const unused of ['ioredis', 'bcryptjs', 'maxmind', 'yaml', 'cli-progress']) expect(packages).not.toContain(unused);
  });
});
