/**
 * Config of the `bearertokenauth` extension, with contrib's keys: a token sent on every request
 * of the exporters that name it (`auth: { authenticator: bearertokenauth }`), or checked on
 * every request of a receiver that does.
 *
 * ```yaml
 * extensions:
 *   bearertokenauth:
 *     token: ${env:BACKEND_TOKEN}      # or filename: /run/secrets/token (read again when it changes)
 *     scheme: Bearer                   # default; "" sends the token alone
 *     header: Authorization            # default
 * ```
 */
import { z } from 'zod';
import { unreadable } from '../watched-file.ts';

export const BEARERTOKENAUTH_TYPE = 'bearertokenauth';

export const bearerTokenAuthConfigSchema = z
  .strictObject({
    /** The header that carries it. Default `Authorization`. */
    header: z.string().min(1).default('Authorization'),
    /** Put before the token, with a space. Default `Bearer`; `""` sends the token alone. */
    scheme: z.string().default('Bearer'),
    /** The token. */
    token: z.string().min(1).optional(),
    /** Several tokens: a receiver accepts any; an exporter sends the first. */
    tokens: z.array(z.string().min(1)).min(1).optional(),
    /**
     * A file holding the token (or one per line, the first sent); read again when it changes.
     * Set, it wins over `token` and `tokens`, as contrib's.
     */
    filename: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    if (config.token === undefined && config.tokens === undefined && config.filename === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'no bearer token: set token, tokens or filename' });
    }
    if (config.token !== undefined && config.tokens !== undefined) ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'set token or tokens, not both' });
    const problem = config.filename === undefined ? undefined : unreadable(config.filename);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['filename'], message: problem });
  });

export type BearerTokenAuthConfig = z.output<typeof bearerTokenAuthConfigSchema>;
