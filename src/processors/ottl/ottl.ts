/**
 * A subset of OTTL, the OpenTelemetry Transformation Language of the Collector's filter and
 * transform processors, parsed once at config time into closures. What is in it:
 *
 * - paths, log context: `body`, `severity_number`, `severity_text`, `event_name`,
 *   `attributes["k"]`, `resource.attributes["k"]` (and the `log.` prefixed forms, `log.body`...);
 *   metric and datapoint contexts: `metric.name` (`name`), `metric.unit`, `metric.type`,
 *   `attributes["k"]`, `value_double`, `value_int`, `resource.attributes["k"]`; span context:
 *   `name`, `kind`, `status.code`, `status.message`, `attributes["k"]`, `trace_id.string`,
 *   `span_id.string`, `parent_span_id.string`, `resource.attributes["k"]` (and `span.name`...);
 * - literals: strings (`"..."` with `\\` escapes), ints, floats, `true`, `false`, `nil`; enums
 *   `SEVERITY_NUMBER_*`, `METRIC_DATA_TYPE_*`, `SPAN_KIND_*` and `STATUS_CODE_*`;
 * - `==`, `!=`, `<`, `<=`, `>`, `>=` with OTTL's rules (values of different types are never
 *   equal, and never ordered; ints and floats compare as numbers; nil equals nil only);
 *   `and`, `or`, `not`, parentheses;
 * - converters: IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap (false), ToLowerCase,
 *   ToUpperCase, Len, Int, Double, String, Concat;
 * - editors (transform): set, delete_key, delete_matching_keys, keep_keys, truncate_all,
 *   limit, replace_pattern, replace_all_patterns, replace_match, with `where`.
 */
import type { AttributeValue, Attributes, LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';
import { compileGoRegexp } from '../attributes/regexp.ts';

export type OttlContext = 'log' | 'resource' | 'metric' | 'datapoint' | 'span';

/** What a statement or condition runs on: one record, point or span, and its resource (changed on a copy). */
export interface Target {
  record?: LogRecordData;
  point?: MetricPointData;
  span?: SpanData;
  resource: Attributes;
}

type Value = AttributeValue | undefined | null | Attributes;
type Getter = (t: Target) => Value;
interface PathRef {
  get: Getter;
  /** Sets the value; undefined when the path cannot be set. */
  set?: (t: Target, v: Value) => void;
  /** The map a path names (attributes), for the map editors. */
  map?: (t: Target) => Attributes | undefined;
}

export class OttlError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} (column ${column + 1})`);
    this.column = column;
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

type Token = { kind: 'string' | 'number' | 'ident' | 'op' | 'punct' | 'end'; text: string; value?: string | number; at: number };

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if (c === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new OttlError('a string is not closed', at);
        const d = source[i]!;
        if (d === '\\' && i + 1 < source.length) {
          const e = source[i + 1]!;
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        if (d === '"') break;
        out += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: source.slice(at, i), value: out, at });
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      i++;
      while (i < source.length && /[0-9.eE+-]/.test(source[i]!) && !(/[+-]/.test(source[i]!) && !/[eE]/.test(source[i - 1]!))) i++;
      const text = source.slice(at, i);
      const value = Number(text);
      if (!Number.isFinite(value)) throw new OttlError(`"${text}" is not a number`, at);
      tokens.push({ kind: 'number', text, value, at });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i]!)) i++;
      tokens.push({ kind: 'ident', text: source.slice(at, i), at });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, at });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, at });
      i++;
      continue;
    }
    if ('()[],.'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at });
      i++;
      continue;
    }
    throw new OttlError(`unexpected "${c}"`, at);
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Values

const SEVERITY: Record<string, number> = {
  UNSPECIFIED: 0, TRACE: 1, TRACE2: 2, TRACE3: 3, TRACE4: 4, DEBUG: 5, DEBUG2: 6, DEBUG3: 7, DEBUG4: 8, INFO: 9, INFO2: 10, INFO3: 11, INFO4: 12,
  WARN: 13, WARN2: 14, WARN3: 15, WARN4: 16, ERROR: 17, ERROR2: 18, ERROR3: 19, ERROR4: 20, FATAL: 21, FATAL2: 22, FATAL3: 23, FATAL4: 24,
};
const METRIC_TYPE: Record<string, number> = { NONE: 0, GAUGE: 1, SUM: 2, HISTOGRAM: 3, EXPONENTIAL_HISTOGRAM: 4, SUMMARY: 5 };
/** OTLP's Span.SpanKind and Status.StatusCode, as OTTL's enums name them. */
const SPAN_KIND: Record<string, number> = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS_CODE: Record<string, number> = { UNSET: 0, OK: 1, ERROR: 2 };
const ENUMS: ReadonlyArray<[string, Record<string, number>]> = [
  ['SEVERITY_NUMBER_', SEVERITY],
  ['METRIC_DATA_TYPE_', METRIC_TYPE],
  ['SPAN_KIND_', SPAN_KIND],
  ['STATUS_CODE_', STATUS_CODE],
];

function metricTypeOf(p: MetricPointData): number {
  return p.type === 'gauge' ? 1 : p.type === 'histogram' ? 3 : 2;
}

function isMap(v: Value): v is Attributes {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** OTTL's equality: values of different types are not equal; ints and floats compare as numbers. */
function equal(a: Value, b: Value): boolean {
  const na = a === undefined ? null : a;
  const nb = b === undefined ? null : b;
  if (na === null || nb === null) return na === nb;
  if (typeof na !== typeof nb) return false;
  if (Array.isArray(na) || Array.isArray(nb)) return JSON.stringify(na) === JSON.stringify(nb);
  if (typeof na === 'object') return JSON.stringify(na) === JSON.stringify(nb);
  return na === nb;
}

function compare(op: string, a: Value, b: Value): boolean {
  if (op === '==') return equal(a, b);
  if (op === '!=') return !equal(a, b);
  // Ordered comparison: numbers with numbers, strings with strings, else false.
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

type Fn = (args: Getter[], at: number, paths: Array<PathRef | undefined>) => Getter;

const CONVERTERS: Record<string, { arity: [number, number]; make: Fn }> = {
  IsMatch: {
    arity: [2, 2],
    make: ([target, pattern], at) => {
      const source = constant(pattern!, at, 'IsMatch\'s pattern');
      const re = compileRegexp(String(source), at);
      return (t) => {
        const v = target!(t);
        if (v === undefined || v === null) return false;
        if (typeof v === 'string') return re.test(v);
        if (typeof v === 'number' || typeof v === 'boolean') return re.test(String(v));
        return false;
      };
    },
  },
  IsString: { arity: [1, 1], make: ([v]) => (t) => typeof v!(t) === 'string' },
  IsInt: { arity: [1, 1], make: ([v]) => (t) => Number.isInteger(v!(t)) },
  IsDouble: { arity: [1, 1], make: ([v]) => (t) => typeof v!(t) === 'number' && !Number.isInteger(v!(t)) },
  IsBool: { arity: [1, 1], make: ([v]) => (t) => typeof v!(t) === 'boolean' },
  IsMap: { arity: [1, 1], make: ([v]) => (t) => isMap(v!(t)) },
  ToLowerCase: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); return typeof x === 'string' ? x.toLowerCase() : null; } },
  ToUpperCase: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); return typeof x === 'string' ? x.toUpperCase() : null; } },
  Len: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); return typeof x === 'string' || Array.isArray(x) ? x.length : isMap(x) ? Object.keys(x).length : null; } },
  Int: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); const n = typeof x === 'boolean' ? Number(x) : typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN; return Number.isFinite(n) ? Math.trunc(n) : null; } },
  Double: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); const n = typeof x === 'boolean' ? Number(x) : typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN; return Number.isFinite(n) ? n : null; } },
  String: { arity: [1, 1], make: ([v]) => (t) => { const x = v!(t); return x === undefined || x === null ? null : typeof x === 'object' ? JSON.stringify(x) : String(x); } },
  Concat: {
    arity: [2, 2],
    make: ([list, sep]) => (t) => {
      const items = list!(t);
      const s = sep!(t);
      if (!Array.isArray(items)) return null;
      return items.map((x) => (x === null || x === undefined ? '' : String(x))).join(typeof s === 'string' ? s : '');
    },
  },
};

function constant(g: Getter, at: number, what: string): Value {
  const probe = (g as Getter & { literal?: Value }).literal;
  if (probe === undefined) throw new OttlError(`${what} must be a literal`, at);
  return probe;
}

/** OTTL's patterns are Go's RE2, as attributes' and redaction's: translated or refused the same way. */
function compileRegexp(source: string, at: number): RegExp {
  const compiled = compileGoRegexp(source);
  if (!compiled.ok) throw new OttlError(compiled.problem.startsWith('not a valid') ? compiled.problem : `not a valid regular expression here: ${compiled.problem}`, at);
  return compiled.regexp;
}

function literal(v: Value): Getter {
  const g = (() => v) as Getter & { literal?: Value };
  g.literal = v;
  return g;
}

class Parser {
  private _i = 0;
  private readonly _tokens: Token[];
  private readonly _context: OttlContext;
  constructor(tokens: Token[], context: OttlContext) {
    this._tokens = tokens;
    this._context = context;
  }

  /** Moves to token `i` (a statement's arguments start after its editor's name). */
  seek(i: number): void {
    this._i = i;
  }

  private get _peek(): Token {
    return this._tokens[this._i]!;
  }
  private _next(): Token {
    return this._tokens[this._i++]!;
  }
  private _expect(text: string): Token {
    const t = this._next();
    if (t.text !== text) throw new OttlError(`expected "${text}", got ${t.kind === 'end' ? 'the end' : `"${t.text}"`}`, t.at);
    return t;
  }
  done(): void {
    const t = this._peek;
    if (t.kind !== 'end') throw new OttlError(`unexpected "${t.text}"`, t.at);
  }
  isWhere(): boolean {
    return this._peek.kind === 'ident' && this._peek.text === 'where';
  }
  skipWhere(): void {
    this._next();
  }

  // condition := or
  condition(): (t: Target) => boolean {
    const left = this._and();
    if (this._peek.kind === 'ident' && this._peek.text === 'or') {
      this._next();
      const right = this.condition();
      return (t) => left(t) || right(t);
    }
    return left;
  }
  private _and(): (t: Target) => boolean {
    const left = this._not();
    if (this._peek.kind === 'ident' && this._peek.text === 'and') {
      this._next();
      const right = this._and();
      return (t) => left(t) && right(t);
    }
    return left;
  }
  private _not(): (t: Target) => boolean {
    if (this._peek.kind === 'ident' && this._peek.text === 'not') {
      this._next();
      const inner = this._not();
      return (t) => !inner(t);
    }
    if (this._peek.text === '(') {
      // A parenthesised condition, or a value in parentheses: try the condition.
      const save = this._i;
      this._next();
      try {
        const inner = this.condition();
        this._expect(')');
        if (this._peek.kind !== 'op') return inner;
      } catch {
        // not a condition in parentheses
      }
      this._i = save;
    }
    const at = this._peek.at;
    const left = this.value();
    if (this._peek.kind === 'op') {
      const op = this._next().text;
      const right = this.value();
      return (t) => compare(op, left.get(t), right.get(t));
    }
    // A bare value: true and false literals, or a converter returning a boolean.
    return (t) => {
      const v = left.get(t);
      if (typeof v !== 'boolean') throw new OttlError('a condition that is not a boolean', at);
      return v;
    };
  }

  /** A value: literal, enum, path, converter call, or list. */
  value(): PathRef {
    const t = this._next();
    if (t.kind === 'string' || t.kind === 'number') return { get: literal(t.value!) };
    if (t.text === '[') {
      const items: Getter[] = [];
      if (this._peek.text !== ']') {
        for (;;) {
          items.push(this.value().get);
          if (this._peek.text === ',') this._next();
          else break;
        }
      }
      this._expect(']');
      return { get: (x) => items.map((g) => g(x)) as AttributeValue };
    }
    if (t.kind !== 'ident') throw new OttlError(`expected a value, got ${t.kind === 'end' ? 'the end' : `"${t.text}"`}`, t.at);
    if (t.text === 'true' || t.text === 'false') return { get: literal(t.text === 'true') };
    if (t.text === 'nil') return { get: literal(null) };
    for (const [prefix, members] of ENUMS) {
      if (!t.text.startsWith(prefix)) continue;
      const n = members[t.text.slice(prefix.length)];
      if (n === undefined) throw new OttlError(`unknown enum ${t.text}`, t.at);
      return { get: literal(n) };
    }
    if (this._peek.text === '(' && /^[A-Z]/.test(t.text)) {
      const converter = CONVERTERS[t.text];
      if (converter === undefined) throw new OttlError(`converter ${t.text} is not supported here (supported: ${Object.keys(CONVERTERS).join(', ')})`, t.at);
      const args = this.args();
      if (args.length < converter.arity[0] || args.length > converter.arity[1]) throw new OttlError(`${t.text} takes ${converter.arity[0]} arguments, got ${args.length}`, t.at);
      return { get: converter.make(args.map((a) => a.get), t.at, args) };
    }
    return this._path(t);
  }

  args(): PathRef[] {
    this._expect('(');
    const args: PathRef[] = [];
    if (this._peek.text !== ')') {
      for (;;) {
        args.push(this.value());
        if (this._peek.text === ',') this._next();
        else break;
      }
    }
    this._expect(')');
    return args;
  }

  private _path(first: Token): PathRef {
    const parts = [first.text];
    while (this._peek.text === '.') {
      this._next();
      const t = this._next();
      if (t.kind !== 'ident') throw new OttlError('expected a name after "."', t.at);
      parts.push(t.text);
    }
    let key: string | undefined;
    if (this._peek.text === '[') {
      this._next();
      const k = this._next();
      if (k.kind !== 'string') throw new OttlError('expected a "key" in [ ]', k.at);
      key = k.value as string;
      this._expect(']');
      if (this._peek.text === '[') throw new OttlError('nested keys (maps in attributes) are not supported here', this._peek.at);
    }
    // The context prefix is optional (`log.body` and `body`).
    if (parts[0] === this._context) parts.shift();
    const path = parts.join('.');
    const map = (which: (t: Target) => Attributes | undefined): PathRef =>
      key === undefined
        ? { get: (t) => which(t), map: which }
        : { get: (t) => which(t)?.[key!], set: (t, v) => setKey(which(t), key!, v) };
    if (this._context === 'resource' && path === 'attributes') return map((t) => t.resource);
    // Read-only outside the resource context: one resource object serves a whole drain.
    if (path === 'resource.attributes') return key === undefined ? { get: (t) => t.resource } : { get: (t) => t.resource[key!] };
    if (path === 'attributes' && this._context !== 'resource' && this._context !== 'metric') return map((t) => t.record?.attributes ?? t.point?.attributes ?? t.span?.attributes);
    if (key === undefined) {
      if (this._context === 'log') {
        if (path === 'body') return { get: (t) => t.record?.body, set: (t, v) => { if (t.record) t.record.body = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); } };
        if (path === 'severity_number') return { get: (t) => t.record?.severityNumber, set: (t, v) => { if (t.record && typeof v === 'number') t.record.severityNumber = v; } };
        if (path === 'severity_text') return { get: (t) => t.record?.severityText, set: (t, v) => { if (t.record && typeof v === 'string') t.record.severityText = v; } };
        if (path === 'event_name') return { get: (t) => t.record?.eventName, set: (t, v) => { if (t.record && typeof v === 'string') t.record.eventName = v; } };
        if (path === 'trace_id.string') return { get: (t) => t.record?.traceId ?? '' };
        if (path === 'span_id.string') return { get: (t) => t.record?.spanId ?? '' };
      }
      if (this._context === 'span') {
        if (path === 'name') return { get: (t) => t.span?.name, set: (t, v) => { if (t.span && typeof v === 'string') t.span.name = v; } };
        if (path === 'kind') return { get: (t) => t.span?.kind, set: (t, v) => { if (t.span && typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) t.span.kind = v; } };
        if (path === 'status.code') return { get: (t) => t.span?.statusCode, set: (t, v) => { if (t.span && (v === 0 || v === 1 || v === 2)) t.span.statusCode = v; } };
        if (path === 'status.message') return { get: (t) => t.span?.statusMessage, set: (t, v) => { if (t.span && typeof v === 'string') t.span.statusMessage = v; } };
        if (path === 'trace_id.string') return { get: (t) => t.span?.traceId };
        if (path === 'span_id.string') return { get: (t) => t.span?.spanId };
        if (path === 'parent_span_id.string') return { get: (t) => t.span?.parentSpanId ?? '' };
      }
      if (this._context === 'metric' || this._context === 'datapoint') {
        if (path === 'metric.name' || (this._context === 'metric' && path === 'name')) return { get: (t) => t.point?.name };
        if (path === 'metric.unit' || (this._context === 'metric' && path === 'unit')) return { get: (t) => t.point?.unit };
        if (path === 'metric.type' || (this._context === 'metric' && path === 'type')) return { get: (t) => (t.point ? metricTypeOf(t.point) : undefined) };
        if (this._context === 'datapoint' && (path === 'value_double' || path === 'value_int')) {
          const int = path === 'value_int';
          return { get: (t) => (t.point && t.point.type !== 'histogram' ? (int ? Math.trunc(t.point.value) : t.point.value) : undefined), set: (t, v) => { if (t.point && typeof v === 'number') t.point.value = v; } };
        }
      }
    }
    throw new OttlError(`path "${path}${key === undefined ? '' : `["${key}"]`}" is not supported in the ${this._context} context`, first.at);
  }
}

function setKey(map: Attributes | undefined, key: string, v: Value): void {
  if (map === undefined) return;
  if (v === undefined || v === null) delete map[key];
  else if (!isMap(v)) map[key] = v;
  else map[key] = JSON.stringify(v);
}

/** A condition (filter, `where`), compiled. Throws OttlError with the column. */
export function compileCondition(source: string, context: OttlContext): (t: Target) => boolean {
  const p = new Parser(lex(source), context);
  const cond = p.condition();
  p.done();
  return cond;
}

// ---------------------------------------------------------------------------------------------
// Editors (transform)

type Editor = (args: PathRef[], at: number) => (t: Target) => void;

function stringArg(a: PathRef | undefined, at: number, what: string): string {
  const v = a === undefined ? undefined : constant(a.get, at, what);
  if (typeof v !== 'string') throw new OttlError(`${what} must be a string literal`, at);
  return v;
}

function needMap(a: PathRef | undefined, at: number, fn: string): (t: Target) => Attributes | undefined {
  if (a?.map === undefined) throw new OttlError(`${fn}'s first argument must be a map such as attributes or resource.attributes`, at);
  return a.map;
}

function replaceIn(a: PathRef, at: number, fn: string, replace: (s: string) => string): (t: Target) => void {
  if (a.map !== undefined) {
    const map = a.map;
    return (t) => {
      const m = map(t);
      if (m === undefined) return;
      for (const [k, v] of Object.entries(m)) if (typeof v === 'string') m[k] = replace(v);
    };
  }
  if (a.set === undefined) throw new OttlError(`${fn}'s first argument cannot be changed`, at);
  const set = a.set;
  return (t) => {
    const v = a.get(t);
    if (typeof v === 'string') set(t, replace(v));
  };
}

/** Arguments each editor takes here: [least, most, why OTTL's optional ones are not]. */
const EDITOR_ARITY: Record<string, [number, number, string?]> = {
  set: [2, 2],
  delete_key: [2, 2],
  delete_matching_keys: [2, 2],
  keep_keys: [2, 2],
  truncate_all: [2, 2],
  limit: [2, 3],
  replace_pattern: [3, 3, 'the optional function and replacement format are not supported here'],
  replace_all_patterns: [4, 4, 'the optional function and replacement format are not supported here'],
  replace_match: [3, 3, 'the optional function and replacement format are not supported here'],
};

const EDITORS: Record<string, Editor> = {
  set: ([target, value], at) => {
    if (target?.set === undefined || value === undefined) throw new OttlError('set(target, value): the target must be a path that can be set', at);
    const set = target.set;
    return (t) => {
      const v = value.get(t);
      // OTTL: setting nil does nothing.
      if (v !== undefined && v !== null) set(t, v);
    };
  },
  delete_key: ([target, key], at) => {
    const map = needMap(target, at, 'delete_key');
    const k = stringArg(key, at, 'delete_key\'s key');
    return (t) => {
      const m = map(t);
      if (m !== undefined) delete m[k];
    };
  },
  delete_matching_keys: ([target, pattern], at) => {
    const map = needMap(target, at, 'delete_matching_keys');
    const re = compileRegexp(stringArg(pattern, at, 'delete_matching_keys\'s pattern'), at);
    return (t) => {
      const m = map(t);
      if (m !== undefined) for (const k of Object.keys(m)) if (re.test(k)) delete m[k];
    };
  },
  keep_keys: ([target, keys], at) => {
    const map = needMap(target, at, 'keep_keys');
    const list = keys === undefined ? undefined : constantList(keys, at);
    if (list === undefined) throw new OttlError('keep_keys(target, ["key", ...]): the keys must be a list of strings', at);
    const keep = new Set(list);
    return (t) => {
      const m = map(t);
      if (m !== undefined) for (const k of Object.keys(m)) if (!keep.has(k)) delete m[k];
    };
  },
  truncate_all: ([target, limit], at) => {
    const map = needMap(target, at, 'truncate_all');
    const n = limit === undefined ? undefined : constant(limit.get, at, 'truncate_all\'s limit');
    if (typeof n !== 'number' || n < 0) throw new OttlError('truncate_all(target, limit): limit must be a number 0 or more', at);
    return (t) => {
      const m = map(t);
      if (m !== undefined) for (const [k, v] of Object.entries(m)) if (typeof v === 'string' && v.length > n) m[k] = v.slice(0, n);
    };
  },
  limit: ([target, limit, priority], at) => {
    const map = needMap(target, at, 'limit');
    const n = limit === undefined ? undefined : constant(limit.get, at, 'limit\'s limit');
    if (typeof n !== 'number' || n < 0) throw new OttlError('limit(target, limit, [keys]): limit must be a number 0 or more', at);
    const first = priority === undefined ? [] : (constantList(priority, at) ?? []);
    return (t) => {
      const m = map(t);
      if (m === undefined) return;
      const keys = Object.keys(m);
      if (keys.length <= n) return;
      const kept = new Set(first.filter((k) => Object.hasOwn(m, k)).slice(0, n));
      for (const k of keys) if (kept.size < n) kept.add(k);
      for (const k of keys) if (!kept.has(k)) delete m[k];
    };
  },
  replace_pattern: ([target, pattern, replacement], at) => {
    if (target === undefined) throw new OttlError('replace_pattern(target, regex, replacement)', at);
    const re = compileRegexp(stringArg(pattern, at, 'replace_pattern\'s regex'), at);
    const global = new RegExp(re.source, `${re.flags.replace('g', '')}g`);
    const by = goReplacement(stringArg(replacement, at, 'replace_pattern\'s replacement'));
    return replaceIn(target, at, 'replace_pattern', (s) => s.replace(global, by));
  },
  replace_all_patterns: ([target, mode, pattern, replacement], at) => {
    const map = needMap(target, at, 'replace_all_patterns');
    const m = stringArg(mode, at, 'replace_all_patterns\'s mode');
    if (m !== 'key' && m !== 'value') throw new OttlError('replace_all_patterns\'s mode is "key" or "value"', at);
    const one = compileRegexp(stringArg(pattern, at, 'replace_all_patterns\'s regex'), at);
    const global = new RegExp(one.source, `${one.flags.replace('g', '')}g`);
    const by = goReplacement(stringArg(replacement, at, 'replace_all_patterns\'s replacement'));
    return (t) => {
      const attrs = map(t);
      if (attrs === undefined) return;
      for (const [k, v] of Object.entries(attrs)) {
        if (m === 'value') {
          if (typeof v === 'string') attrs[k] = v.replace(global, by);
        } else {
          const nk = k.replace(global, by);
          if (nk !== k) {
            delete attrs[k];
            attrs[nk] = v;
          }
        }
      }
    };
  },
  replace_match: ([target, pattern, replacement], at) => {
    if (target === undefined) throw new OttlError('replace_match(target, pattern, replacement)', at);
    const glob = globToRegExp(stringArg(pattern, at, 'replace_match\'s pattern'));
    const by = stringArg(replacement, at, 'replace_match\'s replacement');
    return replaceIn(target, at, 'replace_match', (s) => (glob.test(s) ? by : s));
  },
};

function constantList(a: PathRef, at: number): string[] | undefined {
  let v: Value;
  try {
    v = a.get({ resource: {} });
  } catch {
    throw new OttlError('expected a list of string literals', at);
  }
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/** Go's `$1` / `${name}` replacement syntax in JavaScript's: `$1` is the same, `${name}` is `$<name>`. */
function goReplacement(s: string): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => (/^\d+$/.test(name) ? `$${name}` : `$<${name}>`));
}

/** A glob (`*`, `?`) as replace_match reads it. */
function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (const c of glob) out += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${out}$`, 's');
}

/** A statement (`editor(args) where condition`), compiled. Throws OttlError with the column. */
export function compileStatement(source: string, context: OttlContext): (t: Target) => void {
  const tokens = lex(source);
  const p = new Parser(tokens, context);
  const name = tokens[0]!;
  if (name.kind !== 'ident' || tokens[1]?.text !== '(') throw new OttlError('a statement starts with an editor call such as set(...)', name.at);
  const editor = EDITORS[name.text];
  if (editor === undefined) throw new OttlError(`editor ${name.text} is not supported here (supported: ${Object.keys(EDITORS).join(', ')})`, name.at);
  p.seek(1);
  const args = p.args();
  const [min, max, more] = EDITOR_ARITY[name.text]!;
  if (args.length < min || args.length > max) {
    throw new OttlError(`${name.text} takes ${min === max ? min : `${min} or ${max}`} arguments here, got ${args.length}${args.length > max && more !== undefined ? ` (${more})` : ''}`, name.at);
  }
  const run = editor(args, name.at);
  if (p.isWhere()) {
    p.skipWhere();
    const cond = p.condition();
    p.done();
    return (t) => {
      if (cond(t)) run(t);
    };
  }
  p.done();
  return run;
}

/** The context a flat statement or condition names by its paths' prefixes (contrib's inference). */
export function inferContext(source: string, signal: 'logs' | 'metrics' | 'traces'): OttlContext {
  if (signal === 'traces') return /(^|[^.\w])span\.|(^|[(,\s])(name|kind|status|attributes|trace_id|span_id|parent_span_id)\b/.test(source) ? 'span' : /resource\./.test(source) ? 'resource' : 'span';
  if (signal === 'logs') return /(^|[^.\w])log\.|(^|[(,\s])(body|severity_number|severity_text|attributes|event_name)\b/.test(source) ? 'log' : /resource\./.test(source) ? 'resource' : 'log';
  if (/(^|[^.\w])datapoint\.|(^|[(,\s])(attributes|value_double|value_int)\b/.test(source)) return 'datapoint';
  if (/(^|[^.\w])metric\./.test(source)) return 'metric';
  return /resource\./.test(source) ? 'resource' : 'datapoint';
}
