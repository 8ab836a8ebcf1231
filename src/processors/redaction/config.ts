/**
 * Config of the `redaction` processor, contrib's (processor/redactionprocessor) with its keys and
 * defaults. Beware its default: `allow_all_keys: false` removes every attribute not listed in
 * `allowed_keys`. Our own `redact` processor (secret names and token shapes found anywhere) is
 * the other way round and is what the embedded default runs; both may be listed.
 *
 * ```yaml
 * processors:
 *   redaction:
 *     allow_all_keys: false
 *     allowed_keys: [http.request.method, url.path, http.response.status_code]
 *     ignored_keys: [heroku.dyno.name]
 *     blocked_values: ["4[0-9]{12}(?:[0-9]{3})?"]   # Visa card numbers
 *     blocked_key_patterns: [".*token.*"]
 *     summary: info
 * ```
 */
import { z } from 'zod';
import { regexpString } from '../attributes/actions.ts';

export const REDACTION_TYPE = 'redaction';

export const redactionConfigSchema = z.strictObject({
  /** Keep every attribute (only mask blocked values). Default false: only allowed_keys are kept. */
  allow_all_keys: z.boolean().default(false),
  allowed_keys: z.array(z.string()).default([]),
  /** Neither removed nor masked. */
  ignored_keys: z.array(z.string()).default([]),
  /** Parts of values matching one of these are masked (`****`, or their hash). */
  blocked_values: z.array(regexpString).default([]),
  /** Values matching one of these are left alone even when a blocked value matches. */
  allowed_values: z.array(regexpString).default([]),
  /** Attributes whose key matches one of these are masked whole. */
  blocked_key_patterns: z.array(regexpString).default([]),
  /** Masks with the value's hash (hex) instead of `****`. */
  hash_function: z.enum(['none', 'md5', 'sha1', 'sha3']).default('none'),
  /** `debug`: adds which keys were removed or masked and how many; `info`: the counts; `silent` (default): nothing. */
  summary: z.enum(['debug', 'info', 'silent']).default('silent'),
});

export type RedactionConfig = z.output<typeof redactionConfigSchema>;
