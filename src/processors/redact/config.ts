/**
 * Config of the `redact` processor: secrets out before any exporter sees them.
 *
 * ```yaml
 * processors:
 *   redact:
 *     keys: [token, password, secret, ...]   # words that make a name secret (the default list below)
 *     emails: false                          # also mask e-mail addresses
 *     mask: "***"
 * ```
 */
import { z } from 'zod';

export const REDACT_TYPE = 'redact';

/**
 * A name is secret when one of its words (split at `.`, `_`, `-` and camelCase), or two
 * neighbouring words joined (`api_key` -> `apikey`), is one of these.
 */
export const DEFAULT_SECRET_WORDS = [
  'token',
  'password',
  'passwd',
  'pwd',
  'secret',
  'apikey',
  'auth',
  'authorization',
  'session',
  'sessionid',
  'signature',
  'sig',
  'credential',
  'credentials',
  'privatekey',
  'accesskey',
  'cookie',
  'jwt',
];

export const redactConfigSchema = z.strictObject({
  keys: z.array(z.string().min(1)).min(1).default(DEFAULT_SECRET_WORDS),
  emails: z.boolean().default(false),
  mask: z.string().default('***'),
});

export type RedactConfig = z.output<typeof redactConfigSchema>;
