import { describe, expect, it } from 'vitest';
import { OctetFrameReader, type FrameStatus } from '../../src/heroku/octet-frames.ts';

/** A well-formed Logplex frame: the length counts the message and its trailing newline. */
function frame(msg: string): string {
  return `${Buffer.byteLength(msg) + 1} ${msg}\n`;
}

function frames(body: string | Buffer): Array<[string, FrameStatus]> {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const reader = new OctetFrameReader(buf);
  const out: Array<[string, FrameStatus]> = [];
  while (reader.next()) out.push([buf.toString('utf8', reader.msgStart, reader.msgEnd), reader.status]);
  return out;
}

const A = '<158>1 2024-05-01T12:00:00.000001+00:00 host heroku router - at=info method=GET path="/" status=200 bytes=10';
const B = '<190>1 2024-05-01T12:00:00.000002+00:00 host app web.1 - hello wörld';
const C = '<190>1 2024-05-01T12:00:00.000003+00:00 host app web.2 - bytes=0';
const L10 = '<172>1 2024-05-01T12:00:00+00:00 host heroku logplex - Error L10 (output buffer overflow): 3 messages dropped since 2024-05-01T11:59:00+00:00.';

describe('OctetFrameReader', () => {
  it('reads well-formed frames, counting bytes not characters', () => {
    expect(frames(frame(A) + frame(B) + frame(C))).toEqual([
      [A, 'ok'],
      [B, 'ok'],
      [C, 'ok'],
    ]);
  });

  it('reads frames without trailing newlines when the length counts exactly the message', () => {
    const body = `${Buffer.byteLength(A)} ${A}${Buffer.byteLength(B)} ${B}`;
    expect(frames(body)).toEqual([
      [A, 'ok'],
      [B, 'ok'],
    ]);
  });

  it('keeps an L10 line glued to the next frame without a newline', () => {
    const body = `${Buffer.byteLength(L10)} ${L10}` + frame(A);
    expect(frames(body)).toEqual([
      [L10, 'ok'],
      [A, 'ok'],
    ]);
  });

  it('resynchronises when a length is one too long because the newline is missing', () => {
    // The first frame claims its newline but has none: its length ends inside the next header.
    const body = `${Buffer.byteLength(A) + 1} ${A}` + frame(B) + frame(C);
    expect(frames(body)).toEqual([
      [A, 'length_mismatch'],
      [B, 'ok'],
      [C, 'ok'],
    ]);
  });

  it('resynchronises when the message ends in digits and its length is one too long', () => {
    // `bytes=0` + `83 <190>1...`: the digits run together, the longest run is not the header.
    const body = `${Buffer.byteLength(C) + 1} ${C}` + frame(B);
    expect(frames(body)).toEqual([
      [C, 'length_mismatch'],
      [B, 'ok'],
    ]);
  });

  it('resynchronises on lengths that are far off in either direction, losing and merging nothing', () => {
    const tooLong = `500 ${A}\n` + frame(B) + frame(C);
    expect(frames(tooLong)).toEqual([
      [A, 'length_mismatch'],
      [B, 'ok'],
      [C, 'ok'],
    ]);
    const tooShort = `20 ${A}\n` + frame(B);
    expect(frames(tooShort)).toEqual([
      [A, 'length_mismatch'],
      [B, 'ok'],
    ]);
  });

  it('reads the same count reused for every frame of a body (seen in real captures)', () => {
    const n = Buffer.byteLength(B) + 1;
    const body = `${n} ${A}\n${n} ${B}\n${n} ${C}\n`;
    expect(frames(body).map(([m]) => m)).toEqual([A, B, C]);
  });

  it('keeps a truncated last frame as what remains', () => {
    const body = frame(A) + `${Buffer.byteLength(B) + 50} ${B}`;
    expect(frames(body)).toEqual([
      [A, 'ok'],
      [B, 'truncated'],
    ]);
  });

  it('does not blow up on an absurd length (1,000,000 over a short message)', () => {
    expect(frames(`1000000 ${A}\n`)).toEqual([[A, 'truncated']]);
  });

  it('keeps bytes that are not frames as unframed runs, and the frames around them', () => {
    expect(frames(`garbage here\n${frame(A)}`)).toEqual([
      ['garbage here', 'unframed'],
      [A, 'ok'],
    ]);
    expect(frames(frame(A) + 'x')).toEqual([
      [A, 'ok'],
      ['x', 'unframed'],
    ]);
  });

  it('tolerates CRLF and blank lines between frames', () => {
    const body = `${Buffer.byteLength(A) + 2} ${A}\r\n\r\n${frame(B)}`;
    expect(frames(body)).toEqual([
      [A, 'ok'],
      [B, 'ok'],
    ]);
  });

  it('reads empty input as no frames', () => {
    expect(frames('')).toEqual([]);
    expect(frames('\n\n  ')).toEqual([]);
  });

  it('keeps 10,000-byte chunks of a split dyno line as separate frames', () => {
    const chunk = (n: number) => `<190>1 2024-05-01T12:00:00+00:00 host app web.1 - ${'x'.repeat(n)}`;
    const body = frame(chunk(10000)) + frame(chunk(10000)) + frame(chunk(123));
    expect(frames(body).map(([m, s]) => [m.length, s])).toEqual([
      [chunk(10000).length, 'ok'],
      [chunk(10000).length, 'ok'],
      [chunk(123).length, 'ok'],
    ]);
  });
});
