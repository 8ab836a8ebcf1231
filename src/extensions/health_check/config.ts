/**
 * Config of the `health_check` extension, with the Collector's (contrib's healthcheckextension)
 * keys: an HTTP endpoint a load balancer or an orchestrator asks whether the sidecar runs.
 *
 * ```yaml
 * extensions:
 *   health_check:
 *     endpoint: 0.0.0.0:13133   # default localhost:13133, as the Collector
 *     path: /                   # default /
 * service:
 *   extensions: [health_check]
 * ```
 * On Heroku a dyno is reachable on `$PORT` only: there the logplex receiver's port is what the
 * router sees, and this endpoint serves checks from inside the dyno (a sidecar process) or off Heroku.
 */
import { z } from 'zod';
import { hostPort } from '../../config/units.ts';

export const HEALTH_CHECK_TYPE = 'health_check';

export const healthCheckConfigSchema = z.strictObject({
  /** host:port. Default `localhost:13133`. */
  endpoint: hostPort.prefault('localhost:13133'),
  /** The path answered; any other path is a 404. Default `/`. */
  path: z.string().startsWith('/', 'a path starts with /').default('/'),
  /** Bodies to answer instead of the JSON status, as the Collector's response_body. */
  response_body: z.strictObject({ healthy: z.string().optional(), unhealthy: z.string().optional() }).optional(),
  /**
   * The Collector's deprecated pipeline check (it never worked as documented there): accepted
   * switched off only, so a pasted config that has it off still validates.
   */
  check_collector_pipeline: z
    .strictObject({
      enabled: z.boolean().refine((on) => !on, 'check_collector_pipeline is deprecated in the Collector and not supported here; remove it or set enabled: false'),
      interval: z.string().optional(),
      exporter_failure_threshold: z.number().optional(),
    })
    .optional(),
});

export type HealthCheckConfig = z.output<typeof healthCheckConfigSchema>;
