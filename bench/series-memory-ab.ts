/**
 * Profiling helper: what the metrics pipeline's series hold on the heap, here against another
 * checkout's. Each side translates the mix as the receivers do (one TelemetryBatch per ~100-line
 * Logplex body), absorbs every batch's points into a MetricsStage (interval), drops the batches
 * and measures the heap the stage keeps after a full collection: bytes per series, which each new
 * series promotes to the old generation (the e2e mix makes ~10k router series in 100k lines).
 * Also the CPU time of translate + absorb per line. Sides run interleaved, one JSON line per pass
 * and side, then medians.
 *
 *   BENCH_AB_ROOT=/work/main node --expose-gc bench/series-memory-ab.ts     (BENCH_LINES, BENCH_RUNS)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMix, toLogplexBodies } from './mix.ts';

const maybeGc = (globalThis as { gc?: () => void }).gc;
if (maybeGc === undefined) throw new Error('run with node --expose-gc');
const gc: () => void = maybeGc;
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const roots = [resolve(new URL('..', import.meta.url).pathname), ...(process.env.BENCH_AB_ROOT ? [resolve(process.env.BENCH_AB_ROOT)] : [])];
const resource = { 'service.name': 'shop-web', 'heroku.app.name': 'shop-web', 'cloud.provider': 'heroku', 'deployment.environment.name': 'production' };
const resourceKey = JSON.stringify(resource);

async function side(dir: string) {
  const at = (path: string) => import(pathToFileURL(resolve(dir, path)).href);
  const { bodyToTelemetry } = await at('src/receivers/logplex/body.ts');
  const { defaultDrainContext } = await at('src/config/translation.ts');
  const { MetricsStage } = await at('src/processors/interval/stage.ts');
  return (bodies: ReturnType<typeof toLogplexBodies>) => {
    const context = defaultDrainContext();
    const stage = new MetricsStage('bench', { intervalMs: 60_000, maxStreams: 1e9, maxStaleMs: 1e9, instanceId: 'bench' }, () => {}, () => {});
    gc();
    const before = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    for (const b of bodies) stage.absorb(resource, resourceKey, bodyToTelemetry(b.buf, 1.7e15, context).telemetry.metrics, 1.7e12);
    const used = process.cpuUsage(cpu);
    gc();
    const series = stage.stats.series as number;
    const kept = process.memoryUsage().heapUsed - before;
    return { stage, series, bytes_per_series: Math.round(kept / series), kept_mb: Number((kept / 2 ** 20).toFixed(1)), ns_per_line: Math.round(((used.user + used.system) * 1000) / LINES) };
  };
}

const bodies = toLogplexBodies(generateMix(LINES, 7), 100 * 300);
const sides = await Promise.all(roots.map(side));
const results = roots.map(() => [] as Array<{ bytes_per_series: number; ns_per_line: number }>);
for (let run = 0; run < RUNS; run++) {
  for (const i of run % 2 === 0 ? roots.keys() : [...roots.keys()].reverse()) {
    const { stage: _held, ...r } = sides[i]!(bodies);
    console.log(JSON.stringify({ bench: 'series memory', root: roots[i], ...r }));
    results[i]!.push(r);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [i, rs] of results.entries()) {
  console.log(JSON.stringify({ bench: 'series memory', median_of: rs.length, root: roots[i], bytes_per_series: median(rs.map((r) => r.bytes_per_series)), ns_per_line: median(rs.map((r) => r.ns_per_line)) }));
}
