/**
 * Every component this build has, one line each: the service and the config loader know
 * components only through this list (see `src/service/component.ts`).
 */
import type { ComponentKind, ExporterFactory, ExtensionFactory, Factory, ProcessorFactory, ReceiverFactory } from './service/component.ts';
import { debugFactory } from './exporters/debug/factory.ts';
import { fileFactory } from './exporters/file/factory.ts';
import { otlpHttpAliasFactory, otlphttpFactory } from './exporters/otlphttp/factory.ts';
import { basicAuthFactory } from './extensions/basicauth/factory.ts';
import { bearerTokenAuthFactory } from './extensions/bearertokenauth/factory.ts';
import { fileStorageFactory } from './extensions/file_storage/factory.ts';
import { healthCheckFactory } from './extensions/health_check/factory.ts';
import { headersSetterFactory } from './extensions/headers_setter/factory.ts';
import { redisFactory } from './extensions/redis/factory.ts';
import { alertsFactory } from './processors/alerts/factory.ts';
import { attributesFactory } from './processors/attributes/factory.ts';
import { batchFactory } from './processors/batch/factory.ts';
import { filterFactory } from './processors/filter/factory.ts';
import { transformFactory } from './processors/transform/factory.ts';
import { cumulativeToDeltaFactory } from './processors/cumulativetodelta/factory.ts';
import { geoipFactory } from './processors/geoip/factory.ts';
import { intervalFactory } from './processors/interval/factory.ts';
import { memoryLimiterFactory } from './processors/memory_limiter/factory.ts';
import { redactFactory } from './processors/redact/factory.ts';
import { redactionFactory } from './processors/redaction/factory.ts';
import { resourceFactory } from './processors/resource/factory.ts';
import { tailSamplingFactory } from './processors/tail_sampling/factory.ts';
import { logplexFactory } from './receivers/logplex/factory.ts';
import { syslogFactory } from './receivers/syslog/factory.ts';

export const FACTORIES: readonly Factory[] = [
  logplexFactory,
  syslogFactory,
  memoryLimiterFactory,
  batchFactory,
  alertsFactory,
  geoipFactory,
  redactFactory,
  redactionFactory,
  resourceFactory,
  attributesFactory,
  filterFactory,
  transformFactory,
  tailSamplingFactory,
  intervalFactory,
  cumulativeToDeltaFactory,
  otlphttpFactory,
  otlpHttpAliasFactory,
  debugFactory,
  fileFactory,
  redisFactory,
  fileStorageFactory,
  basicAuthFactory,
  bearerTokenAuthFactory,
  headersSetterFactory,
  healthCheckFactory,
];

interface ByKind {
  receivers: ReceiverFactory;
  processors: ProcessorFactory;
  exporters: ExporterFactory;
  extensions: ExtensionFactory;
}

/** The factory of a type of one kind; undefined when this build has none. */
export function factoryOf<K extends ComponentKind>(kind: K, type: string): ByKind[K] | undefined {
  return FACTORIES.find((f) => f.kind === kind && f.type === type) as ByKind[K] | undefined;
}
