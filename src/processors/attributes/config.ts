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
 */
import { z } from 'zod';
import { actionSchema } from './actions.ts';

export const ATTRIBUTES_TYPE = 'attributes';

/** One include or exclude block (contrib's filterconfig.MatchProperties, the parts that apply here). */
export const matchPropertiesSchema = z
  .strictObject({
    match_type: z.enum(['strict', 'regexp']),
    /** Every listed attribute present, and equal (strict) or matching (regexp) when a value is given. */
    attributes: z.array(z.strictObject({ key: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).optional() })).optional(),
    /** The same against the resource's attributes. */
    resources: z.array(z.strictObject({ key: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).optional() })).optional(),
    /** Any one of them matches the record's body (logs). */
    log_bodies: z.array(z.string()).optional(),
    /** Any one of them matches the record's severity text (logs). */
    log_severity_texts: z.array(z.string()).optional(),
    /** Severity number at least `min` (logs); `match_undefined`: a record without one matches too. */
    log_severity_number: z.strictObject({ min: z.union([z.number().int(), z.string()]), match_undefined: z.boolean().default(false) }).optional(),
    /** Any one of them matches the metric's name (metrics). */
    metric_names: z.array(z.string()).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.match_type !== 'regexp') return;
    const check = (values: Array<string | number | boolean | undefined>, path: (string | number)[]) =>
      values.forEach((v, i) => {
        if (typeof v !== 'string') return;
        try {
          new RegExp(v);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `not a valid regular expression: ${(error as Error).message}` });
        }
      });
    check(m.log_bodies ?? [], ['log_bodies']);
    check(m.log_severity_texts ?? [], ['log_severity_texts']);
    check(m.metric_names ?? [], ['metric_names']);
    check((m.attributes ?? []).map((a) => a.value), ['attributes']);
    check((m.resources ?? []).map((a) => a.value), ['resources']);
  });

export type MatchProperties = z.output<typeof matchPropertiesSchema>;

export const attributesConfigSchema = z
  .strictObject({
    actions: z.array(actionSchema).min(1, 'at least one action'),
    include: matchPropertiesSchema.optional(),
    exclude: matchPropertiesSchema.optional(),
  });

export type AttributesConfig = z.output<typeof attributesConfigSchema>;
