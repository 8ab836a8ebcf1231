import { describe, expect, it } from 'vitest';
import { parseAnyLine, readCapture } from '../../src/heroku/input.ts';
import type { HerokuLine } from '../../src/heroku/line.ts';
import { parseHerokuLogsLine, parseSyslogLine } from '../../src/heroku/syslog.ts';
import { parseTimestampMicros } from '../../src/heroku/time.ts';

describe('parseTimestampMicros', () => {
  it.each([
    ['2024-05-01T12:00:00.123456+00:00', Date.UTC(2024, 4, 1, 12) * 1000 + 123456],
    ['2024-05-01T12:00:00.123456Z', Date.UTC(2024, 4, 1, 12) * 1000 + 123456],
    ['2024-05-01T12:00:00+00:00', Date.UTC(2024, 4, 1, 12) * 1000],
    ['2010-10-06T21:51:12-07:00', Date.UTC(2010, 9, 7, 4, 51, 12) * 1000],
    ['2024-05-01T12:00:00.1+02:00', Date.UTC(2024, 4, 1, 10) * 1000 + 100000],
    ['2024-05-01T12:00:00.123456789Z', Date.UTC(2024, 4, 1, 12) * 1000 + 123456],
    ['2024-02-29 23:59:59.000001+0000', Date.UTC(2024, 1, 29, 23, 59, 59) * 1000 + 1],
    ['1999-12-31T23:59:59Z', Date.UTC(1999, 11, 31, 23, 59, 59) * 1000],
  ])('%s', (ts, micros) => {
    expect(parseTimestampMicros(ts)).toBe(micros);
  });

  it.each(['', '-', '2024-05-01', '2024-13-01T00:00:00Z', '2024-05-01T12:00:00', '2024-05-01T12:00:00.Z', '2024-05-01T25:00:00Z', 'May  1 12:00:00'])(
    'rejects %j',
    (ts) => {
      expect(parseTimestampMicros(ts)).toBeNaN();
    },
  );
});

describe('parseSyslogLine', () => {
  it('reads a Logplex HTTPS frame: no STRUCTURED-DATA, text may look like it', () => {
    const line = parseSyslogLine('<134>1 2023-06-05T19:33:14+00:00 host app postgres.1105947 - [YELLOW] [12-1]  sql_error_code = 00000 LOG:  x')!;
    expect(line).toMatchObject({
      shape: 'logplex',
      facility: 16,
      severity: 6,
      timestamp: '2023-06-05T19:33:14+00:00',
      hostname: 'host',
      appName: 'app',
      procId: 'postgres.1105947',
      msgId: '',
      structuredData: '',
      text: '[YELLOW] [12-1]  sql_error_code = 00000 LOG:  x',
    });
  });

  it('reads a syslog drain message: drain token as HOSTNAME, STRUCTURED-DATA `-`', () => {
    const line = parseSyslogLine('<190>1 2024-05-01T12:00:00.000000+00:00 d.9a1c2b3d-1111-4222-8333-444455556666 app web.1 - - hello - world')!;
    expect(line).toMatchObject({
      shape: 'syslog',
      facility: 23,
      severity: 6,
      hostname: 'd.9a1c2b3d-1111-4222-8333-444455556666',
      appName: 'app',
      procId: 'web.1',
      structuredData: '',
      text: 'hello - world',
    });
  });

  it('keeps real STRUCTURED-DATA apart from the text', () => {
    const line = parseSyslogLine('<13>1 2024-05-01T12:00:00Z myhost app web.1 ID47 [meta id="a\\"]b" x="1"][o ip="1.2.3.4"] the text')!;
    expect(line.msgId).toBe('ID47');
    expect(line.structuredData).toBe('[meta id="a\\"]b" x="1"][o ip="1.2.3.4"]');
    expect(line.text).toBe('the text');
  });

  it('keeps text that merely starts with [ on a syslog drain', () => {
    const line = parseSyslogLine('<134>1 2024-05-01T12:00:00Z d.9a1c2b3d-1111-4222-8333-444455556666 app postgres.12 - [DATABASE] [9-1] x')!;
    expect(line.structuredData).toBe('');
    expect(line.text).toBe('[DATABASE] [9-1] x');
  });

  it('accepts a NILVALUE timestamp and an empty message', () => {
    const line = parseSyslogLine('<190>1 - host app web.1 -')!;
    expect(line.timestamp).toBe('');
    expect(line.timeUnixMicros).toBeNaN();
    expect(line.text).toBe('');
  });

  it.each([
    '<34>Oct 11 22:14:15 mymachine su: an RFC 3164 line',
    '<12345>1 2024-05-01T12:00:00Z host app web.1 - x',
    '<190>1 2024-05-01T12:00:00Z host',
    '190>1 2024-05-01T12:00:00Z host app web.1 - x',
    '',
  ])('returns null for a line that is not RFC 5424: %j', (text) => {
    expect(parseSyslogLine(text)).toBeNull();
  });
});

describe('parseHerokuLogsLine', () => {
  it('reads `heroku logs` output', () => {
    expect(parseHerokuLogsLine('2024-05-01T12:00:00.123456+00:00 heroku[router]: at=info method=GET')).toMatchObject({
      shape: 'heroku-logs',
      facility: -1,
      severity: -1,
      timeUnixMicros: Date.UTC(2024, 4, 1, 12) * 1000 + 123456,
      appName: 'heroku',
      procId: 'router',
      text: 'at=info method=GET',
    });
    expect(parseHerokuLogsLine('2010-09-16T15:13:46-07:00 app[web.1]: Completed in 5ms')).toMatchObject({ appName: 'app', procId: 'web.1', text: 'Completed in 5ms' });
  });

  it('returns null for other lines', () => {
    expect(parseHerokuLogsLine('2024-05-01T12:00:00Z not a source')).toBeNull();
    expect(parseHerokuLogsLine('hello')).toBeNull();
  });
});

describe('input shapes', () => {
  function read(text: string): Array<[HerokuLine, string | undefined]> {
    const out: Array<[HerokuLine, string | undefined]> = [];
    readCapture(Buffer.from(text), (line, status) => out.push([line, status]));
    return out;
  }

  it('detects `heroku logs` output, syslog lines and raw lines, one per non-blank line, CRLF or not', () => {
    const got = read(
      '2024-05-01T12:00:00.123456+00:00 app[web.1]: one\r\n\r\n<190>1 2024-05-01T12:00:00Z d.9a1c2b3d-1111-4222-8333-444455556666 app web.2 - - two\nthree\n',
    );
    expect(got.map(([l]) => [l.shape, l.procId, l.text])).toEqual([
      ['heroku-logs', 'web.1', 'one'],
      ['syslog', 'web.2', 'two'],
      ['raw', '', 'three'],
    ]);
  });

  it('detects an octet-counted body and keeps stray lines between frames', () => {
    const m = '<190>1 2024-05-01T12:00:00Z host app web.1 - hi';
    const got = read(`${m.length + 1} ${m}\nnot a frame\n${m.length + 1} ${m}\n`);
    expect(got.map(([l, s]) => [l.shape, l.text, s])).toEqual([
      ['logplex', 'hi', 'ok'],
      ['raw', 'not a frame', 'unframed'],
      ['logplex', 'hi', 'ok'],
    ]);
  });

  it('reads one octet-counted frame per line in line mode, dropping the count', () => {
    const line = parseAnyLine('2024-05-01T12:00:00Z app[web.1]: x');
    expect(line.shape).toBe('heroku-logs');
    expect(parseAnyLine('99 <190>1 2024-05-01T12:00:00Z host app web.1 - hi').text).toBe('hi');
  });

  it('reads unicode text intact across frames', () => {
    const m = '<190>1 2024-05-01T12:00:00Z host app web.1 - héllo wörld 🚀 日本';
    const body = `${Buffer.byteLength(m) + 1} ${m}\n`.repeat(2);
    expect(read(body).map(([l, s]) => [l.text, s])).toEqual([
      ['héllo wörld 🚀 日本', 'ok'],
      ['héllo wörld 🚀 日本', 'ok'],
    ]);
  });

  it('reads empty input as nothing', () => {
    expect(read('')).toEqual([]);
    expect(read('\n \r\n')).toEqual([]);
  });
});

describe('terminal captures', () => {
  it('reads `heroku logs` output that kept its colours', () => {
    const line = parseAnyLine('\x1b[36m2024-05-01T12:00:00.123456+00:00 app[web.1]:\x1b[0m hello');
    expect(line).toMatchObject({ shape: 'heroku-logs', appName: 'app', procId: 'web.1', text: 'hello' });
  });
});
