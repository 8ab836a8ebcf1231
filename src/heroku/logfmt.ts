/**
 * A logfmt scanner: `key=value key="quoted value" bare`, one pass, no regex, no allocation until
 * the caller asks for a key or value string.
 *
 * Heroku's router, runtime metrics and add-on metrics lines are logfmt, as is much app output.
 * Values end at whitespace unless quoted; quoted values may hold spaces, `=` and `\"` escapes.
 * A key with nothing after `=` (`dyno= connect=`) has an empty value.
 * Any control character counts as whitespace (one comparison, `c <= 32`): a CRLF line's `\r` or a
 * tab must not end up inside the last value.
 */
export class LogfmtScanner {
  text = '';
  keyStart = 0;
  keyEnd = 0;
  /** Value bounds, quotes excluded. Equal when the value is empty or the pair is a bare word. */
  valueStart = 0;
  valueEnd = 0;
  /** True when the pair had `=`; false for a bare word (`Cycling`). */
  hasValue = false;
  /** True when the quoted value held a backslash escape: `value()` then decodes it. */
  escaped = false;

  private _pos = 0;
  private _end = 0;

  reset(text: string, start = 0, end = text.length): this {
    this.text = text;
    this._pos = start;
    this._end = end;
    return this;
  }

  /** Moves to the next pair; false when the text is exhausted. */
  next(): boolean {
    const s = this.text;
    const end = this._end;
    let i = this._pos;
    while (i < end && s.charCodeAt(i) <= 32) i++;
    if (i >= end) {
      this._pos = end;
      return false;
    }
    this.keyStart = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === 61 /* = */ || c <= 32) break;
      i++;
    }
    this.keyEnd = i;
    this.escaped = false;
    if (i >= end || s.charCodeAt(i) !== 61) {
      this.hasValue = false;
      this.valueStart = this.valueEnd = i;
      this._pos = i;
      return true;
    }
    this.hasValue = true;
    i++;
    if (i < end && s.charCodeAt(i) === 34 /* " */) {
      i++;
      this.valueStart = i;
      while (i < end) {
        const c = s.charCodeAt(i);
        if (c === 92 /* \ */ && i + 1 < end) {
          this.escaped = true;
          i += 2;
          continue;
        }
        if (c === 34) break;
        i++;
      }
      // An unterminated quote runs to the end of the line rather than failing the line.
      this.valueEnd = i < end ? i : end;
      this._pos = i < end ? i + 1 : end;
      return true;
    }
    this.valueStart = i;
    while (i < end && s.charCodeAt(i) > 32) i++;
    // Dev Center's own router example has `host=myapp.herokuapp.com"`: a quote that closes nothing
    // is a typo, not part of the value.
    this.valueEnd = i > this.valueStart + 1 && s.charCodeAt(i - 1) === 34 ? i - 1 : i;
    this._pos = i;
    return true;
  }

  key(): string {
    return this.text.slice(this.keyStart, this.keyEnd);
  }

  /** Whether the current key is exactly `name`, without building the key string. */
  keyIs(name: string): boolean {
    return this.keyEnd - this.keyStart === name.length && this.text.startsWith(name, this.keyStart);
  }

  value(): string {
    const raw = this.text.slice(this.valueStart, this.valueEnd);
    return this.escaped ? unescapeQuoted(raw) : raw;
  }

  /** The value as a number with an optional unit suffix (`41ms`, `21.00MB`); NaN when empty. */
  numberValue(): number {
    return leadingNumber(this.text, this.valueStart, this.valueEnd);
  }
}

/** Decodes a quoted logfmt value's backslash escapes (`\"`, `\\`, `\n`, `\t`). */
export function unescapeQuoted(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else {
      out += c;
    }
  }
  return out;
}

/** Index where the leading decimal number of `s[start, end)` stops (sign, digits, one dot, exponent). */
export function numberPrefixEnd(s: string, start: number, end: number): number {
  let i = start;
  const c0 = s.charCodeAt(i);
  if (c0 === 45 /* - */ || c0 === 43 /* + */) i++;
  const digitsStart = i;
  let sawDot = false;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      i++;
    } else if (c === 46 && !sawDot) {
      sawDot = true;
      i++;
    } else {
      break;
    }
  }
  if (i === digitsStart || (sawDot && i === digitsStart + 1)) return start;
  const e = s.charCodeAt(i);
  if (e === 101 || e === 69) {
    // Exponent only when digits follow, so a unit such as `e` is not swallowed.
    let j = i + 1;
    const sign = s.charCodeAt(j);
    if (sign === 45 || sign === 43) j++;
    const expStart = j;
    while (j < end && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j > expStart) i = j;
  }
  return i;
}

/** The number at the start of `s[start, end)`, ignoring what follows (a unit); NaN if none. */
export function leadingNumber(s: string, start: number, end: number): number {
  // Fast path for plain non-negative integers, the common case (`status=200`, `connect=1ms`).
  let i = start;
  let n = 0;
  while (i < end) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    i++;
  }
  if (i > start && i - start < 16) {
    const c = i < end ? s.charCodeAt(i) : 0;
    if (c !== 46 && c !== 101 && c !== 69) return n;
  }
  const stop = numberPrefixEnd(s, start, end);
  return stop === start ? NaN : Number(s.slice(start, stop));
}
