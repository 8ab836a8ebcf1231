/**
 * Config of the `logplex` receiver: Heroku's HTTPS drains (`heroku drains:add https://...`).
 */
import { z } from 'zod';
import { tlsServerSchema } from '../../config/tls.ts';
import { traceCorrelationSchema, urlTemplatesSchema } from '../../config/translation.ts';
import { duration, hostPort, size } from '../../config/units.ts';

export const LOGPLEX_TYPE = 'logplex';

const resource = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const logplexDrainSchema = z.strictObject({
  /** The drain token, matched against the `Logplex-Drain-Token` header (`heroku drains --json`). */
  token: z.string().min(1, 'the drain token is empty'),
  /** Resource attributes of this drain's telemetry (`service.name: shop-web`). */
  resource: resource.default({}),
});

export const logplexConfigSchema = z
  .strictObject({
    /** Where to listen. Default `127.0.0.1:8080`. */
    endpoint: hostPort.default({ host: '127.0.0.1', port: 8080 }),
    /** The POST path of the drain URL. Default `/logs`. */
    path: z.string().startsWith('/', 'a path starts with /').default('/logs'),
    /** The drains allowed in, by token. */
    drains: z.array(logplexDrainSchema).default([]),
    /** Resource attributes of every drain's telemetry; a drain's own `resource` wins. */
    resource: resource.default({}),
    /** Basic auth, as in `https://user:password@host/logs`. */
    basic_auth: z.strictObject({ username: z.string().min(1), password: z.string().min(1) }).optional(),
    /**
     * Instead of basic_auth: an extension listed in service.extensions that checks each
     * request's credentials (basicauth with htpasswd, bearertokenauth), as the Collector's
     * receivers' `auth`. A request it refuses is answered 401.
     */
    auth: z.strictObject({ authenticator: z.string().min(1) }).optional(),
    /**
     * Serve HTTPS itself (off Heroku, where no router terminates TLS): cert_file and key_file
     * (PEM), client_ca_file to ask drains for a client certificate, min_version "1.2" (default)
     * or "1.3". The files are read again on SIGHUP. Default: plain HTTP.
     */
    tls: tlsServerSchema.optional(),
    /** Accept any drain, token or not: an explicit opt-in. Default false. */
    accept_any_drain: z.boolean().default(false),
    /**
     * With `drains` listed, also accept requests that carry no `Logplex-Drain-Token` (space-level
     * drains send none); they still need `basic_auth` when it is set. Default false: a request
     * without a listed token is refused.
     */
    accept_tokenless_drains: z.boolean().default(false),
    /**
     * Query parameters of the drain URL that become resource attributes: `{ app: service.name }`.
     * Values must be printable and at most 128 characters, and never replace an attribute the
     * drain's own `resource` sets.
     */
    resource_from_query: z.record(z.string(), z.string()).default({}),
    /** The largest request body accepted (413 above it), after gzip decoding too. Default 10MiB, far above Logplex's ~100 KB. */
    max_request_body_size: size.default(10 * 1024 * 1024),
    /**
     * Connections open at once. When full, the oldest connection that has not yet authenticated
     * is closed to make room, then the oldest kept-alive one with no request in flight; only when
     * every connection carries a request is the new one refused. Default 512 (under the usual
     * 1,024 open-files limit).
     */
    max_connections: z.number().int().positive().default(512),
    /**
     * An idle kept-alive connection is closed after this long. Default 100s: above the Heroku
     * router's 90 s, so the router always closes first (a dyno closing first causes H18s).
     */
    idle_timeout: duration.default(100_000).refine((ms) => ms >= 1000, 'an idle timeout under 1s would close connections between two requests of one batch'),
    /** A `redis` extension sharing the frame-id window with other instances (several dynos). */
    storage: z.string().min(1).optional(),
    /**
     * App lines that log the router's request id (`request_id_keys`, Rails' `[id]` tags) get the
     * request's trace id and router span id. Default on.
     */
    trace_correlation: traceCorrelationSchema,
    /**
     * `url.template` on router records and the duration histogram: a route template per path,
     * learned per drain within `max_templates`; `patterns` first. Default on.
     */
    url_templates: urlTemplatesSchema,
  })
  .superRefine((config, ctx) => {
    if (config.basic_auth !== undefined && config.auth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'set basic_auth or auth (an authenticator extension), not both' });
    }
    if (isOpen(config) && !isLoopback(config.endpoint.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message:
          `no drains and no basic_auth: refusing to accept anyone's logs on ${config.endpoint.host}:${config.endpoint.port}; ` +
          'add drains (tokens), basic_auth or auth (an authenticator extension), or set accept_any_drain: true',
      });
    }
    const tokens = new Set<string>();
    config.drains.forEach((drain, i) => {
      if (tokens.has(drain.token)) ctx.addIssue({ code: 'custom', path: ['drains', i, 'token'], message: 'this token is listed twice' });
      tokens.add(drain.token);
    });
  });

export type LogplexConfig = z.output<typeof logplexConfigSchema>;

/** Whether a config lets anyone in: no drain tokens, no credentials, and no explicit opt-in. */
export function isOpen(config: Pick<LogplexConfig, 'drains' | 'basic_auth' | 'auth' | 'accept_any_drain'>): boolean {
  return config.drains.length === 0 && config.basic_auth === undefined && config.auth === undefined && !config.accept_any_drain;
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
