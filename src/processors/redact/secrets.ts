/**
 * Where the secrets are in a text: pure scanners that each append `[start, end)` ranges to mask,
 * and `maskRanges` that writes the text once with them masked. Every scanner is one forward pass
 * (plus short backward steps over a name), with no regular expression, so a long line costs time
 * in proportion to its length whatever it holds.
 */

/** `Authorization` schemes: the word stays, the credential after it is masked. */
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'digest', 'bot', 'negotiate', 'ntlm', 'apikey']);
/** Values that hold nothing to hide, kept so that `password_reset_sent=true` still says something. */
const PLAIN_VALUES = new Set(['true', 'false', 'null', 'nil', 'none', 'undefined']);
/** Longer runs before a separator are not key names (base64, minified code). */
const MAX_NAME = 128;

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Characters of a key name: `X-Api-Key`, `api_key`, `user[password]`, `user%5Bpassword%5D`, `a.b`. */
function isNameChar(c: number): boolean {
  return isAlnum(c) || c === 95 || c === 45 || c === 46 || c === 91 || c === 93 || c === 37;
}

/** Where an unquoted value ends: logfmt, query strings, path parameters (`;jsessionid=...?`), headers, JSON numbers. */
function isValueEnd(c: number): boolean {
  return c <= 32 || c === 38 || c === 44 || c === 59 || c === 34 || c === 39 || c === 125 || c === 93 || c === 41 || c === 60 || c === 62 || c === 63;
}

/** Where a URL's authority ends (`scheme://user:pass@host` stops at the path, the query, a quote...). */
function isAuthorityEnd(c: number): boolean {
  return c <= 32 || c === 47 || c === 63 || c === 35 || c === 34 || c === 39 || c === 60 || c === 62 || c === 92 || c === 96;
}

/** Characters of a token: Stripe, GitHub, Slack keys and JWT segments are runs of these. */
function isTokenChar(c: number): boolean {
  return isAlnum(c) || c === 95 || c === 45;
}

/** RFC 7235's token68, the credential after `Bearer `. */
function isToken68Char(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 61;
}

function isUpperOrDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

function isValueChar(c: number): boolean {
  return !isValueEnd(c);
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function runEnd(text: string, from: number, accept: (c: number) => boolean): number {
  let i = from;
  while (i < text.length && accept(text.charCodeAt(i))) i++;
  return i;
}

/** The credentials of `scheme://user:PASS@host` (and `redis://:PASS@host`): only the password. */
export function urlCredentials(text: string, ranges: number[]): void {
  let from = 0;
  for (;;) {
    const k = text.indexOf('://', from);
    if (k < 0) return;
    const start = k + 3;
    let colon = -1;
    let at = -1;
    let i = start;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (isAuthorityEnd(c)) break;
      if (c === 64) at = i; // the last `@`: a raw `@` in a password comes before it
      else if (c === 58 && colon < 0) colon = i;
    }
    if (k > 0 && isAlnum(text.charCodeAt(k - 1)) && at > 0 && colon >= 0 && colon < at - 1) ranges.push(colon + 1, at);
    from = Math.max(i, start);
  }
}

/** Where the `quote`d value starting at `from` ends (at its closing quote, or the text's end). */
function closingQuote(text: string, from: number, quote: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 && quote === 34) i++;
    else if (c === quote) return i;
  }
  return text.length;
}

/** After `Bearer ` (any case) at `from` in [from, end): the credential's start, else -1. */
function afterScheme(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && i - from <= 9 && isAlnum(text.charCodeAt(i))) i++;
  if (i === from || i - from > 9 || i >= text.length || !isSpace(text.charCodeAt(i))) return -1;
  if (!AUTH_SCHEMES.has(text.slice(from, i).toLowerCase())) return -1;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

function isPlain(text: string, start: number, end: number, mask: string): boolean {
  const length = end - start;
  if (length <= 0) return true;
  if (length <= 9 && PLAIN_VALUES.has(text.slice(start, end).toLowerCase())) return true;
  return length === mask.length && text.startsWith(mask, start);
}

export interface NameTest {
  isSecret(name: string): boolean;
  /** isSecret(text.slice(start, end)), without the slice when it can. */
  isSecretAt(text: string, start: number, end: number): boolean;
}

/**
 * The values of secret-named pairs, in every form apps write them: `name=value`, `name="value"`,
 * `name = 'value'`, `Name: value` (headers, YAML), `"name": "value"` and `\"name\":\"value\"` (JSON
 * at any depth, JSON inside a JSON string), `"name"=>"value"` (Ruby), `user[password]=value` (Rails
 * forms). Quotes stay, the value inside is masked; an `Authorization` scheme word stays too.
 */
export function secretPairs(text: string, names: NameTest, mask: string, ranges: number[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c !== 61 && c !== 58) {
      i++;
      continue;
    }
    const s = i;
    let valueFrom = s + 1;
    const next = s + 1 < n ? text.charCodeAt(s + 1) : 0;
    if (c === 58 && (next === 47 || next === 58)) {
      // `scheme://`, `C:/`, `::` are not pairs.
      i = s + 2;
      continue;
    }
    if (c === 61 && next === 61) {
      i = s + 2;
      continue;
    }
    if (c === 61 && next === 62) valueFrom = s + 2; // =>
    i = valueFrom;
    // The name, backwards: spaces, a closing quote (escaped in JSON inside a string), the name.
    let j = s - 1;
    while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
    if (j >= 0 && (text.charCodeAt(j) === 34 || text.charCodeAt(j) === 39)) {
      j--;
      if (j >= 0 && text.charCodeAt(j) === 92) j--;
    }
    const nameEnd = j + 1;
    while (j >= 0 && nameEnd - j <= MAX_NAME && isNameChar(text.charCodeAt(j))) j--;
    const nameStart = j + 1;
    if (nameStart === nameEnd || (j >= 0 && isNameChar(text.charCodeAt(j)))) continue;
    if (!names.isSecretAt(text, nameStart, nameEnd)) continue;
    // The value.
    let p = valueFrom;
    while (p < n && isSpace(text.charCodeAt(p))) p++;
    if (p >= n) return;
    c = text.charCodeAt(p);
    let start: number;
    let end: number;
    if (c === 34 || c === 39) {
      start = p + 1;
      end = closingQuote(text, start, c);
      i = end + 1;
      const credential = afterScheme(text, start, end);
      if (credential >= 0) start = credential;
    } else if (c === 92 && p + 1 < n && text.charCodeAt(p + 1) === 34) {
      start = p + 2;
      end = text.indexOf('\\"', start);
      if (end < 0) end = n;
      i = end + 2;
      const credential = afterScheme(text, start, end);
      if (credential >= 0) start = credential;
    } else if (c === 123 || c === 91) {
      // An object or a list: its own keys are looked at one by one.
      continue;
    } else {
      // `Authorization: Bearer abc`: the value ends at the space after the scheme word.
      start = p;
      end = runEnd(text, p, isValueChar);
      const credential = afterScheme(text, start, end + 1);
      if (credential >= 0 && credential < n) {
        start = credential;
        end = runEnd(text, start, isValueChar);
      }
      i = end;
    }
    if (!isPlain(text, start, end, mask)) ranges.push(start, end);
  }
}

/** The end of a well-known token shape starting at `i`, else -1. */
function tokenShapeEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  let body = -1;
  let min = 0;
  let accept = isAlnum;
  if ((c === 115 || c === 114) && (text.startsWith('k_live_', i + 1) || text.startsWith('k_test_', i + 1))) {
    body = i + 8; // Stripe secret and restricted keys
    min = 10;
  } else if (c === 103 && text.charCodeAt(i + 1) === 104 && text.charCodeAt(i + 3) === 95 && 'pousr'.includes(text[i + 2] ?? ' ')) {
    body = i + 4; // GitHub tokens
    min = 20;
  } else if (c === 103 && text.startsWith('ithub_pat_', i + 1)) {
    body = i + 11; // GitHub fine-grained tokens
    min = 20;
    accept = isTokenChar;
  } else if (c === 65 && (text.startsWith('KIA', i + 1) || text.startsWith('SIA', i + 1))) {
    const end = runEnd(text, i + 4, isUpperOrDigit); // AWS access key ids: exactly 16 more
    return end - i === 20 && !isTokenChar(text.charCodeAt(end)) ? end : -1;
  } else if (c === 120 && text.startsWith('ox', i + 1) && 'bpas'.includes(text[i + 3] ?? ' ') && text.charCodeAt(i + 4) === 45) {
    body = i + 5; // Slack tokens
    min = 10;
    accept = isTokenChar;
  } else if (c === 101 && text.startsWith('yJ', i + 1)) {
    // A JWT: base64url JSON header `eyJ...`, payload `.eyJ...`, signature.
    const header = runEnd(text, i + 3, isTokenChar);
    if (header - i < 8 || text.charCodeAt(header) !== 46 || !text.startsWith('eyJ', header + 1)) return -1;
    const payload = runEnd(text, header + 4, isTokenChar);
    if (payload - header < 8 || text.charCodeAt(payload) !== 46) return -1;
    return runEnd(text, payload + 1, isTokenChar);
  } else {
    return -1;
  }
  const end = runEnd(text, body, accept);
  return end - body >= min ? end : -1;
}

/**
 * What every shape tokenShapes finds holds (`Bearer` in any case): where this regular expression
 * finds nothing, neither does tokenShapes, whose scan (a function call per character) costs a
 * text several times what this costs. A shape added there needs its part here.
 */
const TOKEN_SHAPE_PARTS = /_(?:live|test)_|(?<=gh[pousr])_|_pat_|(?<=xox[bpas])-|KIA[0-9A-Z]{16}|SIA[0-9A-Z]{16}|yJ[0-9A-Za-z_-]{5}|[Bb][Ee][Aa][Rr][Ee][Rr][ \t]/;

/** Whether tokenShapes may find anything in `text` (false: it finds nothing). */
export function mayHoldTokenShape(text: string): boolean {
  return TOKEN_SHAPE_PARTS.test(text);
}

/**
 * Credentials recognised by their shape wherever they are: Stripe `sk_live_`/`rk_live_` (and
 * `_test_`), GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`, AWS `AKIA`/`ASIA` key ids,
 * Slack `xoxb-`/`xoxp-`/`xoxa-`/`xoxs-`, JWTs, and the credential after a `Bearer` word.
 */
export function tokenShapes(text: string, ranges: number[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isTokenChar(c)) {
      i++;
      continue;
    }
    const end = tokenShapeEnd(text, i);
    if (end > 0) {
      ranges.push(i, end);
      i = end;
      continue;
    }
    const word = runEnd(text, i, isTokenChar);
    if (word - i === 6 && (c === 66 || c === 98) && text.slice(i, word).toLowerCase() === 'bearer' && word < n && isSpace(text.charCodeAt(word))) {
      let p = word;
      while (p < n && isSpace(text.charCodeAt(p))) p++;
      const credential = runEnd(text, p, isToken68Char);
      if (credential - p >= 8) {
        ranges.push(p, credential);
        i = credential;
        continue;
      }
    }
    i = word;
  }
}

function isLocalPartChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45;
}

/** E-mail addresses: `local@domain.tld`, the whole address. */
export function emailAddresses(text: string, ranges: number[]): void {
  let at = text.indexOf('@');
  while (at >= 0) {
    let start = at;
    while (start > 0 && isLocalPartChar(text.charCodeAt(start - 1))) start--;
    let end = runEnd(text, at + 1, isDomainChar);
    while (end > at + 1 && text.charCodeAt(end - 1) === 46) end--; // a dot that ends the sentence
    let dot = end - 1;
    while (dot > at && text.charCodeAt(dot) !== 46) dot--;
    if (start < at && dot > at + 1 && end - dot > 2 && runEnd(text, dot + 1, isLetter) === end) ranges.push(start, end);
    at = text.indexOf('@', at + 1);
  }
}

/** The text with every range masked (ranges in any order, overlapping or not); the count masked. */
export function maskRanges(text: string, ranges: number[], mask: string): { text: string; count: number } {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < ranges.length; k += 2) pairs.push([ranges[k]!, ranges[k + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  let out = '';
  let written = 0;
  let count = 0;
  for (let k = 0; k < pairs.length; k++) {
    let [start, end] = pairs[k]!;
    while (k + 1 < pairs.length && pairs[k + 1]![0] <= end) end = Math.max(end, pairs[++k]![1]);
    if (start < written) start = written;
    if (end <= start) continue;
    out += text.slice(written, start) + mask;
    written = end;
    count++;
  }
  return { text: out + text.slice(written), count };
}
