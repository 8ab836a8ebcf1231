/**
 * The redact processor against secrets as real logs leak them (test/cases/redact-secrets.ts):
 * each text masked in a body and in an attribute, only its value, the text around it intact;
 * look-alikes left alone; router paths and queries, nested JSON fields and secret-named
 * attributes masked through the real translation; pathological lines handled in one pass.
 */
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../src/heroku/classify.ts';
import { readCapture } from '../src/heroku/input.ts';
import { redactConfigSchema } from '../src/processors/redact/config.ts';
import { RedactProcessor } from '../src/processors/redact/processor.ts';
import { mayHoldTokenShape, tokenShapes } from '../src/processors/redact/secrets.ts';
import { newTelemetryBatch, type LogRecordData } from '../src/translate/telemetry.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { PLAIN_CASES, SECRET_CASES } from './cases/redact-secrets.ts';

const TS = '2024-05-01T12:00:00+00:00';

function record(body: string, attributes: LogRecordData['attributes'] = {}): LogRecordData {
  return { timeUnixMicros: 0, observedUnixMicros: 0, severityNumber: 9, severityText: 'INFO', body, eventName: 'heroku.app.log', attributes, traceId: undefined, spanId: undefined, traceFlags: 0 };
}

function translated(lines: string[]): LogRecordData[] {
  const batch = newTelemetryBatch();
  readCapture(Buffer.from(lines.join('\n') + '\n'), (line, status) => translateEvent(line, interpretLine(line), 1, batch, status));
  return batch.logs;
}

const defaults = () => new RedactProcessor('redact', redactConfigSchema.parse({}));

describe('redact: secret shapes', () => {
  it.each(SECRET_CASES)('$name: masked in a body and in an attribute, nothing else changed', ({ text, masked, secrets }) => {
    const redact = defaults();
    const r = record(text, { detail: text, 'url.query': text });
    redact.process([r]);
    expect(r.body).toBe(masked);
    expect(r.attributes.detail).toBe(masked);
    expect(r.attributes['url.query']).toBe(masked);
    for (const secret of secrets) expect(JSON.stringify(r)).not.toContain(secret);
    expect(redact.counters.records).toBe(1);
    expect(redact.counters.masked).toBeGreaterThanOrEqual(3);
  });

  it.each(PLAIN_CASES)('leaves %j as it is', (text) => {
    const redact = defaults();
    const r = record(text, { detail: text });
    redact.process([r]);
    expect(r.body).toBe(text);
    expect(r.attributes.detail).toBe(text);
    expect(redact.counters).toEqual({ masked: 0, records: 0 });
  });

  it('masks the same texts as app lines, whatever form the translator gives them', () => {
    const records = translated(SECRET_CASES.map((c) => `${TS} app[web.1]: ${c.text}`));
    expect(records).toHaveLength(SECRET_CASES.length);
    defaults().process(records);
    const out = JSON.stringify(records);
    for (const c of SECRET_CASES) for (const secret of c.secrets) expect(out, c.name).not.toContain(secret);
    // Nested JSON becomes an attribute holding JSON text: masked inside, the rest kept.
    const nested = records.find((r) => r.attributes.headers !== undefined)!;
    expect(nested.attributes.headers).toBe('{"authorization":"Bearer ***","accept":"*/*"}');
    // A logfmt `authorization=Bearer TOKEN` leaves its scheme word in a secret-named attribute: masked whole.
    expect(records.find((r) => r.body.startsWith('at=info authorization=Bearer'))!.attributes.authorization).toBe('***');
  });

  it('masks Rails form keys in router paths, in url.path, url.query and the body, and nothing else of the record', () => {
    const [router] = translated([
      `${TS} heroku[router]: at=info method=GET path="/users/sign_in;jsessionid=SESSpath0040?user%5Bemail%5D=bob&user%5Bpassword%5D=PASSrouter0041&utf8=%E2%9C%93" host=shop.example.com request_id=8a1b fwd="81.2.69.142" dyno=web.1 connect=0ms service=12ms status=302 bytes=99 protocol=https`,
    ]);
    const before = { ...router!.attributes };
    defaults().process([router!]);
    expect(router!.attributes['url.query']).toBe('user%5Bemail%5D=bob&user%5Bpassword%5D=***&utf8=%E2%9C%93');
    expect(router!.attributes['url.path']).toBe('/users/sign_in;jsessionid=***');
    expect(router!.body).toContain('path="/users/sign_in;jsessionid=***?user%5Bemail%5D=bob&user%5Bpassword%5D=***&utf8=%E2%9C%93"');
    expect(JSON.stringify(router)).not.toMatch(/PASSrouter0041|SESSpath0040/);
    for (const key in before) if (!key.startsWith('url.')) expect(router!.attributes[key], key).toEqual(before[key]);
  });

  it('masks secret-named attributes whole, keeps the ones that say nothing (true, false, null, empty)', () => {
    const redact = defaults();
    const r = record('x', { password: 'hunter2', api_key: 42, 'X-Auth-Token': ['a', 'b'], password_reset_sent: true, session_valid: 'false', token: '', author: 'ann' });
    redact.process([r]);
    expect(r.attributes).toEqual({ password: '***', api_key: '***', 'X-Auth-Token': ['***', '***'], password_reset_sent: true, session_valid: 'false', token: '', author: 'ann' });
    expect(redact.counters.masked).toBe(3);
  });

  it('finds compound words in every spelling, and the words a config names', () => {
    const redact = defaults();
    for (const name of ['api_key', 'apiKey', 'API-KEY', 'x-api-key', 'apikey', 'AWS_SECRET_ACCESS_KEY', 'privateKey', 'user[password]', 'user%5Bpassword%5D']) expect(redact.isSecret(name), name).toBe(true);
    for (const name of ['author', 'signal', 'heroku.process.signal', 'keyboard', 'passage', 'user[email]']) expect(redact.isSecret(name), name).toBe(false);
    const own = new RedactProcessor('redact', redactConfigSchema.parse({ keys: ['clientSecret', 'pin'], token_shapes: false }));
    const r = record('client-secret: abc123 pin=4321 sk_live_4eC39HqLyjWDarjtT1zdp7dc23 password=kept');
    own.process([r]);
    expect(r.body).toBe('client-secret: *** pin=*** sk_live_4eC39HqLyjWDarjtT1zdp7dc23 password=kept');
  });

  it('finds every token shape in a text searched for a secret word, Bearer in any case', () => {
    const r = record('session refreshed with bEaReR abcTOKENmixed0050 and ghp_0123456789abcdefghijABCDEFGHIJ');
    defaults().process([r]);
    expect(r.body).toBe('session refreshed with bEaReR *** and ***');
  });

  it('skips the token-shape scan only where it finds nothing (mayHoldTokenShape)', () => {
    // Texts made of the shapes' parts, cut and joined at random: wherever tokenShapes finds a
    // range, mayHoldTokenShape must have said it may.
    const parts = ['sk_live_', 'rk_test_', 'ghp_', 'gho_', 'github_pat_', 'AKIA', 'ASIA', 'xoxb-', 'xoxs-', 'eyJ', '.', 'eyJhbGci', 'Bearer ', 'bEaReR\t', 'BEARER ', 'token=', ' ', '_', '-', 'ABCDEFGHIJKLMNOP', '0123456789', 'abcdefghij', 'Q'];
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let found = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const count = 1 + Math.floor(random() * 8);
      for (let k = 0; k < count; k++) {
        const part = parts[Math.floor(random() * parts.length)]!;
        text += random() < 0.2 ? part.slice(Math.floor(random() * part.length)) : part;
      }
      const ranges: number[] = [];
      tokenShapes(text, ranges);
      if (ranges.length > 0) {
        found++;
        expect(mayHoldTokenShape(text), text).toBe(true);
      }
    }
    expect(found).toBeGreaterThan(1000);
    for (const c of SECRET_CASES) {
      const ranges: number[] = [];
      tokenShapes(c.text, ranges);
      if (ranges.length > 0) expect(mayHoldTokenShape(c.text), c.name).toBe(true);
    }
  });

  it('judges a name inside a text as the name alone, whatever names came before (isSecretAt)', () => {
    const redact = defaults();
    const words = ['token', 'api_key', 'apiKey', 'status', 'request_id', 'user[password]', 'author', 'signal', 'x-api-key', 'path', 'Session', 'q'];
    // More names than the table has slots, in a text each: slots are shared and overwritten.
    const names = Array.from({ length: 3000 }, (_, i) => `${words[i % words.length]}${i % 7 === 0 ? '' : String(i % 101)}`);
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        const text = ` ${name}=v`;
        expect(redact.isSecretAt(text, 1, 1 + name.length), name).toBe(redact.isSecret(name));
      }
    }
  });

  it('masks e-mail addresses only when asked, whole, with the configured mask', () => {
    const r = record('from bob.smith+tag@mail.example.co.uk to ann@example.com. Not x@y or a@b.c');
    new RedactProcessor('redact', redactConfigSchema.parse({ emails: true, mask: '[redacted]' })).process([r]);
    expect(r.body).toBe('from [redacted] to [redacted]. Not x@y or a@b.c');
  });

  it('handles megabyte lines of separators, names, prefixes and quotes in one pass', () => {
    const redact = defaults();
    const shapes = ['a'.repeat(1 << 20), '='.repeat(1 << 20), ':'.repeat(1 << 20), 'token'.repeat(200_000), 'token='.repeat(200_000), 'eyJ'.repeat(300_000), 'sk_live_'.repeat(100_000), 'password="'.repeat(100_000), '://'.repeat(300_000), 'a://b:'.repeat(150_000), 'Bearer '.repeat(150_000), `token${' '.repeat(1 << 20)}`];
    for (const text of shapes) {
      const r = record(text, { detail: text });
      redact.process([r]);
      expect(typeof r.body).toBe('string');
    }
    const emails = new RedactProcessor('redact', redactConfigSchema.parse({ emails: true }));
    for (const text of ['a@'.repeat(500_000), 'x'.repeat(1 << 20) + '@', '@' + 'x.'.repeat(500_000)]) emails.process([record(text)]);
  });
});
