/**
 * Platform messages that `heroku` writes about dynos (`heroku[web.1]: State changed from up to
 * crashed`), and Logplex's own errors (`heroku[logplex]: Error L10 (output buffer overflow): ...`).
 * These lines are rare next to router lines, so clarity beats speed here; still no regex.
 */
import { isErrorCodeAt } from './codes.ts';
import { parseTimestampMicros } from './time.ts';
import type { PlatformEvent, PlatformEventType } from './events.ts';

function platformEvent(type: PlatformEventType): PlatformEvent {
  return {
    kind: 'platform',
    type,
    code: undefined,
    desc: undefined,
    detail: undefined,
    fromState: undefined,
    toState: undefined,
    exitStatus: NaN,
    command: undefined,
    user: undefined,
    signal: undefined,
    memoryBytes: NaN,
    memoryPercent: NaN,
    droppedMessages: NaN,
    droppedSince: undefined,
    drainToken: undefined,
  };
}

/** The word after `marker` in `text` (up to a space, a quote or a trailing `.`), or undefined. */
function wordAfter(text: string, marker: string): string | undefined {
  const at = text.indexOf(marker);
  if (at < 0) return undefined;
  let start = at + marker.length;
  const quote = text.charCodeAt(start);
  if (quote === 39 /* ' */ || quote === 34 /* " */) start++;
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c <= 32 || c === 39 || c === 34) break;
    end++;
  }
  // `since 2024-05-01T11:59:00+00:00.`: the sentence's full stop is no part of the word.
  if (end > start && text.charCodeAt(end - 1) === 46 /* . */) end--;
  return end > start ? text.slice(start, end) : undefined;
}

const STATE_CHANGED = 'State changed from ';
const EXITED = 'Process exited';
const EXITED_WITH = 'Process exited with status ';
const STARTING = 'Starting process with command';
const RUNNING_MEM = 'Process running mem=';

/** Splits `` `cmd` by user x `` (backquotes optional) into command and user. */
export function splitCommandAndUser(rest: string): { command: string; user: string | undefined } {
  let command = rest;
  let user: string | undefined;
  const by = rest.lastIndexOf(' by user ');
  if (by >= 0) {
    user = rest.slice(by + 9).trim() || undefined;
    command = rest.slice(0, by);
  }
  command = command.trim();
  if (command.length >= 2 && command.charCodeAt(0) === 96 && command.charCodeAt(command.length - 1) === 96) {
    command = command.slice(1, -1);
  }
  return { command, user };
}

/** `590M`, `1.2G`, `512.00MB`: Heroku's binary megabytes and gigabytes, to bytes. */
export function binarySizeToBytes(value: number, unit: string): number {
  switch (unit.toUpperCase()) {
    case '':
    case 'B':
    case 'BYTES':
      return value;
    case 'K':
    case 'KB':
      return value * 1024;
    case 'M':
    case 'MB':
      return value * 1048576;
    case 'G':
    case 'GB':
      return value * 1073741824;
    default:
      return NaN;
  }
}

/**
 * `Error R14 (Memory quota exceeded)`, `Error R10 (Boot timeout) -> Web process failed to bind`,
 * `Error L10 (output buffer overflow): 3 messages dropped since 2024-...`. Returns null when the
 * text is not such an error.
 */
function parseErrorLine(text: string): PlatformEvent | null {
  // Heroku writes `Error R14 (...)`; accept a bare `R14 (...)` too.
  const at = text.startsWith('Error ') ? 6 : 0;
  if (!isErrorCodeAt(text, at)) return null;
  const next = text.charCodeAt(at + 3);
  if (!Number.isNaN(next) && next !== 32 && next !== 58 /* : */) return null;
  const ev = platformEvent('error');
  ev.code = text.slice(at, at + 3);
  let i = at + 3;
  while (text.charCodeAt(i) === 32) i++;
  if (text.charCodeAt(i) === 40 /* ( */) {
    const close = text.indexOf(')', i);
    if (close > 0) {
      ev.desc = text.slice(i + 1, close);
      i = close + 1;
    }
  }
  let rest = text.slice(i).trim();
  if (rest.startsWith('->') || rest.startsWith(':') || rest.startsWith('-')) rest = rest.replace(/^(->|:|-)\s*/, '');
  if (rest) ev.detail = rest;
  if (ev.code.charCodeAt(0) === 76 /* L */) {
    // `N messages dropped since TIMESTAMP.`, `N messages lost since`, `dropped N messages since`.
    const m = /(\d+) messages? (?:dropped|lost)|dropped (\d+) messages?/.exec(rest);
    if (m) ev.droppedMessages = Number(m[1] ?? m[2]);
    const since = wordAfter(rest, ' since ') ?? (rest.startsWith('since ') ? wordAfter(rest, 'since ') : undefined);
    if (since !== undefined && !Number.isNaN(parseTimestampMicros(since))) ev.droppedSince = since;
    const drain = wordAfter(rest, 'drain ');
    if (drain !== undefined && drain.startsWith('d.')) ev.drainToken = drain;
  }
  return ev;
}

export function parsePlatformLine(text: string): PlatformEvent {
  const error = parseErrorLine(text);
  if (error) return error;

  if (text.startsWith(STATE_CHANGED)) {
    const ev = platformEvent('state_change');
    const rest = text.slice(STATE_CHANGED.length);
    const to = rest.indexOf(' to ');
    if (to >= 0) {
      ev.fromState = rest.slice(0, to).trim();
      ev.toState = rest.slice(to + 4).trim();
    } else {
      ev.fromState = rest.trim();
    }
    return ev;
  }
  if (text.startsWith(EXITED)) {
    // Dev Center's oldest examples write a bare `Process exited`: an exit with no status known.
    const ev = platformEvent('process_exit');
    if (text.startsWith(EXITED_WITH)) ev.exitStatus = Number.parseInt(text.slice(EXITED_WITH.length), 10);
    return ev;
  }
  if (text.startsWith(STARTING)) {
    // `with command `x``, and `with command: `x`` in the 2010-era docs.
    const ev = platformEvent('process_start');
    let at = STARTING.length;
    if (text.charCodeAt(at) === 58 /* : */) at++;
    const { command, user } = splitCommandAndUser(text.slice(at));
    ev.command = command;
    ev.user = user;
    return ev;
  }
  if (text.startsWith('Stopping ')) {
    // `Stopping all processes with SIGTERM`, `Stopping remaining processes with SIGKILL`.
    const ev = platformEvent('process_stop');
    const w = text.lastIndexOf(' with ');
    if (w >= 0) ev.signal = text.slice(w + 6).trim().replace(/\.$/, '');
    return ev;
  }
  if (text.includes('Sending SIGHUP')) {
    // `Client connection closed. Sending SIGHUP to all processes`: a one-off losing its terminal.
    const ev = platformEvent('process_stop');
    ev.signal = 'SIGHUP';
    return ev;
  }
  if (text.startsWith(RUNNING_MEM)) {
    // `Process running mem=590M(115.2%)`.
    const ev = platformEvent('memory');
    const rest = text.slice(RUNNING_MEM.length);
    let i = 0;
    while (i < rest.length && ((rest.charCodeAt(i) >= 48 && rest.charCodeAt(i) <= 57) || rest.charCodeAt(i) === 46)) i++;
    let u = i;
    while (u < rest.length && /[A-Za-z]/.test(rest[u]!)) u++;
    ev.memoryBytes = binarySizeToBytes(Number(rest.slice(0, i)), rest.slice(i, u));
    const open = rest.indexOf('(', u);
    const pct = rest.indexOf('%', open);
    if (open >= 0 && pct > open) ev.memoryPercent = Number(rest.slice(open + 1, pct));
    return ev;
  }
  const trimmed = text.trim();
  if (trimmed === 'Cycling' || trimmed === 'Restarting' || trimmed.startsWith('Restarting ') || trimmed.startsWith('Cycling ')) {
    return platformEvent('restart');
  }
  if (trimmed === 'Idling' || trimmed.startsWith('Idling ')) return platformEvent('idle');
  if (trimmed === 'Unidling' || trimmed.startsWith('Unidling ')) return platformEvent('unidle');
  return platformEvent('other');
}
