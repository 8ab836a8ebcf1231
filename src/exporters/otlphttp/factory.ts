/** The `otlphttp` exporter's factory: OTLP over HTTP, with the Collector's timeout, retry_on_failure and sending_queue. */
import type { ExporterFactory } from '../../service/component.ts';
import { retrySettings } from '../exporterhelper/settings.ts';
import { OTLP_HTTP_ALIAS_TYPE, otlphttpConfigSchema, otlphttpSignalProblems, OTLPHTTP_TYPE, type OtlphttpConfig } from './config.ts';
import { OtlphttpExporter } from './exporter.ts';

export const otlphttpFactory: ExporterFactory = {
  kind: 'exporters',
  type: OTLPHTTP_TYPE,
  configSchema: otlphttpConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  signalProblems: otlphttpSignalProblems,
  create(id, config, host) {
    const c = config as OtlphttpConfig;
    let auth;
    if (c.auth !== undefined) {
      // validate checked the reference; a component built without it (a test) is told the same.
      auth = host.extension(c.auth.authenticator)?.clientAuth;
      if (auth === undefined) throw new Error(`exporters.${id}.auth.authenticator: extension "${c.auth.authenticator}" is not running or does not authenticate an exporter's requests`);
    }
    const exporter = new OtlphttpExporter(id, c, { log: host.log, ...(auth !== undefined ? { auth } : {}) });
    return { exporter, retry: retrySettings(c.retry_on_failure), queue: c.sending_queue };
  },
};

/** `otlp_http`, the Collector's newer name: the same schema and the same exporter. */
export const otlpHttpAliasFactory: ExporterFactory = { ...otlphttpFactory, type: OTLP_HTTP_ALIAS_TYPE };
