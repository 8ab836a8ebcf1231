/**
 * A second SIGTERM (npm start forwarding it beside the dyno manager's own, or Ctrl-C twice) must
 * not end the flush: what was answered 200 is still exported and the final `stopped:` line written.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { exchange, startSidecar, type RunningSidecar } from '../support/sidecar.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;

let sidecar: RunningSidecar | undefined;
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  sidecar?.proc.kill('SIGKILL');
  sidecar = undefined;
});

it('keeps flushing through a second SIGTERM and exits 0 with every acknowledged line exported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hod-attack-'));
  const out = join(dir, 'out.jsonl');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "${TOKEN}" } ]
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex], exporters: [file] }
`,
  );
  sidecar = await startSidecar(['start', '--config', config], {});
  const port = sidecar.port;
  const body = frame('<190>1 2024-05-01T12:00:00.000001+00:00 host app web.1 - acknowledged-line');
  const first = await exchange(port, `POST /logs HTTP/1.1\r\nHost: x\r\nLogplex-Drain-Token: ${TOKEN}\r\nLogplex-Frame-Id: f1\r\nContent-Length: ${body.length}\r\n\r\n${body}`, sockets, 10_000);
  expect(first).toMatch(/^HTTP\/1.1 200/);
  // A request still arriving holds the receivers' shutdown for its grace (2 s): time for the second signal.
  const stalled = connect(port, '127.0.0.1', () => stalled.write(`POST /logs HTTP/1.1\r\nHost: x\r\nLogplex-Drain-Token: ${TOKEN}\r\nContent-Length: 1000\r\n\r\nxx`));
  stalled.on('error', () => {});
  sockets.push(stalled);
  await new Promise((r) => stalled.once('connect', r));
  await new Promise((r) => setTimeout(r, 100));
  sidecar.proc.kill('SIGTERM');
  for (let i = 0; i < 200 && !sidecar.stderr().includes('SIGTERM: stopping'); i++) await new Promise((r) => setTimeout(r, 10));
  sidecar.proc.kill('SIGTERM');
  const code = await sidecar.exited;
  expect(code).toBe(0);
  expect(sidecar.logLines().some((l) => String(l.msg).startsWith('stopped:'))).toBe(true);
  const exported = existsSync(out) ? readFileSync(out, 'utf8') : '';
  expect(exported).toContain('acknowledged-line');
}, 30_000);
