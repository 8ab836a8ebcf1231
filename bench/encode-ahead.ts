/**
 * Profiling helper: when to encode log records as OTLP protobuf. `when sent` is what the
 * pipeline does now: ~100-line Logplex bodies are translated, their records held until a batch
 * of BENCH_HOLD (default 1024, the batch processor's send_batch_size) is complete, then encoded
 * (`logs`). `when queued` encodes each body's records as soon as they are translated
 * (`logFragments`), holds only those bytes, and makes the request of a batch's parts
 * (`logsOf`). Both include the translation; the difference is encoding records whose
 * strings are still in the CPU's caches, holding bytes instead of objects (the garbage
 * collector's part is in the CPU time), and the copy into the request. Passes alternate in one
 * process; CPU time (process.cpuUsage) per line, medians, as the machine is shared.
 *
 *   node bench/encode-ahead.ts     (BENCH_LINES, BENCH_RUNS, BENCH_HOLD)
 */
import { SCOPE } from '../src/exporters/exporter.ts';
import { OtlpProtoEncoder } from '../src/exporters/otlphttp/proto.ts';
import { defaultDrainContext } from '../src/config/translation.ts';
import { bodyToTelemetry } from '../src/receivers/logplex/body.ts';
import type { LogRecordData } from '../src/translate/telemetry.ts';
import { generateMix, toBatches } from './mix.ts';

const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const HOLD = Number(process.env.BENCH_HOLD ?? 1024);
const bodies = toBatches(generateMix(LINES, 42), 100);
const context = defaultDrainContext();
const resource = { 'service.name': 'shop-web', 'heroku.app.name': 'shop-web', 'cloud.provider': 'heroku' };
const encoder = new OtlpProtoEncoder(SCOPE);

const ways: Record<string, () => number> = {
  'when sent': () => {
    let bytes = 0;
    let held: LogRecordData[] = [];
    for (const body of bodies) {
      for (const r of bodyToTelemetry(body.buf, Date.now() * 1000, context).telemetry.logs) held.push(r);
      if (held.length >= HOLD) {
        bytes += encoder.logs(resource, held).length;
        held = [];
      }
    }
    return bytes + encoder.logs(resource, held).length;
  },
  'when queued': () => {
    let bytes = 0;
    let parts: Buffer[] = [];
    let count = 0;
    for (const body of bodies) {
      const logs = bodyToTelemetry(body.buf, Date.now() * 1000, context).telemetry.logs;
      parts.push(encoder.logFragments(logs));
      count += logs.length;
      if (count >= HOLD) {
        bytes += encoder.logsOf(resource, parts).length;
        parts = [];
        count = 0;
      }
    }
    return bytes + encoder.logsOf(resource, parts).length;
  },
};

const names = Object.keys(ways);
const results = names.map((n) => ways[n]!());
// The same records, batched at other points: the bytes differ only by the requests' few prefixes.
console.error(`bytes: ${names.map((n, i) => `${n} ${results[i]}`).join(', ')}`);
const perLine = names.map(() => [] as number[]);
for (let run = 0; run < RUNS; run++) {
  for (const i of run % 2 === 0 ? [0, 1] : [1, 0]) {
    const before = process.cpuUsage();
    ways[names[i]!]!();
    const used = process.cpuUsage(before);
    perLine[i]!.push(((used.user + used.system) * 1000) / LINES);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const [sent, queued] = perLine.map(median) as [number, number];
console.log(JSON.stringify({ bench: 'encode ahead', hold: HOLD, when_sent_ns_per_line: Math.round(sent), when_queued_ns_per_line: Math.round(queued), sent_vs_queued: Number((sent / queued).toFixed(3)), runs: RUNS }));
