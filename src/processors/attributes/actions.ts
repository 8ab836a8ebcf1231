/**
 * Attribute actions as the Collector's attributes and resource processors run them (contrib's
 * internal/coreinternal/attraction): insert, update, upsert, delete, hash, extract and convert,
 * applied in the order listed. Regexps are compiled once, at config time.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AttributeValue, Attributes } from '../../translate/telemetry.ts';

const ACTIONS = ['insert', 'update', 'upsert', 'delete', 'hash', 'extract', 'convert'] as const;

/** A regexp written in the config, compiled once; a bad one is a problem naming its key. */
export const regexpString = z.string().transform((source, ctx) => {
  try {
    // Go's RE2 named groups are (?P<name>...); JavaScript writes (?<name>...).
    return new RegExp(source.replace(/\(\?P</g, '(?<'));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
    return z.NEVER;
  }
});

export const actionSchema = z
  .strictObject({
    key: z.string().min(1).optional(),
    /** delete, hash: every key this matches; extract: applied to `key`'s value, named groups become attributes. */
    pattern: regexpString.optional(),
    value: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
    from_attribute: z.string().min(1).optional(),
    /** The Collector reads client metadata here; no receiver of ours passes any on. */
    from_context: z.string().min(1).optional(),
    converted_type: z.enum(['int', 'double', 'string']).optional(),
    action: z.enum(ACTIONS),
  })
  .superRefine((a, ctx) => {
    const sources = [a.value !== undefined, a.from_attribute !== undefined, a.from_context !== undefined].filter(Boolean).length;
    if (a.from_context !== undefined) ctx.addIssue({ code: 'custom', path: ['from_context'], message: 'not supported: no receiver here passes client metadata (request headers, auth) on to processors; use value or from_attribute' });
    if (a.action === 'insert' || a.action === 'update' || a.action === 'upsert') {
      if (a.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: `is required for ${a.action}` });
      if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['value'], message: `${a.action} needs exactly one of value, from_attribute or from_context` });
    } else if (a.action === 'delete' || a.action === 'hash') {
      if (a.key === undefined && a.pattern === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: `${a.action} needs key or pattern` });
    } else if (a.action === 'extract') {
      if (a.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'is required for extract' });
      if (a.pattern === undefined) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'is required for extract: a regular expression with named groups' });
      else if (!/\(\?<[A-Za-z_]/.test(a.pattern.source)) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'extract needs at least one named group, (?P<name>...)' });
    } else if (a.action === 'convert') {
      if (a.key === undefined) ctx.addIssue({ code: 'custom', path: ['key'], message: 'is required for convert' });
      if (a.converted_type === undefined) ctx.addIssue({ code: 'custom', path: ['converted_type'], message: 'is required for convert: int, double or string' });
    }
  });

export type ActionConfig = z.output<typeof actionSchema>;

/** Runs the actions on `attributes`, in place. */
export function applyActions(actions: readonly ActionConfig[], attributes: Attributes): void {
  for (const a of actions) {
    switch (a.action) {
      case 'insert':
      case 'update':
      case 'upsert': {
        const has = Object.hasOwn(attributes, a.key!);
        if ((a.action === 'insert' && has) || (a.action === 'update' && !has)) break;
        const value = a.value !== undefined ? a.value : attributes[a.from_attribute!];
        if (value === undefined) break;
        attributes[a.key!] = Array.isArray(value) ? [...value] : value;
        break;
      }
      case 'delete':
        if (a.key !== undefined) delete attributes[a.key];
        if (a.pattern !== undefined) for (const k of Object.keys(attributes)) if (a.pattern.test(k)) delete attributes[k];
        break;
      case 'hash':
        if (a.key !== undefined && Object.hasOwn(attributes, a.key)) attributes[a.key] = hashValue(attributes[a.key]!);
        if (a.pattern !== undefined) for (const k of Object.keys(attributes)) if (a.pattern.test(k)) attributes[k] = hashValue(attributes[k]!);
        break;
      case 'extract': {
        const value = attributes[a.key!];
        if (typeof value !== 'string') break;
        const groups = a.pattern!.exec(value)?.groups;
        if (groups === undefined) break;
        for (const [name, v] of Object.entries(groups)) if (v !== undefined) attributes[name] = v;
        break;
      }
      case 'convert': {
        if (!Object.hasOwn(attributes, a.key!)) break;
        const converted = convert(attributes[a.key!]!, a.converted_type!);
        if (converted !== undefined) attributes[a.key!] = converted;
        break;
      }
    }
  }
}

/**
 * SHA-256, lower-case hex, as attraction hashes now (it used SHA-1 before v0.106): a string's
 * bytes, a boolean as one byte, a number as its 8-byte big-endian float64 (an integer as int64).
 */
function hashValue(value: AttributeValue): string {
  const hash = createHash('sha256');
  if (typeof value === 'string') hash.update(value);
  else if (typeof value === 'boolean') hash.update(Buffer.from([value ? 1 : 0]));
  else if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    if (Number.isSafeInteger(value)) bytes.writeBigInt64BE(BigInt(value));
    else bytes.writeDoubleBE(value);
    hash.update(bytes);
  } else hash.update(JSON.stringify(value));
  return hash.digest('hex');
}

/** The Collector's convert: a value that does not convert is left as it is. */
function convert(value: AttributeValue, to: 'int' | 'double' | 'string'): AttributeValue | undefined {
  if (to === 'string') return Array.isArray(value) ? JSON.stringify(value) : String(value);
  if (Array.isArray(value)) return undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) return undefined;
  return to === 'int' ? Math.trunc(n) : n;
}
