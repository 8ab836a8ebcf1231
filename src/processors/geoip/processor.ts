/**
 * The `geoip` processor: adds geo.country.iso_code, geo.continent.code and, where the database
 * has them, geo.region.iso_code, geo.locality.name, geo.location.lat/lon to records that carry a
 * client address. Reads MaxMind-format databases through `maxmind` (GeoLite2 and DB-IP layouts,
 * and ip-location-db's flat one). Private, loopback and invalid addresses are skipped; lookups
 * are cached; a missing or unreadable database stops the sidecar at startup with its reason.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Reader } from 'maxmind';
import { lazy } from '../../lazy.ts';
import type { Attributes, LogRecordData } from '../../translate/telemetry.ts';
import type { GeoipConfig } from './config.ts';

const require = createRequire(import.meta.url);

// Loaded by the first geoip processor made: a config without one holds neither.
const maxmind = lazy<typeof import('maxmind')>('maxmind');
const countriesList = lazy<typeof import('countries-list')>('countries-list');

/** The bundled country database. */
export function bundledDatabasePath(): string {
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

type Geo = Readonly<Attributes> | null;

/** Loopback, private, link-local, carrier-grade NAT, unique-local and unspecified addresses. */
export function isPrivateAddress(ip: string, family: number): boolean {
  if (family === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe8') || lower.startsWith('fe9') || lower.startsWith('fea') || lower.startsWith('feb');
}

interface AnyRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  continent?: { code?: string };
  city?: { names?: { en?: string } };
  subdivisions?: Array<{ iso_code?: string }>;
  location?: { latitude?: number; longitude?: number };
  // ip-location-db's layout
  country_code?: string;
  state1?: string;
  city_name?: string;
  latitude?: number;
  longitude?: number;
}

export class GeoipProcessor {
  readonly id: string;
  readonly counters = { lookups: 0, cacheHits: 0, found: 0, skipped: 0 };
  private readonly _reader: Reader<never>;
  private readonly _sources: readonly string[];
  private readonly _cacheSize: number;
  private readonly _cache = new Map<string, Geo>();
  readonly database: string;

  /** Throws with a readable reason when the database cannot be read. */
  constructor(id: string, config: GeoipConfig) {
    this.id = id;
    this.database = config.database ?? bundledDatabasePath();
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.database);
    } catch (error) {
      throw new Error(`processors.${id}.database: cannot read ${this.database}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      const MmdbReader = maxmind().Reader;
      this._reader = new MmdbReader<never>(bytes);
    } catch (error) {
      throw new Error(`processors.${id}.database: ${this.database} is not a MaxMind-format database (${(error as Error).message})`);
    }
    this._sources = config.sources;
    this._cacheSize = config.cache_size;
  }

  /** Adds the geo attributes to the records that carry an address (in place). */
  process(records: readonly LogRecordData[]): void {
    for (const r of records) this.enrich(r.attributes);
  }

  /** Adds the geo attributes of the first source attribute present, in place. */
  enrich(attributes: Attributes): void {
    for (const source of this._sources) {
      const address = attributes[source];
      if (typeof address !== 'string') continue;
      const geo = this.lookup(address);
      if (geo !== null) Object.assign(attributes, geo);
      return;
    }
  }

  lookup(address: string): Geo {
    let geo = this._cache.get(address);
    if (geo !== undefined) {
      this.counters.cacheHits++;
      return geo;
    }
    geo = this._resolve(address);
    if (this._cacheSize > 0) {
      // Oldest first out: a Map keeps insertion order.
      if (this._cache.size >= this._cacheSize) this._cache.delete(this._cache.keys().next().value!);
      this._cache.set(address, geo);
    }
    return geo;
  }

  private _resolve(address: string): Geo {
    const family = isIP(address);
    if (family === 0 || isPrivateAddress(address, family)) {
      this.counters.skipped++;
      return null;
    }
    this.counters.lookups++;
    let found: AnyRecord | null;
    try {
      // The layout differs by vendor: read as any of them.
      found = this._reader.get(address) as AnyRecord | null;
    } catch {
      return null;
    }
    if (found === null) return null;
    const country = found.country?.iso_code ?? found.country_code ?? found.registered_country?.iso_code;
    if (country === undefined) return null;
    this.counters.found++;
    const geo: Attributes = { 'geo.country.iso_code': country };
    const continent = found.continent?.code ?? (countriesList().countries as Record<string, { continent?: string }>)[country]?.continent;
    if (continent !== undefined) geo['geo.continent.code'] = continent;
    const region = found.subdivisions?.[0]?.iso_code;
    if (region !== undefined) geo['geo.region.iso_code'] = `${country}-${region}`;
    const city = found.city?.names?.en ?? found.city_name;
    if (city !== undefined) geo['geo.locality.name'] = city;
    const lat = found.location?.latitude ?? found.latitude;
    const lon = found.location?.longitude ?? found.longitude;
    if (typeof lat === 'number' && typeof lon === 'number') {
      geo['geo.location.lat'] = lat;
      geo['geo.location.lon'] = lon;
    }
    return geo;
  }
}
