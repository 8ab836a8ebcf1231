/**
 * Which kind of line is this? Decided from the envelope (APP-NAME and PROCID) first, the text
 * second, so each line is looked at once by exactly one parser.
 */
import { parseApiLine } from './api.ts';
import { isErrorCodeAt } from './codes.ts';
import { parseAppLine } from './app.ts';
import { parsePlatformLine } from './platform.ts';
import { parsePostgresLogLine } from './postgres.ts';
import { looksLikeLegacyRouterLine, looksLikeRouterLine, parseLegacyRouterLine, parseRouterLine } from './router.ts';
import { hasSamples, parseAddonSamples, parseRuntimeSamples } from './samples.ts';
import type { HerokuEvent } from './events.ts';
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

/** Parses one line's text into the typed event its envelope and text call for. Never throws. */
export function interpretLine(line: HerokuLine): HerokuEvent {
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
      // The whole decoded message is a flat string, faster to scan than the text sliced from it.
      if (looksLikeRouterLine(text)) return parseRouterLine(line.original, line.original.length - text.length);
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
