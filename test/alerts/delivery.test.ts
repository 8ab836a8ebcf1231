/**
 * Alert delivery: an H12 storm POSTed to the logplex receiver reaches a real Alertmanager (asked
 * through its v2 API) within 5 s, and Alertmanager's own webhook delivers it; our webhook gets
 * Alertmanager's payload shape; a webhook that fails for a while is retried until it answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import type { AlertEvent } from '../../src/processors/alerts/engine.ts';
import type { AlertsProcessor } from '../../src/processors/alerts/processor.ts';
import { fingerprint, JsonSender, webhookPayload } from '../../src/processors/alerts/notify.ts';
import { Service } from '../../src/service/service.ts';
import { startAlertmanager, WebhookReceiver, type RunningAlertmanager } from '../support/alertmanager.ts';
import { hasCommand } from '../support/syslog-tools.ts';
import { until } from '../support/wait.ts';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_ALERTMANAGER = hasCommand('prometheus-alertmanager') || CI;

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (m: string) => `${Buffer.byteLength(m) + 1} ${m}\n`;
const h12 = (i: number) =>
  `<158>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=GET path="/slow/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`;

let service: Service | undefined;
let alertmanager: RunningAlertmanager | undefined;
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await service?.shutdown(5000);
  await alertmanager?.stop();
  for (const r of receivers.splice(0)) await r.stop();
  service = alertmanager = undefined;
});

const event = (state: 'firing' | 'resolved'): AlertEvent => ({
  rule: 'RouterH12Storm',
  state,
  severity: 'critical',
  labels: { alertname: 'RouterH12Storm', severity: 'critical', service_name: 'shop-web' },
  annotations: { summary: '12 H12' },
  value: 12,
  startsAtMs: Date.parse('2024-05-01T12:00:00Z'),
  endsAtMs: state === 'resolved' ? Date.parse('2024-05-01T12:10:00Z') : undefined,
  atMs: Date.parse('2024-05-01T12:10:00Z'),
  samples: [],
  group: { 'service.name': 'shop-web' },
});

describe('alert delivery', () => {
  it('gives webhooks the Alertmanager webhook payload', () => {
    const payload = webhookPayload([event('resolved')], 'https://grafana.example.com/d/heroku') as any;
    expect(payload).toMatchObject({ version: '4', status: 'resolved', commonLabels: { alertname: 'RouterH12Storm', service_name: 'shop-web' }, externalURL: 'https://grafana.example.com/d/heroku' });
    expect(payload.alerts[0]).toMatchObject({ status: 'resolved', startsAt: '2024-05-01T12:00:00.000Z', endsAt: '2024-05-01T12:10:00.000Z', generatorURL: 'https://grafana.example.com/d/heroku' });
    expect(payload.alerts[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(payload.groupKey).toBe('{}:{alertname="RouterH12Storm"}');
  });

  it('retries a webhook that fails for a while, and counts', async () => {
    const hook = new WebhookReceiver();
    receivers.push(hook);
    const url = await hook.start();
    hook.script = [503, 502];
    const logs: string[] = [];
    const sender = new JsonSender('webhook', { endpoint: url, headers: {}, timeout: 2000 }, (_l, m) => logs.push(m));
    sender.send(webhookPayload([event('firing')], undefined));
    // The webhook has the payload before the sender has read its answer: wait for both.
    await until(() => hook.payloads.length === 1 && sender.counters.sent === 1, { timeoutMs: 10_000, what: 'the payload delivered and counted' });
    expect(sender.counters).toEqual({ sent: 1, failed: 0, retries: 2 });
    expect(logs[0]).toMatch(/alert delivery failed, retrying/);
    // A 400 is the payload's fault: not retried, counted failed.
    hook.script = [400];
    sender.send({ nonsense: true });
    await until(() => sender.counters.failed === 1, { timeoutMs: 10_000, what: 'the 400 counted as failed' });
    await sender.shutdown();
  });

  it.skipIf(!HAVE_ALERTMANAGER)('takes an H12 storm from a Logplex POST to a real Alertmanager within 5 s, and on to its webhook and ours', async () => {
    const amHook = new WebhookReceiver();
    const ourHook = new WebhookReceiver();
    receivers.push(amHook, ourHook);
    const amHookUrl = await amHook.start();
    const ourHookUrl = await ourHook.start();
    alertmanager = await startAlertmanager(amHookUrl);
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ] }
processors:
  alerts:
    evaluation_interval: 100ms
    alertmanager: { endpoint: "${alertmanager.url}", resend_interval: 1s }
    webhooks: [ { endpoint: "${ourHookUrl}" } ]
    generator_url: https://grafana.example.com/d/heroku
    builtin_rules: false             # only the rule named here: the built-in H12 rule, changed
    rules:
      - { name: RouterH12Storm, above: 5 }
exporters:
  debug: { verbosity: basic }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [alerts], exporters: [debug] }
`;
    const { config, problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const url = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`;
    const posted = Date.now();
    const body = Array.from({ length: 8 }, (_, i) => frame(h12(i))).join('');
    expect((await fetch(url, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN } })).status).toBe(200);
    let alerts: any[] = [];
    await until(async () => {
      alerts = (await (await fetch(`${alertmanager!.url}/api/v2/alerts`)).json()) as any[];
      return alerts.some((a) => a.labels.alertname === 'RouterH12Storm');
    }, { everyMs: 50, what: 'Alertmanager to hold RouterH12Storm' });
    expect(Date.now() - posted).toBeLessThan(5000);
    const storm = alerts.find((a) => a.labels.alertname === 'RouterH12Storm');
    expect(storm.labels).toMatchObject({ severity: 'critical', service_name: 'shop-web' });
    expect(storm.annotations.summary).toBe('H12 (request timeout) storm: 8 in 5 minutes on shop-web');
    expect(storm.generatorURL).toBe('https://grafana.example.com/d/heroku');
    expect(storm.status.state).toBe('active');
    // Our webhook fingerprints are Alertmanager's own.
    expect(fingerprint(storm.labels)).toBe(storm.fingerprint);
    // Alertmanager's own webhook, and ours.
    await until(() => amHook.payloads.some((p) => p.alerts.some((a: any) => a.labels.alertname === 'RouterH12Storm')));
    await until(() => ourHook.payloads.length > 0);
    expect(ourHook.payloads[0]).toMatchObject({ version: '4', status: 'firing', commonLabels: { alertname: 'RouterH12Storm', service_name: 'shop-web' } });
    expect((service.processors.get('alerts') as AlertsProcessor).alertmanager!.counters.failed).toBe(0);
  });
});
