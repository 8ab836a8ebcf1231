/**
 * Config of the `syslog` receiver: Heroku's syslog drains (`heroku drains:add
 * syslog+tls://host:6514`) and any RFC 5424 sender, over TCP (plain or TLS) and UDP.
 */
import { z } from 'zod';
import { traceCorrelationSchema, urlTemplatesSchema } from '../../config/translation.ts';
import { duration, hostPort, size } from '../../config/units.ts';
import { isLoopback, logplexDrainSchema } from '../logplex/config.ts';

export const SYSLOG_TYPE = 'syslog';

const resource = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const syslogConfigSchema = z
  .strictObject({
    tcp: z
      .strictObject({
        /** Where to listen. Heroku's syslog+tls drains conventionally use 6514. */
        endpoint: hostPort,
        /** Certificate and key (PEM files); `client_ca_file` asks senders for a certificate (mTLS). */
        tls: z
          .strictObject({
            cert_file: z.string().min(1),
            key_file: z.string().min(1),
            client_ca_file: z.string().min(1).optional(),
            /** TLS 1.2 at least (the default) or 1.3 only. */
            min_version: z.enum(['1.2', '1.3']).default('1.2'),
          })
          .optional(),
        /**
         * TCP connections open at once, TLS handshakes included. When a new one comes at the cap,
         * the oldest connection that has not yet sent a message with an allowed token is closed to
         * make room (counted `evicted`); only when every open connection has is the new one
         * refused (`too_many_connections`). So strangers cannot lock a real drain out. Default 1000.
         */
        max_connections: z.number().int().positive().default(1000),
        /**
         * A connection that has sent an allowed message and then nothing this long is closed
         * (Logplex reconnects); `0`: never. Default 10m.
         */
        idle_timeout: duration.default(600_000),
        /**
         * How long a new connection has, from its accept, to finish its TLS handshake and send a
         * message whose token is allowed; then it is closed (`tls_handshake` or `unauthenticated`).
         * A deadline, not an idle timer: bytes trickled meanwhile do not extend it. Default 10s.
         */
        handshake_timeout: duration.default(10_000).refine((ms) => ms > 0, 'must be more than 0: a connection that never sends an allowed message must not stay'),
      })
      .optional(),
    udp: z.strictObject({ endpoint: hostPort }).optional(),
    /** The drains allowed in, by the token Heroku puts in the HOSTNAME field. */
    drains: z.array(logplexDrainSchema).default([]),
    /** Resource attributes of every drain's telemetry; a drain's own `resource` wins. */
    resource: resource.default({}),
    /** Accept messages whatever their HOSTNAME, RFC 3164 and headerless lines too: an explicit opt-in. */
    accept_any_drain: z.boolean().default(false),
    /** A message longer than this is skipped and counted. Default 64KiB (Heroku's are under 10 KB). */
    max_message_size: size.default(64 * 1024),
    /** App lines that log the router's request id get the request's trace context, as the logplex receiver's. Default on. */
    trace_correlation: traceCorrelationSchema,
    /** `url.template` per router path, learned per drain, as the logplex receiver's. Default on. */
    url_templates: urlTemplatesSchema,
  })
  .superRefine((config, ctx) => {
    if (config.tcp === undefined && config.udp === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'listens on nothing: set tcp, udp or both' });
    }
    const open = config.drains.length === 0 && !config.accept_any_drain;
    for (const transport of ['tcp', 'udp'] as const) {
      const endpoint = config[transport]?.endpoint;
      if (open && endpoint !== undefined && !isLoopback(endpoint.host)) {
        ctx.addIssue({
          code: 'custom',
          path: [transport, 'endpoint'],
          message: `no drains: refusing to accept anyone's logs on ${endpoint.host}:${endpoint.port}; add drains (tokens) or set accept_any_drain: true`,
        });
      }
    }
    const tokens = new Set<string>();
    config.drains.forEach((drain, i) => {
      if (tokens.has(drain.token)) ctx.addIssue({ code: 'custom', path: ['drains', i, 'token'], message: 'this token is listed twice' });
      tokens.add(drain.token);
    });
  });

export type SyslogConfig = z.output<typeof syslogConfigSchema>;
