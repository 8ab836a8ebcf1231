/** The `file` exporter's factory: OTLP/JSON lines in a file, retried as a disk that fills up may recover. */
import type { ExporterFactory } from '../../service/component.ts';
import { LOCAL_QUEUE } from '../exporterhelper/settings.ts';
import { fileConfigSchema, FILE_TYPE, type FileConfig } from './config.ts';
import { FileExporter } from './exporter.ts';

export const fileFactory: ExporterFactory = {
  kind: 'exporters',
  type: FILE_TYPE,
  configSchema: fileConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create: (id, config) => ({
    exporter: new FileExporter(id, config as FileConfig),
    retry: { enabled: true, initialIntervalMs: 1000, multiplier: 2, randomizationFactor: 0.2, maxIntervalMs: 30_000, maxElapsedMs: 300_000 },
    queue: LOCAL_QUEUE,
  }),
};
