/**
 * The resource of a drain's telemetry: what the caller's configuration says (service.name, ...)
 * and `cloud.provider=heroku`, always.
 */
import { ATTR_CLOUD_PROVIDER, ATTR_SERVICE_NAME } from '../semconv/attributes.ts';
import type { Attributes } from './telemetry.ts';

export function drainResource(attributes: Readonly<Record<string, string>>): Attributes {
  return { ...attributes, [ATTR_CLOUD_PROVIDER]: 'heroku' };
}

/**
 * `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, values percent-encoded) and `OTEL_SERVICE_NAME`,
 * which wins for service.name, as the OpenTelemetry SDKs read them. Malformed pairs are skipped.
 */
export function resourceFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      out[key] = pair.slice(eq + 1).trim();
    }
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) out[ATTR_SERVICE_NAME] = serviceName;
  return out;
}
