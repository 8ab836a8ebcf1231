/**
 * A Logplex POST body to telemetry: frames, Heroku interpretation and OpenTelemetry mapping, pure.
 * Frames that fail to parse are kept as raw records, never failing the good frames beside them.
 */
import { interpretLine } from '../../heroku/classify.ts';
import { CaptureReader } from '../../heroku/input.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../../translate/telemetry.ts';
import { translateEvent } from '../../translate/translate.ts';

export interface BodyTelemetry {
  telemetry: TelemetryBatch;
  /** Frames (lines) read: each gave exactly one log record. */
  lines: number;
  /** Frames whose octet count was wrong or that had no header. */
  frameProblems: number;
  /** Lines with no syslog header, kept whole. */
  rawLines: number;
}

export function bodyToTelemetry(body: Buffer, observedUnixMicros: number): BodyTelemetry {
  const reader = new CaptureReader(body);
  const telemetry = newTelemetryBatch();
  let rawLines = 0;
  for (let line = reader.next(); line !== null; line = reader.next()) {
    if (line.shape === 'raw') rawLines++;
    translateEvent(line, interpretLine(line), observedUnixMicros, telemetry, reader.frameStatus);
  }
  return { telemetry, lines: reader.stats.lines, frameProblems: reader.stats.frameProblems, rawLines };
}
