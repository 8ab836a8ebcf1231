/**
 * `url-templates`: one drain's route-template table (src/translate/url-template.ts) fed 1,000,000
 * distinct paths shaped like a real app's: numeric ids, UUIDs, slugs, hashed asset names,
 * usernames, nested resources, API versions, base64 tokens, percent-encoded tags, query strings.
 * Prints distinct paths, distinct templates, the table's heap growth, ns per path through the
 * table alone, and router lines per second through parse and translate with the drain's context
 * (the paths in router lines, as a receiver handles them).
 *
 *   node --expose-gc bench/url-templates.ts     (URL_TEMPLATE_PATHS, default 1000000; BENCH_SEED)
 */
import { readCapture } from '../src/heroku/input.ts';
import { interpretLine } from '../src/heroku/classify.ts';
import { defaultDrainContext } from '../src/config/translation.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { newTelemetryBatch } from '../src/translate/telemetry.ts';
import { OVERFLOW_TEMPLATE, UrlTemplateTable } from '../src/translate/url-template.ts';
import { prng } from './mix.ts';

const PATHS = Number(process.env.URL_TEMPLATE_PATHS ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc: heap growth needs a collection before and after');
  process.exit(2);
}

type Rand = () => number;
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const hex = (r: Rand, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (r: Rand, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += B64[Math.floor(r() * 64)];
  return s;
};
const uuid = (r: Rand) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ten', 'zu', 'bel', 'dor', 'fin', 'gar', 'hol', 'jas', 'kim', 'lee', 'max', 'nor', 'pat', 'sam'];
/** A username or a word-only slug part: no digits, so only learning makes it variable. */
const word = (r: Rand, parts: number) => {
  let s = '';
  for (let i = 0; i < parts; i++) s += pick(r, SYLLABLES);
  return s;
};
const WORDS = ['red', 'running', 'shoes', 'winter', 'sale', 'how', 'to', 'cook', 'rice', 'best', 'coffee', 'guide', 'new', 'york', 'trip', 'review'];
const slug = (r: Rand) => Array.from({ length: 2 + Math.floor(r() * 4) }, () => pick(r, WORDS)).join('-');
const ASSETS = ['application', 'vendor', 'runtime', 'main', 'logo', 'hero', 'styles'];
const EXT = ['css', 'js', 'png', 'svg', 'woff2'];
const TAGS = ['caf%C3%A9', 'na%C3%AFve', '%E2%9C%93', 'r%C3%A9sum%C3%A9', 'd%C3%A9j%C3%A0-vu'];
const QUERIES = ['', '', '', '?page=2', '?q=shoes&sort=price', '?utm_source=news', '?ref=home'];

/**
 * The n-th path: a shape picked by the generator, made distinct by n itself wherever the shape
 * has an id (numbers, hex, tokens), and by random words elsewhere (checked: distinct paths are counted).
 */
function pathOf(r: Rand, n: number): string {
  switch (Math.floor(r() * 14)) {
    case 0:
      return `/users/${n}`;
    case 1:
      return `/api/v${1 + Math.floor(r() * 3)}/orders/${uuid(r)}/items/${n % 50}`;
    case 2:
      return `/assets/${pick(r, ASSETS)}-${hex(r, 8)}${n.toString(16)}.${pick(r, EXT)}`;
    case 3:
      return `/products/${slug(r)}-${n}`;
    case 4:
      return `/${word(r, 2 + Math.floor(r() * 2))}${n.toString(36)}`.replace(/\d/g, (d) => SYLLABLES[Number(d)]!);
    case 5:
      return `/${word(r, 2)}${n.toString(36).replace(/\d/g, (d) => 'qwxyzvbnmj'[Number(d)]!)}/repos/${slug(r)}`;
    case 6:
      return `/orgs/${word(r, 2)}/teams/${word(r, 1)}/members/${n}`;
    case 7:
      return `/blog/${2015 + (n % 10)}/${String(1 + (n % 12)).padStart(2, '0')}/${slug(r)}-${word(r, 2)}`;
    case 8:
      return `/p/${b64(r, 22)}`;
    case 9:
      return `/tags/${pick(r, TAGS)}-${word(r, 2)}${n.toString(36).replace(/\d/g, (d) => 'qwxyzvbnmj'[Number(d)]!)}`;
    case 10:
      return `/api/v2/accounts/${n}/invoices/${hex(r, 24)}/lines`;
    case 11:
      return `/static/${hex(r, 20)}/${pick(r, ASSETS)}.${pick(r, EXT)}`;
    case 12:
      return `/shop/${word(r, 1)}/${word(r, 1)}/${word(r, 1)}/item-${n}`;
    default:
      return `/checkout/${uuid(r)}/confirm`;
  }
}

const r = prng(SEED);
const CHUNK = 100_000;
const distinct = new Set<string>();
const table = new UrlTemplateTable();
const templates = new Set<string>();
let elapsedNs = 0n;
let heapBefore = 0;
let checksum = 0;
const queries: string[] = [];

for (let i = 0; i < 200_000; i++) queries.push(pick(r, QUERIES));
gc();
heapBefore = process.memoryUsage().heapUsed;
for (let n = 0; distinct.size < PATHS; ) {
  const paths: string[] = [];
  while (paths.length < CHUNK && distinct.size < PATHS) {
    const p = pathOf(r, n++);
    if (distinct.has(p)) continue;
    distinct.add(p);
    paths.push(p);
  }
  const start = process.hrtime.bigint();
  for (let i = 0; i < paths.length; i++) checksum += table.templateOf(paths[i]!)!.length;
  elapsedNs += process.hrtime.bigint() - start;
}
// The table's own growth: the distinct-path set is counted apart, then dropped before measuring.
const distinctPaths = distinct.size;
distinct.clear();
gc();
const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

// Which templates came out, and how many paths each took: the same paths again through a new
// table (the same seed gives the same paths in the same order).
const r2 = prng(SEED);
for (let i = 0; i < 200_000; i++) pick(r2, QUERIES);
const perTemplate = new Map<string, number>();
const second = new UrlTemplateTable();
const again = new Set<string>();
for (let n = 0; again.size < PATHS; n++) {
  const p = pathOf(r2, n);
  if (again.has(p)) continue;
  again.add(p);
  const t = second.templateOf(p)!;
  templates.add(t);
  perTemplate.set(t, (perTemplate.get(t) ?? 0) + 1);
}
again.clear();

// ns per path, timed apart from the generation and the 1,000,000-path set (whose size slows every
// collection): the first 200,000 distinct paths, each through a new table, best of 3.
const sample: string[] = [];
{
  const r4 = prng(SEED);
  for (let i = 0; i < 200_000; i++) pick(r4, QUERIES);
  const seen = new Set<string>();
  for (let n = 0; sample.length < Math.min(PATHS, 200_000); n++) {
    const p = pathOf(r4, n);
    if (!seen.has(p)) {
      seen.add(p);
      sample.push(p);
    }
  }
}
gc();
let nsPerPath = Infinity;
for (let run = 0; run < 3; run++) {
  const fresh = new UrlTemplateTable();
  const start = process.hrtime.bigint();
  for (let i = 0; i < sample.length; i++) checksum += fresh.templateOf(sample[i]!)!.length;
  nsPerPath = Math.min(nsPerPath, Number(process.hrtime.bigint() - start) / sample.length);
}

// Router lines with these paths (and query strings) through parse and translate with the drain's context.
const LINES = 200_000;
const r3 = prng(SEED + 1);
const frames: string[] = [];
for (let i = 0; i < LINES; i++) {
  const msg = `<158>1 2024-05-01T12:00:00.000000+00:00 host heroku router - at=info method=GET path="${pathOf(r3, i)}${queries[i % queries.length]}" host=shop.example.com request_id=${uuid(r3)} fwd="203.0.113.9" dyno=web.1 connect=0ms service=12ms status=200 bytes=10 protocol=https`;
  frames.push(`${Buffer.byteLength(msg)} ${msg}`);
}
const bodies: Buffer[] = [];
for (let i = 0; i < frames.length; i += 1000) bodies.push(Buffer.from(frames.slice(i, i + 1000).join('')));
/** Router lines per second, best of 3, with a drain context whose url_templates is on or off. */
function routerLinesPerS(templatesOn: boolean): number {
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const ctx = templatesOn ? defaultDrainContext() : { ...defaultDrainContext(), urlTemplates: undefined };
    const batch = newTelemetryBatch();
    const start = process.hrtime.bigint();
    for (const body of bodies) {
      batch.logs.length = 0;
      batch.metrics.length = 0;
      readCapture(body, (line, status) => translateEvent(line, interpretLine(line), 1, batch, status, ctx));
    }
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, Math.round(LINES / s));
  }
  return best;
}
const withoutTemplates = routerLinesPerS(false);
const withTemplates = routerLinesPerS(true);

const top = [...perTemplate.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
console.log('templates taking the most paths:');
for (const [t, n] of top) console.log(`  ${String(n).padStart(8)}  ${t}`);
console.log(
  JSON.stringify({
    bench: 'url-templates',
    distinct_paths: distinctPaths,
    distinct_templates: templates.size,
    max_templates: 1000,
    overflow_paths: second.overflows,
    overflow_template: templates.has(OVERFLOW_TEMPLATE),
    table_nodes: table.nodes,
    heap_growth_mb: Number(heapGrowthMb.toFixed(2)),
    ns_per_path: Number(nsPerPath.toFixed(1)),
    ns_per_path_during_learning: Number((Number(elapsedNs) / PATHS).toFixed(1)),
    lines_per_s: withTemplates,
    lines_per_s_without_templates: withoutTemplates,
    checksum,
  }),
);
