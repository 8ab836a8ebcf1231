/** The `memory_limiter` processor's factory: data refused before the process runs out of memory. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { memoryLimiterConfigSchema, MEMORY_LIMITER_TYPE, type MemoryLimiterConfig } from './config.ts';
import { MemoryLimiter } from './limiter.ts';

const MIB = 1024 * 1024;

export const memoryLimiterFactory: ProcessorFactory = {
  kind: 'processors',
  type: MEMORY_LIMITER_TYPE,
  configSchema: memoryLimiterConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(id, config, host): Processor {
    const limiter = new MemoryLimiter(id, config as MemoryLimiterConfig, host.log);
    return {
      mutates: false,
      accepting: () => limiter.accepting,
      start: () => limiter.start(),
      startedNote: () => `${id}: data is refused above ${Math.round(limiter.limits.softBytes / MIB)} MiB of memory (limit ${Math.round(limiter.limits.hardBytes / MIB)} MiB)`,
      shutdown: async () => limiter.stop(),
    };
  },
};
