/**
 * The sidecar's own log: one JSON object per line on stderr (stdout is the debug exporter's),
 * through pino: `{"level":"info","time":"2024-...","msg":"...",...fields}`, written synchronously
 * so that the last lines before an exit are not lost. OTEL_LOG_LEVEL (or our older LOG_LEVEL)
 * picks the threshold. Secrets never reach it: callers log drain fingerprints, not tokens.
 */
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;
/** What the log shows: a level and those above it, or nothing. */
export type Threshold = Level | 'silent';

/**
 * OTEL_LOG_LEVEL's values, as the OpenTelemetry SDKs read them (case-insensitive), on our levels:
 * `none` silences the log; `verbose` and `all` show everything, which is `debug` here.
 */
const LEVEL_NAMES: Readonly<Record<string, Threshold>> = { none: 'silent', error: 'error', warn: 'warn', info: 'info', debug: 'debug', verbose: 'debug', all: 'debug' };

/**
 * The log threshold from the environment: OTEL_LOG_LEVEL, else LOG_LEVEL (this project's older
 * name, same values), else `info`. A value that is no level is not fatal: `info`, and a warning
 * to log once the logger exists.
 */
export function logThresholdFromEnv(env: NodeJS.ProcessEnv): { threshold: Threshold; warning?: string } {
  for (const name of ['OTEL_LOG_LEVEL', 'LOG_LEVEL']) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const threshold = LEVEL_NAMES[raw.toLowerCase()];
    if (threshold !== undefined) return { threshold };
    const shown = /^[A-Za-z]{1,12}$/.test(raw) ? `"${raw}"` : 'its value';
    return { threshold: 'info', warning: `${name}: ${shown} is not a log level (none, error, warn, info, debug, verbose, all); logging at info` };
  }
  return { threshold: 'info' };
}

/** The pino logger: its threshold can be set again once the config is read (service.telemetry.logs.level). */
export interface JsonLogger extends Logger {
  setLevel(level: Threshold): void;
}

/** `base`: fields on every line (a worker's index). */
export function jsonLogger(minimum: Threshold = 'info', out?: { write(text: string): unknown }, base?: Record<string, unknown>): JsonLogger {
  const destination: DestinationStream = out ? { write: (text: string) => void out.write(text) } : pino.destination({ dest: 2, sync: true });
  const logger = pino(
    {
      level: minimum,
      base: base ?? undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log: Logger = (level, message, fields) => {
    if (fields === undefined) logger[level](message);
    else logger[level](fields, message);
  };
  return Object.assign(log, { setLevel: (level: Threshold) => void (logger.level = level) });
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
