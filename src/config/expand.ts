/**
 * `${env:VAR}` and `${env:VAR:-default}` in config values, as the Collector expands them: after the
 * YAML is parsed, in strings only, so an environment value can never change the document's shape.
 * A value that is one reference alone takes the type its text reads as (`${env:PORT}` -> 8080).
 * `$$` writes a literal `$`.
 */
import { parse as parseYaml } from 'yaml';

export interface ExpandProblem {
  path: string;
  message: string;
}

/**
 * A string that took values from the environment: what the file says (`https://${env:KEY}@x`),
 * what it became, and each variable's value, so that no message quotes those values.
 */
export interface Expansion {
  source: string;
  expanded: string;
  values: Array<{ name: string; value: string }>;
}

const REFERENCE = /\$\$|\$\{([^}]*)\}/g;

function expandString(value: string, env: NodeJS.ProcessEnv, path: string, problems: ExpandProblem[], warnings: string[], expansions: Expansion[]): unknown {
  let whole: string | undefined;
  const values: Expansion['values'] = [];
  const out = value.replace(REFERENCE, (match, inner: string | undefined, offset: number) => {
    if (match === '$$') return '$';
    const m = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner ?? '');
    if (!m) {
      problems.push({ path, message: `"${match}" is not \${env:NAME} or \${env:NAME:-default}` });
      return match;
    }
    const [, name, fallback] = m;
    let resolved = env[name!];
    if (resolved === undefined || resolved === '') {
      if (fallback !== undefined) resolved = fallback;
      else {
        if (resolved === undefined) warnings.push(`${path}: ${name} is not set; it expands to an empty string`);
        resolved = '';
      }
    }
    if (offset === 0 && match.length === value.length) whole = resolved;
    if (resolved !== '') values.push({ name: name!, value: resolved });
    return resolved;
  });
  if (values.length > 0) expansions.push({ source: value, expanded: out, values });
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
 * Expands every string of a parsed config. `problems` are errors, `warnings` unset variables;
 * `expansions` records every string that took a value from the environment.
 */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: ExpandProblem[], warnings: string[], expansions: Expansion[] = [], path = ''): unknown {
  if (typeof value === 'string') return value.includes('$') ? expandString(value, env, path || '(root)', problems, warnings, expansions) : value;
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, warnings, expansions, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, warnings, expansions, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/** Shorter values are left alone: they hide no secret, and would garble every message. */
const MIN_MASKED_LENGTH = 4;

/**
 * `message` with every value taken from the environment put back as the file wrote it: the whole
 * string as its source (`https://${env:API_KEY}@x`), any other occurrence of a variable's value as
 * `${env:NAME}`.
 */
export function maskExpansions(message: string, expansions: readonly Expansion[]): string {
  for (const e of expansions) {
    if (e.expanded.length >= MIN_MASKED_LENGTH && message.includes(e.expanded)) message = message.split(e.expanded).join(e.source);
  }
  for (const e of expansions) {
    for (const { name, value } of e.values) {
      if (value.length >= MIN_MASKED_LENGTH && message.includes(value)) message = message.split(value).join(`\${env:${name}}`);
    }
  }
  return message;
}
