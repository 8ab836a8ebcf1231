/**
 * The status page in a real browser (Debian's Chromium, headless, driven by playwright-core):
 * after a Logplex POST, a person sees the drain, its lines per kind, the last line, the lines
 * kept raw with a sample, Logplex's drops, the exporters' state and their queues; without the
 * password, 401.
 * A screenshot is kept in test/artifacts/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { chromium, type Browser } from 'playwright-core';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';
import { hasCommand } from '../support/syslog-tools.ts';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_CHROMIUM = hasCommand('chromium') || CI;

let service: Service | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  await service?.shutdown(5000);
  service = browser = undefined;
});

describe.skipIf(!HAVE_CHROMIUM)('status page', () => {
  it('shows a drain\'s data to a person in a real browser, behind basic auth', async () => {
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", basic_auth: { username: ops, password: s3cret }, resource_from_query: { app: service.name } }
exporters:
  debug: {}
service:
  telemetry: { status: { enabled: true } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`),
      {},
    );
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const base = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}`;
    const auth = { authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` };
    const capture = readFileSync(new URL('../../examples/captures/mixed.logplex', import.meta.url));
    const stray = '15 not a syslog line\n';
    expect((await fetch(`${base}/logs?app=shop-web`, { method: 'POST', body: Buffer.concat([capture, Buffer.from(stray)]), headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(401);

    // Before the page is read: the debug exporter has written everything.
    const queue = service.queues[0]!;
    for (let i = 0; i < 200 && (queue.size > 0 || queue.counters.sent === 0); i++) await new Promise((r) => setTimeout(r, 10));
    const sent = queue.counters.sent;
    expect(sent).toBeGreaterThan(0);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ httpCredentials: { username: 'ops', password: 's3cret' } });
    const response = await page.goto(`${base}/`);
    expect(response!.status()).toBe(200);
    await expect.poll(() => page.title()).toBe('heroku-otel-drain status');
    const drainRow = page.locator('tr', { has: page.locator('td.drain', { hasText: 'shop-web' }) });
    const cells = await drainRow.locator('td').allInnerTexts();
    // Drain, router, app, runtime, addon, platform, api, last seen, last line, raw, L10 drops.
    expect(cells[0]).toBe('shop-web');
    expect(Number(cells[1])).toBeGreaterThan(0);
    expect(cells[7]).toMatch(/^\d+ s ago$/);
    const headers = await page.locator('table').first().locator('th').allInnerTexts();
    expect(headers.slice(7)).toEqual(['Last line seen', 'Last line', 'Kept raw (sample)', 'Logplex drops (L10)']);
    expect(cells[9]).toContain('not a syslog line');
    expect(Number(cells[10])).toBeGreaterThan(0);
    await expect.poll(async () => page.locator('body').innerText()).toContain('debug: ');
    expect(await page.locator('h2').allInnerTexts()).toEqual(['Drains (last 15 minutes)', 'Pipelines', 'Exporter queues', 'Alerts']);
    // The debug exporter's queue, in memory, of 20 requests: empty, having written what it took.
    const queueRow = page.locator('tr', { has: page.locator('td', { hasText: /^debug$/ }) });
    expect(await queueRow.locator('td').allInnerTexts()).toEqual(['debug', 'logs', '0 / 20 requests', String(sent), '0', '0', 'in memory']);
    mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
    await page.screenshot({ path: new URL('../artifacts/status-page.png', import.meta.url).pathname, fullPage: true });
  }, 60_000);
});
