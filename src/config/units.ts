/**
 * Durations and sizes as the Collector's configs write them: `200ms`, `10s`, `1m30s`; `5MiB`,
 * `100KB`, or a plain number of bytes. A message may quote a duration or a size; it never quotes
 * a URL, where credentials live (and validateConfig masks values that came from the environment).
 */
import { z } from 'zod';

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (`1m30s`, `200ms`, `0`) in milliseconds, or NaN. */
export function parseDurationMs(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return NaN;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return i === 0 ? NaN : total;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 * 1024,
  gib: 1024 * 1024 * 1024,
};

/** A size in bytes (`5MiB`, `100KB`, `1048576`), or NaN. */
export function parseSizeBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (!m) return NaN;
  const factor = SIZE_UNITS[m[2]!.toLowerCase()];
  return factor === undefined ? NaN : Math.round(Number(m[1]) * factor);
}

/** A duration given as `10s` (or a number of milliseconds), parsed to milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (value >= 0) return value;
    ctx.addIssue({ code: 'custom', message: 'must not be negative' });
    return z.NEVER;
  }
  const ms = parseDurationMs(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: /^\s*-/.test(value) ? 'must not be negative' : `expected a duration such as 200ms, 10s or 1m30s, got "${value}"` });
    return z.NEVER;
  }
  return ms;
});

/** A duration where 0 makes no sense: `why` says what 0 would do. */
export function positiveDuration(why: string) {
  return duration.refine((ms) => ms > 0, { message: `must be more than 0: ${why}`, abort: true });
}

/** A size given as `5MiB` (or a number of bytes), parsed to bytes. */
export const size = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const bytes = parseSizeBytes(value);
  if (Number.isNaN(bytes) || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 5MiB, 512KB or a number of bytes, got "${value}"` });
    return z.NEVER;
  }
  return bytes;
});

/** `host:port` as the Collector's `endpoint` keys take it (`0.0.0.0:8080`, `[::1]:6514`, `:8080`). */
export const hostPort = z.string().transform((value, ctx) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected host:port such as 127.0.0.1:8080, got "${value}"` });
    return z.NEVER;
  }
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]! || '0.0.0.0';
  return { host, port };
});

/**
 * An http(s) URL. The message for a bad one describes it without quoting it: an endpoint may
 * carry a password (`https://user:password@host`) or be a whole API key put in the wrong place.
 */
export const httpUrl = z.string().transform((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL such as https://otlp.example.com, got ${describeNotUrl(value)}` });
    return z.NEVER;
  }
  return url.toString().replace(/\/$/, '');
});

/** What a value that is no http(s) URL looks like, in words that cannot leak it. */
function describeNotUrl(value: string): string {
  const scheme = /^\s*([A-Za-z][A-Za-z0-9+.-]{0,15}):\/\//.exec(value)?.[1];
  if (scheme === undefined) return value.trim() === '' ? 'an empty value' : 'a value without http:// or https:// in front (not shown: it may hold a secret)';
  const lower = scheme.toLowerCase();
  if (lower === 'http' || lower === 'https') return `a ${lower}:// value that is not a valid URL (not shown: it may hold a secret)`;
  return `a ${lower}:// URL`;
}
