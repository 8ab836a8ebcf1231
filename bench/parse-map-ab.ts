/**
 * `parse+map` here against another checkout's, in one process, passes interleaved (A, B, A, B...)
 * so that a busy, shared machine slows both alike: the fair before/after of a change to the hot
 * path. Each side runs its own bench/parse-map.ts on the same bodies of bench/mix.ts.
 *
 *   BENCH_AB_ROOT=../main-checkout node bench/parse-map-ab.ts     (BENCH_LINES, BENCH_RUNS, BENCH_SEED)
 *
 * Prints one JSON line per side: the median and best of its runs, and this side over the other;
 * `lines_per_cpu_s` the same per CPU-second of the process (process.cpuUsage, GC's helper threads
 * included), which a machine shared with other jobs disturbs less than the wall clock.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMix, toLogplexBodies } from './mix.ts';
import { measure, type Scenario } from './harness.ts';

let sink = 0;

const root = process.env.BENCH_AB_ROOT;
if (!root) {
  console.error('BENCH_AB_ROOT: the other checkout (its bench/parse-map.ts is timed beside ours)');
  process.exit(2);
}
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SEED = Number(process.env.BENCH_SEED ?? 42);

type ParseMap = (bodies: ReturnType<typeof toLogplexBodies>, lines: number) => Scenario;
const ours = (await import('./parse-map.ts')).parseMap as ParseMap;
const theirs = (await import(pathToFileURL(resolve(root, 'bench/parse-map.ts')).href)).parseMap as ParseMap;

const bodies = toLogplexBodies(generateMix(LINES, SEED));
const sides = [
  { name: `parse+map (${resolve(root)})`, scenario: theirs(bodies, LINES), rates: [] as number[], cpuRates: [] as number[] },
  { name: 'parse+map (this checkout)', scenario: ours(bodies, LINES), rates: [] as number[], cpuRates: [] as number[] },
];
for (const s of sides) measure(s.scenario, 1, 2);
for (let run = 0; run < RUNS; run++) {
  for (const s of run % 2 === 0 ? sides : [...sides].reverse()) {
    // One pass of 100,000 lines is long enough to time on its own.
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    sink += s.scenario.pass();
    const ns = Number(process.hrtime.bigint() - start);
    const used = process.cpuUsage(cpu);
    s.rates.push((LINES * 1e9) / ns);
    s.cpuRates.push((LINES * 1e6) / (used.user + used.system));
  }
}
if (sink === -1) console.log(sink);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const [other, self] = sides as [(typeof sides)[0], (typeof sides)[0]];
for (const s of sides) {
  console.log(
    JSON.stringify({
      bench: s.name,
      lines_per_s: Math.round(median(s.rates)),
      best: Math.round(Math.max(...s.rates)),
      lines_per_cpu_s: Math.round(median(s.cpuRates)),
      runs: RUNS,
      ...(s === self
        ? {
            vs_other_median: Number((median(self.rates) / median(other.rates)).toFixed(3)),
            vs_other_best: Number((Math.max(...self.rates) / Math.max(...other.rates)).toFixed(3)),
            vs_other_cpu: Number((median(self.cpuRates) / median(other.cpuRates)).toFixed(3)),
          }
        : {}),
    }),
  );
}
