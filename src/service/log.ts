/**
 * The sidecar's own log: one JSON object per line on stderr (stdout is the debug exporter's).
 * Secrets never reach it: callers log drain fingerprints, not tokens.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function jsonLogger(minimum: Level = 'info', out: { write(text: string): unknown } = process.stderr): Logger {
  return (level, message, fields) => {
    if (ORDER[level] < ORDER[minimum]) return;
    out.write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + '\n');
  };
}
