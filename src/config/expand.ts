/**
 * References in config values, as the Collector's confmap expands them: after the YAML is parsed
 * and the sources merged, in string values only (never in keys), so an environment value can
 * never change the document's shape.
 *
 * - `${env:VAR}`, `${env:VAR:-default}`: an environment variable (the default when it is unset or
 *   empty; unset without a default: an empty string and a warning).
 * - `${VAR}`, `${VAR:-default}`: the same; `env` is the default scheme, as in the Collector.
 * - `${file:PATH}`: a file's content (PATH relative to the working directory), one trailing
 *   newline dropped (`echo secret > file` writes one; a header value cannot hold it).
 * - `$$` writes a literal `$`; `$VAR` without braces is left as it is (the Collector stopped
 *   expanding it).
 *
 * A value that is one reference alone takes the type its text reads as (`${env:PORT}` -> 8080,
 * `true` a boolean); anything else stays a string. A value read from the environment or a file is
 * taken as it is: references inside it are not expanded again.
 */
import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml.ts';

export interface ExpandProblem {
  path: string;
  message: string;
}

/**
 * A string that took values from the environment or files: what the config says
 * (`https://${env:KEY}@x`), what it became, its key path, and each value with the reference it
 * came from (`${env:KEY}`, `${file:/run/secrets/key}`), so that no message quotes those values.
 */
export interface Expansion {
  path: string;
  source: string;
  expanded: string;
  values: Array<{ reference: string; value: string }>;
}

/** What a reference can read: the environment, and files (replaceable in tests). */
export interface ExpandContext {
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+$/;

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
}

interface Resolved {
  value: string;
  /** Set when the value came from somewhere: the reference as a message may show it instead. */
  reference?: string;
}

/** One `${...}` (its inside), or a problem message. */
function resolve(inner: string, context: ExpandContext, path: string, warnings: string[]): Resolved | string {
  const colon = inner.indexOf(':');
  let scheme = colon < 0 ? '' : inner.slice(0, colon);
  let rest = colon < 0 ? inner : inner.slice(colon + 1);
  // `${VAR}` and `${VAR:-default}`: env, the Collector's default scheme (it refuses the second
  // form, which people bring from shell and compose files; its meaning is not in doubt).
  if (scheme === '' || (rest.startsWith('-') && scheme !== 'env' && scheme !== 'file' && ENV_NAME.test(scheme))) {
    scheme = 'env';
    rest = inner;
  }
  if (scheme === 'env') {
    const dash = rest.indexOf(':-');
    const name = dash < 0 ? rest : rest.slice(0, dash);
    const fallback = dash < 0 ? undefined : rest.slice(dash + 2);
    if (!ENV_NAME.test(name)) return `"\${${inner}}" is not \${env:NAME} or \${env:NAME:-default} (a name is letters, digits and _)`;
    const value = context.env[name];
    if (value !== undefined && value !== '') return { value, reference: `\${env:${name}}` };
    if (fallback !== undefined) return { value: fallback };
    if (value === undefined) warnings.push(`${path}: ${name} is not set; it expands to an empty string`);
    return { value: '' };
  }
  if (scheme === 'file') {
    if (rest === '') return '"${file:}" names no file';
    let text: string;
    try {
      text = (context.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(rest);
    } catch (err) {
      return `cannot read \${file:${rest}}: ${readProblem(err)}`;
    }
    return { value: text.replace(/\r?\n$/, ''), reference: `\${file:${rest}}` };
  }
  if (SCHEME.test(scheme)) return `"\${${scheme}:...}": the ${scheme} scheme is not supported here (env and file are)`;
  return `"\${${inner}}" is not a reference such as \${env:NAME}, \${env:NAME:-default} or \${file:PATH}`;
}

function expandString(value: string, context: ExpandContext, path: string, problems: ExpandProblem[], warnings: string[], expansions: Expansion[]): unknown {
  let out = '';
  let whole: string | undefined;
  const values: Expansion['values'] = [];
  let i = 0;
  while (i < value.length) {
    const dollar = value.indexOf('$', i);
    if (dollar < 0 || dollar === value.length - 1) {
      out += value.slice(i);
      break;
    }
    out += value.slice(i, dollar);
    const next = value[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    const close = next === '{' ? value.indexOf('}', dollar + 2) : -1;
    if (close < 0) {
      // `$VAR`, or `${` never closed: text, as in the Collector.
      out += '$';
      i = dollar + 1;
      continue;
    }
    const inner = value.slice(dollar + 2, close);
    const resolved = inner.includes('${') ? `"${value.slice(dollar, close + 1)}": a reference inside a reference is not supported` : resolve(inner, context, path, warnings);
    if (typeof resolved === 'string') {
      problems.push({ path, message: resolved });
      out += value.slice(dollar, close + 1);
    } else {
      if (dollar === 0 && close === value.length - 1) whole = resolved.value;
      if (resolved.reference !== undefined && resolved.value !== '') values.push({ reference: resolved.reference, value: resolved.value });
      out += resolved.value;
    }
    i = close + 1;
  }
  if (values.length > 0) expansions.push({ path, source: value, expanded: out, values });
  if (whole !== undefined) {
    // One reference alone: `8080` is a number, `true` a boolean, as if written in the YAML.
    try {
      const typed: unknown = parseYaml(whole);
      if (typeof typed === 'number' || typeof typed === 'boolean') return typed;
    } catch {
      // not a YAML scalar: keep the text
    }
  }
  return out;
}

/**
 * Expands every string of a parsed config. `problems` are errors (an unknown scheme, a file that
 * cannot be read), `warnings` unset variables; `expansions` records every string that took a value
 * from the environment or a file.
 */
export function expandReferences(value: unknown, context: ExpandContext, problems: ExpandProblem[], warnings: string[], expansions: Expansion[] = [], path = ''): unknown {
  if (typeof value === 'string') return value.includes('$') ? expandString(value, context, path || '(root)', problems, warnings, expansions) : value;
  if (Array.isArray(value)) return value.map((v, i) => expandReferences(v, context, problems, warnings, expansions, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandReferences(v, context, problems, warnings, expansions, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/** Shorter values are left alone: they hide no secret, and would garble every message. */
const MIN_MASKED_LENGTH = 4;

/**
 * `message` with every value taken from the environment or a file put back as the config wrote
 * it: the whole string as its source (`https://${env:API_KEY}@x`), any other occurrence of a value
 * as its reference (`${env:NAME}`, `${file:PATH}`).
 */
export function maskExpansions(message: string, expansions: readonly Expansion[]): string {
  for (const e of expansions) {
    if (e.expanded.length >= MIN_MASKED_LENGTH && message.includes(e.expanded)) message = message.split(e.expanded).join(e.source);
  }
  for (const e of expansions) {
    for (const { reference, value } of e.values) {
      if (value.length >= MIN_MASKED_LENGTH && message.includes(value)) message = message.split(value).join(reference);
    }
  }
  return message;
}
