/**
 * The Heroku API's lines (PROCID `api`): `Release v42 created by user dev@example.com`,
 * `Deploy 1a2b3c4 by user ...`, `Set FOO, BAR config vars by user ...`,
 * `Scaled to web@3:Standard-2X worker@1:Basic by user ...`,
 * `Starting process with command `rails console` by user ...`. The user is split off first, then
 * the verb decides the type; anything else is kept as `other` with its verb and user.
 */
import { splitCommandAndUser } from './platform.ts';
import type { ApiEvent, ApiEventType } from './events.ts';

function apiEvent(type: ApiEventType, action: string | undefined, user: string | undefined): ApiEvent {
  return {
    kind: 'api',
    type,
    action,
    user,
    release: undefined,
    commit: undefined,
    command: undefined,
    configVars: undefined,
    formation: undefined,
    addon: undefined,
  };
}

/** `... by user x@y` or `... by x@y`: the text before and the user. */
function splitUser(text: string): { head: string; user: string | undefined } {
  const byUser = text.lastIndexOf(' by user ');
  if (byUser >= 0) return { head: text.slice(0, byUser), user: text.slice(byUser + 9).trim() || undefined };
  const by = text.lastIndexOf(' by ');
  if (by >= 0) {
    const who = text.slice(by + 4).trim();
    // Only a single word after `by` (an e-mail or a name), not a phrase.
    if (who && !who.includes(' ')) return { head: text.slice(0, by), user: who };
  }
  return { head: text, user: undefined };
}

const ADDON_VERBS = new Set(['attach', 'detach', 'update', 'provision', 'deprovision', 'destroy', 'create', 'add', 'remove', 'promote']);

/** `DATABASE_URL.`, `REDIS_URL, REDIS_TLS_URL and FOO`: config var names (upper-case words), in order. */
function configVarNames(list: string): string[] {
  const names: string[] = [];
  for (const word of list.split(/[\s,]+/)) {
    const name = word.endsWith('.') ? word.slice(0, -1) : word;
    if (name !== 'and' && /^[A-Z][A-Z0-9_]*$/.test(name)) names.push(name);
  }
  return names;
}

export function parseApiLine(text: string): ApiEvent {
  const trimmed = text.trim();
  if (trimmed.startsWith('Starting process with command ')) {
    const { command, user } = splitCommandAndUser(trimmed.slice('Starting process with command '.length));
    const ev = apiEvent('command', 'run', user);
    ev.command = command;
    return ev;
  }
  const { head, user } = splitUser(trimmed);
  const space = head.indexOf(' ');
  const verb = (space < 0 ? head : head.slice(0, space)).toLowerCase();
  const rest = space < 0 ? '' : head.slice(space + 1).trim();

  if (verb === 'release' && /^v\d+/.test(rest)) {
    // `Release v42 created`, and the release phase's `Release v43 command failed`.
    const ev = apiEvent('release', rest.includes(' failed') ? 'failed' : 'create', user);
    ev.release = rest.split(' ', 1)[0];
    return ev;
  }
  if (head === 'Initial release') return apiEvent('release', 'create', user);
  if (verb === 'running' && rest.startsWith('release v')) {
    // `Running release v5 commands`: the release phase of v5, not a new release.
    const ev = apiEvent('other', verb, user);
    ev.release = rest.slice(8).split(' ', 1)[0];
    return ev;
  }
  if (verb.startsWith('@ref:') || rest.startsWith('completed provisioning')) {
    // `@ref:postgresql-flexible-35202 completed provisioning, setting DATABASE_URL.` (the `@ref:`
    // is left out in some renderings): the add-on, and the config vars it set.
    const ev = apiEvent('addon_change', rest.includes('provisioning') ? 'provision' : rest.split(' ', 1)[0], user);
    ev.addon = head.slice(verb.startsWith('@ref:') ? 5 : 0, space < 0 ? undefined : space);
    const setting = rest.indexOf('setting ');
    if (setting >= 0) {
      const names = configVarNames(rest.slice(setting + 8));
      if (names.length > 0) ev.configVars = names;
    }
    return ev;
  }
  if (verb === 'deploy') {
    const ev = apiEvent('deploy', 'deploy', user);
    if (rest) ev.commit = rest.split(' ', 1)[0];
    return ev;
  }
  if (verb === 'rollback') {
    // `Rollback to v41`.
    const ev = apiEvent('rollback', 'rollback', user);
    const v = /v\d+/.exec(rest);
    if (v) ev.release = v[0];
    return ev;
  }
  if ((verb === 'set' || verb === 'remove' || verb === 'unset' || verb === 'add') && / config vars?$/.test(rest)) {
    const ev = apiEvent('config_change', verb, user);
    const names = rest.replace(/ config vars?$/, '');
    ev.configVars = names.split(/,\s*|\s+and\s+/).map((n) => n.trim()).filter(Boolean);
    return ev;
  }
  if (verb === 'scaled' || verb === 'scale') {
    // `Scaled to web@3:Standard-2X worker@1:Basic`.
    const ev = apiEvent('scale', 'scale', user);
    ev.formation = rest.replace(/^to\s+/, '').split(/[\s,]+/).filter(Boolean);
    return ev;
  }
  if (head.toLowerCase().includes('maintenance mode')) {
    return apiEvent('maintenance', verb, user);
  }
  if (verb === 'build') return apiEvent('build', rest.split(' ', 1)[0]?.toLowerCase() || 'build', user);
  if (ADDON_VERBS.has(verb) && rest) {
    const ev = apiEvent('addon_change', verb, user);
    // `Attach DATABASE (@ref:postgresql-flexible-35202)`: the add-on, else the attachment.
    const ref = /@ref:([^\s)]+)/.exec(rest);
    ev.addon = ref ? ref[1] : rest.split(' ', 1)[0];
    return ev;
  }
  return apiEvent('other', verb || undefined, user);
}
