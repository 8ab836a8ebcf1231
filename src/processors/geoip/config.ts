/**
 * Config of the `geoip` processor: where client addresses are, as OpenTelemetry's geo.* attributes.
 *
 * ```yaml
 * processors:
 *   geoip:
 *     database: /data/GeoLite2-City.mmdb   # optional: a MaxMind-format file (GeoLite2, DB-IP, ip-location-db)
 *     cache_size: 10000
 * ```
 * Without `database`, a country-level database shipped as an npm package is used
 * (@ip-location-db/geo-whois-asn-country-mmdb, built from the regional internet registries' data).
 */
import { z } from 'zod';

export const GEOIP_TYPE = 'geoip';

export const geoipConfigSchema = z.strictObject({
  database: z.string().min(1).optional(),
  /** The attribute holding the address. Default client.address. */
  source_attribute: z.string().min(1).default('client.address'),
  /** Addresses remembered, hits and misses alike. Default 10000. */
  cache_size: z.number().int().nonnegative().default(10_000),
});

export type GeoipConfig = z.output<typeof geoipConfigSchema>;
