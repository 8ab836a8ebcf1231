/** The `cumulativetodelta` processor's factory: a pipeline's aggregated sums and histograms as deltas. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { cumulativeToDeltaConfigSchema, CUMULATIVE_TO_DELTA_TYPE, type CumulativeToDeltaConfig } from './config.ts';
import { CumulativeToDelta } from './processor.ts';

export const cumulativeToDeltaFactory: ProcessorFactory = {
  kind: 'processors',
  type: CUMULATIVE_TO_DELTA_TYPE,
  configSchema: cumulativeToDeltaConfigSchema,
  signals: ['metrics'],
  metricsPlacement: 'after-aggregation',
  create(_id, config): Processor {
    const converter = new CumulativeToDelta(config as CumulativeToDeltaConfig);
    return { mutates: false, afterAggregation: true, transformMetrics: (_resource, points) => converter.transform(points) };
  },
};
