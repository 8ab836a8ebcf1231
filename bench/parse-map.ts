/**
 * `parse+map`: classify+parse, then translateEvent into OpenTelemetry log records and metric
 * points, through translateLineSafely as the receivers call it, with one drain's context (its
 * url.template table and request-id keys) as a receiver. One TelemetryBatch per body, emptied
 * before the next body as an exporter would after handing it off; the observed time is taken
 * once per body, as a receiver does per request.
 * `parse+map+spans`: the same with a span per router request, as for a traces pipeline.
 */
import { readCapture } from '../src/heroku/input.ts';
import type { HerokuLine } from '../src/heroku/line.ts';
import type { FrameStatus } from '../src/heroku/octet-frames.ts';
import { defaultDrainContext } from '../src/config/translation.ts';
import { translateLineSafely } from '../src/translate/translate.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../src/translate/telemetry.ts';
import type { Body } from './mix.ts';
import type { Scenario } from './harness.ts';

let batch: TelemetryBatch = newTelemetryBatch();
let observed = 0;
// One drain's state, as a receiver keeps it: url.template learned across the mix, request ids read.
const drain = defaultDrainContext();

// What the receivers run per line: interpretLine and translateEvent, kept from throwing.
function onLine(line: HerokuLine, frameStatus: FrameStatus | undefined): void {
  translateLineSafely(line, observed, batch, frameStatus, undefined, drain);
}

export function parseMap(bodies: readonly Body[], lines: number, spans = false): Scenario {
  const own = newTelemetryBatch(spans);
  return {
    name: spans ? 'parse+map+spans' : 'parse+map',
    what: spans ? 'parse+map, and a span per router request (a traces pipeline)' : 'classify+parse, then translateEvent to OTel log records and metric points',
    items: lines,
    pass: () => {
      batch = own;
      let logs = 0;
      let metrics = 0;
      let acc = 0;
      for (let i = 0; i < bodies.length; i++) {
        observed = Date.now() * 1000;
        batch.logs.length = 0;
        batch.metrics.length = 0;
        if (batch.spans !== undefined) batch.spans.length = 0;
        readCapture(bodies[i]!.buf, onLine);
        logs += batch.logs.length;
        metrics += batch.metrics.length;
        acc += batch.logs[batch.logs.length - 1]!.severityNumber;
      }
      if (logs !== lines) throw new Error(`parse+map made ${logs} log records, expected ${lines}`);
      return acc + metrics;
    },
  };
}
