import { describe, expect, it } from 'vitest';
import { LogfmtScanner, leadingNumber, numberPrefixEnd } from '../../src/heroku/logfmt.ts';

interface Pair {
  key: string;
  value: string;
  hasValue: boolean;
}

function pairs(text: string): Pair[] {
  const sc = new LogfmtScanner().reset(text);
  const out: Pair[] = [];
  while (sc.next()) out.push({ key: sc.key(), value: sc.value(), hasValue: sc.hasValue });
  return out;
}

function kv(text: string): Record<string, string> {
  return Object.fromEntries(pairs(text).map((p) => [p.key, p.value]));
}

describe('LogfmtScanner', () => {
  const cases: { name: string; text: string; expected: Pair[] }[] = [
    { name: 'empty text', text: '', expected: [] },
    { name: 'only spaces', text: '    ', expected: [] },
    {
      name: 'plain pairs',
      text: 'at=info status=200',
      expected: [
        { key: 'at', value: 'info', hasValue: true },
        { key: 'status', value: '200', hasValue: true },
      ],
    },
    {
      name: 'empty values, as on router errors',
      text: 'dyno= connect= service= bytes=',
      expected: [
        { key: 'dyno', value: '', hasValue: true },
        { key: 'connect', value: '', hasValue: true },
        { key: 'service', value: '', hasValue: true },
        { key: 'bytes', value: '', hasValue: true },
      ],
    },
    { name: 'empty value at the very end', text: 'bytes=', expected: [{ key: 'bytes', value: '', hasValue: true }] },
    { name: 'empty quoted value', text: 'path=""', expected: [{ key: 'path', value: '', hasValue: true }] },
    { name: 'quoted value with spaces and =', text: 'path="/a b=c?d=e f"', expected: [{ key: 'path', value: '/a b=c?d=e f', hasValue: true }] },
    { name: 'escaped quotes', text: 'msg="say \\"hi\\" now"', expected: [{ key: 'msg', value: 'say "hi" now', hasValue: true }] },
    { name: 'escaped backslash and newline', text: 'msg="a\\\\b\\nc"', expected: [{ key: 'msg', value: 'a\\b\nc', hasValue: true }] },
    { name: 'unterminated quote runs to the end', text: 'a=1 msg="no end here', expected: [{ key: 'a', value: '1', hasValue: true }, { key: 'msg', value: 'no end here', hasValue: true }] },
    { name: 'unterminated quote ending in a backslash', text: 'msg="abc\\', expected: [{ key: 'msg', value: 'abc\\', hasValue: true }] },
    { name: 'stray closing quote on an unquoted value is dropped', text: 'host=x.com" fwd="1.2.3.4"', expected: [{ key: 'host', value: 'x.com', hasValue: true }, { key: 'fwd', value: '1.2.3.4', hasValue: true }] },
    { name: 'a quote inside an unquoted value is kept', text: 'path=/a"b', expected: [{ key: 'path', value: '/a"b', hasValue: true }] },
    { name: 'bare words', text: 'Cycling now', expected: [{ key: 'Cycling', value: '', hasValue: false }, { key: 'now', value: '', hasValue: false }] },
    { name: 'empty key', text: '=x a=1', expected: [{ key: '', value: 'x', hasValue: true }, { key: 'a', value: '1', hasValue: true }] },
    { name: 'several spaces between pairs', text: 'a=1    b=2', expected: [{ key: 'a', value: '1', hasValue: true }, { key: 'b', value: '2', hasValue: true }] },
    { name: 'CRLF ending stays out of the last value', text: 'a=1 protocol=https\r\n', expected: [{ key: 'a', value: '1', hasValue: true }, { key: 'protocol', value: 'https', hasValue: true }] },
    { name: 'tabs separate pairs', text: 'a=1\tb=2', expected: [{ key: 'a', value: '1', hasValue: true }, { key: 'b', value: '2', hasValue: true }] },
    { name: 'unicode keys and values', text: 'clé=valeur msg="日本語 🎉"', expected: [{ key: 'clé', value: 'valeur', hasValue: true }, { key: 'msg', value: '日本語 🎉', hasValue: true }] },
    { name: 'value with = in it, unquoted', text: 'q=a=b', expected: [{ key: 'q', value: 'a=b', hasValue: true }] },
  ];
  it.each(cases)('$name', ({ text, expected }) => {
    expect(pairs(text)).toEqual(expected);
  });

  it('reads a very long value whole', () => {
    const long = 'x'.repeat(100_000);
    expect(kv(`a=1 big="${long}" b=2`)).toEqual({ a: '1', big: long, b: '2' });
    expect(kv(`big=${long}`)).toEqual({ big: long });
  });

  it('keyIs compares without building the key', () => {
    const sc = new LogfmtScanner().reset('request_id=1 requestid=2');
    sc.next();
    expect(sc.keyIs('request_id')).toBe(true);
    expect(sc.keyIs('request')).toBe(false);
    sc.next();
    expect(sc.keyIs('request_id')).toBe(false);
  });

  it('scans a sub-range only', () => {
    const text = 'prefix a=1 b=2 suffix=3';
    const sc = new LogfmtScanner().reset(text, 7, 14);
    const keys: string[] = [];
    while (sc.next()) keys.push(`${sc.key()}=${sc.value()}`);
    expect(keys).toEqual(['a=1', 'b=2']);
  });

  it('is reusable across lines (no state leaks from an escaped value)', () => {
    const sc = new LogfmtScanner();
    sc.reset('msg="a\\"b"');
    sc.next();
    expect(sc.value()).toBe('a"b');
    sc.reset('msg="plain"');
    sc.next();
    expect(sc.escaped).toBe(false);
    expect(sc.value()).toBe('plain');
  });

  it('numberValue reads the number in front of a unit', () => {
    const read = (text: string): number => {
      const sc = new LogfmtScanner().reset(text);
      sc.next();
      return sc.numberValue();
    };
    expect(read('connect=41ms')).toBe(41);
    expect(read('connect=0')).toBe(0);
    expect(read('service=30001ms')).toBe(30001);
    expect(read('m=21.22MB')).toBe(21.22);
    expect(read('m=15405636.0kB')).toBe(15405636);
    expect(read('bytes=')).toBeNaN();
    expect(read('status=abc')).toBeNaN();
    expect(read('path="12"')).toBe(12);
  });
});

describe('leadingNumber and numberPrefixEnd', () => {
  const cases: [string, number, number][] = [
    ['0', 0, 1],
    ['200', 200, 3],
    ['41ms', 41, 2],
    ['2.46', 2.46, 4],
    ['-3.5x', -3.5, 4],
    ['+7', 7, 2],
    ['1e3', 1000, 3],
    ['1.5e-2s', 0.015, 6],
    ['3e', 3, 1],
    ['5em', 5, 1],
    ['.5', 0.5, 2],
    ['1.', 1, 2],
    ['10311979679bytes', 10311979679, 11],
    ['99999999999999999', 99999999999999999, 17],
    ['', NaN, 0],
    ['.', NaN, 0],
    ['-', NaN, 0],
    ['ms', NaN, 0],
  ];
  it.each(cases)('%j', (text, value, end) => {
    const n = leadingNumber(text, 0, text.length);
    if (Number.isNaN(value)) expect(n).toBeNaN();
    else expect(n).toBe(value);
    expect(numberPrefixEnd(text, 0, text.length)).toBe(end);
  });
});
