/**
 * Timing: warm up, then `runs` timed passes; the median is the figure, min and max show the spread.
 * A scenario is a function doing one full pass over its input and returning a number derived from
 * the work (the sink), so V8 cannot prove the work dead and drop it.
 */

export interface Scenario {
  /** The name printed and used as `bench` in the JSON line. */
  name: string;
  /** What one pass does, for the table. */
  what: string;
  /** Lines (or items) one pass handles: the unit of the rate. */
  items: number;
  /** One full pass; returns the sink. */
  pass: () => number;
}

export interface Result {
  name: string;
  what: string;
  items: number;
  runs: number;
  /** Rates in items per second, one per timed run. */
  rates: number[];
  median: number;
  min: number;
  max: number;
  /** Ours over the baseline's median (the previous release's same scenario, or an external reference). */
  vsBaseline?: number;
  baseline?: string;
}

/** Keeps every pass's sink alive: read at the end so nothing is dead code. */
export let sink = 0;

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/**
 * Runs `warmup` untimed passes, then `runs` timed ones. Passes shorter than `minPassNs` are repeated
 * within one timed run so that tiny micro-benchmarks still measure more than the timer's noise.
 */
export function measure(s: Scenario, runs: number, warmup: number, minPassNs = 50_000_000n): Result {
  for (let i = 0; i < warmup; i++) sink += s.pass();
  // Calibrate: how many passes make one timed run long enough.
  const t0 = process.hrtime.bigint();
  sink += s.pass();
  const once = process.hrtime.bigint() - t0;
  const reps = once >= minPassNs ? 1 : Number(minPassNs / (once > 0n ? once : 1n)) + 1;
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) sink += s.pass();
    const ns = Number(process.hrtime.bigint() - start);
    rates.push((s.items * reps * 1e9) / ns);
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return { name: s.name, what: s.what, items: s.items, runs, rates, median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function fmtRate(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** The readable table. */
export function table(results: readonly Result[], targets: Readonly<Record<string, number>>): string {
  const header = ['scenario', 'median lines/s', 'min', 'max', 'vs baseline', 'target'];
  const rows = results.map((r) => [
    r.name,
    fmtRate(r.median),
    fmtRate(r.min),
    fmtRate(r.max),
    r.vsBaseline !== undefined ? `${r.vsBaseline.toFixed(1)}x` : '',
    targets[r.name] !== undefined ? `${r.median >= targets[r.name]! ? 'ok' : 'MISSED'} (>= ${fmtRate(targets[r.name]!)})` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 5)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The one JSON line per scenario that scripts read. */
export function jsonLine(r: Result): string {
  const o: Record<string, unknown> = {
    bench: r.name,
    lines_per_s: Math.round(r.median),
    runs: r.runs,
    min: Math.round(r.min),
    max: Math.round(r.max),
  };
  if (r.vsBaseline !== undefined) {
    // vs_previous: a regression ratio against the previous release; vs_baseline: against an external reference.
    o[r.baseline?.startsWith('previous ') ? 'vs_previous' : 'vs_baseline'] = Math.round(r.vsBaseline * 100) / 100;
    o.baseline = r.baseline;
  }
  return JSON.stringify(o);
}
