/**
 * A Logplex POST body to telemetry: frames, Heroku interpretation and OpenTelemetry mapping, pure.
 * Frames that fail to parse are kept as raw records, never failing the good frames beside them;
 * a line whose handling throws is kept unparsed and counted, never failing the body.
 */
import { CaptureReader } from '../../heroku/input.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../../translate/telemetry.ts';
import type { DrainContext } from '../../translate/drain-context.ts';
import { translateLineSafely, type LineTally } from '../../translate/translate.ts';

export interface BodyTelemetry {
  telemetry: TelemetryBatch;
  /** Frames (lines) read: each gave exactly one log record. */
  lines: number;
  /** Frames whose octet count was wrong or that had no header. */
  frameProblems: number;
  /** Lines with no syslog header, or whose handling failed, kept whole. */
  rawLines: number;
  /** Lines whose handling threw (a bug of ours, caught): each kept as one unparsed record (also in rawLines). */
  lineErrors: number;
  /** App lines of JSON too deep or too long to read, kept as text (`heroku.log.parse_error` says which). */
  jsonKeptAsText: number;
}

/**
 * `context`: the drain's (its route templates, its request-id keys); `spans`: a span per router
 * request too (a traces pipeline takes them).
 */
export function bodyToTelemetry(body: Buffer, observedUnixMicros: number, context?: DrainContext, spans = false): BodyTelemetry {
  const reader = new CaptureReader(body);
  const telemetry = newTelemetryBatch(spans);
  const tally: LineTally = { lineErrors: 0, jsonKeptAsText: 0 };
  let rawLines = 0;
  for (let line = reader.next(); line !== null; line = reader.next()) {
    if (translateLineSafely(line, observedUnixMicros, telemetry, reader.frameStatus, tally, context) || line.shape === 'raw') rawLines++;
  }
  return {
    telemetry,
    lines: reader.stats.lines,
    frameProblems: reader.stats.frameProblems,
    rawLines,
    lineErrors: tally.lineErrors + reader.stats.headerErrors,
    jsonKeptAsText: tally.jsonKeptAsText,
  };
}
