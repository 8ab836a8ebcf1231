/**
 * RFC 3339 timestamps as Heroku writes them, parsed to whole microseconds since the epoch.
 *
 * Microseconds fit a JS number exactly (about 1.7e15 < 2^53) and are the finest precision RFC 5424
 * allows (TIME-SECFRAC is at most six digits), so no BigInt is needed on the hot path.
 */

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian), Howard Hinnant's algorithm. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

// Lines of a batch share their date, hour and minute, often their second: the last one parsed
// is remembered so that the next compares 19 characters instead of converting them.
let lastPrefix = '';
let lastPrefixSeconds = 0;

/** Whether `s` at `start` begins with the remembered prefix; compared from the seconds backwards. */
function samePrefix(s: string, start: number): boolean {
  const prefix = lastPrefix;
  if (prefix.length !== 19) return false;
  for (let i = 18; i >= 0; i--) if (s.charCodeAt(start + i) !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)` between `start` and `end` of `s`.
 * Accepts a space or lower-case `t` for `T` and `z` for `Z`, any number of fraction digits
 * (digits past the sixth are dropped), and offsets with or without the colon.
 * Returns NaN when the text is not such a timestamp.
 */
export function parseTimestampMicros(s: string, start = 0, end = s.length): number {
  if (end - start < 20) return NaN;
  if (samePrefix(s, start)) return finishTimestamp(s, start + 19, end, lastPrefixSeconds);
  const y1 = twoDigits(s, start);
  const y2 = twoDigits(s, start + 2);
  if (y1 < 0 || y2 < 0 || s.charCodeAt(start + 4) !== 45 /* - */ || s.charCodeAt(start + 7) !== 45) return NaN;
  const month = twoDigits(s, start + 5);
  const day = twoDigits(s, start + 8);
  const t = s.charCodeAt(start + 10);
  if (t !== 84 /* T */ && t !== 116 /* t */ && t !== 32) return NaN;
  const hour = twoDigits(s, start + 11);
  const minute = twoDigits(s, start + 14);
  const second = twoDigits(s, start + 17);
  if (s.charCodeAt(start + 13) !== 58 || s.charCodeAt(start + 16) !== 58) return NaN;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN;
  if (second < 0 || second > 60) return NaN; // 60: a leap second, folded into the next minute
  const days = daysFromCivil(y1 * 100 + y2, month, day);
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  const micros = finishTimestamp(s, start + 19, end, seconds);
  if (micros === micros && t === 84) {
    lastPrefix = s.slice(start, start + 19);
    lastPrefixSeconds = seconds;
  }
  return micros;
}

/** The fraction and offset after `YYYY-MM-DDTHH:MM:SS`, given that part's seconds (as UTC). */
function finishTimestamp(s: string, i: number, end: number, seconds: number): number {
  let micros = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    let digits = 0;
    while (i < end) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (digits < 6) micros = micros * 10 + d;
      digits++;
      i++;
    }
    if (digits === 0) return NaN;
    for (; digits < 6; digits++) micros *= 10;
  }
  let offsetMinutes = 0;
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */ || z === 122 /* z */) {
    i++;
  } else if (z === 43 /* + */ || z === 45 /* - */) {
    const oh = twoDigits(s, i + 1);
    let om: number;
    if (s.charCodeAt(i + 3) === 58) {
      om = twoDigits(s, i + 4);
      i += 6;
    } else {
      om = twoDigits(s, i + 3);
      i += 5;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1);
  } else {
    return NaN;
  }
  if (i !== end) return NaN;
  return (seconds - offsetMinutes * 60) * 1_000_000 + micros;
}

/** Microseconds since the epoch as the decimal nanosecond string OTLP/JSON uses. */
export function microsToNanoString(micros: number): string {
  return micros === 0 ? '0' : `${micros}000`;
}
