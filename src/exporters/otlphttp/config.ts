/**
 * Config of the `otlphttp` exporter, with the Collector's otlphttp option names.
 */
import { z } from 'zod';
import { tlsClientSchema } from '../../config/tls.ts';
import { httpUrl } from '../../config/units.ts';
import { retryOnFailureSchema, sendingQueueSchema, timeoutSchema } from '../exporterhelper/config.ts';

export const OTLPHTTP_TYPE = 'otlphttp';
/** The Collector's newer name for the same exporter (`otlp_http/grafana` is `otlphttp/grafana`). */
export const OTLP_HTTP_ALIAS_TYPE = 'otlp_http';

/**
 * An http:// or https:// proxy (`http://user:password@proxy:3128`). A message never quotes it:
 * its userinfo is a credential. https:// endpoints go through a CONNECT tunnel, http:// ones are
 * forwarded, as Go's http.ProxyURL does.
 */
const proxyUrl = z.string().transform((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    const scheme = url?.protocol.slice(0, -1);
    ctx.addIssue({
      code: 'custom',
      message: scheme === undefined ? 'expected an http:// or https:// proxy URL (not shown: it may hold a password)' : `expected an http:// or https:// proxy URL, got a ${scheme.slice(0, 16)}:// URL (not supported here)`,
    });
    return z.NEVER;
  }
  return value;
});

export const otlphttpConfigSchema = z
  .strictObject({
    /** Base URL: `/v1/logs`, `/v1/metrics` and `/v1/traces` are appended, as the Collector does. */
    endpoint: httpUrl.optional(),
    /** Full URLs per signal, used as given. */
    logs_endpoint: httpUrl.optional(),
    metrics_endpoint: httpUrl.optional(),
    traces_endpoint: httpUrl.optional(),
    /** `proto` (default) or `json`. */
    encoding: z.enum(['proto', 'json']).default('proto'),
    /** `gzip` (default: every OTLP backend takes it), `zstd` (a third of gzip's CPU; the Collector takes it) or `none`. */
    compression: z.enum(['gzip', 'zstd', 'none']).default('gzip'),
    /** The compression level: 1 (fastest, the default) to 9 (smallest; zstd goes to 19 but 9 is plenty). */
    compression_params: z.strictObject({ level: z.number().int().min(1).max(9).default(1) }).prefault({}),
    headers: z.record(z.string(), z.string()).default({}),
    /** The Collector's configtls client settings (see src/config/tls.ts); https:// endpoints only. */
    tls: tlsClientSchema.optional(),
    /** Requests go through this proxy (see proxyUrl). Default: none (HTTPS_PROXY is not read). */
    proxy_url: proxyUrl.optional(),
    /**
     * An extension listed in service.extensions that authenticates requests (basicauth with
     * client_auth, bearertokenauth, headers_setter): its headers go on every request, over the
     * configured `headers`.
     */
    auth: z.strictObject({ authenticator: z.string().min(1) }).optional(),
    /** Per request. Default 10s. */
    timeout: timeoutSchema,
    /** The exporter helper's retries, with the Collector's keys (see exporterhelper/config.ts). */
    retry_on_failure: retryOnFailureSchema,
    /** This exporter's own queue (per signal), with the Collector's keys (see exporterhelper/config.ts). */
    sending_queue: sendingQueueSchema,
  })
  .superRefine((config, ctx) => {
    if (config.endpoint === undefined && (config.logs_endpoint === undefined || config.metrics_endpoint === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'an endpoint is required (or both logs_endpoint and metrics_endpoint)' });
    }
  });

export type OtlphttpConfig = z.output<typeof otlphttpConfigSchema>;

/**
 * What this config cannot do in a pipeline of `signal`, each `key: message` relative to the
 * exporter's config: a traces pipeline needs `endpoint` or `traces_endpoint` (the Collector's
 * words when it builds the exporter for traces). Logs and metrics are checked by the schema.
 */
export function otlphttpSignalProblems(config: unknown, signal: string): string[] {
  const c = config as Partial<OtlphttpConfig>;
  if (signal === 'traces' && c.endpoint === undefined && c.traces_endpoint === undefined) return ['traces_endpoint: either endpoint or traces_endpoint must be specified'];
  return [];
}
