/**
 * The metrics aggregation stage through the real sidecar process: Logplex POSTs of router lines
 * and runtime samples in, OTLP/protobuf out to a local backend that decodes it with the code
 * generated from opentelemetry-proto. What a Prometheus-family backend needs (cumulative
 * histograms with one start time that never go down), what Datadog needs (deltas that add up to
 * what was observed), and the last export at SIGTERM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';
import { syslogTime } from '../support/heroku-time.ts';

const TOKEN = 'd.5e1f0c2a-7b3d-4e8f-9a60-1c2d3e4f5a6b';
const DURATION = 'http.server.request.duration';
const LOAD = 'heroku.dyno.load_avg_1m';
const CUMULATIVE = 2;
const DELTA = 1;

let sidecar: RunningSidecar | undefined;
let backend: OtlpTestServer | undefined;
afterEach(async () => {
  sidecar?.proc.kill('SIGKILL');
  await sidecar?.exited;
  await backend?.stop();
  sidecar = undefined;
  backend = undefined;
});

const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

function routerLine(i: number, ms: number): string {
  const status = i % 3 === 2 ? 500 : 200;
  return `<158>1 ${syslogTime(ms)} host heroku router - at=info method=GET path="/products/${i}" host=shop.example.com request_id=req-${i} fwd="203.0.113.${i % 250}" dyno=web.${1 + (i % 2)} connect=1ms service=${5 + ((i * 37) % 900)}ms status=${status} bytes=${100 + i} protocol=https`;
}

const runtimeLine = (ms: number, load: number) => `<45>1 ${syslogTime(ms)} host heroku web.1 - source=web.1 dyno=heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456 sample#load_avg_1m=${load.toFixed(2)} sample#load_avg_5m=0.31 sample#load_avg_15m=0.22`;

/** Starts a backend and the sidecar with a metrics pipeline listing `processors`. */
async function start(processors: string[], interval: string): Promise<{ post: (lines: string[], frameId: string) => Promise<number> }> {
  backend = new OtlpTestServer();
  const url = await backend.start();
  const dir = mkdtempSync(join(tmpdir(), 'hod-metrics-stage-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  logplex:
    endpoint: 127.0.0.1:0
    drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ]
processors:
  interval: { interval: ${interval} }
  cumulativetodelta: {}
exporters:
  otlphttp: { endpoint: "${url}" }
service:
  pipelines:
    metrics: { receivers: [logplex], processors: [${processors.join(', ')}], exporters: [otlphttp] }
`,
  );
  sidecar = await startSidecar(['start', '--config', config], { DYNO: 'web.1' });
  const port = sidecar.port;
  const post = async (lines: string[], frameId: string) => {
    const body = lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
    const res = await fetch(`http://127.0.0.1:${port}/logs`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(lines.length), 'logplex-frame-id': frameId, 'logplex-drain-token': TOKEN },
    });
    await res.arrayBuffer();
    return res.status;
  };
  return { post };
}

/** A batch of `count` router lines numbered from `first`, a few ms apart and just before now. */
function routerBatch(first: number, count: number): string[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, k) => routerLine(first + k, now - (count - k)));
}

interface Point {
  resource: Record<string, unknown>;
  temporality: number | undefined;
  series: string;
  start: bigint;
  time: bigint;
  count: number;
  value: number | undefined;
  timeText: string;
}

const attributesOf = (kvs: any[] | undefined) => Object.fromEntries((kvs ?? []).map((a: any) => [a.key, Object.values(a.value)[0]]));

/** Every data point of `name` received, whatever request it came in. */
function pointsOf(server: OtlpTestServer, name: string): Point[] {
  const out: Point[] = [];
  for (const r of server.requests) {
    if (r.path !== '/v1/metrics') continue;
    for (const rm of r.body.resourceMetrics ?? []) {
      const resource = attributesOf(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          if (m.name !== name) continue;
          const data = m.histogram ?? m.sum ?? m.gauge;
          for (const dp of data.dataPoints) {
            out.push({
              resource,
              temporality: data.aggregationTemporality,
              series: JSON.stringify(attributesOf(dp.attributes)),
              start: BigInt(dp.startTimeUnixNano ?? 0),
              time: BigInt(dp.timeUnixNano),
              timeText: String(dp.timeUnixNano),
              count: Number(dp.count ?? 0),
              value: dp.asDouble,
            });
          }
        }
      }
    }
  }
  return out;
}

/** Points per series, in export-time order (a queue may deliver two exports out of order). */
function bySeries(points: Point[]): Map<string, Point[]> {
  const map = new Map<string, Point[]>();
  for (const p of points) map.set(p.series, [...(map.get(p.series) ?? []), p]);
  for (const list of map.values()) list.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return map;
}

/** Requests counted now by a cumulative histogram: the latest count of each series, added up. */
function cumulativeCount(server: OtlpTestServer): number {
  return [...bySeries(pointsOf(server, DURATION)).values()].reduce((n, list) => n + list[list.length - 1]!.count, 0);
}

/** Requests counted by a delta histogram: every point's count, added up. */
function deltaCount(server: OtlpTestServer): number {
  return pointsOf(server, DURATION).reduce((n, p) => n + p.count, 0);
}

describe('metrics aggregation stage in the running sidecar', () => {
  it('exports http.server.request.duration as one cumulative histogram per series, growing to every router line, and gauges once per sample', async () => {
    const { post } = await start(['interval'], '300ms');
    const server = backend!;
    const firstSample = Date.now() - 50;
    expect(await post([...routerBatch(0, 6), runtimeLine(firstSample, 0.4)], 'f1')).toBe(200);
    await until(() => cumulativeCount(server) === 6, { timeoutMs: 10_000, what: 'an export counting the first 6 router lines' });
    const secondSample = Date.now();
    expect(await post([...routerBatch(6, 9), runtimeLine(secondSample, 0.55)], 'f2')).toBe(200);
    await until(() => cumulativeCount(server) === 15, { timeoutMs: 10_000, what: 'an export counting all 15 router lines' });
    // Two more exports of the histogram after that: a cumulative series is sent every interval.
    const seen = pointsOf(server, DURATION).length;
    const seriesCount = bySeries(pointsOf(server, DURATION)).size;
    await until(() => pointsOf(server, DURATION).length >= seen + 2 * seriesCount, { timeoutMs: 10_000, what: 'two more exports of the histogram' });

    const points = pointsOf(server, DURATION);
    expect(new Set(points.map((p) => p.temporality))).toEqual(new Set([CUMULATIVE]));
    const series = bySeries(points);
    // 200s and 500s: two series.
    expect(series.size).toBe(2);
    for (const [key, list] of series) {
      expect(new Set(list.map((p) => p.start)).size, `${key}: start times`).toBe(1);
      expect(list[0]!.start <= list[0]!.time, `${key}: start before its first point`).toBe(true);
      const counts = list.map((p) => p.count);
      expect(counts, `${key}: counts never go down`).toEqual([...counts].sort((a, b) => a - b));
    }
    expect(cumulativeCount(server)).toBe(15);

    // This instance's identity on what it aggregated, beside the drain's resource.
    for (const p of points) {
      expect(p.resource['service.name']).toBe('shop-web');
      expect(p.resource['service.instance.id']).toMatch(/^web\.1-[0-9a-f]{8}$/);
    }

    // A runtime sample is a gauge sent once, with the time the line says.
    const loads = pointsOf(server, LOAD);
    expect(loads.map((p) => [p.value, p.timeText])).toEqual([
      [0.4, nanos(firstSample)],
      [0.55, nanos(secondSample)],
    ]);

    // SIGTERM: the last export says the same, in the same series.
    const starts = new Map([...series].map(([k, list]) => [k, list[0]!.start]));
    sidecar!.proc.kill('SIGTERM');
    expect(await sidecar!.exited).toBe(0);
    expect(cumulativeCount(server)).toBe(15);
    for (const [key, list] of bySeries(pointsOf(server, DURATION))) expect(new Set(list.map((p) => p.start)), key).toEqual(new Set([starts.get(key)]));
  }, 60_000);

  it('with cumulativetodelta after it, exports delta histograms whose counts add up to the router lines posted', async () => {
    const { post } = await start(['interval', 'cumulativetodelta'], '300ms');
    const server = backend!;
    expect(await post(routerBatch(0, 7), 'f1')).toBe(200);
    await until(() => deltaCount(server) === 7, { timeoutMs: 10_000, what: 'deltas counting the first 7 router lines' });
    expect(await post(routerBatch(7, 5), 'f2')).toBe(200);
    await until(() => deltaCount(server) === 12, { timeoutMs: 10_000, what: 'deltas counting all 12 router lines' });
    expect(await post(routerBatch(12, 4), 'f3')).toBe(200);
    await until(() => deltaCount(server) === 16, { timeoutMs: 10_000, what: 'deltas counting all 16 router lines' });

    // Shut down: nothing more to say, and nothing counted twice.
    sidecar!.proc.kill('SIGTERM');
    expect(await sidecar!.exited).toBe(0);
    const points = pointsOf(server, DURATION);
    expect(new Set(points.map((p) => p.temporality))).toEqual(new Set([DELTA]));
    expect(deltaCount(server)).toBe(16);
    for (const [key, list] of bySeries(points)) {
      for (const [i, p] of list.entries()) {
        expect(p.start < p.time, `${key}: window ${i} has a start before its end`).toBe(true);
        // Each window starts where the previous one ended, or later (an export with no change sends nothing).
        if (i > 0) expect(p.start >= list[i - 1]!.time, `${key}: window ${i} does not overlap window ${i - 1}`).toBe(true);
        expect(p.count, `${key}: a delta with nothing in it is not sent`).toBeGreaterThan(0);
      }
    }
  }, 60_000);

  it('sends what it aggregated since the last export at SIGTERM', async () => {
    // An interval far longer than the test: only the shutdown can export the router lines.
    const { post } = await start(['interval'], '10m');
    const server = backend!;
    expect(await post(routerBatch(0, 8), 'f1')).toBe(200);
    expect(await post(routerBatch(8, 3), 'f2')).toBe(200);
    expect(pointsOf(server, DURATION)).toEqual([]);
    sidecar!.proc.kill('SIGTERM');
    expect(await sidecar!.exited).toBe(0);
    const points = pointsOf(server, DURATION);
    expect(new Set(points.map((p) => p.temporality))).toEqual(new Set([CUMULATIVE]));
    expect(bySeries(points).size).toBe(2);
    expect(cumulativeCount(server)).toBe(11);
    expect(points.every((p) => /^web\.1-[0-9a-f]{8}$/.test(String(p.resource['service.instance.id'])))).toBe(true);
  }, 60_000);
});
