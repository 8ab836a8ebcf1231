/**
 * Lines written to hurt: JSON nested thousands deep (what any web user can make an app log), JSON
 * too long to read, drain tokens in odd forms, and a line whose handling throws. Each still gives
 * exactly one record, keeps its text, says why it was not read, and is counted; the process and
 * the lines beside it carry on, through the pure functions and through real sockets.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JSON_CHARS, MAX_JSON_DEPTH, jsonNestsDeeperThan, parseAppLine } from '../../src/heroku/app.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import type { HerokuLine } from '../../src/heroku/line.ts';
import { bodyToTelemetry } from '../../src/receivers/logplex/body.ts';
import { logplexConfigSchema } from '../../src/receivers/logplex/config.ts';
import { LogplexReceiver, type ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { syslogConfigSchema } from '../../src/receivers/syslog/config.ts';
import { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import { newTelemetryBatch, type LogRecordData } from '../../src/translate/telemetry.ts';
import { drainFingerprint, translateLineSafely, type LineTally } from '../../src/translate/translate.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const DEPTH = 4500;
/** The reproducers of issue 12: ~9 KB (and ~27 KB) app lines that overflowed the stack. */
const DEEP_ARRAYS = '{"a":' + '['.repeat(DEPTH) + ']'.repeat(DEPTH) + '}';
const DEEP_OBJECTS = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
const BARE_ARRAYS = '['.repeat(DEPTH) + ']'.repeat(DEPTH);

function frame(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`;
}
function appMessage(text: string, host = 'host'): string {
  return `<190>1 2024-05-01T12:00:00.000001+00:00 ${host} app web.1 - ${text}`;
}
function recordOf(text: string): LogRecordData {
  const batch = newTelemetryBatch();
  expect(translateLineSafely(parseAnyLine(text), 1, batch)).toBe(false);
  expect(batch.logs).toHaveLength(1);
  return batch.logs[0]!;
}

describe('JSON app lines are read within bounds', () => {
  it.each([
    ['[-nesting in a value', DEEP_ARRAYS],
    ['{"a":-nesting', DEEP_OBJECTS],
  ])('keeps a line of JSON 4,500 deep (%s) as plain text, with the reason, without throwing', (_, json) => {
    const record = recordOf(appMessage(json));
    expect(record.body).toBe(json);
    expect(record.attributes).toMatchObject({
      'heroku.log.format': 'plain',
      'heroku.log.parse_error': `JSON nested deeper than ${MAX_JSON_DEPTH} levels: kept as plain text`,
      'heroku.dyno.name': 'web.1',
    });
  });

  it('keeps a bare array 4,500 deep as plain text (not JSON to us: only objects are)', () => {
    const record = recordOf(appMessage(BARE_ARRAYS));
    expect(record.body).toBe(BARE_ARRAYS);
    expect(record.attributes['heroku.log.format']).toBe('plain');
  });

  it('reads JSON nested exactly to the bound, and keeps one level deeper as text', () => {
    const nest = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    expect(parseAppLine(nest(MAX_JSON_DEPTH))).toMatchObject({ format: 'json', parseError: undefined });
    expect(parseAppLine(nest(MAX_JSON_DEPTH + 1))).toMatchObject({ format: 'plain', message: nest(MAX_JSON_DEPTH + 1) });
    // Trimmed JSON is bounded the same way, and the text is kept as written.
    expect(parseAppLine('  ' + nest(MAX_JSON_DEPTH + 1) + ' ')).toMatchObject({ format: 'plain', message: '  ' + nest(MAX_JSON_DEPTH + 1) + ' ' });
  });

  it('counts brackets inside strings as text, escapes included', () => {
    const inString = '['.repeat(DEPTH);
    expect(jsonNestsDeeperThan(`{"msg":"${inString}","q":"\\"${inString}\\\\"}`, MAX_JSON_DEPTH)).toBe(false);
    const ev = parseAppLine(`{"level":"warn","msg":"${inString}","q":"\\"{{{\\\\"}`);
    expect(ev).toMatchObject({ format: 'json', level: 'warn', message: inString, fields: { q: '"{{{\\' } });
    // A quote escaped by a backslash that is itself escaped ends the string: the brackets after it count.
    expect(jsonNestsDeeperThan(`{"a":"\\\\",` + '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1) + '}', MAX_JSON_DEPTH)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":[[[]]],"b":[[[]]]}'.repeat(100), MAX_JSON_DEPTH)).toBe(false);
  });

  it('keeps JSON longer than the bound as plain text, with the reason', () => {
    const json = `{"level":"error","msg":"big","data":"${'x'.repeat(MAX_JSON_CHARS)}"}`;
    const record = recordOf(appMessage(json));
    expect(record.body).toBe(json);
    expect(record.attributes['heroku.log.parse_error']).toBe(`JSON longer than ${MAX_JSON_CHARS} characters: kept as plain text`);
    expect(record.attributes.data).toBeUndefined();
  });

  it('says both why on a raw line (no header) of deep JSON', () => {
    const record = recordOf(DEEP_OBJECTS);
    expect(record.body).toBe(DEEP_OBJECTS);
    expect(record.attributes['heroku.log.parse_error']).toBe(`no syslog or heroku logs header; JSON nested deeper than ${MAX_JSON_DEPTH} levels: kept as plain text`);
  });

  it('gives one record per frame of a Logplex body holding the reproducers, and counts them', () => {
    const ok = appMessage('{"level":"info","msg":"fine"}');
    const body = [ok, appMessage(DEEP_ARRAYS), appMessage(DEEP_OBJECTS), appMessage(BARE_ARRAYS), ok].map((m) => frame(m) + '\n').join('');
    const parsed = bodyToTelemetry(Buffer.from(body), 1);
    expect(parsed).toMatchObject({ lines: 5, lineErrors: 0, jsonKeptAsText: 2, rawLines: 0 });
    expect(parsed.telemetry.logs.map((r) => r.body)).toEqual(['fine', DEEP_ARRAYS, DEEP_OBJECTS, BARE_ARRAYS, 'fine']);
  });
});

describe('a syslog HOSTNAME is never exported in clear unless it is a word that carries no secret', () => {
  it.each([
    [TOKEN],
    ['d.not-a-uuid'],
    ['my-own-token-0f3a9c'],
    ['D.9A1C2B3D-1111-4222-8333-444455556666'],
    ['s3cr3t:with/odd=chars'],
    ['web-01.internal.example.com'],
  ])('fingerprints %s', (host) => {
    const record = recordOf(appMessage('hello', host));
    expect(record.attributes['heroku.drain.fingerprint']).toBe(drainFingerprint(host));
    expect(record.attributes['heroku.syslog.hostname']).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(host);
  });

  it.each([['heroku'], ['app'], ['localhost']])('writes %s as it is', (host) => {
    const record = recordOf(appMessage('hello', host));
    expect(record.attributes['heroku.syslog.hostname']).toBe(host);
    expect(record.attributes['heroku.drain.fingerprint']).toBeUndefined();
  });

  it("writes neither for Logplex's literal `host`", () => {
    const record = recordOf(appMessage('hello'));
    expect(record.attributes['heroku.syslog.hostname']).toBeUndefined();
    expect(record.attributes['heroku.drain.fingerprint']).toBeUndefined();
  });
});

describe('translateLineSafely: the last line of defence', () => {
  /** A line one of whose fields throws on its `n`th read: a stand-in for a bug of ours. */
  function trapped(text: string, field: keyof HerokuLine, n: number): HerokuLine {
    const line = parseAnyLine(text);
    const value = line[field];
    let reads = 0;
    Object.defineProperty(line, field, {
      get() {
        if (++reads === n) throw new RangeError('Maximum call stack size exceeded (quoting the line: secret)');
        return value;
      },
    });
    return line;
  }

  it('keeps a line whose interpretation throws as one unparsed record: its text, its envelope, the error type', () => {
    const batch = newTelemetryBatch();
    const tally: LineTally = { lineErrors: 0, jsonKeptAsText: 0 };
    const line = trapped(appMessage('{"level":"error","msg":"boom"}', TOKEN), 'text', 1);
    expect(translateLineSafely(line, 7, batch, undefined, tally)).toBe(true);
    expect(tally).toEqual({ lineErrors: 1, jsonKeptAsText: 0 });
    expect(batch.logs).toHaveLength(1);
    const record = batch.logs[0]!;
    expect(record).toMatchObject({ body: '{"level":"error","msg":"boom"}', observedUnixMicros: 7, eventName: 'heroku.app.log', timeUnixMicros: 1714564800000001 });
    expect(record.attributes).toMatchObject({
      'heroku.log.parse_error': 'RangeError while reading the line: kept unparsed',
      'heroku.syslog.app_name': 'app',
      'heroku.dyno.name': 'web.1',
      'heroku.drain.fingerprint': drainFingerprint(TOKEN),
    });
    expect(JSON.stringify(record)).not.toContain(TOKEN);
    expect(JSON.stringify(record)).not.toContain('secret');
  });

  it('takes back what a failed line had appended, records and points, before keeping it', () => {
    const router =
      '<158>1 2024-05-01T12:00:00.000001+00:00 host heroku router - at=info method=GET path="/" host=a.example.com request_id=r1 fwd="1.2.3.4" dyno=web.1 connect=1ms service=2ms status=200 bytes=3 protocol=https';
    const batch = newTelemetryBatch();
    translateLineSafely(parseAnyLine(router), 1, batch);
    expect([batch.logs.length, batch.metrics.length]).toEqual([1, 1]);
    // The record is pushed, then the histogram point's time read throws.
    const failing = trapped(router, 'timeUnixMicros', 2);
    expect(translateLineSafely(failing, 1, batch)).toBe(true);
    expect([batch.logs.length, batch.metrics.length]).toEqual([2, 1]);
    expect(batch.logs[1]!.attributes['heroku.log.parse_error']).toBe('RangeError while reading the line: kept unparsed');
  });

  it('keeps the line even when its envelope cannot be read', () => {
    const batch = newTelemetryBatch();
    const line = trapped(appMessage('hello'), 'appName', 1);
    Object.defineProperty(line, 'procId', {
      get() {
        throw new TypeError('no');
      },
    });
    expect(translateLineSafely(line, 1, batch)).toBe(true);
    expect(batch.logs).toEqual([expect.objectContaining({ body: 'hello', attributes: { 'heroku.log.kind': 'app', 'heroku.log.parse_error': 'RangeError while reading the line: kept unparsed' } })]);
  });
});

describe('the reproducers through real sockets', () => {
  let logplex: LogplexReceiver | undefined;
  let syslog: SyslogReceiver | undefined;
  afterEach(async () => {
    await logplex?.shutdown();
    await syslog?.shutdown();
    logplex = syslog = undefined;
  });

  it('logplex: answers 200 and delivers one record per frame, the deep ones kept as text', async () => {
    const got: ReceivedBatch[] = [];
    logplex = new LogplexReceiver(logplexConfigSchema.parse({ endpoint: '127.0.0.1:0', drains: [{ token: TOKEN }] }), (b) => (got.push(b), true));
    await logplex.start();
    const messages = [appMessage(DEEP_ARRAYS), appMessage(DEEP_OBJECTS), appMessage('{"msg":"after"}')];
    const res = await fetch(`http://127.0.0.1:${logplex.address.port}/logs`, {
      method: 'POST',
      body: messages.map((m) => frame(m) + '\n').join(''),
      headers: { 'content-type': 'application/logplex-1', 'logplex-msg-count': '3', 'logplex-drain-token': TOKEN },
    });
    expect(res.status).toBe(200);
    expect(got.flatMap((b) => b.telemetry.logs.map((r) => r.body))).toEqual([DEEP_ARRAYS, DEEP_OBJECTS, 'after']);
    expect(logplex.counters).toMatchObject({ acceptedLines: 3 });
  });

  it('syslog over TCP: the connection and the lines after the deep ones go on', async () => {
    const got: LogRecordData[] = [];
    syslog = new SyslogReceiver(syslogConfigSchema.parse({ tcp: { endpoint: '127.0.0.1:0' }, drains: [{ token: TOKEN }] }), (b) => {
      got.push(...b.telemetry.logs);
      return true;
    });
    await syslog.start();
    const socket = connect(syslog.addresses.tcp!.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end([DEEP_ARRAYS, DEEP_OBJECTS, '{"msg":"after"}'].map((t) => frame(appMessage(t, TOKEN))).join(''));
    const deadline = Date.now() + 10_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got.map((r) => r.body)).toEqual([DEEP_ARRAYS, DEEP_OBJECTS, 'after']);
    expect(got[0]!.attributes['heroku.log.parse_error']).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels: kept as plain text`);
  });
});
