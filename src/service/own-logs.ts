/**
 * The sidecar's own log over OTLP too (`service.telemetry.logs.processors`, as the Collector's):
 * every line written on stderr at or above the level is also emitted through the logs SDK, with
 * the same message and fields (which never hold a secret: see log.ts), to each processor's
 * exporter. stderr stays the log of record; the copy is best effort (the SDK's batch processor
 * drops when its queue is full).
 */
// The logs SDK is loaded once an OwnLogs is made (a config with service.telemetry.logs.processors):
// a config without any loads none of it. Lines logged before it is there wait for it.
import type { AttributeValue, Attributes, LogRecord, Logger as OtelLogger, SeverityNumber } from '@opentelemetry/api';
import type { LoggerProvider, LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { Level, Logger } from './log.ts';
import { otelResources, sdkLogs } from './otel-sdk.ts';
import type { LogProcessorConfig } from './telemetry-config.ts';
import { logExporter } from './telemetry-exporters.ts';

/** SeverityNumber DEBUG, INFO, WARN and ERROR, as the logs data model numbers them. */
const SEVERITY: Readonly<Record<Level, SeverityNumber>> = { debug: 5, info: 9, warn: 13, error: 17 };

/** Lines kept while the SDK loads (a start's worth); beyond, the copy skips them (stderr has them all). */
const MAX_PENDING = 1000;
const RANK: Readonly<Record<Level, number>> = { debug: 0, info: 1, warn: 2, error: 3 };
const TEXT: Readonly<Record<Level, string>> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** A field as an attribute: scalars and lists of them as they are, anything else (a list of objects) as JSON. */
function attributeValue(value: unknown): AttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  return JSON.stringify(value);
}

function attributesOf(fields: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(fields)) {
    const v = attributeValue(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export class OwnLogs {
  private _provider: LoggerProvider | undefined;
  private _logger: OtelLogger | undefined;
  private readonly _pending: LogRecord[] = [];
  private readonly _loaded: Promise<void>;
  private readonly _minimum: number;
  private _stopped = false;

  /**
   * @param processors the config's log processors (at least one)
   * @param minimum the lowest level copied
   * @param stderr where a failed export is said: the log on stderr alone, never this copy
   */
  /** `resource`: its attributes. Throws at once when an exporter's certificate file cannot be read. */
  constructor(processors: readonly LogProcessorConfig[], resource: Readonly<Record<string, string>>, minimum: Level, stderr: Logger, scope: { name: string; version: string }) {
    this._minimum = RANK[minimum];
    const exporters = processors.map((p, i) => logExporter((p.batch ?? p.simple!).exporter.otlp, `service.telemetry.logs.processors[${i}]`, stderr));
    this._loaded = this._load(processors, exporters, resource, scope).catch((err: unknown) => {
      this._pending.length = 0;
      stderr('error', `the copy of the sidecar's own log over OTLP could not start: ${(err as Error).message}`);
    });
  }

  private async _load(processors: readonly LogProcessorConfig[], exporters: Promise<LogRecordExporter>[], resource: Readonly<Record<string, string>>, scope: { name: string; version: string }): Promise<void> {
    const built = await Promise.all(exporters);
    const { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor } = sdkLogs();
    const { resourceFromAttributes } = otelResources();
    this._provider = new LoggerProvider({
      resource: resourceFromAttributes(resource),
      processors: processors.map((p, i) =>
        p.batch !== undefined
          ? new BatchLogRecordProcessor({
              exporter: built[i]!,
              scheduledDelayMillis: p.batch.schedule_delay,
              exportTimeoutMillis: p.batch.export_timeout,
              maxQueueSize: p.batch.max_queue_size,
              maxExportBatchSize: Math.min(p.batch.max_export_batch_size, p.batch.max_queue_size),
            })
          : new SimpleLogRecordProcessor({ exporter: built[i]! }),
      ),
    });
    this._logger = this._provider.getLogger(scope.name, scope.version);
    for (const record of this._pending.splice(0)) this._logger.emit(record);
  }

  /** `log`, whose lines at or above the level are also copied over OTLP (until shutdown). */
  tee(log: Logger): Logger {
    return (level, message, fields) => {
      log(level, message, fields);
      if (this._stopped || RANK[level] < this._minimum) return;
      const record: LogRecord = { timestamp: Date.now(), severityNumber: SEVERITY[level], severityText: TEXT[level], body: message, ...(fields === undefined ? {} : { attributes: attributesOf(fields) }) };
      if (this._logger !== undefined) this._logger.emit(record);
      else if (this._pending.length < MAX_PENDING) this._pending.push(record);
    };
  }

  /** Sends what the processors hold, then stops; safe twice. */
  async shutdown(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    await this._loaded;
    await this._provider?.shutdown();
  }
}
