/** A logger for tests that keeps what it is given, to assert on what a user would read. */
import type { Level, Logger } from '../../src/service/log.ts';

/**
 * Our log lines above debug, as `level message`, and the debug ones with their fields (`{}` when
 * none were given).
 */
export function capturedLog(): { lines: string[]; debug: Array<{ message: string; fields: Record<string, unknown> }>; log: Logger } {
  const lines: string[] = [];
  const debug: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const log: Logger = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (level === 'debug') debug.push({ message, fields: fields ?? {} });
    else lines.push(`${level} ${message}`);
  };
  return { lines, debug, log };
}
