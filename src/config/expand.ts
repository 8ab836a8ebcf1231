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

const REFERENCE = /\$\$|\$\{([^}]*)\}/g;

function expandString(value: string, env: NodeJS.ProcessEnv, path: string, problems: ExpandProblem[], warnings: string[]): unknown {
  let whole: string | undefined;
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
    return resolved;
  });
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

/** Expands every string of a parsed config. `problems` are errors, `warnings` unset variables. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: ExpandProblem[], warnings: string[], path = ''): unknown {
  if (typeof value === 'string') return value.includes('$') ? expandString(value, env, path || '(root)', problems, warnings) : value;
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, warnings, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, warnings, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
