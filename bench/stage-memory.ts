/**
 * The metrics aggregation stage (src/processors/interval/stage.ts): heap per series it holds,
 * and points absorbed per second, for histograms (router durations), gauges and sums. Each
 * scenario makes 100,000 distinct series, then absorbs 1,000,000 points in batches of 100 that
 * fall into 100 series (method x status), as a busy app's router lines do.
 *
 *   node --expose-gc bench/stage-memory.ts
 */
import { MetricsStage } from '../src/processors/interval/stage.ts';
import type { MetricPointData } from '../src/translate/telemetry.ts';

const BOUNDS = [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const SERIES = 100_000;
const POINTS = 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function point(type: MetricPointData['type'], i: number, host: string): MetricPointData {
  return {
    name: 'http.server.request.duration',
    unit: 's',
    type,
    value: (i % 1000) / 1000,
    timeUnixMicros: 1.7e15 + i,
    attributes: { 'http.request.method': ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'][i % 6]!, 'http.response.status_code': 200 + (i % 100), 'server.address': host, 'url.scheme': 'https' },
    bounds: type === 'histogram' ? BOUNDS : undefined,
  };
}

for (const type of ['histogram', 'gauge', 'sum'] as const) {
  const stage = new MetricsStage('bench', { intervalMs: 60_000, maxStreams: 1e9, maxStaleMs: 1e9, instanceId: 'bench' }, () => {}, () => {});
  const resource = { 'service.name': 'shop-web' };
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < SERIES; i++) stage.absorb(resource, 'r', [point(type, i, `h${i}.example.com`)], 1.7e12);
  gc();
  const perSeries = (process.memoryUsage().heapUsed - before) / SERIES;

  const busy = new MetricsStage('bench', { intervalMs: 60_000, maxStreams: 1e9, maxStaleMs: 1e9, instanceId: 'bench' }, () => {}, () => {});
  const batch = Array.from({ length: 100 }, (_, i) => point(type, i, 'shop.example.com'));
  const started = performance.now();
  for (let n = 0; n < POINTS; n += batch.length) busy.absorb(resource, 'r', batch, 1.7e12);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ bench: `stage-${type}`, lines_per_s: Math.round(POINTS / seconds), series: stage.stats.series, heap_bytes_per_series: Math.round(perSeries), busy_series: busy.stats.series }));
}
