/**
 * Profiling helper: the per-line stages after parse+map, here against another checkout's, passes
 * interleaved in one process (a fair before/after on a shared machine). Each side translates the
 * mix with its own code (one TelemetryBatch per ~100-line Logplex body, as the receiver does), then
 * each stage is timed on those batches:
 *
 * - `absorb`: the metrics pipeline's aggregation (interval's MetricsStage) of every batch's points,
 *   under a drain resource's key (its JSON, as the service makes it), into a new stage (every
 *   series opened in the pass);
 * - `absorb steady`: the same into one stage that already holds the series, as a running
 *   sidecar's does between exports;
 * - `encode logs`: the otlphttp protobuf encoder, one request per body;
 * - `alerts`: the alerts processor's engine (its built-in rules) over every batch's records and points;
 * - `redact`: the redact processor (its default word list) over every batch's records, on copies
 *   made in the pass (it masks in place; both sides pay the same copies).
 *
 * Each pass is timed on the wall clock and in the process's CPU time (user + system, GC threads
 * included): on a shared machine the CPU figures move less when other work takes the cores, and
 * the fastest pass (`best_*`) least of all.
 *
 *   BENCH_AB_ROOT=/work/main node bench/stages-ab.ts     (BENCH_LINES, BENCH_RUNS, BENCH_FILTER)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMix, toLogplexBodies } from './mix.ts';

const root = process.env.BENCH_AB_ROOT;
if (!root) {
  console.error('BENCH_AB_ROOT: the other checkout');
  process.exit(2);
}
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const filter = new RegExp(process.env.BENCH_FILTER ?? '.');
const bodies = toLogplexBodies(generateMix(LINES, 42));
const resource = { 'service.name': 'shop-web', 'heroku.app.name': 'shop-web', 'cloud.provider': 'heroku', 'deployment.environment.name': 'production', 'heroku.drain.id': 'd.01234567-89ab-cdef-0123-456789abcdef' };
const resourceKey = JSON.stringify(resource);

async function side(dir: string) {
  const at = (path: string) => import(pathToFileURL(resolve(dir, path)).href);
  const { bodyToTelemetry } = await at('src/receivers/logplex/body.ts');
  const { defaultDrainContext } = await at('src/config/translation.ts');
  const { MetricsStage } = await at('src/processors/interval/stage.ts');
  const { OtlpProtoEncoder } = await at('src/exporters/otlphttp/proto.ts');
  const { AlertEngine } = await at('src/processors/alerts/engine.ts');
  const { alertsConfigSchema } = await at('src/processors/alerts/config.ts');
  const { redactConfigSchema } = await at('src/processors/redact/config.ts');
  const { RedactProcessor } = await at('src/processors/redact/processor.ts');
  const rules = alertsConfigSchema.parse({}).rules;
  const context = defaultDrainContext();
  const batches = bodies.map((b) => bodyToTelemetry(b.buf, Date.now() * 1000, context).telemetry);
  const encoder = new OtlpProtoEncoder({ name: 'bench', version: '0' });
  const newStage = () => new MetricsStage('bench', { intervalMs: 60_000, maxStreams: 1e9, maxStaleMs: 1e9, instanceId: 'bench' }, () => {}, () => {});
  const steady = newStage();
  for (const t of batches) steady.absorb(resource, resourceKey, t.metrics, 1.7e12);
  const stages: Record<string, () => number | string> = {
    absorb: () => {
      const stage = newStage();
      for (const t of batches) stage.absorb(resource, resourceKey, t.metrics, 1.7e12);
      return stage.stats.series;
    },
    'absorb steady': () => {
      for (const t of batches) steady.absorb(resource, resourceKey, t.metrics, 1.7e12);
      return steady.stats.series;
    },
    'encode logs': () => {
      let bytes = 0;
      for (const t of batches) bytes += encoder.logs(resource, t.logs).length;
      return bytes;
    },
    alerts: () => {
      const engine = new AlertEngine(rules);
      for (const t of batches) {
        engine.observeRecords(resource, t.logs, 1.7e12);
        engine.observePoints(resource, t.metrics, 1.7e12);
      }
      return engine.evaluate(1.7e12).length;
    },
    redact: () => {
      const redact = new RedactProcessor('redact', redactConfigSchema.parse({}));
      let chars = 0;
      for (const t of batches) {
        const copies = t.logs.map((r: { body: string; attributes: object }) => ({ ...r, attributes: { ...r.attributes } }));
        redact.process(copies);
        for (const r of copies) chars += r.body.length;
      }
      // What it masked and the text left: both sides must agree on both.
      return `${redact.counters.masked}/${redact.counters.records}/${chars}`;
    },
  };
  return { dir, stages };
}

const sides = [await side(root), await side(new URL('../', import.meta.url).pathname)];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const name of Object.keys(sides[0]!.stages)) {
  if (!filter.test(name)) continue;
  const rates = sides.map(() => [] as number[]);
  const cpuRates = sides.map(() => [] as number[]);
  const results = sides.map((s) => s.stages[name]!());
  if (results[0] !== results[1]) console.error(`${name}: results differ (${results.join(' vs ')})`);
  for (let run = 0; run < RUNS; run++) {
    for (const i of run % 2 === 0 ? [0, 1] : [1, 0]) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      sides[i]!.stages[name]!();
      rates[i]!.push(LINES / ((performance.now() - t) / 1000));
      const used = process.cpuUsage(cpu);
      cpuRates[i]!.push(LINES / ((used.user + used.system) / 1e6));
    }
  }
  const [other, self] = rates.map(median) as [number, number];
  const [otherCpu, selfCpu] = cpuRates.map(median) as [number, number];
  const [otherBest, selfBest] = cpuRates.map((a) => Math.max(...a)) as [number, number];
  console.log(
    JSON.stringify({
      bench: name,
      lines_per_s: Math.round(self),
      other_lines_per_s: Math.round(other),
      vs_other_median: Number((self / other).toFixed(3)),
      lines_per_cpu_s: Math.round(selfCpu),
      other_lines_per_cpu_s: Math.round(otherCpu),
      vs_other_cpu_median: Number((selfCpu / otherCpu).toFixed(3)),
      best_lines_per_cpu_s: Math.round(selfBest),
      other_best_lines_per_cpu_s: Math.round(otherBest),
      vs_other_best: Number((selfBest / otherBest).toFixed(3)),
      runs: RUNS,
      other: resolve(root),
    }),
  );
}
