/** The `batch` processor's factory: the pipeline's batching settings. */
import type { ProcessorFactory } from '../../service/component.ts';
import { batchConfigSchema, BATCH_TYPE } from './config.ts';

export const batchFactory: ProcessorFactory = { kind: 'processors', type: BATCH_TYPE, configSchema: batchConfigSchema, signals: ['logs', 'metrics'] };
