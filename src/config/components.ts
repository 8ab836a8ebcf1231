/**
 * The component types a config may name, by kind, each with its config schema. A component id is
 * `type` or `type/name` (`otlphttp/grafana`), as in the Collector.
 */
import type { z } from 'zod';
import { debugConfigSchema, DEBUG_TYPE } from '../exporters/debug/config.ts';
import { fileConfigSchema, FILE_TYPE } from '../exporters/file/config.ts';
import { otlphttpConfigSchema, OTLPHTTP_TYPE } from '../exporters/otlphttp/config.ts';
import { alertsConfigSchema, ALERTS_TYPE } from '../processors/alerts/config.ts';
import { batchConfigSchema, BATCH_TYPE } from '../processors/batch/config.ts';
import { geoipConfigSchema, GEOIP_TYPE } from '../processors/geoip/config.ts';
import { redactConfigSchema, REDACT_TYPE } from '../processors/redact/config.ts';
import { logplexConfigSchema, LOGPLEX_TYPE } from '../receivers/logplex/config.ts';
import { syslogConfigSchema, SYSLOG_TYPE } from '../receivers/syslog/config.ts';
import { redisConfigSchema, REDIS_TYPE } from '../extensions/redis/config.ts';

export type ComponentKind = 'receivers' | 'processors' | 'exporters' | 'extensions';

export const COMPONENT_SCHEMAS: Readonly<Record<ComponentKind, Readonly<Record<string, z.ZodType>>>> = {
  receivers: { [LOGPLEX_TYPE]: logplexConfigSchema, [SYSLOG_TYPE]: syslogConfigSchema },
  processors: { [BATCH_TYPE]: batchConfigSchema, [ALERTS_TYPE]: alertsConfigSchema, [GEOIP_TYPE]: geoipConfigSchema, [REDACT_TYPE]: redactConfigSchema },
  exporters: { [OTLPHTTP_TYPE]: otlphttpConfigSchema, [DEBUG_TYPE]: debugConfigSchema, [FILE_TYPE]: fileConfigSchema },
  extensions: { [REDIS_TYPE]: redisConfigSchema },
};

/** `otlphttp/grafana` to its type `otlphttp`; undefined when the id is malformed. */
export function componentType(id: string): string | undefined {
  const m = /^([a-z][a-z0-9_]*)(?:\/([A-Za-z0-9_.-]+))?$/.exec(id);
  return m ? m[1] : undefined;
}
