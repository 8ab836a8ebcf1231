/**
 * What contrib's redaction processor does to one attribute map and one log body
 * (processor/redactionprocessor/processor.go): per attribute, in this order, an ignored key
 * stays; a key not allowed is removed; a value an allowed_values pattern matches stays; a key a
 * blocked_key_patterns pattern matches is masked whole; the parts of the value a blocked_values
 * pattern matches are masked. Then the summary attributes. Go's regexp semantics where they
 * differ from JavaScript's (an empty match right after a match is not a match).
 */
import { createHash, createHmac } from 'node:crypto';
import type { AttributeValue, Attributes, LogRecordData } from '../../translate/telemetry.ts';
import { asString } from '../attributes/actions.ts';
import type { RedactionConfig } from './config.ts';

const MASK = '****';
/** The summary attributes contrib always keeps (its allow list adds them). */
const SUMMARY_KEYS = ['redaction.redacted.keys', 'redaction.redacted.count', 'redaction.masked.keys', 'redaction.masked.count', 'redaction.ignored.count'];
const WHOLE = /.*/g;

/** regexp.ReplaceAllStringFunc: every match replaced; an empty match abutting the previous match is not one. */
export function goReplaceAll(text: string, pattern: RegExp, replace: (match: string) => string): string {
  const r = pattern.global ? pattern : new RegExp(pattern.source, pattern.flags + 'g');
  r.lastIndex = 0;
  let out = '';
  let from = 0;
  let previousEnd = -1;
  for (let m = r.exec(text); m !== null; m = r.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) {
      r.lastIndex = end + 1;
      if (start === previousEnd) continue;
    }
    out += text.slice(from, start) + replace(m[0]);
    from = end;
    previousEnd = end;
    if (end > text.length) break;
  }
  return from === 0 && previousEnd === -1 ? text : out + text.slice(from);
}

interface Found {
  redacted: string[];
  masked: string[];
  allowed: string[];
  ignored: number;
}

/** contrib's redaction, compiled from a config. */
export class ContribRedaction {
  /** Whether it can change anything (else the processor skips it: `redact` with its defaults). */
  readonly active: boolean;
  private readonly _c: RedactionConfig;
  private readonly _allowed: Set<string>;
  private readonly _ignored: Set<string>;
  private readonly _blocked: RegExp[];
  private readonly _mask: (match: string) => string;

  constructor(config: RedactionConfig) {
    this._c = config;
    this._allowed = new Set([...config.allowed_keys, ...SUMMARY_KEYS]);
    this._ignored = new Set(config.ignored_keys);
    this._blocked = config.blocked_values.map((r) => new RegExp(r.source, r.flags.includes('g') ? r.flags : r.flags + 'g'));
    this.active = !config.allow_all_keys || config.blocked_values.length > 0 || config.blocked_key_patterns.length > 0;
    const fn = config.hash_function;
    const key = config.hmac_key ?? '';
    this._mask =
      fn === 'none'
        ? () => MASK
        : fn === 'hmac-sha256' || fn === 'hmac-sha512'
          ? (m) => createHmac(fn.slice(5), key).update(m).digest('hex')
          : (m) => createHash(fn === 'sha3' ? 'sha3-256' : fn).update(m).digest('hex');
  }

  /** Redacts one attribute map in place (a record's, a point's, or a copy of a resource). */
  attributes(attributes: Attributes): void {
    const c = this._c;
    const found: Found = { redacted: [], masked: [], allowed: [], ignored: 0 };
    for (const key in attributes) {
      if (this._ignored.has(key) || c.ignored_key_patterns.some((r) => r.test(key))) {
        found.ignored++;
        continue;
      }
      if (!c.allow_all_keys && !this._allowed.has(key)) {
        found.redacted.push(key);
        continue;
      }
      const value = attributes[key]!;
      // Without redact_all_types contrib reads a non-string as "" (pcommon's Str()).
      const text = typeof value === 'string' ? value : c.redact_all_types ? asString(value) : '';
      if (c.allowed_values.some((r) => r.test(text))) {
        found.allowed.push(key);
        continue;
      }
      if (c.blocked_key_patterns.some((r) => r.test(key))) {
        found.masked.push(key);
        attributes[key] = goReplaceAll(text, WHOLE, this._mask);
        continue;
      }
      const masked = this._blockedValues(text);
      if (masked !== text) {
        found.masked.push(key);
        attributes[key] = masked;
      }
    }
    for (const key of found.redacted) delete attributes[key];
    this._summary(attributes, found.redacted, 'redaction.redacted.keys', 'redaction.redacted.count');
    this._summary(attributes, found.masked, 'redaction.masked.keys', 'redaction.masked.count');
    this._summary(attributes, found.allowed, 'redaction.allowed.keys', 'redaction.allowed.count');
    this._count(attributes, found.ignored, 'redaction.ignored.count');
  }

  /** A log body (a string here): allowed, or its blocked parts masked; the body summary on the record's attributes. */
  body(record: LogRecordData): void {
    const text = record.body;
    if (this._c.allowed_values.some((r) => r.test(text))) {
      this._summary(record.attributes, ['body'], 'redaction.body.allowed.keys', 'redaction.body.allowed.count');
      return;
    }
    const masked = this._blockedValues(text);
    if (masked === text) return;
    record.body = masked;
    this._summary(record.attributes, ['body'], 'redaction.body.masked.keys', 'redaction.body.masked.count');
  }

  private _blockedValues(text: string): string {
    let out = text;
    for (const r of this._blocked) {
      r.lastIndex = 0;
      if (r.test(out)) out = goReplaceAll(out, r, this._mask);
    }
    return out;
  }

  /** contrib's addMetaAttrs: the keys (debug), merged with what is there, sorted; the count (info, debug), added to what is there. */
  private _summary(attributes: Attributes, keys: string[], keysAttribute: string, countAttribute: string): void {
    if (keys.length === 0 || this._c.summary === 'silent') return;
    if (this._c.summary === 'debug') {
      const existing = attributes[keysAttribute];
      const all = typeof existing === 'string' && existing !== '' ? [...keys, ...existing.split(',')] : [...keys];
      attributes[keysAttribute] = all.sort().join(',');
    }
    this._count(attributes, keys.length, countAttribute);
  }

  private _count(attributes: Attributes, count: number, countAttribute: string): void {
    if (count === 0 || this._c.summary === 'silent') return;
    const existing: AttributeValue | undefined = attributes[countAttribute];
    attributes[countAttribute] = count + (typeof existing === 'number' ? Math.trunc(existing) : 0);
  }
}
