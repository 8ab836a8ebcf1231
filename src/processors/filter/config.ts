/**
 * Config of the `filter` processor, with contrib's keys (processor/filterprocessor): an item is
 * dropped when any of its conditions (OTTL, see src/processors/ottl/ottl.ts) is true.
 *
 * ```yaml
 * processors:
 *   filter/noise:
 *     error_mode: ignore
 *     logs:
 *       log_record:
 *         - 'attributes["url.path"] == "/health" and attributes["http.response.status_code"] < 400'
 *         - 'severity_number < SEVERITY_NUMBER_INFO'
 *     metrics:
 *       metric: ['name == "heroku.dyno.load.avg.15m"']
 *       datapoint: ['attributes["heroku.dyno.type"] == "run"']
 *     traces:
 *       span: ['attributes["url.path"] == "/health" and status.code != STATUS_CODE_ERROR']
 * ```
 */
import { z } from 'zod';
import { conditionSchema, errorModeSchema, refused } from '../ottl/config.ts';

export const FILTER_TYPE = 'filter';

const LEGACY = 'the legacy include/exclude match properties are not supported here; write OTTL conditions (logs.log_record, metrics.metric, metrics.datapoint)';

export const filterConfigSchema = z.strictObject({
  /** What a condition that fails to evaluate does: ignore (logged), silent, propagate (logged as an error). The item is kept in every case. */
  error_mode: errorModeSchema,
  logs: z.strictObject({ log_record: z.array(conditionSchema('log')).default([]), include: refused(LEGACY), exclude: refused(LEGACY) }).optional(),
  metrics: z
    .strictObject({ metric: z.array(conditionSchema('metric')).default([]), datapoint: z.array(conditionSchema('datapoint')).default([]), include: refused(LEGACY), exclude: refused(LEGACY) })
    .optional(),
  traces: z.strictObject({ span: z.array(conditionSchema('span')).default([]), spanevent: refused('span events: router spans have none') }).optional(),
  spans: refused('the legacy include/exclude match properties are not supported here; write OTTL conditions (traces.span)'),
});

export type FilterConfig = z.output<typeof filterConfigSchema>;
