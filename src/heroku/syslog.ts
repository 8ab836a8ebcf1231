/**
 * RFC 5424 headers as Heroku writes them.
 *
 * Logplex HTTPS drains omit the STRUCTURED-DATA field entirely
 * (`<PRI>1 TIMESTAMP host APP PROCID - TEXT`), syslog drains include it
 * (`<PRI>1 TIMESTAMP d.<uuid> APP PROCID - - TEXT`). Text such as Postgres's `[DATABASE] ...`
 * looks like structured data, so the caller says which form to expect, or `auto` decides by the
 * HOSTNAME: Logplex always writes the literal `host`.
 */
import { parseTimestampMicros } from './time.ts';
import type { HerokuLine } from './line.ts';

/** Whether the STRUCTURED-DATA field is present: `auto` decides from the HOSTNAME. */
export type StructuredDataMode = 'auto' | 'absent' | 'present';

/** Whether Heroku, not the app's code, wrote the line: the platform, the API, add-ons, Postgres. */
function isHerokuWritten(appName: string, procId: string): boolean {
  return appName === 'heroku' || procId === 'api' || procId.startsWith('heroku-') || procId.startsWith('postgres');
}

/** `heroku` or `app`: the APP-NAMEs Heroku writes, never a drain token or Logplex's `host`. */
function isEnvelopeAppName(s: string): boolean {
  return s.length === 6 ? s === 'heroku' : s.length === 3 && s === 'app';
}

/** Index of the next space at or after `from`, or `end`. indexOf runs natively. */
function nextSpace(s: string, from: number, end: number): number {
  const i = s.indexOf(' ', from);
  return i < 0 || i > end ? end : i;
}

/**
 * End of an RFC 5424 STRUCTURED-DATA run starting at `i` (which holds `[`), or -1 when the text
 * there is not well-formed structured data. Quoted values may contain `\"`, `\\` and `\]`.
 */
function structuredDataEnd(s: string, i: number, end: number, requireParams: boolean): number {
  while (i < end && s.charCodeAt(i) === 91 /* [ */) {
    i++;
    const idStart = i;
    // SD-NAME: printable ASCII except '=', ' ', ']', '"'.
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c <= 32 || c > 126 || c === 61 || c === 93 || c === 34) break;
      i++;
    }
    if (i === idStart) return -1;
    if (requireParams && s.charCodeAt(i) !== 32) return -1;
    while (i < end && s.charCodeAt(i) === 32) {
      i++;
      const nameStart = i;
      while (i < end) {
        const c = s.charCodeAt(i);
        if (c <= 32 || c > 126 || c === 61 || c === 93 || c === 34) break;
        i++;
      }
      if (i === nameStart || s.charCodeAt(i) !== 61 || s.charCodeAt(i + 1) !== 34) return -1;
      i += 2;
      while (i < end) {
        const c = s.charCodeAt(i);
        if (c === 92 /* \ */) {
          i += 2;
          continue;
        }
        if (c === 34) break;
        i++;
      }
      if (i >= end) return -1;
      i++; // closing quote
    }
    if (s.charCodeAt(i) !== 93 /* ] */) return -1;
    i++;
  }
  return i;
}

/**
 * Parses `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] TEXT` from `line`.
 * `shape` is the transport's (`logplex` for HTTPS drains); left out, the HOSTNAME decides.
 * Returns null when the header is not RFC 5424 (the caller keeps such a line raw).
 * The timestamp may be `-` (NILVALUE); an unparsable one leaves `timeUnixMicros` NaN.
 */
export function parseSyslogLine(
  line: string,
  shape?: 'logplex' | 'syslog',
  sd: StructuredDataMode = 'auto',
): HerokuLine | null {
  const end = line.length;
  if (end < 8 || line.charCodeAt(0) !== 60 /* < */) return null;
  let i = 1;
  let pri = 0;
  while (i < end && i < 5) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    pri = pri * 10 + d;
    i++;
  }
  if (i === 1 || line.charCodeAt(i) !== 62 /* > */) return null;
  // A PRI above 191 names no facility: the rest of the header may still be good, so it is read
  // and no facility or severity is made up (both -1); the kind then comes from the message.
  let irregular = pri > 191;
  i++;
  // VERSION: one to three digits, then a space. RFC 3164 lines have none and stay raw.
  const versionStart = i;
  while (i < end && i - versionStart < 3) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    i++;
  }
  if (i === versionStart || line.charCodeAt(i) !== 32) return null;
  if (i !== versionStart + 1 || line.charCodeAt(versionStart) !== 49 /* 1 */) irregular = true;
  i++;
  const tsStart = i;
  const tsEnd = nextSpace(line, i, end);
  if (tsEnd >= end) return null;
  const hostStart = tsEnd + 1;
  const hostEnd = nextSpace(line, hostStart, end);
  if (hostEnd >= end) return null;
  const appStart = hostEnd + 1;
  const appEnd = nextSpace(line, appStart, end);
  if (appEnd >= end) return null;
  const procStart = appEnd + 1;
  const procEnd = nextSpace(line, procStart, end);
  const msgIdStart = procEnd + 1;
  // A message may end right after MSGID (an empty message): tolerate a missing trailing space.
  const msgIdEnd = msgIdStart < end ? nextSpace(line, msgIdStart, end) : end;
  if (procEnd >= end || msgIdEnd === msgIdStart) return null;

  const timestamp = line.slice(tsStart, tsEnd);
  let hostname = line.slice(hostStart, hostEnd);
  let appName = line.slice(appStart, appEnd);
  let procId = line.slice(procStart, procEnd);
  let msgId = msgIdEnd - msgIdStart === 1 && line.charCodeAt(msgIdStart) === 45 ? '' : line.slice(msgIdStart, msgIdEnd);
  let textStart = msgIdEnd + 1;
  // Logplex's labs-era HTTPS drains wrote `heroku web.3 d.<token>` in HOSTNAME, APP-NAME and PROCID:
  // put each where today's order has it, so the token is recognised (and never emitted).
  if (procId.length > 2 && procId.charCodeAt(0) === 100 && procId.charCodeAt(1) === 46 && procId.indexOf('-') > 0 && appName.indexOf('.') > 0) {
    const token = procId;
    procId = appName;
    appName = hostname === '-' ? '' : hostname;
    hostname = token;
  } else if (isEnvelopeAppName(hostname) && !isEnvelopeAppName(appName)) {
    // No HOSTNAME (exports and copy-pastes strip the drain token): `heroku router - at=...` puts
    // APP-NAME in HOSTNAME, so every field from there on is one position left, the text included.
    procId = appName;
    appName = hostname;
    hostname = '';
    msgId = procEnd - procStart === 1 && line.charCodeAt(procStart) === 45 ? '' : line.slice(procStart, procEnd);
    textStart = msgIdStart;
    irregular = true;
  }
  let structuredData = '';
  const expectSd = sd === 'present' || (sd === 'auto' && hostname !== 'host');
  if (expectSd && textStart < end) {
    const c = line.charCodeAt(textStart);
    if (c === 45 /* - */ && (textStart + 1 === end || line.charCodeAt(textStart + 1) === 32)) {
      textStart += 2;
    } else if (c === 91 /* [ */) {
      // Guessing, only `[id key="value"]` counts as structured data: Postgres's `[DATABASE] [9-1]`
      // text would otherwise lose its start.
      const sdEnd = structuredDataEnd(line, textStart, end, sd === 'auto');
      if (sdEnd > 0 && (sdEnd === end || line.charCodeAt(sdEnd) === 32)) {
        structuredData = line.slice(textStart, sdEnd);
        textStart = sdEnd + 1;
      }
    }
  }
  // Some Logplex versions write a NILVALUE for STRUCTURED-DATA on HTTPS drains too (`- -`). For
  // what Heroku itself writes (router, platform, API, add-ons) a text starting with `- ` is that;
  // a dyno's own output may well start so, and keeps it.
  if (!expectSd && textStart + 1 < end && line.charCodeAt(textStart) === 45 && line.charCodeAt(textStart + 1) === 32 && isHerokuWritten(appName, procId)) {
    textStart += 2;
  }
  const parsed: HerokuLine = {
    // Unless the transport says, Logplex's literal `host` tells an HTTPS drain frame.
    shape: shape ?? (hostname === 'host' ? 'logplex' : 'syslog'),
    facility: pri > 191 ? -1 : pri >> 3,
    severity: pri > 191 ? -1 : pri & 7,
    timestamp: timestamp === '-' ? '' : timestamp,
    timeUnixMicros: parseTimestampMicros(line, tsStart, tsEnd),
    hostname: hostname === '-' ? '' : hostname,
    appName,
    procId,
    msgId,
    structuredData,
    text: textStart < end ? line.slice(textStart) : '',
    original: line,
  };
  if (irregular) parsed.irregularHeader = true;
  return parsed;
}

/**
 * Parses a `heroku logs` line: `TIMESTAMP SOURCE[PROCID]: TEXT`
 * (`2024-05-01T12:00:00.123456+00:00 heroku[router]: at=info ...`), and the two renderings of
 * drain messages that Dev Center shows: `TIMESTAMP d.<token> app[web.1] TEXT` and, without PRI,
 * `TIMESTAMP d.<token> heroku logplex - - TEXT`. Returns null otherwise.
 */
export function parseHerokuLogsLine(line: string): HerokuLine | null {
  const end = line.length;
  const tsEnd = nextSpace(line, 0, end);
  if (tsEnd < 20 || tsEnd >= end) return null;
  const timeUnixMicros = parseTimestampMicros(line, 0, tsEnd);
  if (Number.isNaN(timeUnixMicros)) return null;
  let parsed = parseSourceAndText(line, tsEnd + 1, '');
  if (parsed === null) {
    // A HOSTNAME first: the drain renderings.
    const hostEnd = nextSpace(line, tsEnd + 1, end);
    if (hostEnd >= end) return null;
    parsed =
      parseSourceAndText(line, hostEnd + 1, line.slice(tsEnd + 1, hostEnd)) ??
      parseSyslogLine(`<0>1 - ${line.slice(tsEnd + 1)}`, 'syslog');
    if (parsed === null) return null;
    // No PRI was written: none is made up.
    parsed.facility = -1;
    parsed.severity = -1;
  }
  parsed.timestamp = line.slice(0, tsEnd);
  parsed.timeUnixMicros = timeUnixMicros;
  parsed.original = line;
  return parsed;
}

/** `SOURCE[PROCID]: TEXT` from `start` (the colon optional after a HOSTNAME), or null. */
function parseSourceAndText(line: string, start: number, hostname: string): HerokuLine | null {
  const end = line.length;
  const srcStart = start;
  let i = srcStart;
  while (i < end) {
    const c = line.charCodeAt(i);
    if (c === 91 /* [ */ || c === 32) break;
    i++;
  }
  if (i === srcStart || line.charCodeAt(i) !== 91) return null;
  const srcEnd = i;
  const procStart = i + 1;
  const procEnd = line.indexOf(']', procStart);
  if (procEnd < 0) return null;
  const colon = line.charCodeAt(procEnd + 1) === 58; /* : */
  // `heroku logs` writes `source[proc]: `; the drain rendering drops the colon.
  if (!colon && hostname === '') return null;
  const after = colon ? procEnd + 2 : procEnd + 1;
  if (after < end && line.charCodeAt(after) !== 32) return null;
  const textStart = after + 1;
  return {
    shape: 'heroku-logs',
    facility: -1,
    severity: -1,
    timestamp: '',
    timeUnixMicros: NaN,
    hostname,
    appName: line.slice(srcStart, srcEnd),
    procId: line.slice(procStart, procEnd),
    msgId: '',
    structuredData: '',
    text: textStart < end ? line.slice(textStart) : '',
    original: line,
  };
}
