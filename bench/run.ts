/**
 * `npm run bench`: parse-and-map throughput on a realistic Logplex mix in one process and one
 * run, beside external references (the OpenTelemetry SDK's encoders) and, with BENCH_PREVIOUS,
 * the previous release's same functions, each timed right after ours. Prints a table, then one
 * JSON line per scenario.
 *
 * Environment: BENCH_LINES (lines in the mix, default 100000), BENCH_RUNS (timed runs per
 * scenario, default 7), BENCH_WARMUP (untimed passes, default 2), BENCH_FILTER (a regular
 * expression: only scenarios whose name matches, e.g. `^parse\+map$` for profiling),
 * BENCH_SEED (default 42), BENCH_PROFILE (a file: CPU profile of the timed runs, written as
 * .cpuprofile, its top functions by self time printed; see bench/profile.ts), BENCH_PREVIOUS
 * (another checkout or a git ref: see bench/previous.ts), BENCH_LOGPLEX (0 skips bench/logplex.ts).
 */
import os from 'node:os';
import { generateMix, mixCounts, toLogplexBodies, TYPICAL_APP } from './mix.ts';
import { measure, jsonLine, table, sink, type Result, type Scenario } from './harness.ts';
import { classifyParse } from './classify-parse.ts';
import { parseMap } from './parse-map.ts';
import { microImpl, microInputs, microScenarios } from './micro.ts';
import { openPrevious } from './previous.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatHot, hotFunctions, startProfile, stopProfile } from './profile.ts';
import { readFileSync } from 'node:fs';
import { runE2eInChild } from './e2e.ts';
import { runSyslogBench } from './syslog.ts';
import { encodeInputs, encodeScenarios } from './encode.ts';
import { encodeSpanScenarios, spanInputs } from './encode-spans.ts';
import { geoipScenario } from './geoip.ts';
import { redactScenario } from './redact.ts';
import { collectorProcessorScenarios } from './collector-processors.ts';
import { runSamplingBench } from './sampling.ts';
import { logplexScenarios } from './logplex.ts';
import { spawnSync } from 'node:child_process';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

const LINES = envInt('BENCH_LINES', 100_000);
const RUNS = envInt('BENCH_RUNS', 7);
const WARMUP = envInt('BENCH_WARMUP', 2);
const SEED = envInt('BENCH_SEED', 42);
const FILTER = process.env.BENCH_FILTER ? new RegExp(process.env.BENCH_FILTER) : undefined;
const PROFILE = process.env.BENCH_PROFILE || undefined;
const MICRO_LIMIT = Math.min(LINES, 20_000);

const TARGETS: Readonly<Record<string, number>> = { 'classify+parse': 1_500_000, 'parse+map': 400_000 };
/** External references; with BENCH_PREVIOUS, every scenario the previous release has is compared with it instead. */
const BASELINES: Readonly<Record<string, string>> = {
  'otlp encode': 'sdk otlp encode',
  'otlp encode spans': 'sdk otlp encode spans',
};
const PREVIOUS = 'previous ';

const cpus = os.cpus();
console.log(`node ${process.version} (V8 ${process.versions.v8}) on ${process.platform}/${process.arch}`);
console.log(`cpu: ${cpus[0]?.model.trim() ?? 'unknown'} x${cpus.length}`);

/**
 * A yardstick for comparing machines: a plain charCodeAt scan of a router line, in ns per char.
 * Figures from a machine where this is twice as slow are worth about half as much.
 */
function calibrate(): number {
  const text = 'at=info method=GET path="/products/42" host=www.example.org request_id=07d09040-2c80-42d7-b570-0893a34bd834 fwd="140.221.120.64" dyno=web.3 connect=0ms service=153ms status=301 bytes=164965 protocol=https';
  let spaces = 0;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < 200_000; k++) for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 32) spaces++;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / (200_000 * text.length));
  }
  return spaces > 0 ? best : NaN;
}
console.log(`machine yardstick: plain charCodeAt scan ${calibrate().toFixed(2)} ns/char (best of 5)`);

const t0 = performance.now();
const mix = generateMix(LINES, SEED);
const bodies = toLogplexBodies(mix);
const bytes = bodies.reduce((n, b) => n + b.buf.length, 0);
const c = mixCounts(mix);
const pct = (n: number): string => `${((100 * n) / LINES).toFixed(1)}%`;
console.log(
  `mix: ${LINES.toLocaleString('en-US')} lines (seed ${SEED}): router ${pct(c.router)}, app ${pct(c.app)}, runtime ${pct(c.runtime)}, other ${pct(c.other)}; ` +
    `${bodies.length} Logplex bodies, ${(bytes / bodies.length / 1000).toFixed(0)} KB and ${Math.round(LINES / bodies.length)} lines each, ${Math.round(bytes / LINES)} B/line`,
);
console.log(`method: ${WARMUP} warm-up passes, then median of ${RUNS} timed runs (process.hrtime.bigint); micro inputs ${MICRO_LIMIT.toLocaleString('en-US')} items, repeated to >= 50 ms per run`);

console.log(`(setup ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);

const micro = microInputs(mix, bodies, MICRO_LIMIT);
const ours: Scenario[] = [
  classifyParse(bodies, LINES),
  parseMap(bodies, LINES),
  parseMap(bodies, LINES, true),
  ...microScenarios(micro),
  ...encodeScenarios(encodeInputs(bodies)),
  ...encodeSpanScenarios(spanInputs(encodeInputs(bodies))),
  geoipScenario(encodeInputs(bodies)),
  redactScenario(encodeInputs(bodies)),
  ...collectorProcessorScenarios(encodeInputs(bodies)),
];

/** The previous release's parse scenarios (its own bench files) and micro functions, on the same inputs. */
async function previousScenarios(root: string): Promise<Scenario[]> {
  const from = (path: string) => import(pathToFileURL(join(root, path)).href);
  const theirs: Scenario[] = [(await from('bench/classify-parse.ts')).classifyParse(bodies, LINES), (await from('bench/parse-map.ts')).parseMap(bodies, LINES), (await from('bench/parse-map.ts')).parseMap(bodies, LINES, true), ...microScenarios(micro, await microImpl(root))];
  // A release older than a scenario makes another in its place: kept once.
  return theirs.filter((s, i) => theirs.findIndex((t) => t.name === s.name) === i).map((s) => ({ ...s, name: PREVIOUS + s.name }));
}

// Each of ours, then the previous release's same scenario: close in time on a shared machine.
const previous = openPrevious();
if (previous) console.log(`previous release: ${previous.label}`);
const theirs = previous ? await previousScenarios(previous.root) : [];
const scenarios = ours.flatMap((s) => [s, ...theirs.filter((t) => t.name === PREVIOUS + s.name)]);

const results: Result[] = [];
if (PROFILE) await startProfile();
for (const s of scenarios) {
  if (FILTER && !FILTER.test(s.name.replace(PREVIOUS, ''))) continue;
  const started = performance.now();
  const r = measure(s, RUNS, WARMUP);
  results.push(r);
  console.log(`  ${s.name}: ${Math.round(r.median).toLocaleString('en-US')} lines/s (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
if (PROFILE) await stopProfile(PROFILE);
previous?.close();
for (const r of results) {
  const base = results.find((b) => b.name === PREVIOUS + r.name) ?? results.find((b) => b.name === BASELINES[r.name]);
  if (base) {
    r.vsBaseline = r.median / base.median;
    r.baseline = base.name;
  }
}

console.log('');
console.log(table(results, TARGETS));
console.log('');
for (const r of results) console.log(jsonLine(r));
if (PROFILE) {
  console.log(`\nCPU profile of the timed runs: ${PROFILE}; top functions by self time:`);
  console.log(formatHot(hotFunctions(JSON.parse(readFileSync(PROFILE, 'utf8'))), 15));
}
if (Number.isNaN(sink)) console.log('sink', sink);

// End to end, through real processes and sockets (BENCH_E2E=0 skips it; BENCH_E2E_LINES sizes it).
if (process.env.BENCH_E2E !== '0' && !FILTER) {
  const e2eLines = envInt('BENCH_E2E_LINES', 200_000);
  console.log(`\nend to end: ${e2eLines.toLocaleString('en-US')} lines in POSTs of ~100 lines, 8 in flight, into a local OTLP sink (protobuf, gzip)`);
  const e2e = await runE2eInChild(e2eLines);
  const ceiling = e2e.find((r) => r.bench.startsWith('e2e ceiling'))!;
  console.log('scenario                                    lines/s  vs ceiling  lines/CPU-s  p50 ms  p99 ms  peak RSS MB   lost');
  for (const r of e2e) {
    console.log(
      `${r.bench.padEnd(42)} ${String(r.lines_per_s).padStart(8)} ${((r.lines_per_s / ceiling.lines_per_s) * 100).toFixed(0).padStart(10)}% ${String(r.lines_per_cpu_s).padStart(12)} ${String(r.p50_ms).padStart(7)} ${String(r.p99_ms).padStart(7)} ${String(r.peak_rss_mb).padStart(12)} ${String(r.lines_lost).padStart(6)}`,
    );
  }
  console.log('lines/CPU-s: lines per CPU-second of the server process (all its threads), what one core of it handles.');
  for (const r of e2e) console.log(JSON.stringify({ ...r, vs_ceiling: Number((r.lines_per_s / ceiling.lines_per_s).toFixed(2)) }));
}

// Logplex-like load on the embedded default, in a fresh process (BENCH_LOGPLEX=0 skips; BENCH_FILTER picks scenarios by name).
if (process.env.BENCH_LOGPLEX !== '0') {
  const names = Object.keys(logplexScenarios).filter((name) => !FILTER || FILTER.test(name));
  if (names.length > 0) {
    console.log(`\nLogplex-like load on the embedded default (bench/logplex.ts, ${process.env.BENCH_LOGPLEX_SECONDS ?? 20} s a load): ${names.join(', ')}`);
    spawnSync(process.execPath, ['bench/logplex.ts', ...names], { cwd: new URL('../', import.meta.url).pathname, stdio: 'inherit' });
  }
}

// Count, then sample: the embedded default with and without tail_sampling, replayed into a decoding sink (BENCH_SAMPLING=0 skips).
if (process.env.BENCH_SAMPLING !== '0' && (!FILTER || FILTER.test('count-then-sample'))) {
  console.log(`\ncount, then sample: ${LINES.toLocaleString('en-US')} mix lines and the shipped captures replayed through the embedded default, unsampled then with tail_sampling after alerts (errors, over 1 s, 10 %)`);
  console.log(JSON.stringify(await runSamplingBench(LINES, SEED)));
  console.log('the same with a typical app (TYPICAL_APP in bench/mix.ts: 0.5 % H-codes, 0.5 % 500s, 2 % slow; app lines log their request id)');
  console.log(JSON.stringify(await runSamplingBench(LINES, SEED, TYPICAL_APP, 'count-then-sample-typical')));
}

// Syslog over TCP: the same mix octet-counted on one connection, ours beside rsyslog (BENCH_SYSLOG=0 skips).
if (process.env.BENCH_SYSLOG !== '0' && !FILTER) {
  const syslogLines = envInt('BENCH_SYSLOG_LINES', 200_000);
  console.log(`\nsyslog TCP: ${syslogLines.toLocaleString('en-US')} lines octet-counted on one connection; ours into the OTLP sink (protobuf, gzip), rsyslog imtcp into a file`);
  const results = await runSyslogBench(syslogLines);
  const native = results.find((r) => r.bench.includes('rsyslog'));
  for (const r of results) {
    console.log(`${r.bench.padEnd(36)} ${String(r.lines_per_s).padStart(8)} lines/s  ${String(r.server_cpu_s).padStart(5)} CPU-s  ${String(r.peak_rss_mb).padStart(4)} MB RSS  lost ${r.lines_lost}`);
  }
  if (native) console.log(`heroku-otel-drain / rsyslog: ${(results[0]!.lines_per_s / native.lines_per_s).toFixed(2)}`);
  else console.log('rsyslogd not installed: no native reference (scripts/install-test-deps.sh installs it)');
  for (const r of results) console.log(JSON.stringify(native && r !== native ? { ...r, vs_rsyslog: Number((r.lines_per_s / native.lines_per_s).toFixed(2)) } : r));
}
