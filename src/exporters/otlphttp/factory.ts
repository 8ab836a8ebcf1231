/** The `otlphttp` exporter's factory: OTLP over HTTP, with the Collector's timeout, retry_on_failure and sending_queue. */
import type { ExporterFactory } from '../../service/component.ts';
import { retrySettings } from '../exporterhelper/settings.ts';
import { otlphttpConfigSchema, OTLPHTTP_TYPE, type OtlphttpConfig } from './config.ts';
import { OtlphttpExporter } from './exporter.ts';

export const otlphttpFactory: ExporterFactory = {
  kind: 'exporters',
  type: OTLPHTTP_TYPE,
  configSchema: otlphttpConfigSchema,
  signals: ['logs', 'metrics'],
  create(id, config) {
    const c = config as OtlphttpConfig;
    return { exporter: new OtlphttpExporter(id, c), retry: retrySettings(c.retry_on_failure), queue: c.sending_queue };
  },
};
