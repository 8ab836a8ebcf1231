/**
 * Bytes allocated per line by `parse+map`, here beside another checkout's, on the same bodies of
 * bench/mix.ts: GC's share of the sidecar's CPU follows what the hot path allocates, which a
 * lines/s figure hides.
 *
 *   BENCH_AB_ROOT=../main-checkout node --expose-gc bench/parse-map-alloc.ts     (BENCH_LINES, BENCH_RUNS, BENCH_SEED)
 *
 * BENCH_SPANS=1 times `parse+map+spans` instead (a span per router request, as for traces).
 *
 * How: V8 has no running total of bytes allocated, so v8.GCProfiler reports each collection's
 * used heap before and after it; what a pass allocated is the heap's growth between collections
 * plus its growth after the last one (the used heap before each GC, less the used heap after the
 * previous one). Young-generation collections (scavenges) are counted too: that is the GC work a
 * line causes. Passes alternate sides (A, B, B, A...), each measured alone after a full GC when
 * `--expose-gc` is given. Allocation is deterministic, so a few runs suffice; the median is shown.
 *
 * BENCH_ALLOC_PROFILE=FILE also writes a sampling heap profile of this checkout's passes that
 * keeps objects already collected (what was allocated, not what survived), and prints its top
 * allocation sites by bytes.
 */
import { GCProfiler } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMix, toLogplexBodies } from './mix.ts';
import type { Scenario } from './harness.ts';

const root = process.env.BENCH_AB_ROOT;
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const PROFILE = process.env.BENCH_ALLOC_PROFILE;
const SPANS = process.env.BENCH_SPANS === '1';

type ParseMap = (bodies: ReturnType<typeof toLogplexBodies>, lines: number, spans?: boolean) => Scenario;
const ours = (await import('./parse-map.ts')).parseMap as ParseMap;
const theirs = root ? ((await import(pathToFileURL(resolve(root, 'bench/parse-map.ts')).href)).parseMap as ParseMap) : undefined;

const bodies = toLogplexBodies(generateMix(LINES, SEED));
const gc = (globalThis as { gc?: () => void }).gc;

interface Usage {
  bytes: number;
  scavenges: number;
  fullGcs: number;
  gcMs: number;
}

function allocation(s: Scenario): Usage {
  gc?.();
  const profiler = new GCProfiler();
  const startUsed = process.memoryUsage().heapUsed;
  profiler.start();
  s.pass();
  const endUsed = process.memoryUsage().heapUsed;
  const result = profiler.stop();
  let bytes = 0;
  let prevAfter = startUsed;
  let scavenges = 0;
  let fullGcs = 0;
  let gcUs = 0;
  for (const st of result?.statistics ?? []) {
    bytes += st.beforeGC.heapStatistics.usedHeapSize - prevAfter;
    prevAfter = st.afterGC.heapStatistics.usedHeapSize;
    gcUs += st.cost;
    if (st.gcType === 'Scavenge' || st.gcType === 'MinorMarkSweep') scavenges++;
    else fullGcs++;
  }
  bytes += endUsed - prevAfter;
  return { bytes, scavenges, fullGcs, gcMs: gcUs / 1000 };
}

const sides = [
  ...(theirs ? [{ name: `parse+map (${resolve(root!)})`, scenario: theirs(bodies, LINES, SPANS), runs: [] as Usage[] }] : []),
  { name: 'parse+map (this checkout)', scenario: ours(bodies, LINES, SPANS), runs: [] as Usage[] },
];
// Warm up: optimized code allocates less than the interpreter (escape analysis).
for (const s of sides) for (let i = 0; i < 3; i++) s.scenario.pass();
for (let run = 0; run < RUNS; run++) {
  for (const s of run % 2 === 0 ? sides : [...sides].reverse()) s.runs.push(allocation(s.scenario));
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const perLine = (s: (typeof sides)[0]) => median(s.runs.map((u) => u.bytes)) / LINES;
for (const s of sides) {
  const self = s === sides[sides.length - 1] && sides.length === 2;
  console.log(
    JSON.stringify({
      bench: `alloc ${s.name}${SPANS ? ' +spans' : ''}`,
      bytes_per_line: Math.round(perLine(s)),
      scavenges_per_100k_lines: Math.round((median(s.runs.map((u) => u.scavenges)) * 100_000) / LINES),
      full_gcs: median(s.runs.map((u) => u.fullGcs)),
      gc_ms: Number(median(s.runs.map((u) => u.gcMs)).toFixed(1)),
      runs: RUNS,
      ...(self ? { vs_other: Number((perLine(s) / perLine(sides[0]!)).toFixed(3)) } : {}),
    }),
  );
}

if (PROFILE) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const s = sides[sides.length - 1]!.scenario;
  for (let i = 0; i < 3; i++) s.pass();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  writeFileSync(PROFILE, JSON.stringify(profile));
  session.disconnect();
  // Self bytes per function and line.
  interface Node {
    callFrame: { functionName: string; url: string; lineNumber: number };
    selfSize: number;
    children: Node[];
  }
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: Node) => {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head as unknown as Node);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
  for (const [k, v] of top) console.log(`${((v * 100) / total).toFixed(1).padStart(5)} %  ${Math.round(v / (3 * LINES)).toString().padStart(5)} B/line  ${k}`);
}
