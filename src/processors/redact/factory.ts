/** The `redact` processor's factory: secrets masked before any exporter sees them. */
import type { ProcessorFactory } from '../../service/component.ts';
import { redactConfigSchema, REDACT_TYPE } from './config.ts';

export const redactFactory: ProcessorFactory = { kind: 'processors', type: REDACT_TYPE, configSchema: redactConfigSchema, signals: ['logs'] };
