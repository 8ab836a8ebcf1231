/**
 * CPU profiles of the timed runs only (not the mix generation), through the inspector, and a
 * self-time summary of a `.cpuprofile` (ours or one from `node --cpu-prof`).
 *
 *   BENCH_PROFILE=/tmp/parse-map.cpuprofile BENCH_FILTER='^parse\+map$' npm run bench
 *   node bench/profile.ts /tmp/parse-map.cpuprofile [top]
 */
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

let session: Session | undefined;

export async function startProfile(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 100 µs: fine enough for functions that take a few hundred nanoseconds per call.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}

export async function stopProfile(file: string): Promise<void> {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  session = undefined;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

/** Self time per function (by name and location), highest first. */
export function hotFunctions(profile: CpuProfile, cwd = process.cwd()): HotFunction[] {
  const byNode = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byNode.set(n.id, n);
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith('file://') ? path.relative(cwd, fileURLToPath(url)) : url;
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const name = functionName || (file ? '(anonymous)' : '(native)');
    if (name === '(idle)') continue;
    const key = `${name}@${where}`;
    const e = selfUs.get(key) ?? { name, where, us: 0 };
    e.us += dt;
    selfUs.set(key, e);
    total += dt;
  }
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, percent: (100 * e.us) / total }));
}

export function formatHot(hot: readonly HotFunction[], top: number): string {
  return hot
    .slice(0, top)
    .map((h, i) => `${String(i + 1).padStart(2)}. ${h.percent.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.name}  ${h.where}`)
    .join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 20);
  console.log(formatHot(hotFunctions(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), top));
}
