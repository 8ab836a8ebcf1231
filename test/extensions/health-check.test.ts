/**
 * The health_check extension as contrib's healthcheckextension answers: 200 with
 * `{"status":"Server available",...}` once every component started, 503 with
 * `{"status":"Server not available"}` before and once shutdown begins, 404 elsewhere.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { healthCheckConfigSchema } from '../../src/extensions/health_check/config.ts';
import { HealthCheck } from '../../src/extensions/health_check/extension.ts';
import { validateConfig } from '../../src/config/load.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';

let running: RunningSidecar | undefined;
let check: HealthCheck | undefined;
afterEach(async () => {
  running?.proc.kill('SIGKILL');
  await running?.exited;
  running = undefined;
  await check?.shutdown();
  check = undefined;
});

describe('health_check extension', () => {
  it('answers 503 until ready, 200 while ready, 503 again once shutdown begins; 404 on other paths', async () => {
    check = new HealthCheck('health_check', healthCheckConfigSchema.parse({ endpoint: '127.0.0.1:0', path: '/health/status' }), () => {});
    await check.start();
    const url = `http://127.0.0.1:${check.address.port}`;
    const before = await fetch(`${url}/health/status`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'Server not available' });
    check.ready();
    const up = await fetch(`${url}/health/status`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: 'Server available', upSince: expect.any(String), uptime: expect.stringMatching(/^\d+\.\d+s$/) });
    expect((await fetch(`${url}/`)).status).toBe(404);
    check.notReady();
    expect((await fetch(`${url}/health/status`)).status).toBe(503);
  });

  it('answers the configured response bodies', async () => {
    check = new HealthCheck('health_check', healthCheckConfigSchema.parse({ endpoint: '127.0.0.1:0', response_body: { healthy: 'ok', unhealthy: 'down' } }), () => {});
    await check.start();
    const url = `http://127.0.0.1:${check.address.port}/`;
    expect(await (await fetch(url)).text()).toBe('down');
    check.ready();
    expect(await (await fetch(url)).text()).toBe('ok');
  });

  it('validates as the Collector writes it, and refuses the deprecated pipeline check switched on', () => {
    const config = (health: unknown) => ({
      extensions: { health_check: health },
      receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
      exporters: { debug: {} },
      service: { extensions: ['health_check'], pipelines: { logs: { receivers: ['logplex'], exporters: ['debug'] } } },
    });
    expect(validateConfig(config({ endpoint: '0.0.0.0:13133' }), {}).problems).toEqual([]);
    expect(validateConfig(config(null), {}).problems).toEqual([]);
    expect(validateConfig(config({ check_collector_pipeline: { enabled: true, interval: '5m', exporter_failure_threshold: 5 } }), {}).problems.join('\n')).toMatch(/extensions\.health_check\.check_collector_pipeline\.enabled: .*deprecated/);
  });

  it('in the real process: 200 once the receivers listen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-health-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `extensions:
  health_check:
    endpoint: 127.0.0.1:0
receivers:
  logplex:
    endpoint: 127.0.0.1:0
    accept_any_drain: true
exporters:
  debug: {}
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [logplex]
      exporters: [debug]
`,
    );
    running = await startSidecar(['start', '--config', file], {});
    const port = await until(() => /health on http:\/\/127\.0\.0\.1:(\d+)\//.exec(running!.stderr())?.[1], { what: 'the health line' });
    await until(async () => (await fetch(`http://127.0.0.1:${port}/`)).status === 200, { what: 'a 200 from health_check' });
  });
});
