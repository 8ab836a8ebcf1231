/**
 * Drain authentication: the `Logplex-Drain-Token` header against the allowlist, and basic auth.
 * Secrets are compared as SHA-256 digests with timingSafeEqual (or looked up by digest), so the
 * time taken says nothing about how much of a secret was right, not even its length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class DrainAuth<T> {
  private readonly _byTokenDigest = new Map<string, T>();
  private readonly _basic: Buffer | undefined;

  /** `drains` maps each allowed token to what the caller wants back (its resource). */
  constructor(drains: ReadonlyArray<readonly [string, T]>, basicAuth: { username: string; password: string } | undefined) {
    for (const [token, value] of drains) this._byTokenDigest.set(digest(token).toString('hex'), value);
    this._basic = basicAuth && digest(`${basicAuth.username}:${basicAuth.password}`);
  }

  get hasTokens(): boolean {
    return this._byTokenDigest.size > 0;
  }

  get hasBasicAuth(): boolean {
    return this._basic !== undefined;
  }

  /** The drain of an allowed token, or undefined. */
  drainFor(token: string): T | undefined {
    return this._byTokenDigest.get(digest(token).toString('hex'));
  }

  /** Whether an `Authorization` header carries the configured basic-auth credentials. */
  basicAuthMatches(header: string | undefined): boolean {
    if (this._basic === undefined || header === undefined) return false;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), this._basic);
  }
}
