/**
 * Attribute actions as the Collector's attributes and resource processors run them (contrib's
 * internal/coreinternal/attraction): insert, update, upsert, delete, hash, extract and convert,
 * applied in the order listed, with attraction's checks at config time (which fields each action
 * takes) and its effect on values. Patterns are compiled once, when the config is read.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AttributeValue, Attributes } from '../../translate/telemetry.ts';
import { goRegexpSchema, groupNames } from './regexp.ts';

const ACTIONS = ['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert'] as const;
export type ActionName = (typeof ACTIONS)[number];

/** A value a config may set: what our attributes hold (no maps, no lists of numbers). */
const valueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())], {
  error: 'a string, a number, a boolean or a list of strings (attributes here hold no maps nor lists of other types)',
});

const rawActionSchema = z.strictObject({
  /** The attribute acted upon (delete and hash: with or instead of `pattern`). */
  key: z.string().optional(),
  /** insert, update, upsert: the value set. */
  value: valueSchema.nullable().optional(),
  /** delete, hash: every key it matches. extract: applied to `key`'s value, its named groups become attributes. */
  pattern: goRegexpSchema.optional(),
  /** insert, update, upsert: copies this attribute's value; nothing happens when it is absent. */
  from_attribute: z.string().optional(),
  /** The Collector reads the request's client metadata here; no receiver here passes any on (refused). */
  from_context: z.string().optional(),
  /** convert: `int`, `double` or `string`. */
  converted_type: z.string().optional(),
  /** Case does not matter, as in the Collector. */
  action: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(ACTIONS)),
});

/** One action, checked and compiled. */
export interface Action {
  action: ActionName;
  key: string | undefined;
  value: AttributeValue | undefined;
  from_attribute: string | undefined;
  pattern: RegExp | undefined;
  converted_type: 'int' | 'double' | 'string' | undefined;
  /** extract: the attribute each group sets, in group order. */
  groups: string[];
}

/** attraction's checks (NewAttrProc), each problem on the key it is about. */
export const actionSchema = rawActionSchema.transform((a, ctx): Action => {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const has = (s: string | undefined) => s !== undefined && s !== '';
  const value = a.value ?? undefined;
  const sources = [value !== undefined, has(a.from_attribute), has(a.from_context)].filter(Boolean).length;
  if (has(a.from_context)) {
    problem('from_context', 'not supported here: it reads the request\'s client metadata (headers with include_metadata, auth.*, client.address) and no receiver here passes any on to processors (a drain\'s client is Logplex itself); use value or from_attribute');
  }
  const convertedType = a.converted_type;
  switch (a.action) {
    case 'insert':
    case 'update':
    case 'upsert':
      if (!has(a.key)) problem('key', `is required for ${a.action}`);
      if (sources === 0) problem('value', `${a.action} needs one of value, from_attribute or from_context`);
      if (sources > 1) problem('value', `${a.action} takes only one of value, from_attribute or from_context`);
      if (a.pattern !== undefined) problem('pattern', `${a.action} does not use pattern`);
      if (convertedType !== undefined) problem('converted_type', `${a.action} does not use converted_type`);
      break;
    case 'delete':
    case 'hash':
      if (!has(a.key) && a.pattern === undefined) problem('key', `${a.action} needs key, pattern or both`);
      if (value !== undefined || has(a.from_attribute)) problem(value !== undefined ? 'value' : 'from_attribute', `${a.action} does not use value or from_attribute`);
      if (convertedType !== undefined) problem('converted_type', `${a.action} does not use converted_type`);
      break;
    case 'extract':
      if (!has(a.key)) problem('key', 'is required for extract');
      if (sources > 0) problem(value !== undefined ? 'value' : 'from_attribute', 'extract does not use value, from_attribute or from_context');
      if (convertedType !== undefined) problem('converted_type', 'extract does not use converted_type');
      if (a.pattern === undefined) problem('pattern', 'is required for extract: a regular expression with named groups, (?P<name>...)');
      else {
        const names = groupNames(a.pattern);
        if (names.length === 0) problem('pattern', 'has no named group: extract sets one attribute per group, (?P<name>...)');
        else if (names.includes(undefined)) problem('pattern', 'has an unnamed group: every group of an extract pattern needs a name ((?:...) groups nothing)');
      }
      break;
    case 'convert':
      if (!has(a.key)) problem('key', 'is required for convert');
      if (sources > 0 || a.pattern !== undefined) problem(a.pattern !== undefined ? 'pattern' : 'value', 'convert does not use value sources or pattern');
      if (convertedType === undefined || convertedType === '') problem('converted_type', 'is required for convert: int, double or string');
      else if (!['int', 'double', 'string'].includes(convertedType)) problem('converted_type', `"${convertedType}" is not int, double or string`);
      break;
  }
  return {
    action: a.action,
    key: has(a.key) ? a.key : undefined,
    value,
    from_attribute: has(a.from_attribute) ? a.from_attribute : undefined,
    pattern: a.pattern,
    converted_type: convertedType as Action['converted_type'],
    groups: a.action === 'extract' && a.pattern !== undefined ? (groupNames(a.pattern) as string[]) : [],
  };
});

/** Runs the actions on `attributes`, in place, in order. */
export function applyActions(actions: readonly Action[], attributes: Attributes): void {
  for (const a of actions) {
    switch (a.action) {
      case 'insert':
      case 'update':
      case 'upsert': {
        const source = a.value !== undefined ? a.value : attributes[a.from_attribute!];
        if (source === undefined) break;
        const present = Object.hasOwn(attributes, a.key!);
        if ((a.action === 'insert' && present) || (a.action === 'update' && !present)) break;
        attributes[a.key!] = Array.isArray(source) ? [...source] : source;
        break;
      }
      case 'delete':
        if (a.key !== undefined) delete attributes[a.key];
        if (a.pattern !== undefined) for (const k of Object.keys(attributes)) if (a.pattern.test(k)) delete attributes[k];
        break;
      case 'hash':
        // As attraction: the key first, then every key the pattern matches (a key both name twice is hashed twice).
        if (a.key !== undefined && Object.hasOwn(attributes, a.key)) attributes[a.key] = hashValue(attributes[a.key]!);
        if (a.pattern !== undefined) for (const k of Object.keys(attributes)) if (a.pattern.test(k)) attributes[k] = hashValue(attributes[k]!);
        break;
      case 'extract': {
        const value = attributes[a.key!];
        if (typeof value !== 'string') break;
        const match = a.pattern!.exec(value);
        if (match === null) break;
        // Go's FindStringSubmatch gives "" for a group that took no part: attraction sets it so.
        for (let i = 0; i < a.groups.length; i++) attributes[a.groups[i]!] = match[i + 1] ?? '';
        break;
      }
      case 'convert':
        if (Object.hasOwn(attributes, a.key!)) attributes[a.key!] = convertValue(attributes[a.key!]!, a.converted_type!);
        break;
    }
  }
}

/**
 * attraction's hash (sha2Hasher): SHA-256, lower-case hex, of a string's UTF-8 bytes, a boolean's
 * one byte, an integer's 8 little-endian bytes (int64), another number's 8 little-endian bytes
 * (float64). An empty string and a list (which it hashes nothing of) become "".
 */
export function hashValue(value: AttributeValue): string {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (typeof value === 'boolean') bytes = Buffer.from([value ? 1 : 0]);
  else if (typeof value === 'number') {
    bytes = Buffer.alloc(8);
    if (Number.isSafeInteger(value)) bytes.writeBigInt64LE(BigInt(value));
    else bytes.writeDoubleLE(value);
  } else return '';
  if (bytes.length === 0) return '';
  return createHash('sha256').update(bytes).digest('hex');
}

/** strconv.ParseInt(s, 10, 64)'s accepted text. */
const GO_INT = /^[+-]?[0-9]+$/;
/** strconv.ParseFloat's decimal forms (its inf/nan and hex forms are left as they are: see README). */
const GO_FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** attraction's convert (type_converter.go): a value that does not convert stays as it is. */
export function convertValue(value: AttributeValue, to: 'int' | 'double' | 'string'): AttributeValue {
  if (to === 'string') return typeof value === 'string' ? value : asString(value);
  if (Array.isArray(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return to === 'int' ? Math.trunc(value) : value;
  if (to === 'int') {
    if (!GO_INT.test(value)) return value;
    const n = Number(value);
    return Number.isFinite(n) && Math.abs(n) <= 9.223372036854776e18 ? n : value;
  }
  if (!GO_FLOAT.test(value)) return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

/** pcommon's Value.AsString: a list as JSON, a number in plain decimal (never an exponent). */
export function asString(value: AttributeValue): string {
  if (Array.isArray(value)) return JSON.stringify(value);
  const text = String(value);
  if (typeof value !== 'number' || !text.includes('e')) return text;
  // strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that read back, written out in full.
  const [digits, exponent] = value.toExponential().split('e') as [string, string];
  const negative = digits.startsWith('-');
  const plain = digits.replace('-', '').replace('.', '');
  const point = 1 + Number(exponent);
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${plain}` : point >= plain.length ? plain + '0'.repeat(point - plain.length) : `${plain.slice(0, point)}.${plain.slice(point)}`;
  return (negative ? '-' : '') + body;
}
