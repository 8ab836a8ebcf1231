/**
 * Captures in any of the shapes users have, detected automatically: Logplex HTTPS bodies and
 * octet-counted syslog streams (`LEN SP <PRI>...`), newline-delimited syslog (`<PRI>1 ...`),
 * `heroku logs` output (`TIMESTAMP source[proc]: text`), and anything else as raw lines.
 * Every non-blank line (or frame) yields exactly one HerokuLine.
 */
import { rawLine, type HerokuLine } from './line.ts';
import { OctetFrameReader, type FrameStatus } from './octet-frames.ts';
import { parseHerokuLogsLine, parseSyslogLine } from './syslog.ts';

export type LineCallback = (line: HerokuLine, frameStatus: FrameStatus | undefined) => void;

/** What was read, for the caller's counters. */
export interface CaptureStats {
  lines: number;
  /** Frames whose octet count was wrong, truncated, or that had no header at all. */
  frameProblems: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether `buf` at `i` starts an octet-counted frame: digits, a space, `<`. */
export function startsWithOctetFrame(buf: Uint8Array, i: number, end = buf.length): boolean {
  const start = i;
  while (i < end && isDigit(buf[i]!) && i - start < 8) i++;
  return i > start && buf[i] === 32 && buf[i + 1] === 60;
}

/**
 * One line of text, any shape. A line that is itself an octet-counted frame (a capture with one
 * frame per line) loses its length prefix, which a line does not need.
 */
export function parseAnyLine(text: string): HerokuLine {
  const c = text.charCodeAt(0);
  if (c === 60 /* < */) return parseSyslogLine(text) ?? rawLine(text);
  if (isDigit(c)) {
    const space = text.indexOf(' ');
    if (space > 0 && space < 9 && text.charCodeAt(space + 1) === 60 && /^\d+$/.test(text.slice(0, space))) {
      const line = parseSyslogLine(text.slice(space + 1));
      if (line) return line;
    }
    return parseHerokuLogsLine(text) ?? rawLine(text);
  }
  return rawLine(text);
}

function isBlank(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

/** Newline-delimited lines of `buf[start, end)`, `\r\n` tolerated, blank lines skipped. */
function readLines(buf: Buffer, start: number, end: number, onLine: LineCallback, status: FrameStatus | undefined, stats: CaptureStats): void {
  let lineStart = start;
  while (lineStart < end) {
    let nl = buf.indexOf(10, lineStart);
    if (nl < 0 || nl > end) nl = end;
    let lineEnd = nl;
    if (lineEnd > lineStart && buf[lineEnd - 1] === 13) lineEnd--;
    if (!isBlank(buf, lineStart, lineEnd)) {
      stats.lines++;
      onLine(parseAnyLine(buf.toString('utf8', lineStart, lineEnd)), status);
    }
    lineStart = nl + 1;
  }
}

/** Reads every line of a capture held in memory. */
export function readCapture(buf: Buffer, onLine: LineCallback): CaptureStats {
  const stats: CaptureStats = { lines: 0, frameProblems: 0 };
  let first = 0;
  while (first < buf.length && (buf[first] === 32 || buf[first] === 10 || buf[first] === 13 || buf[first] === 9)) first++;
  if (!startsWithOctetFrame(buf, first)) {
    readLines(buf, first, buf.length, onLine, undefined, stats);
    return stats;
  }
  const reader = new OctetFrameReader(buf, first);
  while (reader.next()) {
    const status = reader.status;
    if (status !== 'ok') stats.frameProblems++;
    if (status === 'unframed') {
      // Stray text between frames: each of its lines is kept, in whatever shape it has.
      readLines(buf, reader.msgStart, reader.msgEnd, onLine, status, stats);
      continue;
    }
    stats.lines++;
    const text = buf.toString('utf8', reader.msgStart, reader.msgEnd);
    onLine(parseSyslogLine(text) ?? rawLine(text), status);
  }
  return stats;
}
