/**
 * Postgres's own log as Heroku forwards it (PROCID `postgres.NNNN`):
 * `[DATABASE] [9-1] sql_error_code=28P01 FATAL:  password authentication failed for user "x"`,
 * and the newer form with more prefixes and spaces around `=`:
 * `[DATABASE] [11-1] sql_error_code = 00000 time_ms = "2022-02-02 21:33:52.384 UTC" pid="1346012"
 * ... LOG:  duration: 1.2 ms`.
 */
import type { PostgresLogEvent } from './events.ts';

const LEVELS = new Set(['DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'DEBUG5', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'LOG', 'FATAL', 'PANIC', 'STATEMENT', 'DETAIL', 'HINT', 'CONTEXT', 'QUERY', 'LOCATION']);

/** `[X]` at `i`: returns the index after `]`, or -1. */
function bracketEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 91) return -1;
  const close = s.indexOf(']', i + 1);
  return close < 0 ? -1 : close + 1;
}

/** Skips spaces and tabs: continuation lines indent with either (`[12-2] \tSELECT`). */
function skipSpaces(s: string, i: number): number {
  let c = s.charCodeAt(i);
  while (c === 32 || c === 9) c = s.charCodeAt(++i);
  return i;
}

export function parsePostgresLogLine(text: string): PostgresLogEvent {
  const ev: PostgresLogEvent = {
    kind: 'addon',
    type: 'postgres_log',
    source: undefined,
    lineId: undefined,
    sqlErrorCode: undefined,
    level: undefined,
    message: text,
    fields: undefined,
  };
  // `[DATABASE] [9-1]` today, `[15521-1]  [CHARCOAL]` in 2012: the order varies.
  let i = skipSpaces(text, 0);
  for (let groups = 0; groups < 2; groups++) {
    const b = bracketEnd(text, i);
    if (b < 0) break;
    const inner = text.slice(i + 1, b - 1);
    if (ev.lineId === undefined && /^\d+-\d+$/.test(inner)) ev.lineId = inner;
    else if (ev.source === undefined) ev.source = inner;
    else break;
    i = skipSpaces(text, b);
  }
  // Prefix pairs until `LEVEL:`, only when the line opens with `sql_error_code`: a continuation
  // line (`[7-2]    status = 'active',`) is SQL, and `status = 'active'` in it is not a field.
  const pairs = text.startsWith('sql_error_code', i);
  const n = text.length;
  while (i < n) {
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 32 || c === 61 || c === 58) break;
      j++;
    }
    const word = text.slice(i, j);
    if (text.charCodeAt(j) === 58 /* : */ && LEVELS.has(word)) {
      ev.level = word;
      ev.message = text.slice(skipSpaces(text, j + 1));
      return ev;
    }
    if (!pairs) break;
    let k = skipSpaces(text, j);
    if (text.charCodeAt(k) !== 61 || j === i) break; // not `key=`: the rest is the message
    k = skipSpaces(text, k + 1);
    let value: string;
    if (text.charCodeAt(k) === 34) {
      const close = text.indexOf('"', k + 1);
      const stop = close < 0 ? n : close;
      value = text.slice(k + 1, stop);
      k = close < 0 ? n : close + 1;
    } else {
      let e = k;
      while (e < n && text.charCodeAt(e) !== 32) e++;
      value = text.slice(k, e);
      k = e;
    }
    if (word === 'sql_error_code') ev.sqlErrorCode = value;
    else (ev.fields ??= {})[word] = value;
    i = skipSpaces(text, k);
  }
  ev.message = text.slice(i);
  return ev;
}
