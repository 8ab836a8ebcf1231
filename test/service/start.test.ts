/** The sidecar as a process: started from a config or from the environment, fed real POSTs, stopped by SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeLogsRequest, withoutEmptyArrays } from '../support/otlp.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { BIN, startSidecar as startProcess } from '../support/sidecar.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

function frame(msg: string): string {
  return `${Buffer.byteLength(msg) + 1} ${msg}\n`;
}
const line = (i: number) => `<190>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host app web.1 - line ${i}`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Starts the sidecar (support/sidecar.ts), as the process the tests stop or kill. */
async function startSidecar(args: string[], env: NodeJS.ProcessEnv) {
  const sidecar = await startProcess(args, env);
  child = sidecar.proc;
  return sidecar;
}

describe('heroku-otel-drain start', () => {
  it('takes POSTs from an allowed drain into the file exporter, exactly once, and flushes on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-start-'));
    const out = join(dir, 'out.jsonl');
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "\${env:DRAIN_TOKEN}", resource: { service.name: shop-web } } ]
processors:
  batch: { timeout: 10s }
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [batch], exporters: [file] }
`,
    );
    const sidecar = await startSidecar(['start', '--config', config], { DRAIN_TOKEN: TOKEN });
    const base = `http://127.0.0.1:${sidecar.port}/logs`;
    const bodies = [0, 1, 2].map((b) => Array.from({ length: 100 }, (_, i) => frame(line(b * 100 + i))).join(''));
    for (const [b, body] of bodies.entries()) {
      const res = await fetch(base, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': `frame-${b}`, 'logplex-msg-count': '100' } });
      expect(res.status).toBe(200);
    }
    // Logplex re-sends a batch whose answer it missed: acknowledged, not written twice.
    expect((await fetch(base, { method: 'POST', body: bodies[0], headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'frame-0' } })).status).toBe(200);
    expect((await fetch(base, { method: 'POST', body: bodies[0], headers: { 'logplex-drain-token': 'd.wrong' } })).status).toBe(403);
    // The batch processor holds them (10 s timeout): SIGTERM must flush.
    child!.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    const requests = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const bodiesOut = requests.flatMap((r) => {
      expect(decodeLogsRequest(r)).toEqual(withoutEmptyArrays(r));
      return r.resourceLogs[0].scopeLogs[0].logRecords.map((rec: any) => rec.body.stringValue);
    });
    expect(bodiesOut.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i}`).sort());
    expect(requests[0].resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    expect(sidecar.stderr()).not.toContain(TOKEN);
  });

  it('runs from the environment alone: loopback only without drains, the debug exporter without an endpoint', async () => {
    const sidecar = await startSidecar([], { PORT: '0', OTEL_SERVICE_NAME: 'from-env' });
    // Its first log line says where it listens, and that it is loopback only.
    const first = JSON.parse(sidecar.stderr().split('\n')[0]!);
    expect(first.msg).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(first.note).toMatch(/loopback only/);
    expect(first.level).toBe('info');
    const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body: frame(line(1)) + frame(line(2)) });
    expect(res.status).toBe(200);
    child!.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.stdout()).toContain('debug: from-env: 2 log records, 0 metric points');
  });

  it('refuses to start on a config with problems, naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-start-'));
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'receivers:\n  logplex: { endpoint: "0.0.0.0:8080" }\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug] }\n');
    const proc = spawn(process.execPath, [BIN, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain("receivers.logplex.endpoint: no drains and no basic_auth: refusing to accept anyone's logs on 0.0.0.0:8080");
  });

  it('exports to the OTLP endpoint of the standard variables, losing nothing while the backend answers 503 for a while', async () => {
    const backend = new OtlpTestServer();
    const endpoint = await backend.start();
    backend.script = [{ status: 503 }, { status: 503 }, { status: 429, headers: { 'retry-after': '1' } }];
    try {
      const sidecar = await startSidecar([], {
        PORT: '0',
        DRAIN_TOKENS: `${TOKEN}=shop-web`,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s%3Dcret',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      });
      const body = Array.from({ length: 50 }, (_, i) => frame(line(i))).join('');
      const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs`, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'f1' } });
      expect(res.status).toBe(200);
      child!.kill('SIGTERM');
      expect(await sidecar.exited).toBe(0);
      const records = backend.logRecords();
      expect(records.map((r: any) => r.body.stringValue).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`).sort());
      const logsRequest = backend.requests.find((r) => r.path === '/v1/logs')!;
      expect(logsRequest.headers['x-api-key']).toBe('s=cret');
      expect(logsRequest.headers['content-type']).toBe('application/x-protobuf');
      const resource = Object.fromEntries(logsRequest.body.resourceLogs[0].resource.attributes.map((a: any) => [a.key, a.value.stringValue]));
      expect(resource).toEqual({ 'service.name': 'shop-web', 'heroku.app.name': 'shop-web', 'deployment.environment.name': 'test', 'cloud.provider': 'heroku' });
    } finally {
      await backend.stop();
    }
  }, 60_000);
});
