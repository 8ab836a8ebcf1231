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

export const geoipConfigSchema = z
  .strictObject({
    database: z.string().min(1).optional(),
    /** The attribute holding the address. Default client.address. */
    source_attribute: z.string().min(1).optional(),
    /** Addresses remembered, hits and misses alike. Default 10000. */
    cache_size: z.number().int().nonnegative().default(10_000),
    // Contrib's geoipprocessor keys, understood beside ours:
    /**
     * Where the address is read and geo.* written: `record` (default here: Heroku's client
     * address is a router record's attribute) or `resource` (contrib's default; a changed copy
     * of the drain's resource, which has an address only if a resource processor put one there).
     */
    context: z.enum(['record', 'resource']).default('record'),
    /** contrib: the database, `providers: { maxmind: { database_path } }`. */
    providers: z.strictObject({ maxmind: z.strictObject({ database_path: z.string().min(1) }) }).optional(),
    /** contrib: the attributes that may hold the address, the first present is used. Default [client.address, source.address]. */
    attributes: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.database !== undefined && c.providers !== undefined) ctx.addIssue({ code: 'custom', path: ['providers'], message: 'set database or providers.maxmind.database_path, not both' });
    if (c.source_attribute !== undefined && c.attributes !== undefined) ctx.addIssue({ code: 'custom', path: ['attributes'], message: 'set source_attribute or attributes, not both' });
  })
  .transform((c) => ({
    ...c,
    database: c.database ?? c.providers?.maxmind.database_path,
    /** The attributes looked at, in order. */
    sources: c.attributes ?? (c.source_attribute !== undefined ? [c.source_attribute] : ['client.address', 'source.address']),
  }));

export type GeoipConfig = z.output<typeof geoipConfigSchema>;
