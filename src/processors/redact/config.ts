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
 *     blocked_values: ["4[0-9]{12}(?:[0-9]{3})?"]   # contrib's redaction keys work here too
 * ```
 */
import type { z } from 'zod';
import { redactionSchema } from '../redaction/config.ts';

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

/**
 * Our keys, with their defaults: `keys` (default DEFAULT_SECRET_WORDS); `token_shapes` (default
 * true: Stripe secret keys, GitHub tokens, AWS access key ids, Slack tokens, JWTs, `Bearer`
 * tokens, wherever they appear, whatever their key); `emails` (default false); `mask` (default
 * `***`). contrib's redaction keys are understood too, with redact's defaults (nothing removed):
 * the shape is the redaction processor's (../redaction/config.ts).
 */
export const redactConfigSchema = redactionSchema('redact', DEFAULT_SECRET_WORDS);

export type RedactConfig = z.output<typeof redactConfigSchema>;
