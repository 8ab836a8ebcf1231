/**
 * Where a config comes from, as the Collector's command line takes it: several `--config`, merged
 * in order, then every `--set`, merged last. Each source is a document; merging keeps, for every
 * key path, the source that set it, so a problem names the file or the `--set` to fix.
 *
 * - `--config` takes a path, or the Collector's URIs: `file:PATH`, `env:VAR` (a variable holding a
 *   whole YAML config) and `yaml:TEXT` (`yaml:processors::batch::timeout: 2s`, `::` between keys).
 * - `--set key.path=value`: the Collector's separator is `.` (it turns it into confmap's `::`);
 *   `::` is taken too, and then only `::` separates, so a key with dots (`service.name`) can be
 *   set. The value is read as YAML (`2s` a string, `10` a number, `[a, b]` a list), or kept as
 *   text when it is not valid YAML.
 * - Merging: a mapping over a mapping merges key by key; anything else (a list, a scalar, null)
 *   replaces what was there. Lists are not appended (the Collector's default; its
 *   `confmap.enableMergeAppendOption` gate is alpha).
 */
import { readFile } from 'node:fs/promises';
import { parseYaml, yaml } from './yaml.ts';
import { defaultDocument } from './default.ts';

export type ConfigSource =
  /** A `--config` value: a path or a `file:`, `env:` or `yaml:` URI. */
  | { kind: 'config'; uri: string }
  /** A `--set` value: `key.path=value`. */
  | { kind: 'set'; assignment: string }
  /** The embedded default, from the environment. */
  | { kind: 'default' };

/** What one source gave: its label for messages, and its document or its problems. */
export interface SourceDocument {
  label: string;
  document: Record<string, unknown> | undefined;
  problems: string[];
  warnings: string[];
}

export const DEFAULT_LABEL = 'the embedded default config';

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The key part of a `yaml:` URI, for messages: its value may be a secret. */
function yamlLabel(text: string): string {
  const colon = text.search(/:(\s|$)/);
  const keys = (colon < 0 ? text : text.slice(0, colon)).trim();
  return `yaml:${keys.length > 60 ? `${keys.slice(0, 60)}...` : keys}`;
}

/** `--set` key, as the label of what it set (never its value: it may be a secret). */
export function setLabel(assignment: string): string {
  const eq = assignment.indexOf('=');
  return `--set ${(eq < 0 ? assignment : assignment.slice(0, eq)).trim()}`;
}

/** A `--set` value's key path, or a problem. */
export function parseSetKey(assignment: string): string[] | string {
  const eq = assignment.indexOf('=');
  if (eq < 0) return 'expects key.path=value (missing =)';
  const key = assignment.slice(0, eq).trim();
  const parts = key.includes('::') ? key.split('::') : key.split('.');
  if (parts.some((p) => p.trim() === '')) return `"${key}" is not a key path such as processors.batch.timeout`;
  return parts.map((p) => p.trim());
}

/** Keys written `a::b` (confmap's delimiter, in `yaml:` URIs) as nested mappings. */
function splitDelimitedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(splitDelimitedKeys);
  if (!isMapping(value)) return value;
  let out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const parts = key.split('::');
    let nested: unknown = splitDelimitedKeys(v);
    for (let i = parts.length - 1; i > 0; i--) nested = { [parts[i]!]: nested };
    out = mergeDocuments(out, { [parts[0]!]: nested });
  }
  return out;
}

function yamlProblem(err: unknown): string {
  const where = err instanceof yaml().YAMLParseError && err.linePos ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}` : 'YAML';
  const message = (err as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `${where}: not valid YAML: ${message}`;
}

function fromYaml(label: string, text: string): SourceDocument {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    return { label, document: undefined, problems: [yamlProblem(err)], warnings: [] };
  }
  document ??= {};
  if (!isMapping(document)) return { label, document: undefined, problems: ['(root): expected a mapping with receivers, exporters and service'], warnings: [] };
  return { label, document, problems: [], warnings: [] };
}

/** Reads one source. Problems (a missing file, bad YAML) are its own, without a key path. */
export async function readSource(source: ConfigSource, env: NodeJS.ProcessEnv): Promise<SourceDocument> {
  if (source.kind === 'default') {
    const embedded = defaultDocument(env);
    return { label: DEFAULT_LABEL, document: embedded.document, problems: embedded.problems, warnings: embedded.warnings };
  }
  if (source.kind === 'set') {
    const label = setLabel(source.assignment);
    const keys = parseSetKey(source.assignment);
    if (typeof keys === 'string') return { label, document: undefined, problems: [keys], warnings: [] };
    const text = source.assignment.slice(source.assignment.indexOf('=') + 1).trim();
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch {
      // Not YAML (`@token`, `a: b: c`): the text itself, as confmap takes what is not YAML.
      value = text;
    }
    let document: unknown = value;
    for (let i = keys.length - 1; i >= 0; i--) document = { [keys[i]!]: document };
    return { label, document: document as Record<string, unknown>, problems: [], warnings: [] };
  }
  const { uri } = source;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(uri)?.[1];
  if (scheme === 'yaml') {
    const read = fromYaml(yamlLabel(uri.slice(5)), uri.slice(5));
    return read.document === undefined ? read : { ...read, document: splitDelimitedKeys(read.document) as Record<string, unknown> };
  }
  if (scheme === 'env') {
    const name = uri.slice(4);
    const text = env[name];
    if (text === undefined || text.trim() === '') return { label: uri, document: undefined, problems: [`${name} is not set (--config env:${name} reads a whole config from it)`], warnings: [] };
    return fromYaml(uri, text);
  }
  if (scheme !== undefined && scheme !== 'file') {
    return { label: uri, document: undefined, problems: [`the ${scheme}: scheme is not supported here: give a path, or a file:, env: or yaml: URI`], warnings: [] };
  }
  const path = scheme === 'file' ? uri.slice(5) : uri;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
    return { label: uri, document: undefined, problems: [`cannot read the config: ${reason}`], warnings: [] };
  }
  return fromYaml(uri, text);
}

/**
 * `over` merged into `base` (neither changed): mappings key by key, anything else replaced.
 * `provenance`, when given, gets `label` for every key path `over` sets, and loses what `over`
 * replaced below those paths.
 */
export function mergeDocuments(base: Record<string, unknown>, over: Record<string, unknown>, label?: string, provenance?: Map<string, string>, path = ''): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const keyPath = path === '' ? key : `${path}.${key}`;
    const current = out[key];
    if (isMapping(current) && isMapping(value)) {
      out[key] = mergeDocuments(current, value, label, provenance, keyPath);
      continue;
    }
    out[key] = value;
    if (provenance !== undefined && label !== undefined) {
      for (const p of provenance.keys()) if (p.startsWith(`${keyPath}.`) || p.startsWith(`${keyPath}[`)) provenance.delete(p);
      provenance.set(keyPath, label);
    }
  }
  return out;
}

/**
 * The source that set the key a `path: message` line is about (the longest key path it starts
 * with), or undefined when the line names no key a source set.
 */
export function sourceOfLine(line: string, provenance: ReadonlyMap<string, string>): string | undefined {
  const colon = line.indexOf(': ');
  const path = colon < 0 ? line : line.slice(0, colon);
  let best: string | undefined;
  let bestLength = -1;
  for (const [p, label] of provenance) {
    if (p.length <= bestLength) continue;
    if (path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) {
      best = label;
      bestLength = p.length;
    }
  }
  return best;
}
