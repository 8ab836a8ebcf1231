/** The `debug` exporter's factory: a line per batch on stdout; nothing to retry. */
import type { ExporterFactory } from '../../service/component.ts';
import { NO_RETRY } from '../../service/retry.ts';
import { LOCAL_QUEUE } from '../exporterhelper/settings.ts';
import { debugConfigSchema, DEBUG_TYPE, type DebugConfig } from './config.ts';
import { DebugExporter } from './exporter.ts';

export const debugFactory: ExporterFactory = {
  kind: 'exporters',
  type: DEBUG_TYPE,
  configSchema: debugConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create: (id, config) => ({ exporter: new DebugExporter(id, config as DebugConfig), retry: NO_RETRY, queue: LOCAL_QUEUE }),
};
