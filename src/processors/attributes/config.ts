/**
 * Config of the `attributes` processor, with the Collector's keys (contrib's attributesprocessor):
 *
 * ```yaml
 * processors:
 *   attributes/tidy:
 *     actions:
 *       - { key: deployment.environment, value: production, action: upsert }
 *       - { key: http.request.header.cookie, action: delete }
 *       - { key: user.email, action: hash }
 *       - { key: url.path, pattern: ^/users/(?P<user_id>\d+), action: extract }
 *     include:                     # optional: only records that match
 *       match_type: strict         # or regexp
 *       attributes: [{ key: heroku.dyno.type, value: web }]
 *     exclude: { match_type: regexp, log_bodies: ["^health"] }
 * ```
 *
 * include / exclude are contrib's filterconfig.MatchProperties. Which properties a signal takes is
 * contrib's rule (filterconfig's ValidateForLogs / ValidateForMetrics / ValidateForSpans): logs
 * take attributes, resources, libraries, log_bodies, log_severity_texts and log_severity_number;
 * metrics take metric_names and resources; spans take services (the resource's service.name),
 * span_names, span_kinds (`SPAN_KIND_SERVER`), attributes, resources and libraries. A block a pipeline's signal cannot take is a problem for that
 * pipeline (`signalProblems`), as the Collector refuses to build the processor for it.
 */
import { z } from 'zod';
import type { Signal } from '../../service/component.ts';
import { actionSchema } from './actions.ts';
import { compileGoRegexp } from './regexp.ts';

export const ATTRIBUTES_TYPE = 'attributes';

const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
/** One `attributes` / `resources` entry: the key present, and its value equal (strict) or matching (regexp) when given. */
const attributeMatch = z.strictObject({ key: z.string().min(1, "can't be empty"), value: attributeValue.nullable().optional() });

/** The severity names contrib's config accepts for `min` (plog.SeverityNumber's text form), as numbers. */
export const SEVERITY_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(
  ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((name, i) => [
    [name, i * 4 + 1],
    ...[2, 3, 4].map((n) => [`${name}${n}`, i * 4 + n]),
  ]),
);

/** One include or exclude block: contrib's filterconfig.MatchProperties, every key of it. */
export const matchPropertiesSchema = z
  .strictObject({
    match_type: z.enum(['strict', 'regexp']),
    /** match_type regexp's result cache (contrib's filterset/regexp Config): a speed setting; patterns here are compiled once and need none. */
    regexp: z.strictObject({ cacheenabled: z.boolean().optional(), cachemaxnumentries: z.number().int().nonnegative().optional() }).optional(),
    /** Every listed attribute present, and equal (strict, same type) or matching (regexp, a string pattern) when a value is given. */
    attributes: z.array(attributeMatch).optional(),
    /** The same against the resource's attributes. Metrics: contrib's metric matcher reads only metric_names, so resources decide nothing there. */
    resources: z.array(attributeMatch).optional(),
    /** The instrumentation scope: here always this sidecar's (`heroku-otel-drain`, its version). */
    libraries: z.array(z.strictObject({ name: z.string(), version: z.string().nullable().optional() })).optional(),
    /** Any one of them matches the record's body (logs). */
    log_bodies: z.array(z.string()).optional(),
    /** Any one of them matches the record's severity text (logs). */
    log_severity_texts: z.array(z.string()).optional(),
    /** Severity number at least `min` (a number or a name: INFO, WARN2...); `match_undefined`: a record without one matches too. */
    log_severity_number: z
      .strictObject({
        min: z.union([
          z.number().int().min(0).max(24),
          z.string().transform((s, ctx) => {
            const n = SEVERITY_NUMBERS[s.toUpperCase()];
            if (n === undefined) ctx.addIssue({ code: 'custom', message: `"${s}" is not a severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL (optionally 2-4), or 1-24` });
            return n ?? 0;
          }),
        ]),
        match_undefined: z.boolean().default(false),
      })
      .optional(),
    /** Any one of them matches the metric's name (metrics). */
    metric_names: z.array(z.string()).optional(),
    services: z.array(z.string()).optional(),
    span_names: z.array(z.string()).optional(),
    span_kinds: z.array(z.string()).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.match_type !== 'regexp') return;
    const check = (pattern: string, path: (string | number)[]) => {
      const compiled = compileGoRegexp(pattern);
      if (!compiled.ok) ctx.addIssue({ code: 'custom', path, message: compiled.problem });
    };
    for (const key of ['log_bodies', 'log_severity_texts', 'metric_names', 'services', 'span_names', 'span_kinds'] as const) m[key]?.forEach((p, i) => check(p, [key, i]));
    m.libraries?.forEach((l, i) => {
      check(l.name, ['libraries', i, 'name']);
      if (typeof l.version === 'string') check(l.version, ['libraries', i, 'version']);
    });
    for (const key of ['attributes', 'resources'] as const) {
      m[key]?.forEach((a, i) => {
        if (a.value === undefined || a.value === null) return;
        if (typeof a.value !== 'string') ctx.addIssue({ code: 'custom', path: [key, i, 'value'], message: `match_type regexp takes a string pattern for "${a.key}" (as the Collector's)` });
        else check(a.value, [key, i, 'value']);
      });
    }
  });

export type MatchProperties = z.output<typeof matchPropertiesSchema>;

export const attributesConfigSchema = z.strictObject({
  actions: z.array(actionSchema).min(1, 'at least one action is required'),
  include: matchPropertiesSchema.optional(),
  exclude: matchPropertiesSchema.optional(),
});

export type AttributesConfig = z.output<typeof attributesConfigSchema>;

const LOG_ONLY = ['attributes', 'libraries', 'log_bodies', 'log_severity_texts'] as const;
const SPAN_ONLY = ['services', 'span_names', 'span_kinds'] as const;

/** contrib's ValidateForLogs / ValidateForMetrics / ValidateForSpans for one block: problems as `key: message`. */
export function matchSignalProblems(block: 'include' | 'exclude', m: MatchProperties, signal: Signal): string[] {
  const problems: string[] = [];
  const nonEmpty = (key: keyof MatchProperties) => {
    const v = m[key];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  };
  const spanKey = SPAN_ONLY.find((k) => nonEmpty(k));
  if (signal === 'traces') {
    const wrong = (['log_bodies', 'log_severity_texts', 'log_severity_number', 'metric_names'] as const).find((k) => nonEmpty(k));
    if (wrong !== undefined) problems.push(`${block}.${wrong}: not valid for spans (the Collector refuses it in a traces pipeline); give spans their own attributes processor`);
    else if (![...SPAN_ONLY, 'attributes', 'libraries', 'resources'].some((k) => nonEmpty(k as keyof MatchProperties))) {
      problems.push(`${block}: needs at least one of services, span_names, span_kinds, attributes, libraries or resources for spans`);
    }
  } else if (spanKey !== undefined) {
    problems.push(`${block}.${spanKey}: is for spans only, not valid for ${signal === 'logs' ? 'log records' : 'metrics'} (as in the Collector); give spans their own attributes processor`);
  } else if (signal === 'logs') {
    if (nonEmpty('metric_names')) problems.push(`${block}.metric_names: not valid for log records (the Collector refuses it in a logs pipeline); give metrics their own attributes processor`);
    else if (![...LOG_ONLY, 'resources', 'log_severity_number'].some((k) => nonEmpty(k as keyof MatchProperties))) {
      problems.push(`${block}: needs at least one of attributes, libraries, resources, log_bodies, log_severity_texts or log_severity_number for log records`);
    }
  } else {
    const wrong = [...LOG_ONLY, 'log_severity_number'].filter((k) => nonEmpty(k as keyof MatchProperties));
    if (wrong.length > 0) problems.push(`${block}.${wrong[0]}: not valid for metrics (the Collector refuses ${wrong.join(', ')} in a metrics pipeline: metrics match by metric_names); give logs their own attributes processor`);
    else if (!nonEmpty('metric_names') && !nonEmpty('resources')) problems.push(`${block}: needs metric_names or resources for metrics`);
  }
  return problems;
}

/** What this config cannot do in a pipeline of `signal`, as `key: message` (relative to the processor). */
export function signalProblems(config: unknown, signal: Signal): string[] {
  const c = config as AttributesConfig;
  return [...(c.include ? matchSignalProblems('include', c.include, signal) : []), ...(c.exclude ? matchSignalProblems('exclude', c.exclude, signal) : [])];
}
