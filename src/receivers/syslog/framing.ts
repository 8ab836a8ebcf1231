/**
 * Syslog over a byte stream (RFC 6587): frames out of TCP reads, whatever the read boundaries.
 *
 * Each frame's framing is read from its first bytes: digits, a space and `<` start octet counting
 * (`LEN SP <PRI>...`, what Heroku's syslog drains and rsyslog's `TCP_Framing="octet-counted"`
 * send); anything else is a line ended by LF (plain `logger --tcp`, most shippers). A frame longer
 * than `maxFrameBytes` is skipped and reported, never buffered: with octet counting its length
 * says how much to skip, and a line is skipped up to its LF, so the frames after it are still
 * read. An unfinished frame is held as the reads that carry it, joined once it is complete, so
 * memory per connection is at most `maxFrameBytes` plus one read, and a frame that trickles in a
 * byte at a time is not copied again at every byte.
 */

export interface FrameSink {
  /** A complete frame: `buf[start, end)`, without the length prefix or the LF. */
  frame(buf: Buffer, start: number, end: number): void;
  /** A frame over the limit was skipped; `bytes` is its length when known (octet counting). */
  tooLarge(bytes: number | undefined): void;
  /** The stream ended inside an octet-counted frame: its sender said it would be longer. */
  truncated(): void;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The longest octet count we read: nine digits, under 1 GB. Longer is not a length. */
const MAX_LENGTH_DIGITS = 9;

export class SyslogFramer {
  private readonly _max: number;
  private readonly _sink: FrameSink;
  /** Reads that carry an unfinished frame. */
  private _pending: Buffer[] = [];
  private _pendingBytes = 0;
  /**
   * What the unfinished frame waits for: the total bytes (length prefix included) of an
   * octet-counted frame, or -1 for the LF that ends a line; 0 when not known yet.
   */
  private _need = 0;
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
    return this._pendingBytes;
  }

  push(chunk: Buffer): void {
    if (this._pendingBytes > 0) {
      // Join only once the frame can be complete: its length is reached, or its LF has come.
      const total = this._pendingBytes + chunk.length;
      const need = this._need;
      const lf = need === -1 ? chunk.indexOf(10) : -1;
      if ((need > 0 && total < need) || (need === -1 && total <= this._max && lf < 0)) {
        this._pending.push(chunk);
        this._pendingBytes = total;
        return;
      }
      // Most reads end inside a frame: only that frame's bytes are joined, not the whole next
      // read (a copy of every byte received, once more). Its length cut (need 0) is rare: joined whole.
      const head = need > 0 ? need - this._pendingBytes : need === -1 && lf >= 0 ? lf + 1 : chunk.length;
      this._pending.push(head === chunk.length ? chunk : chunk.subarray(0, head));
      const joined = Buffer.concat(this._pending, this._pendingBytes + head);
      this._pending = [];
      this._pendingBytes = 0;
      this._need = 0;
      this._scan(joined);
      if (head === chunk.length) return;
      chunk = chunk.subarray(head);
    }
    this._scan(chunk);
  }

  private _scan(buf: Buffer): void {
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
        if (j + 1 >= end && (j === end || buf[j] === 32)) {
          // The length, or the byte after its space, is cut by the read: wait for more.
          this._keep(buf, i, end, 0);
          return;
        }
        if (buf[j] === 32 && buf[j + 1] === 60 /* < */) {
          const start = j + 1;
          if (length > this._max) {
            this._sink.tooLarge(length);
            this._skipBytes = length;
            i = start;
            continue;
          }
          if (end - start < length) {
            this._keep(buf, i, end, start - i + length);
            return;
          }
          this._sink.frame(buf, start, start + length);
          i = start + length;
          continue;
        }
        // A line that starts with a number (`404 not found`): LF framing.
      }
      const lf = buf.indexOf(10, i);
      if (lf < 0) {
        if (end - i > this._max) {
          this._sink.tooLarge(undefined);
          this._skipLine = true;
          return;
        }
        this._keep(buf, i, end, -1);
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
   * The stream ended: an unfinished line is still a message (a sender may not end its last
   * line); an unfinished octet-counted frame is not (its sender said how long it would be).
   */
  /**
   * The stream ended: what is pending is the last message (an LF-framed sender's last line needs
   * no LF), or a truncated frame. `cut`: we are the ones ending it (shutdown), so an unfinished
   * line is truncated whatever its framing.
   */
  end(cut = false): void {
    if (this._pendingBytes === 0) return;
    if (cut) {
      this._pending = [];
      this._pendingBytes = 0;
      this._need = 0;
      this._sink.truncated();
      return;
    }
    const rest = Buffer.concat(this._pending, this._pendingBytes);
    const need = this._need;
    this._pending = [];
    this._pendingBytes = 0;
    this._need = 0;
    if (need > 0) {
      this._sink.truncated();
      return;
    }
    // A bare length with nothing after it is a truncated frame too.
    let j = 0;
    while (j < rest.length && isDigit(rest[j]!)) j++;
    if (j > 0 && (j === rest.length || (rest[j] === 32 && j + 1 === rest.length))) {
      this._sink.truncated();
      return;
    }
    this._sink.frame(rest, 0, rest.length);
  }

  private _keep(buf: Buffer, start: number, end: number, need: number): void {
    // A copy: `buf` may be a read buffer the stream reuses, or a large concatenation.
    this._pending = [Buffer.from(buf.subarray(start, end))];
    this._pendingBytes = end - start;
    this._need = need;
  }
}
