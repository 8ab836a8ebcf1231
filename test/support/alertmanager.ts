/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback for tests, routing
 * every alert to a webhook, and a small HTTP receiver that records what webhooks deliver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './syslog-tools.ts';

export class WebhookReceiver {
  readonly payloads: any[] = [];
  /** Statuses to answer with first (then 200). */
  script: number[] = [];
  private _server: Server | undefined;

  async start(): Promise<string> {
    this._server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const status = this.script.shift() ?? 200;
        if (status === 200) this.payloads.push(JSON.parse(body));
        res.writeHead(status);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this._server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this._server!.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this._server ? this._server.close(() => resolve()) : resolve()));
  }
}

export interface RunningAlertmanager {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startAlertmanager(webhookUrl: string): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: test',
      '  group_by: [alertname]',
      '  group_wait: 100ms',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: test',
      '    webhook_configs:',
      `      - url: ${webhookUrl}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const proc = spawn(
    'prometheus-alertmanager',
    [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`alertmanager exited: ${output}`);
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() - started > 20_000) throw new Error(`alertmanager not ready: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
