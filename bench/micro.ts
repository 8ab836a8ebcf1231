/**
 * Micro-benchmarks of the hot pieces: framing a body, parsing a syslog header, parsing a router
 * line, parsing a timestamp. Inputs are cut from the same mix. With BENCH_PREVIOUS, the same
 * functions of the previous release run beside them (`microImpl` of its checkout).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { OctetFrameReader } from '../src/heroku/octet-frames.ts';
import { parseSyslogLine } from '../src/heroku/syslog.ts';
import { parseRouterLine } from '../src/heroku/router.ts';
import { parseTimestampMicros } from '../src/heroku/time.ts';
import type { Body, MixLine } from './mix.ts';
import type { Scenario } from './harness.ts';

/** The functions timed: this checkout's, or another's. */
export interface MicroImpl {
  OctetFrameReader: typeof OctetFrameReader;
  parseSyslogLine: typeof parseSyslogLine;
  parseRouterLine: typeof parseRouterLine;
  parseTimestampMicros: typeof parseTimestampMicros;
}

const OURS: MicroImpl = { OctetFrameReader, parseSyslogLine, parseRouterLine, parseTimestampMicros };

/** The same functions from the checkout at `root` (the previous release). */
export async function microImpl(root: string): Promise<MicroImpl> {
  const from = (path: string) => import(pathToFileURL(join(root, path)).href);
  return {
    OctetFrameReader: (await from('src/heroku/octet-frames.ts')).OctetFrameReader,
    parseSyslogLine: (await from('src/heroku/syslog.ts')).parseSyslogLine,
    parseRouterLine: (await from('src/heroku/router.ts')).parseRouterLine,
    parseTimestampMicros: (await from('src/heroku/time.ts')).parseTimestampMicros,
  };
}

export interface MicroInputs {
  bodies: readonly Body[];
  /** Whole messages (`<PRI>1 ...`), every kind. */
  messages: string[];
  /** Router line texts (after the header). */
  routerTexts: string[];
  /** Header timestamps as written. */
  timestamps: string[];
}

/** At most `limit` items of each kind: micro passes are repeated until long enough to time. */
export function microInputs(mix: readonly MixLine[], bodies: readonly Body[], limit: number): MicroInputs {
  const messages: string[] = [];
  const routerTexts: string[] = [];
  const timestamps: string[] = [];
  for (const { kind, message } of mix) {
    if (messages.length < limit) messages.push(message);
    const sp1 = message.indexOf(' ');
    const sp2 = message.indexOf(' ', sp1 + 1);
    if (timestamps.length < limit) timestamps.push(message.slice(sp1 + 1, sp2));
    if (kind === 'router' && routerTexts.length < limit) routerTexts.push(message.slice(message.indexOf(' - ') + 3));
  }
  // Whole bodies up to about `limit` frames.
  const some: Body[] = [];
  let frames = 0;
  for (const b of bodies) {
    if (frames >= limit) break;
    some.push(b);
    frames += b.lines;
  }
  return { bodies: some, messages, routerTexts, timestamps };
}

export function microScenarios(inp: MicroInputs, impl: MicroImpl = OURS): Scenario[] {
  const { bodies, messages, routerTexts, timestamps } = inp;
  const { OctetFrameReader, parseSyslogLine, parseRouterLine, parseTimestampMicros } = impl;
  const frames = bodies.reduce((n, b) => n + b.lines, 0);
  return [
    {
      name: 'micro OctetFrameReader',
      what: 'frame bounds over whole bodies, no decoding',
      items: frames,
      pass: () => {
        let acc = 0;
        for (let i = 0; i < bodies.length; i++) {
          const r = new OctetFrameReader(bodies[i]!.buf);
          while (r.next()) acc += r.msgEnd - r.msgStart;
        }
        return acc;
      },
    },
    {
      name: 'micro parseSyslogLine',
      what: 'RFC 5424 header of a decoded message',
      items: messages.length,
      pass: () => {
        let acc = 0;
        for (let i = 0; i < messages.length; i++) acc += parseSyslogLine(messages[i]!)!.text.length;
        return acc;
      },
    },
    {
      name: 'micro parseRouterLine',
      what: 'router logfmt text to a RouterEvent',
      items: routerTexts.length,
      pass: () => {
        let acc = 0;
        for (let i = 0; i < routerTexts.length; i++) acc += parseRouterLine(routerTexts[i]!).fwd.length;
        return acc;
      },
    },
    {
      name: 'micro parseTimestampMicros',
      what: 'RFC 3339 to microseconds',
      items: timestamps.length,
      pass: () => {
        let acc = 0;
        for (let i = 0; i < timestamps.length; i++) acc += parseTimestampMicros(timestamps[i]!) % 1000;
        return acc;
      },
    },
  ];
}
