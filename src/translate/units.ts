/**
 * Units as Heroku and l2met write them, to base units (UCUM, as OpenTelemetry uses).
 * Heroku's MB and kB are binary: 1 MB = 1,048,576 bytes.
 */
export interface BaseUnit {
  factor: number;
  unit: string;
}

const KNOWN: Readonly<Record<string, BaseUnit>> = {
  bytes: { factor: 1, unit: 'By' },
  byte: { factor: 1, unit: 'By' },
  B: { factor: 1, unit: 'By' },
  kB: { factor: 1024, unit: 'By' },
  KB: { factor: 1024, unit: 'By' },
  kb: { factor: 1024, unit: 'By' },
  KiB: { factor: 1024, unit: 'By' },
  MB: { factor: 1048576, unit: 'By' },
  MiB: { factor: 1048576, unit: 'By' },
  mb: { factor: 1048576, unit: 'By' },
  GB: { factor: 1073741824, unit: 'By' },
  GiB: { factor: 1073741824, unit: 'By' },
  gb: { factor: 1073741824, unit: 'By' },
  TB: { factor: 1099511627776, unit: 'By' },
  pages: { factor: 1, unit: '{page}' },
  page: { factor: 1, unit: '{page}' },
  ns: { factor: 1e-9, unit: 's' },
  us: { factor: 1e-6, unit: 's' },
  µs: { factor: 1e-6, unit: 's' },
  ms: { factor: 1e-3, unit: 's' },
  s: { factor: 1, unit: 's' },
  sec: { factor: 1, unit: 's' },
  min: { factor: 60, unit: 's' },
  '%': { factor: 1, unit: '%' },
};

const cache = new Map<string, BaseUnit>();

/**
 * The base unit for a unit suffix. An empty suffix is `fallback` (the registry's unit for a known
 * metric, `1` otherwise); an unknown suffix is kept as a UCUM annotation (`{req}`).
 */
export function toBaseUnit(suffix: string, fallback = '1'): BaseUnit {
  if (suffix === '') return { factor: 1, unit: fallback };
  const known = KNOWN[suffix];
  if (known) return known;
  let unit = cache.get(suffix);
  if (unit === undefined) {
    unit = { factor: 1, unit: `{${suffix.replace(/[{}]/g, '')}}` };
    if (cache.size < 1000) cache.set(suffix, unit);
  }
  return unit;
}
