/**
 * Config of the `memory_limiter` processor, with the Collector's keys and meanings: above the
 * soft limit (`limit` less `spike_limit`) its pipelines refuse data, so the receivers answer 503
 * and Logplex keeps the batch, before the process reaches its limit (R14, then R15 on Heroku).
 * Limits are in MiB (`limit_mib`) or a percentage of the memory available (`limit_percentage`:
 * the container's cgroup limit, or the machine's memory without one). Exactly one is set.
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';

export const MEMORY_LIMITER_TYPE = 'memory_limiter';

const percentage = z.number().int().min(1).max(100);

export const memoryLimiterConfigSchema = z
  .strictObject({
    /** How often memory is measured (the process's resident set, what Heroku's R14 watches). Default 1s. */
    check_interval: duration.default(1000).refine((ms) => ms > 0, 'must be more than 0'),
    /** The hard limit, in MiB. */
    limit_mib: z.number().int().positive().optional(),
    /** The headroom below the hard limit where data is refused, in MiB. Default 20 % of limit_mib. */
    spike_limit_mib: z.number().int().nonnegative().optional(),
    /** The hard limit as a percentage of the memory available. */
    limit_percentage: percentage.optional(),
    /** The headroom as a percentage of the memory available. Default 20 % of the limit. */
    spike_limit_percentage: percentage.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.limit_mib === undefined) === (c.limit_percentage === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of limit_mib and limit_percentage' });
    }
    if (c.limit_mib !== undefined && c.spike_limit_mib !== undefined && c.spike_limit_mib >= c.limit_mib) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_mib'], message: 'must be less than limit_mib' });
    }
    if (c.limit_percentage !== undefined && c.spike_limit_percentage !== undefined && c.spike_limit_percentage >= c.limit_percentage) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_percentage'], message: 'must be less than limit_percentage' });
    }
    if (c.limit_mib !== undefined && c.spike_limit_percentage !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_percentage'], message: 'goes with limit_percentage; with limit_mib, use spike_limit_mib' });
    }
    if (c.limit_percentage !== undefined && c.spike_limit_mib !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['spike_limit_mib'], message: 'goes with limit_mib; with limit_percentage, use spike_limit_percentage' });
    }
  });

export type MemoryLimiterConfig = z.output<typeof memoryLimiterConfigSchema>;
