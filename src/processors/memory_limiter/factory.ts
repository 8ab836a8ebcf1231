/** The `memory_limiter` processor's factory: data refused before the process runs out of memory. */
import type { ProcessorFactory } from '../../service/component.ts';
import { memoryLimiterConfigSchema, MEMORY_LIMITER_TYPE } from './config.ts';

export const memoryLimiterFactory: ProcessorFactory = {
  kind: 'processors',
  type: MEMORY_LIMITER_TYPE,
  configSchema: memoryLimiterConfigSchema,
  signals: ['logs', 'metrics'],
};
