/** The `redact` processor's factory: secrets masked before any exporter sees them. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { redactConfigSchema, REDACT_TYPE, type RedactConfig } from './config.ts';
import { RedactProcessor } from './processor.ts';

export const redactFactory: ProcessorFactory = {
  kind: 'processors',
  type: REDACT_TYPE,
  configSchema: redactConfigSchema,
  signals: ['logs'],
  create(id, config): Processor {
    const redact = new RedactProcessor(id, config as RedactConfig);
    return { mutates: true, redacts: true, process: (_resource, logs) => redact.process(logs) };
  },
};
