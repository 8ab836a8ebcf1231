/**
 * Receiver keys for what translation does per drain, shared by the logplex and syslog receivers:
 * `trace_correlation` (app lines that log the router's request id get the request's trace id) and
 * `url_templates` (a bounded route template per router path, `url.template`).
 */
import { z } from 'zod';
import { DEFAULT_REQUEST_ID_KEYS } from '../heroku/request-id.ts';
import { newDrainContext, type DrainContext } from '../translate/drain-context.ts';
import { DEFAULT_MAX_SEGMENT_VALUES, DEFAULT_MAX_TEMPLATES, patternProblem } from '../translate/url-template.ts';

export const traceCorrelationSchema = z
  .strictObject({
    /** Off: app lines keep no trace context but their own. Default true. */
    enabled: z.boolean().default(true),
    /**
     * Fields of app lines (logfmt keys, JSON keys, dotted JSON paths) holding the router's request
     * id, tried in order. Default `[request_id, requestId, request.id]`; `[]` reads tags only.
     */
    request_id_keys: z.array(z.string().min(1, 'a key is not empty')).default([...DEFAULT_REQUEST_ID_KEYS]),
    /** Read the id from a plain line's leading `[tags]` (Rails' log_tags). Default true. */
    tagged_lines: z.boolean().default(true),
  })
  .prefault({});

export const urlTemplatesSchema = z
  .strictObject({
    /** Off: router records and the duration histogram carry no url.template. Default true. */
    enabled: z.boolean().default(true),
    /** Templates tried first, whole path against whole pattern: `/users/{id}/orders/{order_id}`. */
    patterns: z
      .array(
        z.string().superRefine((p, ctx) => {
          const problem = patternProblem(p);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .default([]),
    /** Distinct templates learned per drain; past it, paths get `/{overflow}` (counted). Default 1000. */
    max_templates: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_TEMPLATES),
    /** Distinct values one position under one parent takes before it is `{var}`. Default 25. */
    max_segment_values: z.number().int().min(1).max(1000).default(DEFAULT_MAX_SEGMENT_VALUES),
  })
  .prefault({});

export type TraceCorrelationConfig = z.output<typeof traceCorrelationSchema>;
export type UrlTemplatesConfig = z.output<typeof urlTemplatesSchema>;

/** A drain's context with every default: for tools that read one capture (parse, replay) as one drain. */
export function defaultDrainContext(): DrainContext {
  return newDrainContext({ trace_correlation: traceCorrelationSchema.parse(undefined), url_templates: urlTemplatesSchema.parse(undefined) });
}
