/**
 * The `basicauth` extension, as contrib's: with `client_auth`, a client authenticator that puts
 * `Authorization: Basic ...` on every request of the exporters naming it; with `htpasswd`, a
 * server authenticator that lets in a receiver's requests whose basic credentials match a line
 * (see htpasswd.ts). The htpasswd content is read at start.
 *
 * A bcrypt check costs tens of milliseconds by design and Logplex sends the same credentials on
 * every request: verdicts are kept by a digest of user, password and hash (never the password
 * itself), so a drain pays for bcrypt once, not per batch.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientAuthenticator, Extension, ServerAuthenticator } from '../../service/component.ts';
import type { Logger } from '../../service/log.ts';
import { readSmallFile, WatchedFile } from '../watched-file.ts';
import type { BasicAuthConfig } from './config.ts';
import { parseHtpasswd, verify, type HtpasswdEntry, type SkippedLine } from './htpasswd.ts';

/** Verdicts kept; past this many the cache starts over (a stranger trying passwords fills it). */
const MAX_VERDICTS = 1024;

/** `Basic <base64 user:password>` read as Go's Request.BasicAuth does; undefined when it is not one. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** basicauth with `client_auth`: the exporter side. */
export class BasicAuthClient implements Extension, ClientAuthenticator {
  readonly clientAuth: ClientAuthenticator = this;
  private readonly _id: string;
  private readonly _config: NonNullable<BasicAuthConfig['client_auth']>;
  private readonly _log: Logger;
  private _username: string;
  private _password: string;
  private _header = '';
  private readonly _files: WatchedFile[] = [];

  constructor(id: string, config: NonNullable<BasicAuthConfig['client_auth']>, log: Logger) {
    this._id = id;
    this._config = config;
    this._log = log;
    this._username = config.username ?? '';
    this._password = config.password ?? '';
    this._encode();
  }

  async start(): Promise<void> {
    if (this._files.length > 0) return;
    const watch = (key: 'username_file' | 'password_file', set: (value: string) => void) => {
      const path = this._config[key];
      if (path === undefined) return;
      const file = new WatchedFile(`extensions.${this._id}.client_auth.${key}`, path, (text) => {
        set(text.trim());
        this._encode();
      }, this._log);
      file.start();
      this._files.push(file);
    };
    watch('username_file', (v) => (this._username = v));
    watch('password_file', (v) => (this._password = v));
    if (this._username.includes(':')) {
      await this.shutdown();
      throw new Error(`extensions.${this._id}.client_auth.username_file: the username must not contain ":" (basic auth splits there)`);
    }
  }

  async shutdown(): Promise<void> {
    for (const file of this._files.splice(0)) file.stop();
  }

  applyHeaders(headers: Record<string, string>): void {
    headers.authorization = this._header;
  }

  private _encode(): void {
    this._header = `Basic ${Buffer.from(`${this._username}:${this._password}`).toString('base64')}`;
  }
}

/** basicauth with `htpasswd`: the receiver side. */
export class BasicAuthServer implements Extension, ServerAuthenticator {
  readonly serverAuth: ServerAuthenticator = this;
  private readonly _id: string;
  private readonly _config: NonNullable<BasicAuthConfig['htpasswd']>;
  private readonly _log: Logger;
  private _entries = new Map<string, HtpasswdEntry>();
  /** Verdicts by digest of user, password and hash. */
  private readonly _verdicts = new Map<string, boolean>();

  constructor(id: string, config: NonNullable<BasicAuthConfig['htpasswd']>, log: Logger) {
    this._id = id;
    this._config = config;
    this._log = log;
  }

  /** Reads the htpasswd file and inline lines; a start with no usable user fails, naming the key. */
  async start(): Promise<void> {
    const entries = new Map<string, HtpasswdEntry>();
    const skipped: SkippedLine[] = [];
    const key = `extensions.${this._id}.htpasswd`;
    if (this._config.file !== undefined) parseHtpasswd(readSmallFile(`${key}.file`, this._config.file), entries, skipped, `${key}.file`);
    // Read last, so its lines win, as contrib's.
    if (this._config.inline !== undefined) parseHtpasswd(this._config.inline, entries, skipped, `${key}.inline`);
    for (const s of skipped) this._log('warn', `${s.reason}; line skipped`);
    if (entries.size === 0) throw new Error(`${key}: no usable user:hash line, so no request could be let in`);
    this._entries = entries;
    this._verdicts.clear();
  }

  async shutdown(): Promise<void> {}

  authenticate(headers: IncomingHttpHeaders): boolean | Promise<boolean> {
    const credentials = basicCredentials(headers.authorization);
    if (credentials === undefined) return false;
    const entry = this._entries.get(credentials.username);
    if (entry === undefined) return false;
    const key = createHash('sha256').update(credentials.username).update('\0').update(credentials.password).update('\0').update(entry.hash).digest('base64');
    const known = this._verdicts.get(key);
    if (known !== undefined) return known;
    const verdict = verify(entry, credentials.password);
    if (typeof verdict === 'boolean') return this._keep(key, verdict);
    return verdict.then(
      (ok) => this._keep(key, ok),
      () => false,
    );
  }

  private _keep(key: string, ok: boolean): boolean {
    if (this._verdicts.size >= MAX_VERDICTS) this._verdicts.clear();
    this._verdicts.set(key, ok);
    return ok;
  }
}
