/**
 * Before timing: checks that the naive version emits what src/ emits (the same records with the
 * same attributes, bodies, severities and times, the same metric points), so that the ratio
 * compares methods and not amounts of work. Differences are counted and the first few shown.
 */
import { readCapture } from '../src/heroku/input.ts';
import { interpretLine } from '../src/heroku/classify.ts';
import type { HerokuLine } from '../src/heroku/line.ts';
import type { FrameStatus } from '../src/heroku/octet-frames.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { newTelemetryBatch, type LogRecordData, type MetricPointData, type TelemetryBatch } from '../src/translate/telemetry.ts';
import { naiveBody } from './naive.ts';
import type { Body } from './mix.ts';

export interface FairnessReport {
  logs: number;
  metrics: number;
  attributes: number;
  naiveLogs: number;
  naiveMetrics: number;
  naiveAttributes: number;
  /** Records (and points) that differ in any way. */
  differing: number;
  examples: string[];
}

function canonical(o: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function logKey(r: LogRecordData): string {
  return JSON.stringify([r.timeUnixMicros, r.severityNumber, r.severityText, r.body, r.eventName, r.traceId, r.spanId, r.traceFlags]) + canonical(r.attributes);
}

function metricKey(p: MetricPointData): string {
  return JSON.stringify([p.name, p.unit, p.type, p.value, p.timeUnixMicros, p.bounds?.length]) + canonical(p.attributes);
}

let ours: TelemetryBatch = newTelemetryBatch();
const OBSERVED = 1_714_564_800_000_000;

function onLine(line: HerokuLine, frameStatus: FrameStatus | undefined): void {
  translateEvent(line, interpretLine(line), OBSERVED, ours, frameStatus);
}

export function checkFairness(bodies: readonly Body[], maxExamples = 3): FairnessReport {
  const rep: FairnessReport = { logs: 0, metrics: 0, attributes: 0, naiveLogs: 0, naiveMetrics: 0, naiveAttributes: 0, differing: 0, examples: [] };
  for (const body of bodies) {
    ours = newTelemetryBatch();
    readCapture(body.buf, onLine);
    const naive = newTelemetryBatch();
    naiveBody(body.buf, OBSERVED, naive);
    rep.logs += ours.logs.length;
    rep.metrics += ours.metrics.length;
    rep.naiveLogs += naive.logs.length;
    rep.naiveMetrics += naive.metrics.length;
    for (const r of ours.logs) rep.attributes += Object.keys(r.attributes).length;
    for (const r of naive.logs) rep.naiveAttributes += Object.keys(r.attributes).length;
    const n = Math.max(ours.logs.length, naive.logs.length);
    for (let i = 0; i < n; i++) {
      const a = ours.logs[i];
      const b = naive.logs[i];
      if (a && b && logKey(a) === logKey(b)) continue;
      rep.differing++;
      if (rep.examples.length < maxExamples) rep.examples.push(`log ${i}:\n  ours:  ${a ? logKey(a) : '-'}\n  naive: ${b ? logKey(b) : '-'}`);
    }
    const m = Math.max(ours.metrics.length, naive.metrics.length);
    for (let i = 0; i < m; i++) {
      const a = ours.metrics[i];
      const b = naive.metrics[i];
      if (a && b && metricKey(a) === metricKey(b)) continue;
      rep.differing++;
      if (rep.examples.length < maxExamples) rep.examples.push(`metric ${i}:\n  ours:  ${a ? metricKey(a) : '-'}\n  naive: ${b ? metricKey(b) : '-'}`);
    }
  }
  return rep;
}
