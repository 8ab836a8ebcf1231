/** The `geoip` processor's factory: geo.* attributes for client.address. */
import type { ProcessorFactory } from '../../service/component.ts';
import { geoipConfigSchema, GEOIP_TYPE } from './config.ts';

export const geoipFactory: ProcessorFactory = { kind: 'processors', type: GEOIP_TYPE, configSchema: geoipConfigSchema, signals: ['logs'] };
