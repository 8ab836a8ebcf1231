/** Syslog stream framing (RFC 6587): octet counting and LF framing, across any read boundaries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyslogFramer } from '../../src/receivers/syslog/framing.ts';

function frames(chunks: readonly Buffer[], max = 1024): { frames: string[]; tooLarge: Array<number | undefined>; truncated: number; pending: number } {
  const out: string[] = [];
  const tooLarge: Array<number | undefined> = [];
  let truncated = 0;
  const framer = new SyslogFramer(max, { frame: (buf, s, e) => out.push(buf.toString('utf8', s, e)), tooLarge: (n) => tooLarge.push(n), truncated: () => truncated++ });
  for (const c of chunks) framer.push(c);
  const pending = framer.pendingBytes;
  framer.end();
  return { frames: out, tooLarge, truncated, pending };
}

const octet = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;
const MSG = '<190>1 2024-05-01T12:00:00+00:00 d.9a1c app web.1 - - hello wörld';

describe('SyslogFramer', () => {
  it('reads octet-counted and LF-framed messages, mixed, with CRLF and blank lines', () => {
    const stream = `${octet(MSG)}${octet('<13>1 - h a p - - two')}<13>1 - h a p - - three\r\n\n<13>Oct 11 22:14:15 host su: four\n`;
    expect(frames([Buffer.from(stream)]).frames).toEqual([MSG, '<13>1 - h a p - - two', '<13>1 - h a p - - three', '<13>Oct 11 22:14:15 host su: four']);
  });

  it('reassembles a frame cut anywhere, even inside its length', () => {
    const stream = Buffer.from(octet(MSG) + octet(MSG) + `${MSG}\n`);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(frames([stream.subarray(0, cut), stream.subarray(cut)]).frames).toEqual([MSG, MSG, MSG]);
    }
  });

  it('skips a frame over the limit without buffering it, and reads the frames after it', () => {
    const big = `<13>1 ${'x'.repeat(4994)}`;
    const octetStream = Buffer.from(octet(MSG) + octet(big) + octet(MSG));
    // In reads of 100 bytes: nothing of the big frame is held.
    const chunks = Array.from({ length: Math.ceil(octetStream.length / 100) }, (_, i) => octetStream.subarray(i * 100, (i + 1) * 100));
    const octetResult = frames(chunks);
    expect(octetResult.frames).toEqual([MSG, MSG]);
    expect(octetResult.tooLarge).toEqual([5000]);
    const lineStream = Buffer.from(`${MSG}\n${big}\n${MSG}\n`);
    const lines = frames(Array.from({ length: Math.ceil(lineStream.length / 100) }, (_, i) => lineStream.subarray(i * 100, (i + 1) * 100)));
    expect(lines.frames).toEqual([MSG, MSG]);
    expect(lines.tooLarge).toEqual([undefined]);
  });

  it('holds at most the limit for a line that never ends', () => {
    const chunks = Array.from({ length: 50 }, () => Buffer.from('y'.repeat(100)));
    const r = frames(chunks, 1024);
    expect(r.pending).toBe(0);
    expect(r.tooLarge).toEqual([undefined]);
    expect(r.frames).toEqual([]);
  });

  it('keeps a last line without LF at the end of the stream; a cut octet-counted frame is counted truncated', () => {
    expect(frames([Buffer.from(`${MSG}\nlast words`)]).frames).toEqual([MSG, 'last words']);
    const cut = frames([Buffer.from(`${octet(MSG)}500 <13>1 cut`)]);
    expect(cut.frames).toEqual([MSG]);
    expect(cut.truncated).toBe(1);
    expect(frames([Buffer.from(`${octet(MSG)}500 `)]).truncated).toBe(1);
  });

  it('reads a line that starts with a number as a line: only `LEN <` is an octet count', () => {
    expect(frames([Buffer.from(`404 not found\n${octet(MSG)}12 apples\n`)]).frames).toEqual(['404 not found', MSG, '12 apples']);
  });

  it('takes a frame that trickles in a byte at a time', () => {
    const stream = Buffer.from(octet(MSG) + `${MSG}\n`);
    const bytes = Array.from(stream, (b) => Buffer.from([b]));
    expect(frames(bytes).frames).toEqual([MSG, MSG]);
  });

  it('gives back every message whatever the framing and the read boundaries', () => {
    // LF-framed messages cannot hold LF or CR, nor start with `digits <` (that is a length).
    const message = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(fc.array(fc.tuple(message, fc.boolean()), { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }), (messages, cuts) => {
        const expected: string[] = [];
        let stream = '';
        for (const [text, counted] of messages) {
          if (counted) {
            // An octet-counted message is a syslog message: it starts with its PRI.
            stream += octet(`<13>${text}`);
            expected.push(`<13>${text}`);
          } else {
            const flat = text.replace(/[\r\n]/g, ' ');
            const line = /^\d+ </.test(flat) ? `x${flat}` : flat;
            stream += `${line}\n`;
            expected.push(line);
          }
        }
        const buf = Buffer.from(stream);
        const chunks: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < buf.length; i++) {
          const n = cuts[i % cuts.length]!;
          chunks.push(buf.subarray(at, at + n));
          at += n;
        }
        expect(frames(chunks, 4096).frames).toEqual(expected);
      }),
    );
  });

  it('never throws on arbitrary bytes, and never holds more than the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const framer = new SyslogFramer(256, { frame: () => {}, tooLarge: () => {}, truncated: () => {} });
        for (const c of chunks) {
          framer.push(Buffer.from(c));
          expect(framer.pendingBytes).toBeLessThanOrEqual(256 + 10);
        }
        framer.end();
      }),
    );
  });
});
