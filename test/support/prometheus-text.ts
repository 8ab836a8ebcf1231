/**
 * Prometheus' text exposition read back for tests: each family's TYPE and UNIT, and each sample
 * with its labels, as a scraper sees them.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` per family name. */
  types: Map<string, string>;
  /** `# UNIT` per family name. */
  units: Map<string, string>;
}

/** `a="x",b="y\"z"` to an object; values unescaped. */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const name = text.slice(i, eq).replace(/^,/, '').trim();
    let j = eq + 2;
    let value = '';
    while (text[j] !== '"') {
      if (text[j] === '\\') j++;
      value += text[j] === 'n' && text[j - 1] === '\\' ? '\n' : text[j];
      j++;
    }
    labels[name] = value;
    i = j + 1;
  }
  return labels;
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), units: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (TYPE|UNIT) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'TYPE' ? out.types : out.units).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace < 0 ? line.slice(0, space) : line.slice(0, brace);
    const labels = brace < 0 ? {} : labelsOf(line.slice(brace + 1, line.lastIndexOf('}')));
    out.samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none, an error if several. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
