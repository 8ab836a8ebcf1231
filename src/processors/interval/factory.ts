/** The `interval` processor's factory: where and how a metrics pipeline aggregates (see stage.ts). */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { DEFAULT_INTERVAL_MS, envIntervalMs, intervalConfigSchema, INTERVAL_TYPE, type IntervalConfig } from './config.ts';
import type { StageSettings } from './stage.ts';

/** Drawn once per process: a restart is a new writer, so its series start anew. */
const BOOT_ID = randomBytes(4).toString('hex');

/**
 * This process's identity on the series it writes: the dyno on Heroku (else the host) and a
 * random part drawn at start. The random part matters: during a preboot deploy the old and the
 * new web.1 run side by side, and a restarted container keeps its host name and often its pid;
 * with the dyno alone they would write the same cumulative series.
 */
export function defaultInstanceId(env: NodeJS.ProcessEnv = process.env): string {
  const dyno = env.DYNO?.trim();
  return `${dyno !== undefined && dyno !== '' ? dyno : hostname()}-${BOOT_ID}`;
}

/** A config's settings, the env and defaults filling what it leaves out. */
export function stageSettings(config: IntervalConfig, env: NodeJS.ProcessEnv = process.env): StageSettings {
  return {
    intervalMs: config.interval ?? envIntervalMs(env) ?? DEFAULT_INTERVAL_MS,
    maxStreams: config.max_streams,
    maxStaleMs: config.max_stale,
    instanceId: config.instance_id ?? defaultInstanceId(env),
  };
}

export const intervalFactory: ProcessorFactory = {
  kind: 'processors',
  type: INTERVAL_TYPE,
  configSchema: intervalConfigSchema,
  signals: ['metrics'],
  metricsPlacement: 'aggregation',
  create(_id, config): Processor {
    return { mutates: false, aggregation: stageSettings(config as IntervalConfig) };
  },
};
