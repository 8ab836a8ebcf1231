/**
 * The schema of the `redaction` processor (contrib's processor/redactionprocessor, its keys and
 * defaults) and of our `redact`: one shape that both understand, with two sets of defaults.
 *
 * contrib's keys: allow_all_keys, allowed_keys, ignored_keys, ignored_key_patterns,
 * blocked_key_patterns, blocked_values, allowed_values, hash_function, hmac_key,
 * redact_all_types, summary, url_sanitizer, db_sanitizer. Our keys: keys, token_shapes, emails,
 * mask (secret names and token shapes found anywhere in a line: see ../redact/).
 *
 * `redaction` takes contrib's defaults, and beware the first: `allow_all_keys: false` removes
 * every attribute (of records, points and the resource) that `allowed_keys` does not list. Our
 * keys are off there until set. `redact` takes ours: nothing removed (`allow_all_keys: true`),
 * secret names and token shapes masked.
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
import { goRegexpSchema } from '../attributes/regexp.ts';

export const REDACTION_TYPE = 'redaction';

const HASH_FUNCTIONS = ['none', 'md5', 'sha1', 'sha3', 'hmac-sha256', 'hmac-sha512'] as const;

/** contrib's url_sanitizer and db_sanitizer blocks, accepted while off (what they do is not built here). */
const sanitizerBlock = z.strictObject({ enabled: z.boolean().default(false), attributes: z.array(z.string()).optional() });
const urlSanitizerSchema = z
  .strictObject({ enabled: z.boolean().default(false), attributes: z.array(z.string()).optional(), sanitize_span_name: z.boolean().optional() })
  .refine((u) => !u.enabled, { path: ['enabled'], message: "not supported here: contrib's URL sanitizer clusters paths with Grafana's clusterurl classifier, which has no equivalent here; turn it off, or use the transform processor's replace_pattern on url.path" });
const DATABASES = ['sql', 'redis', 'valkey', 'memcached', 'mongo', 'opensearch', 'es'] as const;
const dbSanitizerSchema = z
  .strictObject({ sanitize_span_name: z.boolean().optional(), ...Object.fromEntries(DATABASES.map((d) => [d, sanitizerBlock.optional()])) })
  .superRefine((d, ctx) => {
    for (const db of DATABASES) {
      if ((d as Record<string, { enabled: boolean } | undefined>)[db]?.enabled) {
        ctx.addIssue({ code: 'custom', path: [db, 'enabled'], message: "not supported here: contrib's query obfuscation (DataDog's obfuscate library) has no equivalent here; turn it off" });
      }
    }
  });

/** Which processor's defaults a config gets. */
export type RedactionFlavour = 'redaction' | 'redact';

/** The shape `redaction` and `redact` share, with the defaults of one of them. */
export function redactionSchema(flavour: RedactionFlavour, defaultSecretWords: readonly string[] = []) {
  const ours = flavour === 'redact';
  return z
    .strictObject({
      // contrib's keys
      /** Keep every attribute (only mask). redaction: default false, only allowed_keys are kept; redact: default true. */
      allow_all_keys: z.boolean().default(ours),
      /** The attributes kept when allow_all_keys is false; empty keeps none. */
      allowed_keys: z.array(z.string()).default([]),
      /** Neither removed nor masked. */
      ignored_keys: z.array(z.string()).default([]),
      /** Keys matching one of these are neither removed nor masked. */
      ignored_key_patterns: z.array(goRegexpSchema).default([]),
      /** Attributes whose key matches one of these are masked whole. */
      blocked_key_patterns: z.array(goRegexpSchema).default([]),
      /** The parts of values that match one of these are masked (`****`, or their hash). */
      blocked_values: z.array(goRegexpSchema).default([]),
      /** A value matching one of these is left as it is, whatever else matches. */
      allowed_values: z.array(goRegexpSchema).default([]),
      /** Masks with the hash (lower-case hex) of what is masked instead of `****`. Default none. */
      hash_function: z
        .string()
        .transform((s) => (s === '' ? 'none' : s.toLowerCase()))
        .pipe(z.enum(HASH_FUNCTIONS))
        .default('none'),
      /** The key of hmac-sha256 / hmac-sha512. */
      hmac_key: z.string().optional(),
      /** Also look at numbers, booleans and lists, as their text (a masked one becomes a string). Default false: only strings. */
      redact_all_types: z.boolean().default(false),
      /** Attributes saying what was done: `debug` (keys and counts), `info` (counts), `silent` (default). */
      summary: z.enum(['debug', 'info', 'silent']).default('silent'),
      url_sanitizer: urlSanitizerSchema.optional(),
      db_sanitizer: dbSanitizerSchema.optional(),
      // our keys (../redact/config.ts says what each does)
      /** Words that make a key name secret. redact: the default list; redaction: none (off). */
      keys: ours ? z.array(z.string().min(1)).min(1).default([...defaultSecretWords]) : z.array(z.string().min(1)).default([]),
      /** Mask well-known credential shapes anywhere. redact: default true; redaction: false. */
      token_shapes: z.boolean().default(ours),
      /** Also mask e-mail addresses. Default false. */
      emails: z.boolean().default(false),
      /** What our masking writes. Default `***` (contrib's keys always write `****`, as contrib). */
      mask: z.string().default('***'),
    })
    .superRefine((c, ctx) => {
      const hmac = c.hash_function.startsWith('hmac-');
      if (hmac && (c.hmac_key === undefined || c.hmac_key === '')) ctx.addIssue({ code: 'custom', path: ['hmac_key'], message: `is required with hash_function ${c.hash_function}` });
      if (!hmac && c.hmac_key !== undefined) ctx.addIssue({ code: 'custom', path: ['hmac_key'], message: 'is used only with hash_function hmac-sha256 or hmac-sha512' });
      if (ours && c.allow_all_keys && c.allowed_keys.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['allowed_keys'], message: "has no effect while allow_all_keys is true (redact's default): set allow_all_keys: false to keep only these" });
      }
    });
}

export const redactionConfigSchema = redactionSchema('redaction');

export type RedactionConfig = z.output<typeof redactionConfigSchema>;
