/**
 * Config of the `cumulativetodelta` processor, with contrib's keys: the monotonic sums and
 * histograms its pipeline aggregated go out as deltas (what Datadog's OTLP intake wants).
 * `include` / `exclude` choose metrics by name (`strict` or `regexp`) and type; with neither,
 * every monotonic sum and histogram is converted. Non-monotonic sums stay cumulative, as in
 * contrib.
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';

export const CUMULATIVE_TO_DELTA_TYPE = 'cumulativetodelta';

const matchSchema = z
  .strictObject({
    metrics: z.array(z.string().min(1)).default([]),
    match_type: z.enum(['strict', 'regexp']).default('strict'),
    /** `sum` and/or `histogram`; empty: both. */
    metric_types: z.array(z.enum(['sum', 'histogram'])).default([]),
  })
  .superRefine((m, ctx) => {
    if (m.match_type !== 'regexp') return;
    for (const [i, pattern] of m.metrics.entries()) {
      try {
        new RegExp(pattern);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['metrics', i], message: `not a regular expression: ${(error as Error).message}` });
      }
    }
  });

export const cumulativeToDeltaConfigSchema = z
  .strictObject({
    include: matchSchema.optional(),
    exclude: matchSchema.optional(),
    /** Accepted for contrib's configs: series are forgotten by the aggregation's max_stale here. */
    max_staleness: duration.optional(),
    /**
     * The first point of a series: `auto` (default) sends it when its start time is before its
     * time (the aggregation saw everything since then), drops it otherwise (a running total first
     * seen: what came before is unknown); `keep` always sends it; `drop` never does.
     */
    initial_value: z.enum(['auto', 'keep', 'drop']).default('auto'),
  })
  .prefault({});

export type CumulativeToDeltaConfig = z.output<typeof cumulativeToDeltaConfigSchema>;
