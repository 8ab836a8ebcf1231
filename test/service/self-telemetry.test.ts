/** The sidecar's own counters, reported through the metrics pipeline like any drain's metrics. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';
import { HeldBackend } from '../support/held-backend.ts';
import { registryProblems } from '../support/semconv-check.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const line = (i: number) => `<190>1 2024-05-01T12:00:00.${String(i).padStart(6, '0')}+00:00 host app web.1 - count#jobs=1 line ${i}`;

/** The sidecar's own metric points among what the file exporter wrote. */
function selfPoints(path: string): any[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.resourceMetrics?.[0].resource.attributes.some((a: any) => a.key === 'service.name' && a.value.stringValue === 'heroku-otel-drain'))
    .flatMap((r) => r.resourceMetrics[0].scopeMetrics[0].metrics);
}

/** The data points of `name` whose attributes are exactly `attrs`, over every report. */
function pointsOf(metrics: any[], name: string, attrs: Record<string, string>): any[] {
  const exactly = (d: any) => d.attributes.length === Object.keys(attrs).length && Object.entries(attrs).every(([k, v]) => d.attributes.some((a: any) => a.key === k && a.value.stringValue === v));
  return metrics.filter((m) => m.name === name).flatMap((m) => (m.sum ?? m.gauge).dataPoints.filter(exactly));
}

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

  it("reports each exporter queue with the Collector's names: sent, send_failed, enqueue_failed as counters, size and capacity as gauges", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hod-self-')), 'out.jsonl');
    // otlphttp/backup: a backend that holds its first request, then refuses it for good (400);
    // a queue of one request that drops when full.
    const held = new HeldBackend();
    const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}" } ] }
exporters:
  file: { path: ${out} }
  otlphttp/backup: { endpoint: "${await held.start()}", compression: none, sending_queue: { num_consumers: 1, queue_size: 1, sizer: items, block_on_overflow: false } }
service:
  pipelines:
    logs: { receivers: [logplex], exporters: [file, otlphttp/backup] }
    metrics: { receivers: [logplex], exporters: [file] }
`;
    const { config, problems } = validateConfig(parseYaml(yaml), {});
    expect(problems).toEqual([]);
    const service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    try {
      await service.start();
      const base = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`;
      const post = (from: number, n: number) => fetch(base, { method: 'POST', body: Array.from({ length: n }, (_, i) => frame(line(from + i))).join(''), headers: { 'logplex-drain-token': TOKEN } });
      // The first batch is the backup's one request, held in flight; the second finds it full.
      expect((await post(0, 3)).status).toBe(200);
      expect((await post(3, 2)).status).toBe(200);
      held.release(400);
      const logs = service.pipelines.find((p) => p.signal === 'logs')!;
      const metrics = service.pipelines.find((p) => p.signal === 'metrics')!;
      // One export of what the metrics pipeline aggregated, before the shutdown's.
      await service.stages[0]!.flush();
      const settled = () => logs.counters.failed['otlphttp/backup'] === 3 && logs.counters.exported.file === 5 && metrics.counters.accepted > 0 && metrics.counters.exported.file === metrics.counters.accepted;
      for (let i = 0; i < 200 && !settled(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(settled()).toBe(true);
      const pointsSent = metrics.counters.exported.file!;
      // The last report goes out at shutdown, before the pipelines' flush.
      await service.shutdown(5000);

      const self = selfPoints(out);
      const value = (name: string, attrs: Record<string, string>) => pointsOf(self, name, attrs).map((d) => d.asDouble);
      expect(value('otelcol_exporter_sent_log_records', { exporter: 'file' })).toEqual([5]);
      expect(value('otelcol_exporter_send_failed_log_records', { exporter: 'otlphttp/backup' })).toEqual([3]);
      expect(value('otelcol_exporter_enqueue_failed_log_records', { exporter: 'otlphttp/backup' })).toEqual([2]);
      // A counter that never moved sends no delta.
      expect(value('otelcol_exporter_sent_log_records', { exporter: 'otlphttp/backup' })).toEqual([]);
      expect(value('otelcol_exporter_sent_metric_points', { exporter: 'file' })).toEqual([pointsSent]);
      expect(value('otelcol_exporter_queue_size', { exporter: 'otlphttp/backup', data_type: 'logs' })).toEqual([0]);
      expect(value('otelcol_exporter_queue_capacity', { exporter: 'otlphttp/backup', data_type: 'logs' })).toEqual([1]);
      // The file exporter's queue: 20 requests, one at a time, per signal.
      expect(value('otelcol_exporter_queue_capacity', { exporter: 'file', data_type: 'metrics' })).toEqual([20]);
      const sum = self.find((m) => m.name === 'otelcol_exporter_send_failed_log_records').sum;
      // Through the metrics pipeline's aggregation, as everything it sends: cumulative.
      expect(sum.aggregationTemporality).toBe(2);
      expect(sum.isMonotonic).toBe(true);
    } finally {
      await service.shutdown(5000);
      await held.stop();
    }
  });

  it('declares every self-telemetry metric and attribute in the registry', async () => {
    const { SelfTelemetry } = await import('../../src/service/self-telemetry.ts');
    const counters = { requests: 3, acceptedLines: 5, duplicateLines: 1, rawLines: 0, frameProblems: 0, msgCountMismatches: 0, rejectedRequests: { unauthenticated: 1, unknown_token: 0, too_large: 0, queue_full: 2, shutting_down: 0, not_found: 0, bad_method: 0 } };
    const queueCounters = { sent: 7, sendFailed: 2, enqueueFailed: 4, droppedAtShutdown: 0, recovered: 0, leftInStorage: 0 };
    const queues = [
      { id: 'otlphttp', signal: 'logs' as const, size: 3, capacity: 20, persistent: false, counters: queueCounters },
      { id: 'otlphttp', signal: 'metrics' as const, size: 1, capacity: Number.POSITIVE_INFINITY, persistent: true, counters: { ...queueCounters } },
    ];
    const storages = [{ id: 'file_storage', bytes: 4096, maxBytes: 1 << 30 }];
    const telemetry = new SelfTelemetry();
    const points = telemetry.report(
      [{ id: 'logplex', type: 'logplex', counters }],
      [{ id: 'logs', held: 4, counters: { accepted: 5, refused: 1, exported: { otlphttp: 3 }, failed: { otlphttp: 1 }, queueFull: {}, droppedAtShutdown: 1 } }],
      1,
      [{ id: 'alerts', firing: 2, resolved: 1, targets: [{ name: 'alertmanager', sent: 3, failed: 1 }] }],
      queues,
      storages,
    );
    expect(points.length).toBeGreaterThan(5);
    expect(points.find((p) => p.name === 'heroku.otel_drain.alerts.notifications' && p.attributes['heroku.otel_drain.outcome'] === 'failed')?.value).toBe(1);
    expect(registryProblems([], points, new Set())).toEqual([]);
    const find = (ps: typeof points, name: string, attrs: Record<string, string>) => ps.filter((p) => p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)).map((p) => p.value);
    expect(find(points, 'otelcol_exporter_sent_metric_points', { exporter: 'otlphttp' })).toEqual([7]);
    expect(find(points, 'otelcol_exporter_queue_size', { exporter: 'otlphttp', data_type: 'logs' })).toEqual([3]);
    // A queue bounded only by its storage reports no capacity; the storage reports its budget.
    expect(find(points, 'otelcol_exporter_queue_capacity', { exporter: 'otlphttp' })).toEqual([20]);
    expect(find(points, 'heroku.otel_drain.storage.limit', { 'otel.component.name': 'file_storage' })).toEqual([1 << 30]);
    expect(find(points, 'heroku.otel_drain.storage.usage', { 'otel.component.name': 'file_storage' })).toEqual([4096]);
    // Counters as deltas: the next report has only what changed since; gauges every time.
    queueCounters.sendFailed += 5;
    const next = telemetry.report([], [], 2, [], queues, storages);
    expect(find(next, 'otelcol_exporter_send_failed_log_records', { exporter: 'otlphttp' })).toEqual([5]);
    expect(find(next, 'otelcol_exporter_sent_log_records', { exporter: 'otlphttp' })).toEqual([]);
    expect(find(next, 'otelcol_exporter_queue_size', { exporter: 'otlphttp', data_type: 'metrics' })).toEqual([1]);
  });
});
