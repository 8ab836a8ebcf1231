/**
 * Regular expressions written for the Collector (Go's RE2 syntax) as JavaScript RegExps, compiled
 * once at config time. What RE2 means the same way in JavaScript passes through; what it writes
 * differently is translated (`(?P<name>`, a leading `(?i)`, `\A`, `\z`); what RE2 refuses
 * (lookaround, backreferences) is refused here too, so that a config valid here is valid in the
 * Collector and matches the same text. Like Go's `MatchString`, a match is a search, not anchored.
 */

import { z } from 'zod';

/** A compiled pattern, or why it is not one (a sentence for a validation problem). */
export type GoRegexp = { ok: true; regexp: RegExp } | { ok: false; problem: string };

/** RE2's ASCII classes, as the characters inside a JavaScript class. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  digit: '0-9',
  lower: 'a-z',
  upper: 'A-Z',
  space: '\\t\\n\\v\\f\\r ',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Translates and compiles one RE2 pattern. */
export function compileGoRegexp(source: string): GoRegexp {
  let flags = '';
  let rest = source;
  // Go's leading flag group, `(?i)` / `(?is)`: JavaScript's flags.
  const leading = /^\(\?([imsU]+)\)/.exec(rest);
  if (leading !== null) {
    if (leading[1]!.includes('U')) return { ok: false, problem: 'the U (ungreedy) flag has no JavaScript equivalent; write lazy quantifiers (*?, +?) instead' };
    flags = [...new Set(leading[1]!)].join('');
    rest = rest.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\') {
      const next = rest[i + 1];
      if (next === undefined) return { ok: false, problem: 'ends with a lone backslash' };
      if (!inClass && next >= '1' && next <= '9') return { ok: false, problem: `backreferences (\\${next}) are not RE2 syntax: the Collector refuses them` };
      if (!inClass && next === 'k' && rest[i + 2] === '<') return { ok: false, problem: 'backreferences (\\k<name>) are not RE2 syntax: the Collector refuses them' };
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else if (next === 'Q' || next === 'C') return { ok: false, problem: `\\${next} is not translated: escape each character instead` };
      else out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      const posix = c === '[' ? /^\[:(\^?)([a-z]+):\]/.exec(rest.slice(i)) : null;
      if (posix !== null) {
        const chars = POSIX_CLASSES[posix[2]!];
        if (chars === undefined || posix[1] === '^') return { ok: false, problem: `the class [:${posix[1]}${posix[2]}:] is not translated: list its characters instead` };
        out += chars;
        i += posix[0].length - 1;
        continue;
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal in RE2 and in JavaScript alike; keep it inside.
      if (rest[i + 1] === '^') out += rest[++i];
      if (rest[i + 1] === ']') out += '\\' + rest[++i];
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      const head = rest.slice(i + 2, i + 4);
      if (head.startsWith('=') || head.startsWith('!') || head === '<=' || head === '<!') return { ok: false, problem: 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not RE2 syntax: the Collector refuses them' };
      if (head.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      const flagGroup = /^\(\?[imsU-]+\)/.exec(rest.slice(i));
      if (flagGroup !== null) return { ok: false, problem: `a flag group inside the pattern (${flagGroup[0]}) is not translated: put it first, or write (?i:...) around the part it applies to` };
    }
    out += c;
  }
  if (/\\[pP]/.test(out)) flags += 'u';
  try {
    return { ok: true, regexp: new RegExp(out, flags) };
  } catch (error) {
    return { ok: false, problem: `not a valid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}` };
  }
}

/** The names of a compiled pattern's groups in order, undefined for an unnamed one (from its source). */
export function groupNames(regexp: RegExp): Array<string | undefined> {
  const names: Array<string | undefined> = [];
  const s = regexp.source;
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (s[i + 1] === '^') i++;
      if (s[i + 1] === ']') i++;
      continue;
    }
    if (c !== '(') continue;
    if (s[i + 1] !== '?') names.push(undefined);
    else if (s[i + 2] === '<' && s[i + 3] !== '=' && s[i + 3] !== '!') names.push(/^[^>]*/.exec(s.slice(i + 3))![0]);
  }
  return names;
}

/** A config string that is an RE2 pattern, compiled; a problem naming its key when it is not one. */
export const goRegexpSchema = z.string().transform((source, ctx) => {
  const compiled = compileGoRegexp(source);
  if (compiled.ok) return compiled.regexp;
  ctx.addIssue({ code: 'custom', message: compiled.problem });
  return z.NEVER;
});
