/**
 * Config of the `transform` processor, with contrib's keys (processor/transformprocessor): OTTL
 * statements (the subset in src/processors/ottl/ottl.ts), in either shape contrib takes: a flat
 * list whose context each statement's paths say, or groups with a `context`, `conditions` (any
 * one true) and `statements`.
 *
 * ```yaml
 * processors:
 *   transform:
 *     error_mode: ignore
 *     log_statements:
 *       - 'set(attributes["team"], "shop") where resource.attributes["service.name"] == "shop-web"'
 *       - 'replace_pattern(body, "token=[^ ]+", "token=***")'
 *       - context: resource
 *         statements: ['set(attributes["deployment.environment.name"], "production")']
 *     trace_statements:
 *       - 'set(status.code, STATUS_CODE_UNSET) where attributes["error.type"] == "H27"'
 * ```
 */
import { z } from 'zod';
import { inferContext, type OttlContext } from '../ottl/ottl.ts';
import { conditionSchema, errorModeSchema, refused, statementSchema, type CompiledCondition, type CompiledStatement } from '../ottl/config.ts';

export const TRANSFORM_TYPE = 'transform';

export interface StatementGroup {
  context: OttlContext;
  conditions: CompiledCondition[];
  statements: CompiledStatement[];
  /** The group's own error_mode (contrib: it overrides the processor's for this group). */
  errorMode?: z.output<typeof errorModeSchema>;
}

function groupsSchema(signal: 'logs' | 'metrics' | 'traces') {
  const contexts = signal === 'logs' ? (['log', 'resource'] as const) : signal === 'traces' ? (['span', 'resource'] as const) : (['metric', 'datapoint', 'resource'] as const);
  const flat = z.string().transform((source, ctx): StatementGroup => {
    const context = inferContext(source, signal);
    const parsed = statementSchema(context).safeParse(source);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      return z.NEVER;
    }
    return { context, conditions: [], statements: [parsed.data] };
  });
  const grouped = z
    .strictObject({
      context: z.string(),
      conditions: z.array(z.string()).default([]),
      statements: z.array(z.string()).min(1),
      error_mode: errorModeSchema.optional(),
    })
    .transform((g, ctx): StatementGroup => {
      if (!(contexts as readonly string[]).includes(g.context)) {
        ctx.addIssue({ code: 'custom', path: ['context'], message: `expected one of ${contexts.join(', ')} here${g.context === 'scope' || g.context === 'spanevent' ? ' (scope and spanevent contexts are not supported)' : ''}` });
        return z.NEVER;
      }
      const context = g.context as OttlContext;
      const conditions: CompiledCondition[] = [];
      const statements: CompiledStatement[] = [];
      g.conditions.forEach((source, i) => {
        const r = conditionSchema(context).safeParse(source);
        if (r.success) conditions.push(r.data);
        else for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['conditions', i], message: issue.message });
      });
      g.statements.forEach((source, i) => {
        const r = statementSchema(context).safeParse(source);
        if (r.success) statements.push(r.data);
        else for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['statements', i], message: issue.message });
      });
      return { context, conditions, statements, ...(g.error_mode !== undefined ? { errorMode: g.error_mode } : {}) };
    });
  // Dispatched by shape rather than z.union, whose failure would say only "Invalid input".
  const either = z.unknown().transform((v, ctx): StatementGroup => {
    const r = typeof v === 'string' ? flat.safeParse(v) : grouped.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : issue.message });
    return z.NEVER;
  });
  return z.array(either).default([]);
}

export const transformConfigSchema = z.strictObject({
  /** A statement that fails: ignore (logged, next statement), silent, propagate (logged as an error). The item is kept in every case. */
  error_mode: errorModeSchema,
  log_statements: groupsSchema('logs'),
  metric_statements: groupsSchema('metrics'),
  trace_statements: groupsSchema('traces'),
  flatten_data: refused('flatten_data is not supported'),
});

export type TransformConfig = z.output<typeof transformConfigSchema>;
