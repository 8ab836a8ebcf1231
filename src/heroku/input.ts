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
  /** Lines whose header parser threw (a bug of ours, caught): each kept as a raw line. */
  headerErrors: number;
  /** Lines (or frames) longer than the reader's `maxLineBytes`, skipped: not in `lines`. */
  longLines: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpaceOrNewline(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * `buf.toString('utf8', start, end)` without its argument handling: Buffer's own utf8Slice, a
 * measurable share of the per-line cost. Invalid sequences become U+FFFD either way.
 */
export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end);
}

/** Whether `buf` at `i` starts an octet-counted frame: digits, a space, `<`. */
export function startsWithOctetFrame(buf: Uint8Array, i: number, end = buf.length): boolean {
  const start = i;
  while (i < end && isDigit(buf[i]!) && i - start < 8) i++;
  return i > start && buf[i] === 32 && buf[i + 1] === 60;
}

// CSI sequences such as `\x1b[36m`.
const ANSI_ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPES, '');
}

/**
 * One line of text, any shape. A line that is itself an octet-counted frame (a capture with one
 * frame per line) loses its length prefix, which a line does not need.
 */
export function parseAnyLine(text: string): HerokuLine {
  // `heroku logs` colours its output on a terminal; a capture made with `script` or copied from
  // a terminal keeps the escapes. They are presentation, not data.
  if (text.charCodeAt(0) === 27 /* ESC */) text = stripAnsi(text);
  if (text.charCodeAt(text.length - 1) === 13 /* \r */) text = text.slice(0, -1);
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

/**
 * Pulls lines out of a capture held in memory, one `next()` at a time, so that a caller can
 * pause between lines (to write output, say). The shape is decided once, from the first bytes.
 */
export class CaptureReader {
  /** The octet framing's verdict on the current line, undefined for line-oriented input. */
  frameStatus: FrameStatus | undefined = undefined;
  readonly stats: CaptureStats = { lines: 0, frameProblems: 0, headerErrors: 0, longLines: 0 };

  private _buf: Buffer;
  private _maxLineBytes: number;
  private _frames: OctetFrameReader | undefined;
  // The line-oriented run being read: the whole input, or an unframed run between frames.
  private _linePos = 0;
  private _lineEnd = 0;

  /**
   * `maxLineBytes`: a line or frame longer than this is skipped and counted in `stats.longLines`
   * (parse and replay bound lines as the receivers do); no bound by default, where the caller
   * bounds the whole input (the Logplex receiver's body size).
   */
  constructor(buf: Buffer, maxLineBytes = Infinity) {
    this._buf = buf;
    this._maxLineBytes = maxLineBytes;
    // A UTF-8 byte order mark (editors on Windows write one) is no part of the first line.
    let first = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    while (first < buf.length && isSpaceOrNewline(buf[first]!)) first++;
    if (startsWithOctetFrame(buf, first)) {
      this._frames = new OctetFrameReader(buf, first);
    } else {
      this._linePos = first;
      this._lineEnd = buf.length;
    }
  }

  /** The next line, or null at the end of the capture. */
  next(): HerokuLine | null {
    const line = this._nextInRun();
    if (line !== null) return line;
    const frames = this._frames;
    if (frames === undefined) return null;
    while (frames.next()) {
      const status = frames.status;
      if (status !== 'ok') this.stats.frameProblems++;
      if (status === 'unframed') {
        // Stray text between frames: each of its lines is kept, in whatever shape it has.
        this._linePos = frames.msgStart;
        this._lineEnd = frames.msgEnd;
        this.frameStatus = status;
        const first = this._nextInRun();
        if (first !== null) return first;
        continue;
      }
      if (frames.msgEnd - frames.msgStart > this._maxLineBytes) {
        this.stats.longLines++;
        continue;
      }
      this.stats.lines++;
      this.frameStatus = status;
      const text = decodeUtf8(this._buf, frames.msgStart, frames.msgEnd);
      try {
        return parseSyslogLine(text) ?? rawLine(text);
      } catch {
        this.stats.headerErrors++;
        return rawLine(text);
      }
    }
    return null;
  }

  /** The next non-blank line of the current line-oriented run, `\r\n` tolerated. */
  private _nextInRun(): HerokuLine | null {
    const buf = this._buf;
    const end = this._lineEnd;
    while (this._linePos < end) {
      const start = this._linePos;
      let nl = buf.indexOf(10, start);
      if (nl < 0 || nl > end) nl = end;
      this._linePos = nl + 1;
      let stop = nl;
      if (stop > start && buf[stop - 1] === 13) stop--;
      let i = start;
      while (i < stop && isSpaceOrNewline(buf[i]!)) i++;
      if (i === stop) continue;
      if (stop - start > this._maxLineBytes) {
        this.stats.longLines++;
        continue;
      }
      this.stats.lines++;
      if (this._frames === undefined) this.frameStatus = undefined;
      const text = decodeUtf8(buf, start, stop);
      try {
        return parseAnyLine(text);
      } catch {
        this.stats.headerErrors++;
        return rawLine(text);
      }
    }
    return null;
  }
}

/**
 * Where the complete octet-counted frames from `start` end (`start` if none is complete), and the
 * declared size (header included) of the frame that starts there, or -1 when none does: for
 * cutting a stream at frame ends, as a syslog capture need not hold a newline at all.
 */
export function completeFrames(buf: Uint8Array, start = 0): { end: number; nextFrameBytes: number } {
  let i = start;
  for (;;) {
    let j = i;
    while (j < buf.length && isSpaceOrNewline(buf[j]!)) j++;
    if (!startsWithOctetFrame(buf, j)) return { end: i, nextFrameBytes: -1 };
    let length = 0;
    let k = j;
    while (isDigit(buf[k]!)) length = length * 10 + buf[k++]! - 48;
    const frameEnd = k + 1 + length;
    if (frameEnd > buf.length) return { end: j, nextFrameBytes: frameEnd - j };
    i = frameEnd;
  }
}

/** Reads every line of a capture held in memory. */
export function readCapture(buf: Buffer, onLine: LineCallback): CaptureStats {
  const reader = new CaptureReader(buf);
  for (let line = reader.next(); line !== null; line = reader.next()) onLine(line, reader.frameStatus);
  return reader.stats;
}
