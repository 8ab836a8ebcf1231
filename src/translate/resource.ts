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
 * which wins for service.name, as the OpenTelemetry SDKs read them. As the specification asks, a
 * malformed value is discarded whole, and `warn` says why.
 */
export function resourceFromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void = () => {}): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = env.OTEL_RESOURCE_ATTRIBUTES?.trim() ?? '';
  for (const pair of raw === '' ? [] : raw.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    let value: string | undefined;
    try {
      value = key === '' ? undefined : decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      value = undefined;
    }
    if (value === undefined) {
      warn(`OTEL_RESOURCE_ATTRIBUTES is ignored: "${pair}" is not key=value with a percent-encoded value`);
      for (const k of Object.keys(out)) delete out[k];
      break;
    }
    out[key] = value;
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) out[ATTR_SERVICE_NAME] = serviceName;
  return out;
}
