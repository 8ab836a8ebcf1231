/**
 * Which kind of line is this? Decided from the envelope (APP-NAME and PROCID) first, the text
 * second, so each line is looked at once by exactly one parser. A line whose header is irregular
 * (no HOSTNAME, PRI out of range, VERSION not 1) is read the other way round: its text first.
 */
import { parseApiLine } from './api.ts';
import { isErrorCodeAt } from './codes.ts';
import { parseAppLine } from './app.ts';
import { parsePlatformLine } from './platform.ts';
import { parsePostgresLogLine } from './postgres.ts';
import { looksLikeLegacyRouterLine, looksLikeRouterLine, parseLegacyRouterLine, parseRouterLine, parseRouterLineInto } from './router.ts';
import { hasSamples, parseAddonSamples, parseRuntimeSamples } from './samples.ts';
import type { HerokuEvent, RouterEvent } from './events.ts';
import type { HerokuLine } from './line.ts';

/** `postgres.1234` or `postgres`: Postgres's own log. */
function isPostgresProcess(procId: string): boolean {
  return procId.startsWith('postgres') && (procId.length === 8 || procId.charCodeAt(8) === 46);
}

/**
 * `Error R13 (`, `Starting process with command`, `State changed from`, `Process exited with
 * status`: Heroku's own words in an `app` line (Dev Center's older examples show them so).
 */
function isPlatformTextInApp(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c === 69 /* E */) {
    return text.startsWith('Error R') && isErrorCodeAt(text, 6) && text.charCodeAt(9) === 32 && text.charCodeAt(10) === 40;
  }
  if (c === 83 /* S */) return text.startsWith('Starting process with command') || text.startsWith('State changed from ');
  return c === 80 /* P */ && text.startsWith('Process exited with status');
}

/** What a line's text alone shows it to be; `undefined` when the text names no kind. */
export type MessageKind = 'router' | 'legacy-router' | 'runtime' | 'addon' | 'platform' | 'api';

/** `Error L10 (`: Logplex's and log-shuttle's own errors. */
function isLogplexError(text: string): boolean {
  return text.startsWith('Error L') && isErrorCodeAt(text, 6) && text.charCodeAt(9) === 32;
}

/** `Release v12 ...`: the API announcing a release. */
function isReleaseText(text: string): boolean {
  const d = text.charCodeAt(9) - 48;
  return text.startsWith('Release v') && d >= 0 && d <= 9;
}

/**
 * The kind a line's text shows, read before its APP-NAME and PROCID: for lines whose header is
 * irregular (see `HerokuLine.irregularHeader`). Only Heroku's own wording counts, and only from
 * the `heroku` APP-NAME: under `app` a dyno may print anything, so there only what the header path
 * accepts too (add-on samples from a `heroku-*` PROCID, the platform's words Dev Center shows).
 */
export function kindFromMessage(line: HerokuLine): MessageKind | undefined {
  const { appName, procId, text } = line;
  if (procId.startsWith('heroku-') && (appName === 'heroku' || appName === 'app') && hasSamples(text)) return 'addon';
  if (appName === 'app') return isPlatformTextInApp(text) || ((procId === 'logplex' || procId === 'log-shuttle') && isLogplexError(text)) ? 'platform' : undefined;
  if (appName !== 'heroku') return undefined;
  if (looksLikeRouterLine(text) && text.includes(' path=')) return 'router';
  if (looksLikeLegacyRouterLine(text)) return 'legacy-router';
  if (text.startsWith('source=') && hasSamples(text)) return 'runtime';
  if (isReleaseText(text)) return 'api';
  // `Starting process with command` is the API's when it runs a one-off, the platform's otherwise.
  if (text.startsWith('Starting process with command')) return procId === 'api' ? 'api' : 'platform';
  if (isPlatformTextInApp(text) || isLogplexError(text)) return 'platform';
  return undefined;
}

/** A router line's event: into `reuse` when the caller passed one (see interpretLine). */
function routerEvent(line: HerokuLine, reuse: RouterEvent | undefined): RouterEvent {
  // The whole decoded message is a flat string, faster to scan than the text sliced from it.
  const start = line.original.length - line.text.length;
  return reuse === undefined ? parseRouterLine(line.original, start) : parseRouterLineInto(reuse, line.original, start);
}

/** The event for a line whose text showed its kind, or undefined to let the header decide. */
function interpretByMessage(line: HerokuLine, reuse: RouterEvent | undefined): HerokuEvent | undefined {
  const text = line.text;
  switch (kindFromMessage(line)) {
    case 'router':
      return routerEvent(line, reuse);
    case 'legacy-router':
      return parseLegacyRouterLine(text);
    case 'runtime':
      return parseRuntimeSamples(text);
    case 'addon':
      return parseAddonSamples(line.procId, text);
    case 'platform':
      return parsePlatformLine(text);
    case 'api':
      return parseApiLine(text);
    case undefined:
      return undefined;
  }
}

/**
 * Parses one line's text into the typed event its envelope and text call for. Never throws.
 * A line with an irregular header is read by its text first (kindFromMessage), then as any other.
 * `reuse`: a router line is parsed into this event (parseRouterLineInto) instead of a new one,
 * for a caller that is done with each event before it interprets the next line.
 */
export function interpretLine(line: HerokuLine, reuse?: RouterEvent): HerokuEvent {
  if (line.irregularHeader === true) {
    const ev = interpretByMessage(line, reuse);
    if (ev !== undefined) return ev;
  }
  const { appName, procId, text } = line;
  if (appName === 'heroku' || appName === 'app') {
    if (procId === 'api') return parseApiLine(text);
    // Add-on metrics come from `app heroku-postgres` today, `heroku heroku-postgres` in 2013.
    if (procId.startsWith('heroku-') && hasSamples(text)) return parseAddonSamples(procId, text);
    // Logplex's own errors (L10), and log-shuttle's (L12, L13) which come as `app log-shuttle`.
    if (procId === 'logplex' || procId === 'log-shuttle') return parsePlatformLine(text);
  }
  if (appName === 'heroku') {
    if (procId === 'router') {
      if (looksLikeRouterLine(text)) return routerEvent(line, reuse);
      if (looksLikeLegacyRouterLine(text)) return parseLegacyRouterLine(text);
    }
    if (text.startsWith('source=') && hasSamples(text)) return parseRuntimeSamples(text);
    return parsePlatformLine(text);
  }
  if (appName === 'app') {
    if (isPostgresProcess(procId)) return parsePostgresLogLine(text);
    // Dev Center shows some platform lines under `app`: `app[run.3]: Error R13 (Attach error)`,
    // `app[web.1]: Starting process with command: ...`. Only those exact shapes, so app output
    // that merely mentions an error stays app output.
    if (isPlatformTextInApp(text)) return parsePlatformLine(text);
  }
  return parseAppLine(text);
}
