/** The `geoip` processor's factory: geo.* attributes for client.address. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { geoipConfigSchema, GEOIP_TYPE, type GeoipConfig } from './config.ts';
import { GeoipProcessor } from './processor.ts';

export const geoipFactory: ProcessorFactory = {
  kind: 'processors',
  type: GEOIP_TYPE,
  configSchema: geoipConfigSchema,
  signals: ['logs'],
  /** Throws with a readable reason when the database cannot be read. */
  create(id, config): Processor {
    const geoip = new GeoipProcessor(id, config as GeoipConfig);
    return { mutates: true, process: (_resource, logs) => geoip.process(logs) };
  },
};
