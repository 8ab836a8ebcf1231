/**
 * The auth extensions on their own: basicauth's htpasswd in every hash format it reads (lines
 * made by the openssl CLI where it can make them), bearertokenauth and headers_setter as server
 * and client authenticators. Verdicts, never secrets in what they log.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { basicAuthConfigSchema } from '../../src/extensions/basicauth/config.ts';
import { basicCredentials, BasicAuthServer } from '../../src/extensions/basicauth/extension.ts';
import { hashKind, parseHtpasswd, verify } from '../../src/extensions/basicauth/htpasswd.ts';
import { bearerTokenAuthConfigSchema } from '../../src/extensions/bearertokenauth/config.ts';
import { BearerTokenAuth, tokensOf } from '../../src/extensions/bearertokenauth/extension.ts';
import { applyAction } from '../../src/extensions/headers_setter/extension.ts';

const PASSWORD = 'c0rrect-h0rse';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' }).trim();

function server(htpasswd: Record<string, unknown>) {
  const logs: string[] = [];
  const config = basicAuthConfigSchema.parse({ htpasswd });
  const extension = new BasicAuthServer('basicauth', config.htpasswd!, (level, message) => logs.push(`${level} ${message}`));
  return { extension, logs };
}

describe('htpasswd', () => {
  // Each line as `htpasswd` would write it for PASSWORD.
  const lines: Array<[string, string]> = [
    ['bcrypt ($2y$, htpasswd -B; made by bcryptjs, with the prefix htpasswd writes)', bcrypt.hashSync(PASSWORD, 5).replace(/^\$2b\$/, '$2y$')],
    ['Apache MD5 ($apr1$, htpasswd -m; made by openssl passwd -apr1)', openssl('passwd', '-apr1', PASSWORD)],
    ['MD5-crypt ($1$; made by openssl passwd -1)', openssl('passwd', '-1', PASSWORD)],
    ['SHA-1 ({SHA}, htpasswd -s)', `{SHA}${createHash('sha1').update(PASSWORD).digest('base64')}`],
    ['salted SHA-1 ({SSHA})', `{SSHA}${Buffer.concat([createHash('sha1').update(PASSWORD).update('saltsalt').digest(), Buffer.from('saltsalt')]).toString('base64')}`],
    ['plain text (htpasswd -p)', PASSWORD],
  ];

  it.each(lines)('checks %s', async (_name, hash) => {
    const { entries, skipped } = parseHtpasswd(`shop:${hash}\n`);
    expect(skipped).toEqual([]);
    const entry = entries.get('shop')!;
    expect(await verify(entry, PASSWORD)).toBe(true);
    expect(await verify(entry, `${PASSWORD}x`)).toBe(false);
  });

  it('skips SHA-crypt and other $id$ formats, blank lines and lines without a colon, saying which line and never its content', () => {
    const sha512 = openssl('passwd', '-6', PASSWORD);
    const { entries, skipped } = parseHtpasswd(`a:${sha512}\n\nnot a line\nb:$y$j9T$abc$def\nc:${PASSWORD}\n`);
    expect([...entries.keys()]).toEqual(['c']);
    expect(skipped).toEqual([
      { line: 1, reason: 'htpasswd line 1: SHA-crypt ($5$, $6$) is not read here: make the line with htpasswd -B (bcrypt)' },
      { line: 3, reason: 'htpasswd line 3: not user:hash (no colon)' },
      { line: 4, reason: 'htpasswd line 4: the $y$ hash format is not read here: make the line with htpasswd -B (bcrypt)' },
    ]);
    expect(hashKind('$2a$10$abc')).toBe('bcrypt');
  });

  it('lets a later line for a user replace an earlier one (inline after file, as contrib)', () => {
    const { entries } = parseHtpasswd('shop:first\nshop:second\n');
    expect(entries.get('shop')).toEqual({ kind: 'plain', hash: 'second' });
  });

  it('reads Basic credentials as Go does: the scheme in any case, the password after the first colon', () => {
    expect(basicCredentials(`bAsIc ${Buffer.from('u:p:q').toString('base64')}`)).toEqual({ username: 'u', password: 'p:q' });
    expect(basicCredentials('Bearer x')).toBeUndefined();
    expect(basicCredentials(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
  });
});

describe('basicauth as a server authenticator', () => {
  it('lets in the users of its file and inline lines, the inline line winning, bcrypt checked once per credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-htpasswd-'));
    const file = join(dir, 'htpasswd');
    writeFileSync(file, `shop:${bcrypt.hashSync(PASSWORD, 5)}\nold:replaced-below\n`);
    const { extension, logs } = server({ file, inline: `old:${PASSWORD}\n` });
    await extension.start();
    const first = extension.authenticate(basic('shop', PASSWORD));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    // The verdict is kept: no second bcrypt for the same credentials.
    expect(extension.authenticate(basic('shop', PASSWORD))).toBe(true);
    expect(await extension.authenticate(basic('shop', 'wrong'))).toBe(false);
    expect(extension.authenticate(basic('old', PASSWORD))).toBe(true);
    expect(extension.authenticate(basic('old', 'replaced-below'))).toBe(false);
    expect(extension.authenticate(basic('nobody', PASSWORD))).toBe(false);
    expect(extension.authenticate({})).toBe(false);
    expect(extension.authenticate({ authorization: 'Bearer x' })).toBe(false);
    expect(logs).toEqual([]);
    await extension.shutdown();
  });

  it('refuses to start with no usable line, naming the key; says which lines it skipped', async () => {
    const { extension, logs } = server({ inline: `shop:${openssl('passwd', '-5', PASSWORD)}\n` });
    await expect(extension.start()).rejects.toThrow('extensions.basicauth.htpasswd: no usable user:hash line, so no request could be let in');
    expect(logs).toEqual(['warn extensions.basicauth.htpasswd.inline line 1: SHA-crypt ($5$, $6$) is not read here: make the line with htpasswd -B (bcrypt); line skipped']);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });
});

describe('bearertokenauth', () => {
  it('as a server authenticator: any of its tokens with the scheme, in its header', async () => {
    const extension = new BearerTokenAuth('bearertokenauth', bearerTokenAuthConfigSchema.parse({ tokens: ['tok-one', 'tok-two'], header: 'X-Drain-Token', scheme: 'Token' }), () => {});
    await extension.start();
    expect(extension.authenticate({ 'x-drain-token': 'Token tok-two' })).toBe(true);
    expect(extension.authenticate({ 'x-drain-token': 'Token tok-three' })).toBe(false);
    expect(extension.authenticate({ 'x-drain-token': 'tok-one' })).toBe(false);
    expect(extension.authenticate({ authorization: 'Token tok-one' })).toBe(false);
    const headers: Record<string, string> = {};
    extension.applyHeaders(headers);
    expect(headers).toEqual({ 'x-drain-token': 'Token tok-one' });
  });

  it('reads one token per line from a file, blank lines left out; a file with none fails the start', async () => {
    expect(tokensOf(' a \r\n\nb\n')).toEqual(['a', 'b']);
    const dir = mkdtempSync(join(tmpdir(), 'hod-bearer-'));
    const file = join(dir, 'token');
    writeFileSync(file, '\n');
    const extension = new BearerTokenAuth('bearertokenauth', bearerTokenAuthConfigSchema.parse({ filename: file }), () => {});
    await expect(extension.start()).rejects.toThrow(`extensions.bearertokenauth.filename: ${JSON.stringify(file)} holds no token`);
    await extension.shutdown();
  });
});

describe('headers_setter actions', () => {
  it.each([
    ['insert', { 'x-a': 'old' }, 'x-a', { 'x-a': 'old' }],
    ['insert', {}, 'x-a', { 'x-a': 'new' }],
    ['update', { 'x-a': 'old' }, 'x-a', { 'x-a': 'new' }],
    ['update', {}, 'x-a', {}],
    ['upsert', {}, 'x-a', { 'x-a': 'new' }],
    ['upsert', { 'x-a': 'old' }, 'x-a', { 'x-a': 'new' }],
    ['delete', { 'x-a': 'old' }, 'x-a', {}],
  ] as const)('%s on %j', (action, before, key, after) => {
    const headers: Record<string, string> = { ...before };
    applyAction(headers, key, action, 'new');
    expect(headers).toEqual(after);
  });
});
