/**
 * The effective config, as the Collector's `print-config` shows it: the sources merged, the
 * references expanded, and each component's defaults filled in where the config leaves a key out,
 * written as a config writes them (`timeout: 10s`, `endpoint: 127.0.0.1:8080`), so the output is
 * itself a config that validates to the same thing. Secrets are masked as `[REDACTED]` (the
 * Collector's mask) unless asked otherwise.
 *
 * Masked: values under a secret-looking key (password, token, secret, api_key, authorization,
 * credentials...), every header value, the userinfo of a URL (`https://[REDACTED]@host`), a value
 * that came from a `${env:}` or `${file:}` whose name looks secret, and the lines of an inline
 * htpasswd. `service` is printed as written: the Collector adds its telemetry defaults there; we
 * do not (its schema is being reworked).
 */
import type { z } from 'zod';
import { COMPONENT_SCHEMAS, componentType, type ComponentKind } from './components.ts';
import type { Expansion } from './expand.ts';
import { duration, hostPort } from './units.ts';

export const REDACTED = '[REDACTED]';

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

const DURATION_INPUT = defOf(duration).in;
const HOST_PORT_OUTPUT = defOf(hostPort).out;

/** Milliseconds as a Go duration, the way configs write them: 5m, 1m30s, 1.5s, 200ms, 0s. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  const hours = Math.floor(rest / 3_600_000);
  if (hours > 0) out += `${hours}h`;
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  if (minutes > 0) out += `${minutes}m`;
  rest -= minutes * 60_000;
  if (rest > 0) out += `${rest / 1000}s`;
  return out;
}

function isPlainData(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value as object).every(isPlainData);
  return false;
}

/** A `.default()` value is what parsing gives (its output form): back to what a config writes. */
function inputForm(schema: unknown, value: unknown): unknown {
  const def = defOf(schema);
  if (def.type === 'pipe' && def.in === DURATION_INPUT && typeof value === 'number') return formatDuration(value);
  if (def.type === 'pipe' && def.out === HOST_PORT_OUTPUT && value !== null && typeof value === 'object') {
    const { host, port } = value as { host: string; port: number };
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  return isPlainData(value) ? value : undefined;
}

/** `value` (a config as written) with the defaults `schema` would apply, in the written form. */
export function withDefaults(schema: unknown, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'readonly':
      return value === undefined || value === null ? value : withDefaults(def.innerType, value);
    case 'default':
      return value === undefined ? inputForm(def.innerType, def.defaultValue) : withDefaults(def.innerType, value);
    case 'prefault':
      return withDefaults(def.innerType, value === undefined ? def.defaultValue : value);
    case 'pipe':
      return withDefaults(def.in, value);
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = def.shape as Record<string, unknown>;
      const given = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(shape)) {
        const filled = withDefaults(field, given[key]);
        if (filled !== undefined) out[key] = filled;
      }
      for (const [key, v] of Object.entries(given)) if (!(key in shape)) out[key] = v;
      return out;
    }
    case 'array':
      return Array.isArray(value) ? value.map((v) => withDefaults(def.element, v)) : value;
    case 'record':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDefaults(def.valueType, v)]));
    case 'union': {
      if (value === undefined) return value;
      const option = (def.options as z.ZodType[]).find((o) => o.safeParse(value).success);
      return option === undefined ? value : withDefaults(option, value);
    }
    default:
      return value;
  }
}

const SECRET_KEY = /pass(word|phrase)?$|secret|token|api_?key|apikey|access_?key|private_?key|license_?key|auth(orization)?$|credential|cookie|signature|^dsn$|bearer|key_pem$/i;
/** Keys that name a file or an id, not a secret, although their words look like one. */
const NOT_SECRET_KEY = /_(file|path|dir|directory|id|name|env|header|type|ttl|interval|timeout)$|^(authenticator|accept_tokenless_drains|unknown_token|token_shapes)$/i;
/** Whose every value is a secret: header values, an inline htpasswd. */
const SECRET_CONTAINERS = new Set(['headers', 'htpasswd']);
const SECRET_REFERENCE = /secret|token|pass|key|auth|credential/i;
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]+)@/i;

function looksSecret(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

/** headers_setter's `headers` is a list of `{key, value, action}`: only the values are secret. */
const HEADER_ENTRY_SECRETS = new Set(['value', 'default_value']);

function redact(value: unknown, path: string, keyPath: readonly string[], secretPaths: ReadonlySet<string>): unknown {
  if (Array.isArray(value) && keyPath[keyPath.length - 1] === 'headers') {
    return value.map((entry, i) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return REDACTED;
      const at = `${path}[${i}]`;
      return Object.fromEntries(
        Object.entries(entry).map(([k, v]) => [k, HEADER_ENTRY_SECRETS.has(k) && v !== '' && v !== null && v !== undefined ? REDACTED : redact(v, `${at}.${k}`, [...keyPath, 'entry', k], secretPaths)]),
      );
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => redact(v, `${path}[${i}]`, keyPath, secretPaths));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, path === '' ? k : `${path}.${k}`, [...keyPath, k], secretPaths)]));
  }
  const key = keyPath[keyPath.length - 1] ?? '';
  const parent = keyPath[keyPath.length - 2] ?? '';
  if (value === null || value === undefined || value === '') return value;
  if (looksSecret(key) || SECRET_CONTAINERS.has(parent) || secretPaths.has(path)) return REDACTED;
  if (typeof value === 'string') return value.replace(URL_USERINFO, `$1${REDACTED}@`);
  return value;
}

export interface PrintableConfig {
  /** The expanded document (ConfigResult.document). */
  document: Record<string, unknown>;
  /** Where it took values from the environment or files (ConfigResult.expansions). */
  expansions: readonly Expansion[];
}

const KINDS: readonly ComponentKind[] = ['receivers', 'processors', 'exporters', 'extensions'];

/**
 * The effective config: every component with its defaults, `service` as written; masked unless
 * `unredacted`. Call it on a config that validated (a component of an unknown type is kept as
 * written).
 */
export function effectiveConfig(printable: PrintableConfig, options: { unredacted?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of KINDS) {
    const components = printable.document[kind];
    if (components === undefined || components === null || typeof components !== 'object') continue;
    out[kind] = Object.fromEntries(
      Object.entries(components as Record<string, unknown>).map(([id, settings]) => {
        const schema = COMPONENT_SCHEMAS[kind][componentType(id) ?? ''];
        return [id, schema === undefined ? settings : withDefaults(schema, settings ?? {})];
      }),
    );
  }
  for (const [key, value] of Object.entries(printable.document)) if (!(key in out)) out[key] = value;
  if (options.unredacted) return out;
  // A value built from a reference whose name looks secret (${env:SHOP_API_TOKEN}, ${file:/run/secrets/x}).
  const secretPaths = new Set(printable.expansions.filter((e) => e.values.some((v) => SECRET_REFERENCE.test(v.reference))).map((e) => e.path));
  return redact(out, '', [], secretPaths) as Record<string, unknown>;
}
