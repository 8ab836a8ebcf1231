/**
 * `geoip`: the geoip processor over the mix's records (router lines carry client.address), with
 * the bundled country database and the default cache; records per second. The mix's client
 * addresses are mostly random IPv4 ones, nearly all different: this is close to the cost without
 * the cache (real traffic repeats its visitors, and hits the cache far more).
 */
import { geoipConfigSchema } from '../src/processors/geoip/config.ts';
import { GeoipProcessor } from '../src/processors/geoip/processor.ts';
import type { LogRecordData } from '../src/translate/telemetry.ts';
import type { Scenario } from './harness.ts';

export function geoipScenario(batches: readonly LogRecordData[][]): Scenario {
  const records = batches.reduce((n, b) => n + b.length, 0);
  const geoip = new GeoipProcessor('geoip', geoipConfigSchema.parse({}));
  return {
    name: 'geoip',
    what: 'geo.* attributes for records with client.address (bundled country database, cache on)',
    items: records,
    pass: () => {
      for (const b of batches) geoip.process(b);
      return geoip.counters.found;
    },
  };
}
