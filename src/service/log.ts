/**
 * The sidecar's own log: one JSON object per line on stderr (stdout is the debug exporter's),
 * through pino: `{"level":"info","time":"2024-...","msg":"...",...fields}`, written synchronously
 * so that the last lines before an exit are not lost. LOG_LEVEL picks the threshold.
 * Secrets never reach it: callers log drain fingerprints, not tokens.
 */
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

/** The pino logger: its threshold can be set again once the config is read (service.telemetry.logs.level). */
export interface JsonLogger extends Logger {
  setLevel(level: Level): void;
}

export function jsonLogger(minimum: Level = 'info', out?: { write(text: string): unknown }): JsonLogger {
  const destination: DestinationStream = out ? { write: (text: string) => void out.write(text) } : pino.destination({ dest: 2, sync: true });
  const logger = pino(
    {
      level: minimum,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log: Logger = (level, message, fields) => {
    if (fields === undefined) logger[level](message);
    else logger[level](fields, message);
  };
  return Object.assign(log, { setLevel: (level: Level) => void (logger.level = level) });
}

/**
 * Where an error was thrown, for our log: its type and first frame, never its message (a parser's
 * message may quote the line, and the line may hold a secret).
 */
export function errorSite(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error_type: typeof error };
  const at = error.stack?.split('\n', 3)[1]?.trim();
  return { error_type: error.name, ...(at !== undefined ? { at } : {}) };
}
