/**
 * Syslog over a byte stream (RFC 6587): frames out of TCP reads, whatever the read boundaries.
 *
 * Each frame's framing is read from its first byte: a digit starts octet counting (`LEN SP MSG`,
 * what Heroku's syslog drains and rsyslog's `TCP_Framing="octet-counted"` send), anything else a
 * line ended by LF (plain `logger --tcp`, most shippers). A frame longer than `maxFrameBytes` is
 * skipped and reported, never buffered: with octet counting its length says how much to skip,
 * and a line is skipped up to its LF, so the frames after it are still read. Memory per
 * connection is at most `maxFrameBytes` plus one read.
 */

export interface FrameSink {
  /** A complete frame: `buf[start, end)`, without the length prefix or the LF. */
  frame(buf: Buffer, start: number, end: number): void;
  /** A frame over the limit was skipped; `bytes` is its length when known (octet counting). */
  tooLarge(bytes: number | undefined): void;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The longest octet count we read: nine digits, under 1 GB. Longer is not a length. */
const MAX_LENGTH_DIGITS = 9;

export class SyslogFramer {
  private readonly _max: number;
  private readonly _sink: FrameSink;
  /** Bytes of an unfinished frame, carried over to the next read. */
  private _pending: Buffer | undefined;
  /** Bytes still to skip of an oversized octet-counted frame. */
  private _skipBytes = 0;
  /** Skipping an oversized line up to its LF. */
  private _skipLine = false;

  constructor(maxFrameBytes: number, sink: FrameSink) {
    this._max = maxFrameBytes;
    this._sink = sink;
  }

  /** Bytes held for an unfinished frame. */
  get pendingBytes(): number {
    return this._pending?.length ?? 0;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this._pending !== undefined) {
      buf = Buffer.concat([this._pending, chunk]);
      this._pending = undefined;
    }
    let i = 0;
    const end = buf.length;
    while (i < end) {
      if (this._skipBytes > 0) {
        const n = Math.min(this._skipBytes, end - i);
        this._skipBytes -= n;
        i += n;
        continue;
      }
      if (this._skipLine) {
        const lf = buf.indexOf(10, i);
        if (lf < 0) return;
        this._skipLine = false;
        i = lf + 1;
        continue;
      }
      const c = buf[i]!;
      // Stray separators between frames (a CRLF after an octet-counted frame, blank lines).
      if (c === 10 || c === 13) {
        i++;
        continue;
      }
      if (isDigit(c)) {
        let j = i;
        let length = 0;
        while (j < end && isDigit(buf[j]!) && j - i < MAX_LENGTH_DIGITS) length = length * 10 + (buf[j++]! - 48);
        if (j === end) {
          // The length itself is cut by the read.
          this._keep(buf, i, end);
          return;
        }
        if (buf[j] === 32) {
          const start = j + 1;
          if (length > this._max) {
            this._sink.tooLarge(length);
            this._skipBytes = length;
            i = start;
            continue;
          }
          if (end - start < length) {
            this._keep(buf, i, end);
            return;
          }
          this._sink.frame(buf, start, start + length);
          i = start + length;
          continue;
        }
        // Digits not followed by a space: a line that starts with a number.
      }
      const lf = buf.indexOf(10, i);
      if (lf < 0) {
        if (end - i > this._max) {
          this._sink.tooLarge(undefined);
          this._skipLine = true;
          return;
        }
        this._keep(buf, i, end);
        return;
      }
      if (lf - i > this._max) {
        this._sink.tooLarge(undefined);
      } else {
        const stop = lf > i && buf[lf - 1] === 13 ? lf - 1 : lf;
        this._sink.frame(buf, i, stop);
      }
      i = lf + 1;
    }
  }

  /**
   * The stream ended: an unfinished line is still a message (a sender may not end its last line),
   * an unfinished octet-counted frame is not (its sender said how long it would be).
   */
  end(): void {
    const rest = this._pending;
    this._pending = undefined;
    if (rest === undefined || rest.length === 0 || this._skipBytes > 0 || this._skipLine) return;
    if (isDigit(rest[0]!)) {
      let j = 0;
      while (j < rest.length && isDigit(rest[j]!)) j++;
      if (rest[j] === 32) return;
    }
    this._sink.frame(rest, 0, rest.length);
  }

  private _keep(buf: Buffer, start: number, end: number): void {
    // A copy: `buf` may be a read buffer the stream reuses, or a large concatenation.
    this._pending = Buffer.from(buf.subarray(start, end));
  }
}
