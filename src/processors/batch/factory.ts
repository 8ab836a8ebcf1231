/** The `batch` processor's factory: the pipeline's batching settings. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { batchConfigSchema, BATCH_TYPE, type BatchConfig } from './config.ts';

export const batchFactory: ProcessorFactory = {
  kind: 'processors',
  type: BATCH_TYPE,
  configSchema: batchConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(_id, config): Processor {
    const c = config as BatchConfig;
    // It shapes the pipeline's batching (the pipeline holds the batches); it touches no record.
    return { mutates: false, batch: { timeoutMs: c.timeout, sendBatchSize: c.send_batch_size, sendBatchMaxSize: c.send_batch_max_size } };
  },
};
