/** The `alerts` processor's factory: rules over logs and metrics, transitions as log records. */
import type { ProcessorFactory } from '../../service/component.ts';
import { alertsConfigSchema, ALERTS_TYPE } from './config.ts';

export const alertsFactory: ProcessorFactory = { kind: 'processors', type: ALERTS_TYPE, configSchema: alertsConfigSchema, signals: ['logs', 'metrics'] };
