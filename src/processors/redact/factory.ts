/** The `redact` processor's factory: secrets masked before any exporter sees them (and contrib's redaction keys when set). */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { createRedaction } from '../redaction/factory.ts';
import { redactConfigSchema, REDACT_TYPE, type RedactConfig } from './config.ts';

export const redactFactory: ProcessorFactory = {
  kind: 'processors',
  type: REDACT_TYPE,
  configSchema: redactConfigSchema,
  signals: ['logs', 'traces'],
  create(id, config): Processor {
    return createRedaction(id, config as RedactConfig, true);
  },
};
