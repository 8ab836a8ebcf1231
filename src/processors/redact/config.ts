/**
 * Config of the `redact` processor: secrets out before any exporter sees them.
 *
 * ```yaml
 * processors:
 *   redact:
 *     keys: [token, password, secret, api_key, ...]  # words that make a name secret (the default list below)
 *     token_shapes: true                             # mask well-known credential shapes anywhere (default true)
 *     emails: false                                  # also mask e-mail addresses
 *     mask: "***"
 * ```
 */
import { z } from 'zod';

export const REDACT_TYPE = 'redact';

/**
 * A name is secret when one of its words (split at `.`, `_`, `-`, brackets and camelCase), or two
 * neighbouring words joined (`api_key` -> `apikey`), is one of these. A compound is written with
 * `_` so that the text forms `api_key`, `api-key`, `apiKey` and `apikey` are all looked for.
 */
export const DEFAULT_SECRET_WORDS = [
  'token',
  'password',
  'passwd',
  'pwd',
  'secret',
  'api_key',
  'auth',
  'authorization',
  'session',
  'session_id',
  'jsessionid',
  'signature',
  'sig',
  'credential',
  'credentials',
  'private_key',
  'access_key',
  'cookie',
  'jwt',
];

export const redactConfigSchema = z.strictObject({
  /** Words that make a key name secret; default DEFAULT_SECRET_WORDS. */
  keys: z.array(z.string().min(1)).min(1).default(DEFAULT_SECRET_WORDS),
  /**
   * Mask well-known credential shapes wherever they appear, whatever their key: Stripe secret
   * keys, GitHub tokens, AWS access key ids, Slack tokens, JWTs, `Bearer` tokens. Default true.
   */
  token_shapes: z.boolean().default(true),
  /** Also mask e-mail addresses. Default false. */
  emails: z.boolean().default(false),
  /** What a masked value becomes. Default `***`. */
  mask: z.string().default('***'),
});

export type RedactConfig = z.output<typeof redactConfigSchema>;
