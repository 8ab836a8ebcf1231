/**
 * `classify+parse`: Logplex bodies to typed events. Frames each body (OctetFrameReader), decodes
 * each frame, parses its syslog header and hands it to the parser its envelope calls for
 * (interpretLine): exactly what the receiver does before mapping to OpenTelemetry.
 */
import { readCapture } from '../src/heroku/input.ts';
import { interpretLine } from '../src/heroku/classify.ts';
import type { HerokuLine } from '../src/heroku/line.ts';
import type { Body } from './mix.ts';
import type { Scenario } from './harness.ts';

let acc = 0;

// A module-level callback: no closure allocated per body.
function onLine(line: HerokuLine): void {
  const ev = interpretLine(line);
  acc += ev.kind.length;
}

export function classifyParse(bodies: readonly Body[], lines: number): Scenario {
  return {
    name: 'classify+parse',
    what: 'frame, decode, syslog header, classify, parse to typed events',
    items: lines,
    pass: () => {
      acc = 0;
      let n = 0;
      for (let i = 0; i < bodies.length; i++) n += readCapture(bodies[i]!.buf, onLine).lines;
      if (n !== lines) throw new Error(`classify+parse read ${n} lines, expected ${lines}`);
      return acc;
    },
  };
}
