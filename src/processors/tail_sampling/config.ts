/**
 * Config of the `tail_sampling` processor, with the keys of contrib's tail_sampling
 * (processor/tailsamplingprocessor): `decision_wait`, `num_traces`, `decision_cache` and
 * `policies`, each `{ name, type, <type>: {...} }`. A request (a trace here: every line of one
 * router `request_id`) is kept when any policy samples it, as the Collector combines them.
 *
 * ```yaml
 * processors:
 *   tail_sampling:
 *     decision_wait: 10s
 *     policies:
 *       - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
 *       - { name: slow, type: latency, latency: { threshold_ms: 1000 } }
 *       - { name: some, type: probabilistic, probabilistic: { sampling_percentage: 10 } }
 * ```
 *
 * Ours besides contrib's: `adjusted_count_attribute` (see the factory).
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';
import { goRegexpSchema } from '../attributes/regexp.ts';

export const TAIL_SAMPLING_TYPE = 'tail_sampling';

/** Contrib's policy types this build does not have: refused with the reason rather than ignored. */
const UNSUPPORTED_TYPES: Readonly<Record<string, string>> = {
  rate_limiting: 'a rate depends on each instance\'s traffic, so two instances would decide one request differently',
  bytes_limiting: 'a rate depends on each instance\'s traffic, so two instances would decide one request differently',
  span_count: 'a Heroku request is one span (its router line)',
  trace_state: 'router lines carry no tracestate',
  ottl_condition: 'write a string_attribute, numeric_attribute or boolean_attribute policy',
  composite: 'a rate allocation depends on each instance\'s traffic',
  not: 'use invert_match on the attribute policies',
  drop: 'use invert_match on the attribute policies',
  trace_flags: 'router lines carry no trace flags',
};

const latency = z.strictObject({
  /** Sampled when the request took at least this long (connect + service; a span's duration). */
  threshold_ms: z.number().int().nonnegative(),
  /** With it, sampled when threshold_ms < duration <= upper_threshold_ms; 0: no upper bound. Default 0. */
  upper_threshold_ms: z.number().int().nonnegative().default(0),
});

const numericAttribute = z
  .strictObject({
    key: z.string().min(1, "can't be empty"),
    min_value: z.number().optional(),
    max_value: z.number().optional(),
    invert_match: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.min_value === undefined && c.max_value === undefined) ctx.addIssue({ code: 'custom', message: 'set min_value, max_value or both' });
    else if (c.min_value !== undefined && c.max_value !== undefined && c.min_value > c.max_value) ctx.addIssue({ code: 'custom', path: ['min_value'], message: 'must not be above max_value' });
  });

const STATUS_CODES = ['OK', 'ERROR', 'UNSET'] as const;

const statusCode = z.strictObject({
  status_codes: z.array(z.enum(STATUS_CODES)).min(1, 'list at least one of OK, ERROR, UNSET'),
});

const stringAttribute = z
  .strictObject({
    key: z.string().min(1, "can't be empty"),
    values: z.array(z.string()).min(1, 'list at least one value'),
    /** The values are RE2 patterns (a search, as Go's MatchString). Default false. */
    enabled_regex_matching: z.boolean().default(false),
    /** Distinct values whose match is remembered, with regex matching. Default 128, as contrib. */
    cache_max_size: z.number().int().nonnegative().default(128),
    invert_match: z.boolean().default(false),
  })
  .transform((c, ctx) => {
    if (!c.enabled_regex_matching) return { ...c, patterns: [] as RegExp[] };
    const patterns: RegExp[] = [];
    c.values.forEach((v, i) => {
      const r = goRegexpSchema.safeParse(v);
      if (r.success) patterns.push(r.data);
      else ctx.addIssue({ code: 'custom', path: ['values', i], message: r.error.issues[0]?.message ?? 'not a pattern' });
    });
    return { ...c, patterns };
  });

const booleanAttribute = z.strictObject({
  key: z.string().min(1, "can't be empty"),
  value: z.boolean(),
  invert_match: z.boolean().default(false),
});

const probabilistic = z.strictObject({
  /** Mixed into the hash; instances that must agree use the same salt. Default contrib's. */
  hash_salt: z.string().default(''),
  /** Percent of requests kept, 0 to 100. */
  sampling_percentage: z.number().gt(0, 'must be above 0 (a policy that keeps nothing samples nothing: leave it out)').max(100),
});

const BLOCKS = {
  latency,
  numeric_attribute: numericAttribute,
  status_code: statusCode,
  string_attribute: stringAttribute,
  boolean_attribute: booleanAttribute,
  probabilistic,
} as const;

type BlockType = keyof typeof BLOCKS;
const LEAF_TYPES = ['always_sample', ...(Object.keys(BLOCKS) as BlockType[])] as const;

/** The members every policy (and an `and`'s sub-policies) may have. */
const leafShape = {
  name: z.string().min(1, "can't be empty"),
  type: z.string(),
  latency: latency.optional(),
  numeric_attribute: numericAttribute.optional(),
  status_code: statusCode.optional(),
  string_attribute: stringAttribute.optional(),
  boolean_attribute: booleanAttribute.optional(),
  probabilistic: probabilistic.optional(),
  // Contrib's blocks of the types refused above: their type says why, once.
  ...Object.fromEntries(Object.keys(UNSUPPORTED_TYPES).map((t) => [t, z.unknown().optional()])),
};

function checkType(p: { type: string } & Record<string, unknown>, ctx: z.RefinementCtx, allowed: readonly string[]): void {
  if (!allowed.includes(p.type)) {
    const why = UNSUPPORTED_TYPES[p.type] ?? (p.type === 'and' ? 'an and policy cannot hold another' : undefined);
    ctx.addIssue({ code: 'custom', path: ['type'], message: why !== undefined ? `"${p.type}" is not supported here: ${why}` : `unknown policy type "${p.type}" (one of ${allowed.join(', ')})` });
    return;
  }
  if (p.type in BLOCKS && p[p.type] === undefined) ctx.addIssue({ code: 'custom', path: [p.type], message: `is required for a ${p.type} policy` });
}

const leafPolicy = z.strictObject(leafShape).superRefine((p, ctx) => checkType(p, ctx, LEAF_TYPES));

const policy = z
  .strictObject({ ...leafShape, and: z.strictObject({ and_sub_policy: z.array(leafPolicy).min(1, 'list at least one sub-policy') }).optional() })
  .superRefine((p, ctx) => checkType(p, ctx, [...LEAF_TYPES, 'and']));

export const tailSamplingConfigSchema = z
  .strictObject({
    /** How long a request's app lines wait for its router line. Default 30s, as contrib. */
    decision_wait: duration.default(30_000),
    /** Requests whose lines wait at once; past it the oldest are kept undecided (fail open). Default 50000, as contrib. */
    num_traces: z.number().int().positive().default(50_000),
    /** Accepted for contrib configs; this build allocates as it goes. */
    expected_new_traces_per_sec: z.number().int().nonnegative().default(0),
    /** Recent decisions, for app lines that come after their router line. Defaults 50000 each. */
    decision_cache: z
      .strictObject({
        sampled_cache_size: z.number().int().nonnegative().default(50_000),
        non_sampled_cache_size: z.number().int().nonnegative().default(50_000),
      })
      .default({ sampled_cache_size: 50_000, non_sampled_cache_size: 50_000 }),
    /**
     * Ours: the attribute carrying a kept item's adjusted count (how many items it stands for: 1
     * when a deterministic policy kept it, 100 / sampling_percentage when only a probabilistic
     * one did). Default `SampleRate`, which Honeycomb reads; '' for none. Spans also carry the
     * OpenTelemetry threshold in their tracestate (`ot=th:...`).
     */
    adjusted_count_attribute: z.string().default('SampleRate'),
    policies: z.array(policy).min(1, 'list at least one policy'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.policies.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['policies', i, 'name'], message: `"${p.name}" names two policies` });
      seen.add(p.name);
    });
  });

export type TailSamplingConfig = z.output<typeof tailSamplingConfigSchema>;
export type PolicyConfig = TailSamplingConfig['policies'][number];
export type LeafPolicyConfig = z.output<typeof leafPolicy>;
export type StatusCodeName = (typeof STATUS_CODES)[number];
