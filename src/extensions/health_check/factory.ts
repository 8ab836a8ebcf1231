/** The `health_check` extension's factory: the Collector's health endpoint (200 when running, 503 otherwise). */
import type { ExtensionFactory } from '../../service/component.ts';
import { healthCheckConfigSchema, HEALTH_CHECK_TYPE, type HealthCheckConfig } from './config.ts';
import { HealthCheck } from './extension.ts';

export const healthCheckFactory: ExtensionFactory = {
  kind: 'extensions',
  type: HEALTH_CHECK_TYPE,
  configSchema: healthCheckConfigSchema,
  create: (id, config, host) => new HealthCheck(id, config as HealthCheckConfig, host.log),
};
