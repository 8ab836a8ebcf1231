/**
 * A sending queue on disk (file_storage), with the real process: what was answered 200 during a
 * backend outage survives SIGKILL and is sent, exactly once, after a restart on the same
 * directory; the receiver answers 503 only when the disk budget is full.
 *
 * Logplex's rules these tests rely on: it retries a batch answered 503 (so a refused batch is not
 * lost, it comes again), and it drops one answered 200 from its buffer (so that batch is ours).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { settle, until } from '../support/wait.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const body = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => frame(`<190>1 2024-05-01T12:00:00.${String((from + i) % 1_000_000).padStart(6, '0')}+00:00 host app web.1 - line-${from + i}`)).join('');

let sidecar: RunningSidecar | undefined;
let backend: OtlpTestServer | undefined;
afterEach(async () => {
  sidecar?.proc.kill('SIGKILL');
  await sidecar?.exited;
  await backend?.stop();
  sidecar = backend = undefined;
});

function config(dir: string, endpoint: string, maxSizeMib = 64): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "${TOKEN}" } ]
processors:
  batch: { timeout: 50ms, send_batch_size: 500 }
extensions:
  file_storage: { directory: ${join(dir, 'queue')}, create_directory: true, max_size_mib: ${maxSizeMib} }
exporters:
  otlphttp:
    endpoint: ${endpoint}
    compression: none
    retry_on_failure: { initial_interval: 100ms, max_interval: 300ms, max_elapsed_time: 0 }
    sending_queue: { storage: file_storage }
service:
  extensions: [file_storage]
  pipelines:
    logs: { receivers: [logplex], processors: [batch], exporters: [otlphttp] }
`,
  );
  return path;
}

async function post(port: number, text: string, frameId: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/logs`, {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/logplex-1', 'logplex-drain-token': TOKEN, 'logplex-frame-id': frameId },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Every line body the backend got, and how often. */
function delivered(b: OtlpTestServer): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of b.logRecords()) seen.set(r.body.stringValue, (seen.get(r.body.stringValue) ?? 0) + 1);
  return seen;
}

describe('a sending queue on disk', () => {
  it('SIGKILL in the middle of an outage, then a restart: every line answered 200 arrives, exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    backend = new OtlpTestServer();
    const endpoint = await backend.start();
    // The outage: every request refused with 503 (retryable) until the script runs out.
    backend.script = Array.from({ length: 100_000 }, () => ({ status: 503 }));
    const path = config(dir, endpoint);
    sidecar = await startSidecar(['start', '--config', path], {});
    const acknowledged: string[] = [];
    for (let i = 0; i < 40; i++) {
      const status = await post(sidecar.port, body(i * 50, 50), `f${i}`);
      expect(status).toBe(200);
      for (let j = 0; j < 50; j++) acknowledged.push(`line-${i * 50 + j}`);
    }
    // Retrying meanwhile: the backend is asked, and refuses.
    await until(() => backend!.script.length < 100_000);
    expect(backend.logRecords()).toHaveLength(0);
    sidecar.proc.kill('SIGKILL');
    await sidecar.exited;
    // The backend comes back; the sidecar restarts on the same directory.
    backend.script = [];
    sidecar = await startSidecar(['start', '--config', path], {});
    await until(() => delivered(backend!).size >= acknowledged.length, { timeoutMs: 20_000 });
    // A moment more: nothing arrives twice.
    await settle(500);
    const seen = delivered(backend);
    expect([...seen.keys()].sort()).toEqual([...acknowledged].sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(sidecar.logLines().some((l) => /2000 records left unsent by an earlier run found in storage/.test(String(l.msg)))).toBe(true);
  }, 60_000);

  it('answers 503 only once the disk budget is full; what it answered 200 all arrives after the outage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'durable-'));
    backend = new OtlpTestServer();
    const endpoint = await backend.start();
    backend.script = Array.from({ length: 100_000 }, () => ({ status: 503 }));
    // 0.25 MiB: a few thousand lines on disk.
    sidecar = await startSidecar(['start', '--config', config(dir, endpoint, 0.25)], {});
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 400 && !statuses.includes(503); i++) {
      const status = await post(sidecar.port, body(i * 50, 50), `f${i}`);
      statuses.push(status);
      if (status === 200) for (let j = 0; j < 50; j++) acknowledged.push(`line-${i * 50 + j}`);
    }
    // 200 while there was room, then 503 (Logplex keeps the batch and sends it again).
    expect(statuses.at(-1)).toBe(503);
    expect(statuses.slice(0, -1).every((s) => s === 200)).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(1000);
    backend.script = [];
    await until(() => delivered(backend!).size >= acknowledged.length, { timeoutMs: 20_000 });
    // With room again, the refused batch is taken.
    const again = statuses.length - 1;
    let status = 503;
    for (let k = 0; k < 100 && status === 503; k++) {
      status = await post(sidecar.port, body(again * 50, 50), `f${again}`);
      if (status === 503) await settle(50);
    }
    expect(status).toBe(200);
    for (let j = 0; j < 50; j++) acknowledged.push(`line-${again * 50 + j}`);
    await until(() => delivered(backend!).size >= acknowledged.length, { timeoutMs: 10_000 });
    const seen = delivered(backend);
    expect([...seen.keys()].sort()).toEqual([...acknowledged].sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
