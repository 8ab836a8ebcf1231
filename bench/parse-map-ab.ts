/**
 * `parse+map` here against another checkout's, in one process, passes interleaved (A, B, A, B...)
 * so that a busy, shared machine slows both alike: the fair before/after of a change to the hot
 * path. Each side runs its own bench/parse-map.ts on the same bodies of bench/mix.ts.
 *
 *   BENCH_AB_ROOT=../main-checkout node bench/parse-map-ab.ts     (BENCH_LINES, BENCH_RUNS, BENCH_SEED)
 *
 * Prints one JSON line per side: the median and best of its runs, and this side over the other.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMix, toLogplexBodies } from './mix.ts';
import { measure, type Scenario } from './harness.ts';

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
  { name: `parse+map (${resolve(root)})`, scenario: theirs(bodies, LINES), rates: [] as number[] },
  { name: 'parse+map (this checkout)', scenario: ours(bodies, LINES), rates: [] as number[] },
];
for (const s of sides) measure(s.scenario, 1, 2);
for (let run = 0; run < RUNS; run++) {
  for (const s of run % 2 === 0 ? sides : [...sides].reverse()) s.rates.push(measure(s.scenario, 1, 0).median);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const [other, self] = sides as [(typeof sides)[0], (typeof sides)[0]];
for (const s of sides) {
  console.log(
    JSON.stringify({
      bench: s.name,
      lines_per_s: Math.round(median(s.rates)),
      best: Math.round(Math.max(...s.rates)),
      runs: RUNS,
      ...(s === self ? { vs_other_median: Number((median(self.rates) / median(other.rates)).toFixed(3)), vs_other_best: Number((Math.max(...self.rates) / Math.max(...other.rates)).toFixed(3)) } : {}),
    }),
  );
}
