/**
 * Which kind of line is this? Decided from the envelope (APP-NAME and PROCID) first, the text
 * second, so each line is looked at once by exactly one parser.
 */
import { parseApiLine } from './api.ts';
import { parseAppLine } from './app.ts';
import { parsePlatformLine } from './platform.ts';
import { parsePostgresLogLine } from './postgres.ts';
import { looksLikeRouterLine, parseRouterLine } from './router.ts';
import { hasSamples, parseAddonSamples, parseRuntimeSamples } from './samples.ts';
import type { HerokuEvent } from './events.ts';
import type { HerokuLine } from './line.ts';

/** `postgres.1234` or `postgres`: Postgres's own log. */
function isPostgresProcess(procId: string): boolean {
  return procId.startsWith('postgres') && (procId.length === 8 || procId.charCodeAt(8) === 46);
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
    if (procId === 'router' && looksLikeRouterLine(text)) return parseRouterLine(text);
    if (text.startsWith('source=') && hasSamples(text)) return parseRuntimeSamples(text);
    return parsePlatformLine(text);
  }
  if (appName === 'app' && isPostgresProcess(procId)) return parsePostgresLogLine(text);
  return parseAppLine(text);
}
