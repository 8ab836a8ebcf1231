/** The `redis` extension's factory: frame ids and alert windows shared by several instances. */
import type { ExtensionFactory } from '../../service/component.ts';
import { redisConfigSchema, REDIS_TYPE, type RedisConfig } from './config.ts';
import { RedisStore } from './store.ts';

export const redisFactory: ExtensionFactory = {
  kind: 'extensions',
  type: REDIS_TYPE,
  configSchema: redisConfigSchema,
  create: (id, config, host) => new RedisStore(id, config as RedisConfig, host.log),
};
