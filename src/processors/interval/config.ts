/**
 * Config of the `interval` processor: where and how a metrics pipeline aggregates. Every metrics
 * pipeline aggregates (one with no `interval` listed gets these defaults, at the end of its
 * processors); listing it sets its keys and its place. The name and `interval` key are contrib's
 * interval processor's; `max_streams` and `max_stale` are the deltatocumulative processor's.
 */
import { z } from 'zod';
import { duration, positiveDuration } from '../../config/units.ts';

export const INTERVAL_TYPE = 'interval';

/** The export interval when neither the config nor OTEL_METRIC_EXPORT_INTERVAL says: the OpenTelemetry SDK's. */
export const DEFAULT_INTERVAL_MS = 60_000;

/** OTEL_METRIC_EXPORT_INTERVAL (milliseconds, as the SDK reads it) when set and valid. */
export function envIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.OTEL_METRIC_EXPORT_INTERVAL;
  if (raw === undefined || raw.trim() === '') return undefined;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export const intervalConfigSchema = z
  .strictObject({
    /**
     * How often the aggregated series are sent. Default: OTEL_METRIC_EXPORT_INTERVAL
     * (milliseconds) when set, else 60s.
     */
    interval: positiveDuration('nothing would ever be sent').optional(),
    /** Series kept at most, per pipeline; past it, new series' points go to one overflow series per metric (`otel.metric.overflow`). Default 10000. */
    max_streams: z.number().int().positive().default(10_000),
    /** A series with no new point for this long is forgotten (a later point starts it again, with a new start time). Default 5m. */
    max_stale: duration.default(300_000).refine((ms) => ms > 0, 'must be more than 0'),
    /**
     * The identity of this instance on every series it writes (`service.instance.id` of the
     * metrics' resource): two instances never write the same cumulative series. Default: the
     * dyno's name on Heroku ($DYNO), else the host name, with a random part drawn at start
     * (`web.1-3f9a2c1b`), so a restarted process writes new series. A fixed value here must
     * differ per instance.
     */
    instance_id: z.string().min(1).optional(),
  })
  .prefault({});

export type IntervalConfig = z.output<typeof intervalConfigSchema>;
