/** The sidecar's own counters, reported through the metrics pipeline like any drain's metrics. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';
import { registryProblems } from '../support/semconv-check.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const line = (i: number) => `<190>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host app web.1 - count#jobs=1 line ${i}`;

describe('self-telemetry', () => {
  it('reports lines taken, requests refused and items exported, as deltas, with registered names', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hod-self-')), 'out.jsonl');
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}" } ] }
exporters:
  file: { path: ${out} }
service:
  pipelines:
    logs: { receivers: [logplex], exporters: [file] }
    metrics: { receivers: [logplex], exporters: [file] }
`;
    const { config, problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([]);
    const service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const base = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`;
    const body = Array.from({ length: 10 }, (_, i) => frame(line(i))).join('');
    expect((await fetch(base, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'a' } })).status).toBe(200);
    // A re-send as Logplex makes it, with its Logplex-Msg-Count: acknowledged without parsing.
    expect((await fetch(base, { method: 'POST', body, headers: { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'a', 'logplex-msg-count': '10' } })).status).toBe(200);
    expect((await fetch(base, { method: 'POST', body, headers: { 'logplex-drain-token': 'd.nope' } })).status).toBe(403);
    // The last report goes out before the pipelines' flush: let the file exporter finish first,
    // so that it reports what was exported, whatever the machine's load.
    const logs = service.pipelines.find((p) => p.signal === 'logs')!;
    for (let i = 0; i < 200 && logs.counters.exported.file !== 10; i++) await new Promise((r) => setTimeout(r, 10));
    await service.shutdown(5000);

    const requests = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const selfMetrics = requests
      .filter((r) => r.resourceMetrics?.[0].resource.attributes.some((a: any) => a.key === 'service.name' && a.value.stringValue === 'heroku-otel-drain'))
      .flatMap((r) => r.resourceMetrics[0].scopeMetrics[0].metrics);
    const value = (name: string, attrs: Record<string, string>) => {
      const m = selfMetrics.find((x: any) => x.name === name);
      const dp = (m?.sum ?? m?.gauge)?.dataPoints.find((d: any) => Object.entries(attrs).every(([k, v]) => d.attributes.some((a: any) => a.key === k && a.value.stringValue === v)));
      return dp?.asDouble;
    };
    expect(value('heroku.otel_drain.receiver.lines', { 'heroku.otel_drain.outcome': 'accepted', 'otel.component.name': 'logplex' })).toBe(10);
    expect(value('heroku.otel_drain.receiver.lines', { 'heroku.otel_drain.outcome': 'duplicate' })).toBe(10);
    expect(value('heroku.otel_drain.receiver.requests', { 'error.type': 'unknown_token' })).toBe(1);
    expect(value('heroku.otel_drain.pipeline.items', { 'heroku.otel_drain.pipeline': 'logs', 'otel.component.name': 'file', 'heroku.otel_drain.outcome': 'exported' })).toBe(10);
    expect(value('heroku.otel_drain.pipeline.held', { 'heroku.otel_drain.pipeline': 'logs' })).toBe(0);
  });

  it('declares every self-telemetry metric and attribute in the registry', async () => {
    const { SelfTelemetry } = await import('../../src/service/self-telemetry.ts');
    const counters = { requests: 3, acceptedLines: 5, duplicateLines: 1, rawLines: 0, frameProblems: 0, msgCountMismatches: 0, rejectedRequests: { unauthenticated: 1, unknown_token: 0, too_large: 0, queue_full: 2, shutting_down: 0, not_found: 0, bad_method: 0 } };
    const points = new SelfTelemetry().report(
      [{ id: 'logplex', type: 'logplex', counters }],
      [{ id: 'logs', held: 4, counters: { accepted: 5, refused: 1, exported: { otlphttp: 3 }, failed: { otlphttp: 1 }, queueFull: {}, droppedAtShutdown: 1 } }],
      1,
      [{ id: 'alerts', firing: 2, resolved: 1, targets: [{ name: 'alertmanager', sent: 3, failed: 1 }] }],
    );
    expect(points.length).toBeGreaterThan(5);
    expect(points.find((p) => p.name === 'heroku.otel_drain.alerts.notifications' && p.attributes['heroku.otel_drain.outcome'] === 'failed')?.value).toBe(1);
    expect(registryProblems([], points, new Set())).toEqual([]);
  });
});
