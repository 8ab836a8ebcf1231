/**
 * htpasswd content, as contrib's basicauth extension reads it (tg123/go-htpasswd): one
 * `user:hash` per line, blank lines skipped, a later line for a user replacing an earlier one.
 * Hash formats: bcrypt (`$2y$`, `$2b$`, `$2a$`: `htpasswd -B`), Apache MD5 (`$apr1$`: `htpasswd
 * -m`, the default) and MD5-crypt (`$1$`), SHA-1 (`{SHA}`: `htpasswd -s`), salted SHA-1
 * (`{SSHA}`) and plain text (`htpasswd -p`, or `${env:USER}:${env:PASSWORD}` inline). SHA-crypt
 * (`$5$`, `$6$`) and other `$id$` formats are not read: such a line is skipped and said so (no
 * well-kept npm library verifies SHA-crypt; go-htpasswd's newer versions do).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lazy } from '../../lazy.ts';

// A CommonJS function whose bundled types describe an ES default export: required as it is, at
// its first use (as bcryptjs is imported at its first): an htpasswd file uses one or the other.
const apacheMd5 = lazy<(password: string, salt: string) => string>('apache-md5');

export type HashKind = 'bcrypt' | 'apr1' | 'md5crypt' | 'sha' | 'ssha' | 'plain';

export interface HtpasswdEntry {
  kind: HashKind;
  hash: string;
}

/** A line left out, by number (1-based) and why; never its content (a hash, or a password). */
export interface SkippedLine {
  line: number;
  reason: string;
}

/** The kind of a stored hash; a reason string when it is one we do not read. */
export function hashKind(hash: string): HashKind | { unsupported: string } {
  if (hash.startsWith('$2a$') || hash.startsWith('$2b$') || hash.startsWith('$2y$')) return 'bcrypt';
  if (hash.startsWith('$apr1$')) return 'apr1';
  if (hash.startsWith('$1$')) return 'md5crypt';
  if (hash.startsWith('{SHA}')) return 'sha';
  if (hash.startsWith('{SSHA}')) return 'ssha';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return { unsupported: 'SHA-crypt ($5$, $6$) is not read here: make the line with htpasswd -B (bcrypt)' };
  // `$y$` (yescrypt), `$argon2...`: a crypt(3) format; as plain text it could never match.
  const second = hash.indexOf('$', 1);
  if (hash.startsWith('$') && second > 1 && second < 12 && /^\$[A-Za-z0-9-]+\$/.test(hash.slice(0, second + 1))) {
    return { unsupported: `the ${hash.slice(0, second + 1)} hash format is not read here: make the line with htpasswd -B (bcrypt)` };
  }
  return 'plain';
}

/** Parses htpasswd text into `into` (a later line for a user replaces an earlier one); `source` names it in the reasons. */
export function parseHtpasswd(text: string, into: Map<string, HtpasswdEntry> = new Map(), skipped: SkippedLine[] = [], source = 'htpasswd'): { entries: Map<string, HtpasswdEntry>; skipped: SkippedLine[] } {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) {
      skipped.push({ line: i + 1, reason: `${source} line ${i + 1}: not user:hash (no colon)` });
      continue;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const kind = hashKind(hash);
    if (typeof kind !== 'string') {
      skipped.push({ line: i + 1, reason: `${source} line ${i + 1}: ${kind.unsupported}` });
      continue;
    }
    into.set(user, { kind, hash });
  }
  return { entries: into, skipped };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Whether `password` matches an entry. bcrypt is a promise: it takes tens of milliseconds on
 * purpose, and bcryptjs does it in steps that leave the event loop free between them.
 */
export function verify(entry: HtpasswdEntry, password: string): boolean | Promise<boolean> {
  switch (entry.kind) {
    case 'bcrypt':
      return import('bcryptjs').then(({ default: bcrypt }) => bcrypt.compare(password, entry.hash));
    case 'apr1':
    case 'md5crypt':
      return sameBytes(sha256(apacheMd5()(password, entry.hash)), sha256(entry.hash));
    case 'sha':
      return sameBytes(createHash('sha1').update(password).digest(), Buffer.from(entry.hash.slice(5), 'base64'));
    case 'ssha': {
      const raw = Buffer.from(entry.hash.slice(6), 'base64');
      if (raw.length <= 20) return false;
      const salt = raw.subarray(20);
      return sameBytes(createHash('sha1').update(password).update(salt).digest(), raw.subarray(0, 20));
    }
    case 'plain':
      return sameBytes(sha256(password), sha256(entry.hash));
  }
}
