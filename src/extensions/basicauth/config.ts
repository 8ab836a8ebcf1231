/**
 * Config of the `basicauth` extension, with contrib's keys. One instance is either a server
 * authenticator (`htpasswd`: a receiver's requests must carry one of its users) or a client
 * authenticator (`client_auth`: an exporter's requests carry these credentials), never both.
 *
 * ```yaml
 * extensions:
 *   basicauth/server:
 *     htpasswd:
 *       file: /etc/heroku-otel-drain/htpasswd     # htpasswd -B (bcrypt), -m, -s or -p lines
 *       inline: |
 *         ${env:DRAIN_USER}:${env:DRAIN_PASSWORD}
 *   basicauth/client:
 *     client_auth: { username: ${env:BACKEND_USER}, password: ${env:BACKEND_PASSWORD} }
 * ```
 */
import { z } from 'zod';
import { unreadable } from '../watched-file.ts';

export const BASICAUTH_TYPE = 'basicauth';

export const basicAuthConfigSchema = z
  .strictObject({
    /** For a receiver: the users let in. `inline` is read after `file`: its lines win. */
    htpasswd: z.strictObject({ file: z.string().min(1).optional(), inline: z.string().optional() }).optional(),
    /** For an exporter: the credentials sent. A `*_file` wins over its value and is read again when it changes. */
    client_auth: z
      .strictObject({
        username: z.string().optional(),
        password: z.string().optional(),
        username_file: z.string().min(1).optional(),
        password_file: z.string().min(1).optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.htpasswd !== undefined && config.client_auth !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'only one of htpasswd (a receiver checks requests) or client_auth (an exporter signs them) can be set: use two instances, basicauth/server and basicauth/client' });
    }
    if (config.htpasswd === undefined && config.client_auth === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'no credential source: set htpasswd (to check a receiver\'s requests) or client_auth (to sign an exporter\'s)' });
    }
    const htpasswd = config.htpasswd;
    if (htpasswd !== undefined && htpasswd.file === undefined && (htpasswd.inline ?? '').trim() === '') {
      ctx.addIssue({ code: 'custom', path: ['htpasswd'], message: 'set file or inline (user:hash lines)' });
    }
    const client = config.client_auth;
    if (client !== undefined) {
      if (client.username === undefined && client.username_file === undefined) ctx.addIssue({ code: 'custom', path: ['client_auth', 'username'], message: 'is required (or username_file)' });
      if (client.username !== undefined && client.username_file === undefined && client.username.includes(':')) {
        ctx.addIssue({ code: 'custom', path: ['client_auth', 'username'], message: 'must not contain ":" (basic auth splits there)' });
      }
    }
    const files: Array<[string[], string | undefined]> = [
      [['htpasswd', 'file'], htpasswd?.file],
      [['client_auth', 'username_file'], client?.username_file],
      [['client_auth', 'password_file'], client?.password_file],
    ];
    for (const [path, file] of files) {
      const problem = file === undefined ? undefined : unreadable(file);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: problem });
    }
  });

export type BasicAuthConfig = z.output<typeof basicAuthConfigSchema>;
