/**
 * The alerts processor in a running service: an H12 storm POSTed to the logplex receiver becomes
 * a heroku.alert log record in the logs pipeline, with its rule, state, labels and samples, whose
 * every attribute the registry declares; config problems in rules name their key path.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { alertRecord, AlertsProcessor } from '../../src/processors/alerts/processor.ts';
import { Service } from '../../src/service/service.ts';
import { registryProblems } from '../support/semconv-check.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (m: string) => `${Buffer.byteLength(m) + 1} ${m}\n`;
const h12 = (i: number) =>
  `<158>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host heroku router - at=error code=H12 desc="Request timeout" method=GET path="/slow/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`;

describe('alerts processor in the service', () => {
  it('turns an H12 storm POSTed by Logplex into a heroku.alert record in the logs pipeline', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hod-alerts-')), 'out.jsonl');
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ] }
processors:
  alerts:
    evaluation_interval: 100ms
    rules:
      - { name: RouterH12Storm, above: 5 }
      - { name: HighSeverityEvents, enabled: false }
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex], processors: [alerts], exporters: [file] }
`;
    const { config, problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([]);
    const service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const url = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`;
    const body = Array.from({ length: 8 }, (_, i) => frame(h12(i))).join('');
    expect((await fetch(url, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'content-type': 'application/logplex-1' } })).status).toBe(200);
    const alerts = service.processors.get('alerts') as AlertsProcessor;
    for (let i = 0; i < 100 && alerts.counters.firing === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await service.shutdown(5000);
    const records = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => JSON.parse(l).resourceLogs ?? [])
      .flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords.map((r: any) => ({ resource: rl.resource, ...r }))));
    const alert = records.filter((r: any) => r.eventName === 'heroku.alert');
    const rules = alert.map((r: any) => r.attributes.find((a: any) => a.key === 'heroku.alert.rule').value.stringValue);
    expect(rules).toContain('RouterH12Storm');
    expect(rules).not.toContain('HighSeverityEvents');
    const storm = alert.find((r: any) => r.body.stringValue.startsWith('H12'))!;
    const attrs = Object.fromEntries(storm.attributes.map((a: any) => [a.key, a.value]));
    expect(attrs['heroku.alert.state']).toEqual({ stringValue: 'firing' });
    expect(attrs['heroku.alert.label.service_name']).toEqual({ stringValue: 'shop-web' });
    expect(attrs['heroku.alert.value']).toEqual({ intValue: '8' });
    expect(storm.severityText).toBe('CRITICAL');
    expect(storm.body.stringValue).toBe('H12 (request timeout) storm: 8 in 5 minutes on shop-web');
    expect(attrs['heroku.alert.samples'].arrayValue.values).toHaveLength(3);
    expect(storm.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    // The 8 router lines themselves went through too.
    expect(records.filter((r: any) => r.eventName === 'heroku.router.request')).toHaveLength(8);
  });

  it('declares every attribute of an alert record in the registry', () => {
    const record = alertRecord(
      { rule: 'X', state: 'resolved', severity: 'error', labels: { alertname: 'X', severity: 'error', service_name: 'a' }, annotations: { summary: 's' }, value: 0.5, startsAtMs: 1, endsAtMs: 2, atMs: 2, samples: ['l'], group: { 'service.name': 'a' } },
      1,
    );
    expect(registryProblems([record], [], new Set())).toEqual([]);
  });

  it('names the key path of a bad rule, inline or in a rules file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hod-rules-')), 'rules.yaml');
    writeFileSync(file, 'rules:\n  - { name: Mine, count: {}, above: lots }\n');
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  alerts:
    rules:
      - { name: RouterH12Storm, window: soon }
      - { name: Two, count: {}, rate: {}, above: 1 }
    rules_files: [${file}]
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [logplex], processors: [alerts], exporters: [debug] }
`;
    const { problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([
      'processors.alerts.rules[0].window: expected a duration such as 200ms, 10s or 1m30s, got "soon"',
      'processors.alerts.rules[1]: a rule computes exactly one of count, rate, ratio, avg, max, quantile, gauge, gauge_ratio (found count, rate)',
      `processors.alerts.rules_files[0].(${file}) rules[0].above: expected number, got string`,
    ]);
  });
});
