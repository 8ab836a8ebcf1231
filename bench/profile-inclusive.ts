/** Inclusive time per function of a .cpuprofile (time in it or in what it calls), top N. */
import { readFileSync } from 'node:fs';
const [file, n = '40'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8'));
const nodes = new Map<number, any>(profile.nodes.map((x: any) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const self = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const inclusive = new Map<string, number>();
let total = 0;
for (const [id, t] of self) {
  total += t;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = nodes.get(cur).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
const rows = [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
for (const [k, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}% ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);

// With a third argument (a percentage), also the call tree down to nodes of at least that share.
const minShare = Number(process.argv[4] ?? 0);
if (minShare > 0) {
  const total2 = [...self.values()].reduce((a, b) => a + b, 0);
  const incl = new Map<number, number>();
  const sum = (id: number): number => {
    let t = self.get(id) ?? 0;
    for (const c of nodes.get(id).children ?? []) t += sum(c);
    incl.set(id, t);
    return t;
  };
  sum(profile.nodes[0].id);
  const walk = (id: number, depth: number): void => {
    const t = incl.get(id)!;
    if ((100 * t) / total2 < minShare) return;
    const f = nodes.get(id).callFrame;
    console.log(`${'  '.repeat(depth)}${((100 * t) / total2).toFixed(1)}% ${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules|bench)\//, '$1/')}:${f.lineNumber + 1}`);
    for (const c of nodes.get(id).children ?? []) walk(c, depth + 1);
  };
  walk(profile.nodes[0].id, 0);
}
