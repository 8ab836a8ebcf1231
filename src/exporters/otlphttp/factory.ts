/** The `otlphttp` exporter's factory: OTLP over HTTP, with the Collector's retry_on_failure and sending_queue. */
import type { ExporterFactory } from '../../service/component.ts';
import { otlphttpConfigSchema, OTLPHTTP_TYPE, type OtlphttpConfig } from './config.ts';
import { OtlphttpExporter } from './exporter.ts';

export const otlphttpFactory: ExporterFactory = {
  kind: 'exporters',
  type: OTLPHTTP_TYPE,
  configSchema: otlphttpConfigSchema,
  signals: ['logs', 'metrics'],
  create(id, config) {
    const c = config as OtlphttpConfig;
    const r = c.retry_on_failure;
    const q = c.sending_queue;
    return {
      exporter: new OtlphttpExporter(id, c),
      retry: { enabled: r.enabled, initialIntervalMs: r.initial_interval, maxIntervalMs: r.max_interval, maxElapsedMs: r.max_elapsed_time },
      // Without a queue, only the batch being sent: the receiver answers 503 while it is out.
      capacity: (sendBatchSize) => (!q.enabled ? sendBatchSize : q.sizer === 'items' ? q.queue_size : q.queue_size * sendBatchSize),
    };
  },
};
