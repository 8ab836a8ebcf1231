/**
 * The alert rule model (YAML under `processors.alerts.rules`): what a rule matches, what it
 * computes over a sliding window, when it fires, and what its alert says.
 *
 * ```yaml
 * - name: RouterH12Storm
 *   match: { kind: router, attributes: { error.type: { equals: H12 } } }
 *   count: {}                      # or rate, ratio, avg, max, quantile, gauge, gauge_ratio
 *   window: 5m
 *   above: 10                      # or below
 *   group_by: [service.name]
 *   for: 1m
 *   severity: critical
 *   annotations: { summary: "{{ value }} H12 timeouts in 5 minutes on {{ service.name }}" }
 * ```
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';

const LOG_KINDS = ['router', 'runtime', 'addon', 'platform', 'api', 'app'] as const;
export const ALERT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * A regular expression given as text, `pattern` or `/pattern/flags` (`/denied/i`), compiled (and
 * refused with its error) at load time.
 */
const regex = z.string().transform((source, ctx) => {
  try {
    const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(source);
    return m ? new RegExp(m[1]!, m[2]) : new RegExp(source);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(error as Error).message}` });
    return z.NEVER;
  }
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One attribute's condition; several keys in one condition must all hold. */
export const attributeConditionSchema = z
  .strictObject({
    equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    regex: regex.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'a condition needs equals, in, regex, gt, gte, lt, lte or exists' });

export type AttributeCondition = z.output<typeof attributeConditionSchema>;

/** Which records (or metric points) a rule looks at. Every given part must hold. */
export const matchSchema = z.strictObject({
  /** heroku.log.kind of the record. */
  kind: z.union([z.enum(LOG_KINDS), z.array(z.enum(LOG_KINDS)).min(1)]).optional(),
  /** At least this severity (OpenTelemetry's names: debug, info, warn, error, fatal). */
  min_severity: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  /** event.name of the record. */
  event: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  attributes: z.record(z.string(), attributeConditionSchema).optional(),
  /** A regular expression the record's body must match. */
  body: regex.optional(),
});

export type Match = z.output<typeof matchSchema>;

const numericAttribute = z.strictObject({ attribute: z.string().min(1) });

export const ruleSchema = z
  .strictObject({
    /** Unique; the `alertname` label. */
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a rule name is letters, digits and _ (it is the alertname label)'),
    enabled: z.boolean().default(true),
    /** The records the rule looks at (for count, rate, ratio, avg, max, quantile). */
    match: matchSchema.default({}),
    // What is computed over the window: exactly one of these.
    count: z.strictObject({}).optional(),
    /** Matching records per second. */
    rate: z.strictObject({}).optional(),
    /** The share of matching records that also match `match` here (5xx among all requests). */
    ratio: z.strictObject({ match: matchSchema, min_count: z.number().int().nonnegative().default(1) }).optional(),
    avg: numericAttribute.optional(),
    max: numericAttribute.optional(),
    /** `min_count`: fewer values than this in the window judge nothing. Default 20. */
    quantile: z.strictObject({ attribute: z.string().min(1), q: z.number().gt(0).lt(1), min_count: z.number().int().positive().default(20) }).optional(),
    /** The latest value of a metric (gauge) per group. */
    gauge: z.strictObject({ metric: z.string().min(1) }).optional(),
    /** The latest value of one metric over the latest of another, per group (rss / quota). */
    gauge_ratio: z.strictObject({ metric: z.string().min(1), divide_by: z.string().min(1) }).optional(),
    window: duration.default(300_000),
    above: z.number().optional(),
    below: z.number().optional(),
    /** Attributes (of the record or of its resource) that make one alert per value. */
    group_by: z.array(z.string().min(1)).default([]),
    /** How long the condition must hold before the alert fires. Default 0. */
    for: duration.default(0),
    /** While firing, how often the alert is sent again. Default 4h. */
    repeat_interval: duration.default(4 * 3_600_000),
    severity: z.enum(ALERT_SEVERITIES).default('warning'),
    labels: z.record(z.string(), z.string()).default({}),
    /** `{{ value }}`, `{{ rule }}` and `{{ attribute.name }}` of the group are filled in. */
    annotations: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((rule, ctx) => {
    const measures = (['count', 'rate', 'ratio', 'avg', 'max', 'quantile', 'gauge', 'gauge_ratio'] as const).filter((m) => rule[m] !== undefined);
    if (measures.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `a rule computes exactly one of count, rate, ratio, avg, max, quantile, gauge, gauge_ratio (found ${measures.length === 0 ? 'none' : measures.join(', ')})` });
    }
    if (rule.above === undefined && rule.below === undefined) ctx.addIssue({ code: 'custom', path: ['above'], message: 'a rule needs a threshold: above or below' });
    if (rule.above !== undefined && rule.below !== undefined) ctx.addIssue({ code: 'custom', path: ['below'], message: 'above or below, not both' });
    if (rule.window <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'the window must be longer than 0' });
    // Labels go to Alertmanager as they are: Prometheus label names, and none of ours overwritten.
    for (const name of Object.keys(rule.labels)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) ctx.addIssue({ code: 'custom', path: ['labels', name], message: 'a label name is letters, digits and _, not starting with a digit' });
      else if (name === 'alertname' || name === 'severity') ctx.addIssue({ code: 'custom', path: ['labels', name], message: `${name} is set by the rule (its name, its severity)` });
    }
    const byLabel = new Map<string, string>();
    for (const attribute of rule.group_by) {
      const label = attribute.replace(/[^A-Za-z0-9_]/g, '_');
      const other = byLabel.get(label);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['group_by'], message: `${other} and ${attribute} would both be the label ${label}` });
      if (/^[0-9]/.test(label)) ctx.addIssue({ code: 'custom', path: ['group_by'], message: `${attribute}: a label name cannot start with a digit` });
      byLabel.set(label, attribute);
    }
  });

export type RuleConfig = z.input<typeof ruleSchema>;
export type Rule = z.output<typeof ruleSchema>;

export type Measure = 'count' | 'rate' | 'ratio' | 'avg' | 'max' | 'quantile' | 'gauge' | 'gauge_ratio';

export function measureOf(rule: Rule): Measure {
  for (const m of ['count', 'rate', 'ratio', 'avg', 'max', 'quantile', 'gauge', 'gauge_ratio'] as const) if (rule[m] !== undefined) return m;
  throw new Error(`rule ${rule.name} computes nothing`);
}
