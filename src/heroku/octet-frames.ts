/**
 * Octet-counted framing (RFC 6587 `LEN SP MSG`), as in Logplex HTTPS bodies and syslog over TCP.
 *
 * Real captures carry wrong lengths: off by one where a trailing newline is missing, or worse. A
 * length is trusted only when the frame it describes ends at the end of the body or right before
 * another plausible frame header whose own length checks out too; otherwise the reader
 * resynchronises at the nearest real header instead of losing or merging frames, and says so in
 * `status` so the caller can count it.
 */

/** What the reader found about the current frame. */
export type FrameStatus =
  /** The length was right. */
  | 'ok'
  /** The length was wrong; the frame was cut at the next real header instead. */
  | 'length_mismatch'
  /** The length runs past the end of the body: the frame is what remains. */
  | 'truncated'
  /** Bytes that are not a frame header (garbage, or a stray line): kept as one raw message. */
  | 'unframed';

const SP = 32;
const LT = 60;
const GT = 62;
/** More digits than any sane frame length (Logplex frames stay well under 1 MB). */
const MAX_LENGTH_DIGITS = 7;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpaceOrNewline(c: number): boolean {
  return c === 10 || c === 13 || c === SP || c === 9;
}

/**
 * Reads frames out of one buffer without copying it: after each `next()` returning true, the
 * current message is `buf[msgStart, msgEnd)` with its line terminator already removed.
 */
export class OctetFrameReader {
  /** Start of the current message (after `LEN SP`). */
  msgStart = 0;
  /** End of the current message, trailing `\n` / `\r\n` excluded. */
  msgEnd = 0;
  /** The length the frame header declared, or -1 for an unframed run. */
  declaredLength = -1;
  status: FrameStatus = 'ok';

  private _buf: Uint8Array;
  private _pos: number;
  private _end: number;
  // Set by _headerAt: where the message starts and how long the header says it is.
  private _hdrMsgStart = 0;
  private _hdrLength = 0;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this._buf = buf;
    this._pos = start;
    this._end = end;
  }

  /** Advances to the next frame; false at the end of the buffer. */
  next(): boolean {
    const buf = this._buf;
    const end = this._end;
    let pos = this._pos;
    while (pos < end && isSpaceOrNewline(buf[pos]!)) pos++;
    if (pos >= end) {
      this._pos = end;
      return false;
    }
    if (!this._headerAt(pos)) {
      // Not a frame: keep the bytes up to the next real header as one unframed message.
      const next = this._findHeader(pos + 1);
      this._setFrame(pos, next, -1, 'unframed');
      this._pos = next;
      return true;
    }
    const msgStart = this._hdrMsgStart;
    const length = this._hdrLength;
    const expectedEnd = msgStart + length;
    // A length that ends right after a newline, or before another confirmed header, is right.
    if (expectedEnd === end || (expectedEnd < end && (buf[expectedEnd - 1] === 10 || this._boundaryAt(expectedEnd)))) {
      this._setFrame(msgStart, expectedEnd, length, 'ok');
      this._pos = expectedEnd;
      return true;
    }
    const next = this._findHeader(msgStart);
    if (next < end) {
      this._setFrame(msgStart, next, length, 'length_mismatch');
      this._pos = next;
    } else {
      this._setFrame(msgStart, end, length, expectedEnd > end ? 'truncated' : 'length_mismatch');
      this._pos = end;
    }
    return true;
  }

  private _setFrame(start: number, stop: number, length: number, status: FrameStatus): void {
    const buf = this._buf;
    while (stop > start && isSpaceOrNewline(buf[stop - 1]!)) stop--;
    this.msgStart = start;
    this.msgEnd = stop;
    this.declaredLength = length;
    this.status = status;
  }

  /**
   * Whether `buf[p]` starts `LEN SP <PRI>`: a non-zero length of at most 7 digits, a space, and a
   * syslog PRI. On success `_hdrMsgStart` and `_hdrLength` describe the frame.
   */
  private _headerAt(p: number): boolean {
    const buf = this._buf;
    const end = this._end;
    let i = p;
    let length = 0;
    if (i >= end || buf[i] === 48 /* 0 */) return false;
    while (i < end && isDigit(buf[i]!)) {
      length = length * 10 + buf[i]! - 48;
      i++;
      if (i - p > MAX_LENGTH_DIGITS) return false;
    }
    if (i === p || i + 3 >= end || buf[i] !== SP || buf[i + 1] !== LT) return false;
    let j = i + 2;
    const priStart = j;
    while (j < end && j - priStart < 3 && isDigit(buf[j]!)) j++;
    if (j === priStart || buf[j] !== GT) return false;
    this._hdrMsgStart = i + 1;
    this._hdrLength = length;
    return true;
  }

  /**
   * Whether a frame may end at `p`: only whitespace remains, or a header follows (after optional
   * whitespace) whose own frame ends at the end of the body, before another header, or in
   * whitespace. The second look catches a length one too long, which lands inside the next
   * header's digits (`83 <40>1` read as `3 <40>1`).
   */
  private _boundaryAt(p: number): boolean {
    const buf = this._buf;
    const end = this._end;
    while (p < end && isSpaceOrNewline(buf[p]!)) p++;
    if (p >= end) return true;
    return this._confirmedHeaderAt(p, true);
  }

  /**
   * A header at `p` whose declared frame ends where a frame may end. `mayBeTruncated` accepts a
   * last frame that runs past the end, for a header found exactly where a length pointed.
   */
  private _confirmedHeaderAt(p: number, mayBeTruncated = false): boolean {
    if (!this._headerAt(p)) return false;
    const buf = this._buf;
    const end = this._end;
    let q = this._hdrMsgStart + this._hdrLength;
    if (q === end) return true;
    // A last frame cut short is still a frame, unless these digits may be the tail of a longer
    // run (a length read one byte too late), where only a full check is proof.
    if (q > end) return mayBeTruncated && !(p > 0 && isDigit(buf[p - 1]!));
    while (q < end && isSpaceOrNewline(buf[q]!)) q++;
    if (q >= end) return true;
    // The next frame starts at q, or at q - 1 when this one's length also counts a missing newline.
    return this._headerAt(q) || (isDigit(buf[q - 1]!) && this._headerAt(q - 1));
  }

  /**
   * The nearest position after `from` where a frame header starts, or the end of the buffer.
   * Looks for ` <PRI>` preceded by digits, then tries each suffix of the digit run, longest first,
   * so a message ending in digits without its newline (`bytes=0` + `83 <40>1`) still splits
   * right. A candidate is taken when its own length checks out; failing that, when it is the last
   * frame and its length overruns the end by a missing line terminator at most; failing that,
   * when its digits follow a line break or space.
   */
  private _findHeader(from: number): number {
    const buf = this._buf;
    const end = this._end;
    for (let i = from + 2; i + 2 < end; i++) {
      if (buf[i] !== LT || buf[i - 1] !== SP || !isDigit(buf[i - 2]!)) continue;
      let runStart = i - 2;
      while (runStart > from && isDigit(buf[runStart - 1]!) && i - 1 - runStart < MAX_LENGTH_DIGITS) runStart--;
      let lastFrame = -1;
      let afterSpace = -1;
      for (let k = runStart; k < i - 1; k++) {
        if (buf[k] === 48 || !this._headerAt(k)) continue;
        if (this._confirmedHeaderAt(k)) return k;
        const overrun = this._hdrMsgStart + this._hdrLength - end;
        if (lastFrame < 0 && overrun > 0 && overrun <= 2) lastFrame = k;
        if (afterSpace < 0 && k === runStart && isSpaceOrNewline(buf[k - 1]!)) afterSpace = k;
      }
      if (lastFrame >= 0) return lastFrame;
      if (afterSpace >= 0) return afterSpace;
    }
    return end;
  }
}
