/**
 * The config flags as a user types them, on the real process: several --config merged in order,
 * --set over them, ${file:} secrets that reach the backend and never the terminal, and
 * print-config's effective config.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BIN, sidecarsWithSink } from './support/sidecar.ts';
import { until } from './support/wait.ts';

const run = promisify(execFile);
const TOKEN = 'd.0b1c2d3e-1111-4222-8333-444455556666';
const SECRET = 'hc-secret-5f0d2a7e91';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A base config, an overlay and a secret file, in a scratch directory. */
function files() {
  const dir = mkdtempSync(join(tmpdir(), 'hod-cli-config-'));
  const secret = join(dir, 'team-key');
  writeFileSync(secret, `${SECRET}\n`, { mode: 0o600 });
  const base = join(dir, 'base.yaml');
  writeFileSync(
    base,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "\${env:DRAIN_TOKEN}", resource: { service.name: shop-web } } ]
processors:
  redact: {}
  batch: { timeout: 10s, send_batch_size: 512 }
exporters:
  otlphttp:
    endpoint: \${env:SINK}
    headers: { x-honeycomb-team: "\${file:${secret}}" }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
`,
  );
  const overlay = join(dir, 'overlay.yaml');
  writeFileSync(overlay, `exporters:\n  otlphttp:\n    headers: { x-honeycomb-dataset: heroku-logs }\n    compression: none\n`);
  return { dir, secret, base, overlay };
}

const lab = sidecarsWithSink();

describe('several --config and --set', () => {
  it('runs two configs merged in order with a --set over a nested key; the ${file:} secret reaches the backend only', async () => {
    const { base, overlay } = files();
    const sidecar = await lab.start(['start', '--config', base, '--config', `file:${overlay}`, '--set', 'processors.batch.timeout=50ms'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    const body = '70 <190>1 2024-05-01T12:00:00.000000+00:00 host app web.1 - checkout done\n';
    const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-msg-count': '1' } });
    expect(res.status).toBe(200);
    // The batch processor's 10 s from base.yaml would hold it; the --set 50ms lets it go.
    const request = await until(() => lab.sink.requests.find((r) => r.path === '/v1/logs'), { timeoutMs: 5000 });
    expect(request.headers['x-honeycomb-team']).toBe(SECRET);
    expect(request.headers['x-honeycomb-dataset']).toBe('heroku-logs');
    // compression: none from the overlay.
    expect(request.headers['content-encoding']).toBeUndefined();
    expect(lab.sink.logRecords().map((r) => r.body.stringValue)).toEqual(['checkout done']);
    expect(sidecar.stderr()).not.toContain(SECRET);
  });

  it('validate names the file or --set each problem comes from, and never quotes the ${file:} secret', async () => {
    const { dir, base, overlay, secret } = files();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `exporters:\n  otlphttp:\n    logs_endpoint: "https://team:\${file:${secret}}@[otlp.example.com"\n`);
    const { code, stdout, stderr } = await cli(['validate', '--config', base, '--config', overlay, '--config', bad, '--set', 'exporters.otlphttp.timeout=soon'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        `${bad}: exporters.otlphttp.logs_endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a https:// value that is not a valid URL (not shown: it may hold a secret)`,
        `--set exporters.otlphttp.timeout: exporters.otlphttp.timeout: expected a duration such as 200ms, 10s or 1m30s, got "soon"`,
        `${base} + ${overlay} + ${bad} + --set exporters.otlphttp.timeout: 2 problems`,
        '',
      ].join('\n'),
    );
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('validate says a config that merges well is valid, under the names of all its sources', async () => {
    const { base, overlay } = files();
    const { code, stdout } = await cli(['validate', '--config', base, '--config', overlay, '--set', 'processors.batch.timeout=1s'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    expect(code).toBe(0);
    expect(stdout).toBe(`${base} + ${overlay} + --set processors.batch.timeout: valid: logs (logplex -> redact -> batch -> otlphttp)\n`);
  });

  it('refuses a --set without = as a usage error', async () => {
    const { base } = files();
    expect(await cli(['validate', '--config', base, '--set', 'processors.batch.timeout'])).toMatchObject({ code: 2, stderr: 'heroku-otel-drain validate: --set processors.batch.timeout: expects key.path=value (missing =)\n' });
  });
});

describe('heroku-otel-drain print-config', () => {
  it('prints the merged config with every default, the ${file:} secret and header values masked', async () => {
    const { base, overlay } = files();
    const { code, stdout, stderr } = await cli(['print-config', '--config', base, '--config', overlay, '--set', 'processors.batch.timeout=2s'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain(SECRET);
    expect(stdout).not.toContain(TOKEN);
    const printed = parseYaml(stdout);
    expect(printed.processors.batch).toEqual({ timeout: '2s', send_batch_size: 512, send_batch_max_size: 0 });
    expect(printed.exporters.otlphttp).toMatchObject({
      endpoint: lab.sink.url,
      headers: { 'x-honeycomb-team': '[REDACTED]', 'x-honeycomb-dataset': '[REDACTED]' },
      compression: 'none',
      encoding: 'proto',
      timeout: '10s',
      retry_on_failure: { enabled: true, initial_interval: '5s', max_elapsed_time: '5m' },
    });
    expect(printed.receivers.logplex).toMatchObject({ endpoint: '127.0.0.1:0', path: '/logs', drains: [{ token: '[REDACTED]', resource: { 'service.name': 'shop-web' } }] });
    expect(printed.service.pipelines.logs).toEqual({ receivers: ['logplex'], processors: ['redact', 'batch'], exporters: ['otlphttp'] });
  });

  it('shows the secrets with --mode unredacted, and prints JSON with --format json', async () => {
    const { base } = files();
    const { code, stdout } = await cli(['print-config', '--config', base, '--mode', 'unredacted', '--format', 'json'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).exporters.otlphttp.headers['x-honeycomb-team']).toBe(SECRET);
  });

  it('prints the embedded default without --config, header values masked', async () => {
    const { code, stdout } = await cli(['print-config'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.honeycomb.io', OTEL_EXPORTER_OTLP_HEADERS: `x-honeycomb-team=${SECRET}`, DRAIN_TOKENS: `${TOKEN}=shop`, PORT: '5000' });
    expect(code).toBe(0);
    expect(stdout).not.toContain(SECRET);
    expect(stdout).not.toContain(TOKEN);
    const printed = parseYaml(stdout);
    expect(printed.exporters.otlphttp.headers).toEqual({ 'x-honeycomb-team': '[REDACTED]' });
    expect(printed.receivers.logplex.endpoint).toBe('0.0.0.0:5000');
  });

  it('prints nothing for an invalid config, only its problems', async () => {
    const { base } = files();
    const { code, stdout, stderr } = await cli(['print-config', '--config', base, '--set', 'exporters.otlphttp.timeout=soon'], { DRAIN_TOKEN: TOKEN, SINK: lab.sink.url });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('--set exporters.otlphttp.timeout: exporters.otlphttp.timeout: expected a duration');
    expect(stderr).not.toContain(SECRET);
  });
});
