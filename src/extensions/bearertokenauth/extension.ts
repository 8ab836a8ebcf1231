/**
 * The `bearertokenauth` extension: a client authenticator (sets `<header>: <scheme> <token>` on
 * every request of the exporters naming it) and a server authenticator (a receiver's request must
 * carry one of the tokens there), as contrib's. With `filename`, the tokens are read again when
 * the file changes; until then, and when it cannot be read, the last ones stay in use.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientAuthenticator, Extension, ServerAuthenticator } from '../../service/component.ts';
import type { Logger } from '../../service/log.ts';
import { WatchedFile } from '../watched-file.ts';
import type { BearerTokenAuthConfig } from './config.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The tokens of a file: one per line, trimmed, empty lines left out. */
export function tokensOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

export class BearerTokenAuth implements Extension, ClientAuthenticator, ServerAuthenticator {
  readonly clientAuth: ClientAuthenticator = this;
  readonly serverAuth: ServerAuthenticator = this;
  private readonly _id: string;
  private readonly _config: BearerTokenAuthConfig;
  private readonly _log: Logger;
  private readonly _header: string;
  /** What goes in the header: `<scheme> <token>` per token, the first sent. */
  private _values: string[] = [];
  /** Their digests, compared in constant time. */
  private _digests: Buffer[] = [];
  private _file: WatchedFile | undefined;

  constructor(id: string, config: BearerTokenAuthConfig, log: Logger) {
    this._id = id;
    this._config = config;
    this._log = log;
    this._header = config.header.toLowerCase();
    if (config.filename === undefined) this._set(config.tokens ?? [config.token!]);
  }

  async start(): Promise<void> {
    const { filename, token, tokens } = this._config;
    if (filename === undefined || this._file !== undefined) return;
    if (token !== undefined || tokens !== undefined) this._log('warn', `extensions.${this._id}: filename is set, so token and tokens are left aside`);
    const key = `extensions.${this._id}.filename`;
    let first = true;
    this._file = new WatchedFile(
      key,
      filename,
      (text) => {
        const found = tokensOf(text);
        if (found.length > 0) this._set(found);
        else if (first) throw new Error(`${key}: ${JSON.stringify(filename)} holds no token`);
        else this._log('warn', `${key}: the file holds no token now; the token read before stays in use`);
      },
      this._log,
    );
    this._file.start();
    first = false;
  }

  async shutdown(): Promise<void> {
    this._file?.stop();
    this._file = undefined;
  }

  applyHeaders(headers: Record<string, string>): void {
    const value = this._values[0];
    if (value !== undefined) headers[this._header] = value;
  }

  authenticate(headers: IncomingHttpHeaders): boolean {
    const got = headers[this._header];
    const value = Array.isArray(got) ? got[0] : got;
    if (value === undefined || value === '') return false;
    const d = digest(value);
    let ok = false;
    // Every token compared: the time says nothing about which matched.
    for (const expected of this._digests) ok = timingSafeEqual(d, expected) || ok;
    return ok;
  }

  private _set(tokens: readonly string[]): void {
    const scheme = this._config.scheme;
    this._values = tokens.map((t) => (scheme === '' ? t : `${scheme} ${t}`));
    this._digests = this._values.map(digest);
  }
}
