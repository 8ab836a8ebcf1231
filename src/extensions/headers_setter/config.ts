/**
 * Config of the `headers_setter` extension, with contrib's keys: headers an exporter's requests
 * get (or lose), from the config, a file, or the batch's own data.
 *
 * ```yaml
 * extensions:
 *   headers_setter:
 *     headers:
 *       - key: X-Scope-OrgID
 *         from_context: heroku.app.name     # the batch's resource attribute (see below)
 *         default_value: unknown-app
 *       - { key: X-Api-Key, value: ${env:API_KEY} }   # action: upsert, the default
 *       - { key: X-Debug, action: delete }
 * ```
 *
 * `from_context` is where this differs from the Collector. There it reads the request metadata
 * of the receiver that took the data (an OTLP receiver's incoming headers with include_metadata);
 * here no receiver hands request headers on: it reads the batch's resource attribute of that
 * name, the drain's `resource` (service.name, heroku.app.name, what resource_from_query set),
 * which every batch carries whatever the batch processor does. A missing attribute gives
 * `default_value` (else an empty value, as contrib). `from_attribute` (the receiver's
 * authenticated user) is refused: the exporter never sees who authenticated.
 */
import { z } from 'zod';
import { unreadable } from '../watched-file.ts';

export const HEADERS_SETTER_TYPE = 'headers_setter';

export const headerSettingSchema = z.strictObject({
  /** The header's name. */
  key: z.string().min(1),
  /** `insert` (only when absent), `update` (only when present), `upsert` (the default) or `delete`. */
  action: z.enum(['insert', 'update', 'upsert', 'delete']).default('upsert'),
  /** The value, as written. */
  value: z.string().optional(),
  /** A file holding the value (trimmed), read again when it changes. */
  value_file: z.string().min(1).optional(),
  /** The batch's resource attribute of this name (see above). */
  from_context: z.string().min(1).optional(),
  /** Refused (see above). */
  from_attribute: z.string().optional(),
  /** For from_context: the value when the attribute is missing. */
  default_value: z.string().optional(),
});

export type HeaderSetting = z.output<typeof headerSettingSchema>;

export const headersSetterConfigSchema = z
  .strictObject({
    headers: z.array(headerSettingSchema).min(1, 'at least one header is required'),
    /**
     * Another client authenticator applied first (oauth2client in contrib's example; here
     * basicauth or bearertokenauth); these headers go on over it.
     */
    additional_auth: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    config.headers.forEach((h, i) => {
      if (h.from_attribute !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['headers', i, 'from_attribute'],
          message: "not supported here: an exporter never sees who a receiver authenticated; from_context reads the batch's resource attributes",
        });
      }
      if (h.action === 'delete') return;
      const sources = [h.value, h.value_file, h.from_context].filter((s) => s !== undefined).length;
      if (sources === 0 && h.from_attribute === undefined) ctx.addIssue({ code: 'custom', path: ['headers', i], message: 'missing header source: set value, value_file or from_context' });
      if (sources > 1) ctx.addIssue({ code: 'custom', path: ['headers', i], message: 'set one of value, value_file or from_context' });
      const problem = h.value_file === undefined ? undefined : unreadable(h.value_file);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['headers', i, 'value_file'], message: problem });
    });
  });

export type HeadersSetterConfig = z.output<typeof headersSetterConfigSchema>;
