/**
 * The `tail_sampling` processor's factory: count, then sample. Listed after `alerts` in a logs
 * (and traces) pipeline, it keeps each request's router record, span and app lines together as
 * its policies decide (errors, slow requests, a share of the rest), while alerts and the metrics
 * pipelines still see every line. Kept items carry their adjusted count (`adjusted_count_attribute`,
 * default `SampleRate`; spans also `ot=th:` in their tracestate) so a backend can extrapolate.
 */
import type { ProcessorFactory } from '../../service/component.ts';
import { tailSamplingConfigSchema, TAIL_SAMPLING_TYPE, type TailSamplingConfig } from './config.ts';
import { TailSamplingProcessor } from './processor.ts';

export const tailSamplingFactory: ProcessorFactory = {
  kind: 'processors',
  type: TAIL_SAMPLING_TYPE,
  configSchema: tailSamplingConfigSchema,
  signals: ['logs', 'traces'],
  create(id, config, host): TailSamplingProcessor {
    return new TailSamplingProcessor(id, config as TailSamplingConfig, host);
  },
};
