/**
 * The sidecar's own log over OTLP too (`service.telemetry.logs.processors`, as the Collector's):
 * every line written on stderr at or above the level is also emitted through the logs SDK, with
 * the same message and fields (which never hold a secret: see log.ts), to each processor's
 * exporter. stderr stays the log of record; the copy is best effort (the SDK's batch processor
 * drops when its queue is full).
 */
import { SeverityNumber, type AttributeValue, type Attributes, type Logger as OtelLogger } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { Level, Logger } from './log.ts';
import type { LogProcessorConfig } from './telemetry-config.ts';
import { logExporter } from './telemetry-exporters.ts';

const SEVERITY: Readonly<Record<Level, SeverityNumber>> = { debug: SeverityNumber.DEBUG, info: SeverityNumber.INFO, warn: SeverityNumber.WARN, error: SeverityNumber.ERROR };
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
  private readonly _provider: LoggerProvider;
  private readonly _logger: OtelLogger;
  private readonly _minimum: number;
  private _stopped = false;

  /**
   * @param processors the config's log processors (at least one)
   * @param minimum the lowest level copied
   * @param stderr where a failed export is said: the log on stderr alone, never this copy
   */
  constructor(processors: readonly LogProcessorConfig[], resource: Resource, minimum: Level, stderr: Logger, scope: { name: string; version: string }) {
    this._minimum = RANK[minimum];
    const built: LogRecordProcessor[] = processors.map((p, i) => {
      const where = `service.telemetry.logs.processors[${i}]`;
      if (p.batch !== undefined) {
        return new BatchLogRecordProcessor({
          exporter: logExporter(p.batch.exporter.otlp, where, stderr),
          scheduledDelayMillis: p.batch.schedule_delay,
          exportTimeoutMillis: p.batch.export_timeout,
          maxQueueSize: p.batch.max_queue_size,
          maxExportBatchSize: Math.min(p.batch.max_export_batch_size, p.batch.max_queue_size),
        });
      }
      return new SimpleLogRecordProcessor({ exporter: logExporter(p.simple!.exporter.otlp, where, stderr) });
    });
    this._provider = new LoggerProvider({ resource, processors: built });
    this._logger = this._provider.getLogger(scope.name, scope.version);
  }

  /** `log`, whose lines at or above the level are also copied over OTLP (until shutdown). */
  tee(log: Logger): Logger {
    return (level, message, fields) => {
      log(level, message, fields);
      if (this._stopped || RANK[level] < this._minimum) return;
      this._logger.emit({ timestamp: Date.now(), severityNumber: SEVERITY[level], severityText: TEXT[level], body: message, ...(fields === undefined ? {} : { attributes: attributesOf(fields) }) });
    };
  }

  /** Sends what the processors hold, then stops; safe twice. */
  async shutdown(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    await this._provider.shutdown();
  }
}
