/**
 * Config of the `redis` extension: a store shared by several sidecar instances (Heroku Key-Value
 * Store or Heroku Redis), for the logplex receiver's frame-id de-duplication window.
 *
 * ```yaml
 * extensions:
 *   redis:
 *     url: ${env:REDIS_URL}                # redis:// or rediss://
 *     tls: { insecure_skip_verify: true }  # Heroku's rediss:// certificate is self-signed
 * service:
 *   extensions: [redis]
 * receivers:
 *   logplex: { storage: redis, ... }
 * ```
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';

export const REDIS_TYPE = 'redis';

export const redisConfigSchema = z.strictObject({
  url: z.string().refine((u) => /^rediss?:\/\//.test(u), { message: 'expected a redis:// or rediss:// URL' }),
  tls: z.strictObject({ insecure_skip_verify: z.boolean().default(false) }).prefault({}),
  /** Every key we write starts with this, so one Redis can serve other things too. */
  key_prefix: z.string().default('heroku-otel-drain:'),
  /** A command slower than this counts as Redis being away: we carry on alone. Default 500ms. */
  timeout: duration.default(500),
});

export type RedisConfig = z.output<typeof redisConfigSchema>;
