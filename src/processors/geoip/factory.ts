/** The `geoip` processor's factory: geo.* attributes for client.address. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import { geoipConfigSchema, GEOIP_TYPE, type GeoipConfig } from './config.ts';
import { GeoipProcessor } from './processor.ts';

export const geoipFactory: ProcessorFactory = {
  kind: 'processors',
  type: GEOIP_TYPE,
  configSchema: geoipConfigSchema,
  signals: ['logs', 'traces'],
  /** Throws with a readable reason when the database cannot be read. */
  create(id, config): Processor {
    const c = config as GeoipConfig;
    const geoip = new GeoipProcessor(id, c);
    if (c.context === 'record') {
      return {
        mutates: true,
        process(_resource, logs, _metrics, _observed, spans) {
          geoip.process(logs);
          // A router span carries the record's client.address.
          if (spans !== undefined) for (const s of spans) geoip.enrich(s.attributes);
        },
      };
    }
    // contrib's resource context: a changed copy per drain resource object.
    const changed = new WeakMap<Attributes, Attributes>();
    return {
      mutates: false,
      process(resource) {
        let out = changed.get(resource);
        if (out === undefined) {
          out = { ...resource };
          geoip.enrich(out);
          changed.set(resource, out);
        }
        return { resource: out };
      },
    };
  },
};
