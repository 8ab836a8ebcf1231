/**
 * tail_sampling's decisions, pure: what a router record, a span or an app line says about its
 * request (its Subject), each policy's decision on a request's subjects, and the policies
 * combined as contrib's tail_sampling combines them. No clock, no state but the string
 * policy's match cache: the same subjects and trace id decide the same on every instance.
 *
 * A request decided from its router line (record or span) reads the same facts either way: the
 * status (ERROR for a 5xx or an H-code; a span's status ERROR too), the duration (connect +
 * service; a span's end - start, which the traces pipeline makes the same), the attributes and
 * the drain's resource. Other records: ERROR from severity ERROR (17) up, no duration.
 */
import { EVENT_HEROKU_ROUTER_REQUEST } from '../../semconv/events.ts';
import { SPAN_STATUS_ERROR, SPAN_STATUS_OK, type Attributes, type LogRecordData, type SpanData } from '../../translate/telemetry.ts';
import type { LeafPolicyConfig, PolicyConfig, StatusCodeName } from './config.ts';

/** Contrib's samplingpolicy.Decision values that a policy returns. */
export const NOT_SAMPLED = 0;
export const SAMPLED = 1;
/** invert_match found no match: sampled unless another policy says not sampled. */
export const INVERT_SAMPLED = 2;
/** invert_match found a match: not sampled, whatever the other policies say. */
export const INVERT_NOT_SAMPLED = 3;
export type Decision = typeof NOT_SAMPLED | typeof SAMPLED | typeof INVERT_SAMPLED | typeof INVERT_NOT_SAMPLED;

/** What one item says about its request. */
export interface Subject {
  attributes: Attributes;
  status: StatusCodeName;
  /** Milliseconds; NaN when the item has none (an app line). */
  durationMs: number;
}

const SEVERITY_ERROR = 17;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Whether a router record or span's attributes say the request failed: a 5xx, or an H-code. */
function routerError(attributes: Attributes): boolean {
  const status = attributes['http.response.status_code'];
  if (typeof status === 'number' && status >= 500) return true;
  const code = attributes['heroku.error.code'];
  return typeof code === 'string' && code.length > 0;
}

export function isRouterRecord(record: LogRecordData): boolean {
  return record.eventName === EVENT_HEROKU_ROUTER_REQUEST;
}

/** Fills `into` with a record's facts (reused: no allocation per record). */
export function recordSubject(record: LogRecordData, into: Subject): Subject {
  into.attributes = record.attributes;
  if (isRouterRecord(record)) {
    into.status = routerError(record.attributes) ? 'ERROR' : 'UNSET';
    // The attributes hold seconds (ms / 1000); back to the line's whole milliseconds.
    into.durationMs = Math.round(num(record.attributes['heroku.router.connect.duration']) * 1000) + Math.round(num(record.attributes['heroku.router.service.duration']) * 1000);
  } else {
    into.status = record.severityNumber >= SEVERITY_ERROR ? 'ERROR' : 'UNSET';
    into.durationMs = NaN;
  }
  return into;
}

export function spanSubject(span: SpanData, into: Subject): Subject {
  into.attributes = span.attributes;
  into.status = span.statusCode === SPAN_STATUS_ERROR || routerError(span.attributes) ? 'ERROR' : span.statusCode === SPAN_STATUS_OK ? 'OK' : 'UNSET';
  // Go's Duration.Milliseconds truncates; times here are microseconds.
  into.durationMs = Math.floor((span.endUnixMicros - span.startUnixMicros) / 1000);
  return into;
}

// ---------------------------------------------------------------------------------------------
// FNV-1a 64 (contrib's probabilistic policy: hash of salt + the 16 trace id bytes), in four
// 16-bit limbs so every product stays exact in a double. Module state: one hash at a time.

let h0 = 0;
let h1 = 0;
let h2 = 0;
let h3 = 0;

function fnvReset(): void {
  // 0xcbf29ce484222325
  h0 = 0x2325;
  h1 = 0x8422;
  h2 = 0x9ce4;
  h3 = 0xcbf2;
}

function fnvByte(b: number): void {
  h0 ^= b;
  // h * 0x100000001b3 (2^40 + 0x1b3), mod 2^64.
  const t0 = h0 * 0x1b3;
  const t1 = h1 * 0x1b3 + (t0 >>> 16);
  const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
  const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
  h0 = t0 & 0xffff;
  h1 = t1 & 0xffff;
  h2 = t2 & 0xffff;
  h3 = t3 & 0xffff;
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/** Bytes of a salt, UTF-8, once per policy. */
function saltBytes(salt: string): Uint8Array {
  return new TextEncoder().encode(salt);
}

function fnvBytes(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) fnvByte(bytes[i]!);
}

/** The 16 bytes a 32-digit hex trace id stands for. */
function fnvTraceId(hex: string): void {
  for (let i = 0; i + 1 < hex.length; i += 2) fnvByte((hexValue(hex.charCodeAt(i)) << 4) | hexValue(hex.charCodeAt(i + 1)));
}

/** Code units of a lone record's text that its hash reads: with its time and length, plenty to spread. */
const TEXT_HASHED = 64;

/** A record without a trace id: its time, its length and its text's start, as code units (below 0x80: one byte). */
function fnvText(text: string, micros: number): void {
  const n = Math.min(text.length, TEXT_HASHED);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) fnvByte(c >>> 8);
    fnvByte(c & 0xff);
  }
  let length = text.length;
  for (let i = 0; i < 4; i++) {
    fnvByte(length & 0xff);
    length >>>= 8;
  }
  let t = Math.max(0, Math.floor(micros));
  for (let i = 0; i < 8; i++) {
    fnvByte(t % 256);
    t = Math.floor(t / 256);
  }
}

/** The FNV-1a 64 of a salt and a trace id, as a bigint (tests compare it with a reference). */
export function fnv1a64(salt: string, traceIdHex: string): bigint {
  fnvReset();
  fnvBytes(saltBytes(salt));
  fnvTraceId(traceIdHex);
  return (BigInt(h3) << 48n) | (BigInt(h2) << 32n) | (BigInt(h1) << 16n) | BigInt(h0);
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** What a probabilistic policy hashes: a request's trace id, or a lone record's text and time. */
export interface HashKey {
  traceId: string | undefined;
  text: string;
  micros: number;
}

// ---------------------------------------------------------------------------------------------
// Policies

/** A compiled policy: its decision on a request's subjects. */
export interface Policy {
  readonly name: string;
  /** Items a kept request stands for when this policy kept it: 1, or 100 / sampling_percentage. */
  readonly adjustedCount: number;
  evaluate(subjects: readonly Subject[], resource: Attributes, key: HashKey): Decision;
}

/** Contrib's hasResourceOrSpanWithCondition and its inverted twin, over one attribute. */
function attributePolicy(name: string, key: string, invert: boolean, matches: (v: unknown) => boolean): Policy {
  return {
    name,
    adjustedCount: 1,
    evaluate(subjects, resource) {
      const r = resource[key];
      if (r !== undefined && matches(r)) return invert ? INVERT_NOT_SAMPLED : SAMPLED;
      for (const s of subjects) {
        const v = s.attributes[key];
        if (v !== undefined && matches(v)) return invert ? INVERT_NOT_SAMPLED : SAMPLED;
      }
      return invert ? INVERT_SAMPLED : NOT_SAMPLED;
    },
  };
}

function stringMatcher(c: NonNullable<LeafPolicyConfig['string_attribute']>): (v: unknown) => boolean {
  if (!c.enabled_regex_matching) {
    const values = new Set(c.values.filter((v) => v !== ''));
    return (v) => typeof v === 'string' && values.has(v);
  }
  // Distinct values' outcomes, bounded (contrib: an LRU of cache_max_size).
  const cache = new Map<string, boolean>();
  const patterns = c.patterns;
  return (v) => {
    if (typeof v !== 'string' || v === '') return false;
    let hit = cache.get(v);
    if (hit === undefined) {
      hit = patterns.some((p) => p.test(v));
      if (c.cache_max_size > 0) {
        if (cache.size >= c.cache_max_size) cache.delete(cache.keys().next().value!);
        cache.set(v, hit);
      }
    }
    return hit;
  };
}

function leaf(p: LeafPolicyConfig): Policy {
  const name = p.name;
  switch (p.type) {
    case 'always_sample':
      return { name, adjustedCount: 1, evaluate: () => SAMPLED };
    case 'latency': {
      const { threshold_ms: lower, upper_threshold_ms: upper } = p.latency!;
      return {
        name,
        adjustedCount: 1,
        evaluate(subjects) {
          for (const s of subjects) {
            const d = s.durationMs;
            if (Number.isNaN(d)) continue;
            if (upper === 0 ? d >= lower : lower < d && d <= upper) return SAMPLED;
          }
          return NOT_SAMPLED;
        },
      };
    }
    case 'status_code': {
      const codes = new Set(p.status_code!.status_codes);
      return {
        name,
        adjustedCount: 1,
        evaluate(subjects) {
          for (let i = 0; i < subjects.length; i++) if (codes.has(subjects[i]!.status)) return SAMPLED;
          return NOT_SAMPLED;
        },
      };
    }
    case 'numeric_attribute': {
      const c = p.numeric_attribute!;
      const min = c.min_value ?? -Infinity;
      const max = c.max_value ?? Infinity;
      return attributePolicy(name, c.key, c.invert_match, (v) => typeof v === 'number' && v >= min && v <= max);
    }
    case 'string_attribute': {
      const c = p.string_attribute!;
      return attributePolicy(name, c.key, c.invert_match, stringMatcher(c));
    }
    case 'boolean_attribute': {
      const c = p.boolean_attribute!;
      return attributePolicy(name, c.key, c.invert_match, (v) => v === c.value);
    }
    case 'probabilistic': {
      const c = p.probabilistic!;
      const salt = saltBytes(c.hash_salt === '' ? 'default-hash-seed' : c.hash_salt);
      // contrib: sampled when hash <= MaxUint64 * ratio (the ratio to 1e-12).
      const threshold = (MAX_UINT64 * BigInt(Math.round(c.sampling_percentage * 1e10))) / 1_000_000_000_000n;
      const hi = Number(threshold >> 32n);
      const lo = Number(threshold & 0xffffffffn);
      return {
        name,
        adjustedCount: 100 / c.sampling_percentage,
        evaluate(_subjects, _resource, key) {
          fnvReset();
          fnvBytes(salt);
          if (key.traceId !== undefined) fnvTraceId(key.traceId);
          else fnvText(key.text, key.micros);
          const hashHi = ((h3 << 16) | h2) >>> 0;
          const hashLo = ((h1 << 16) | h0) >>> 0;
          return hashHi < hi || (hashHi === hi && hashLo <= lo) ? SAMPLED : NOT_SAMPLED;
        },
      };
    }
    default:
      throw new Error(`tail_sampling: policy type ${p.type} passed validation unhandled`);
  }
}

/** A policy as the config writes it; `and`: sampled only when every sub-policy samples. */
export function compilePolicy(p: PolicyConfig): Policy {
  if (p.type !== 'and') return leaf(p);
  const subs = p.and!.and_sub_policy.map(leaf);
  // Same-salt probabilistic sub-policies nest (one hash, lower thresholds inside higher ones): the rarest governs.
  const adjustedCount = Math.max(...subs.map((s) => s.adjustedCount));
  return {
    name: p.name,
    adjustedCount,
    evaluate(subjects, resource, key) {
      for (const s of subs) {
        const d = s.evaluate(subjects, resource, key);
        if (d === NOT_SAMPLED || d === INVERT_NOT_SAMPLED) return NOT_SAMPLED;
      }
      return SAMPLED;
    },
  };
}

/** Per policy, its own decisions (a policy that sampled counts as sampled even when an inverted one vetoed). */
export interface PolicyCounts {
  sampled: number;
  not_sampled: number;
}

/**
 * The policies combined, as contrib's tail_sampling: an inverted not-sampled vetoes; else any
 * sampled keeps; else an inverted sampled keeps unless some policy said not sampled. Returns the
 * kept request's adjusted count (the smallest of the policies that kept it), 0 when dropped.
 */
export function decide(policies: readonly Policy[], counts: readonly PolicyCounts[], subjects: readonly Subject[], resource: Attributes, key: HashKey): number {
  let sampled = Infinity;
  let invertSampled = false;
  let notSampled = false;
  let veto = false;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const d = p.evaluate(subjects, resource, key);
    if (d === SAMPLED || d === INVERT_SAMPLED) counts[i]!.sampled++;
    else counts[i]!.not_sampled++;
    if (d === SAMPLED) {
      if (p.adjustedCount < sampled) sampled = p.adjustedCount;
    } else if (d === INVERT_SAMPLED) invertSampled = true;
    else if (d === INVERT_NOT_SAMPLED) veto = true;
    else notSampled = true;
  }
  if (veto) return 0;
  if (sampled !== Infinity) return sampled;
  return invertSampled && !notSampled ? 1 : 0;
}

/**
 * The OpenTelemetry rejection threshold of a kept item (tracestate `ot=th:`): 2^56 * (1 - 1 /
 * adjusted count), 14 hex digits with trailing zeros trimmed; `0` when everything is kept.
 */
export function thresholdOf(adjustedCount: number): string {
  if (adjustedCount <= 1) return '0';
  // As contrib's pkg/sampling: threshold = 2^56 - round(p * 2^56).
  const kept = ((1n << 56n) * BigInt(Math.round(1e12 / adjustedCount)) + 500_000_000_000n) / 1_000_000_000_000n;
  const hex = ((1n << 56n) - kept).toString(16).padStart(14, '0').replace(/0+$/, '');
  return hex === '' ? '0' : hex;
}

/** A span's tracestate with `ot=th:<threshold>` set (its other `ot` sub-keys and members kept in order). */
export function withThreshold(traceState: string, threshold: string): string {
  const members = traceState === '' ? [] : traceState.split(',').map((m) => m.trim()).filter((m) => m !== '');
  const at = members.findIndex((m) => m.startsWith('ot='));
  const others = at < 0 ? [] : members[at]!.slice(3).split(';').filter((kv) => kv !== '' && !kv.startsWith('th:'));
  if (at >= 0) members.splice(at, 1);
  // The spec moves the modified `ot` member first.
  return [`ot=${['th:' + threshold, ...others].join(';')}`, ...members].join(',');
}
