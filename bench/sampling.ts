/**
 * `count-then-sample`: the router-heavy mix (bench/mix.ts) and the shipped captures replayed
 * through the embedded default's pipelines into a local OTLP sink that decodes what arrives with
 * opentelemetry-proto, once as they are and once with tail_sampling after alerts (every error,
 * every request over 1 s, 10 % of the rest). Prints the kept fraction of exported log bytes
 * (protobuf, before the exporter's gzip; gzip bytes beside it), the fraction of error records
 * kept (must be 1), and whether the metrics pipeline's decoded output equals the unsampled run's.
 *
 * `node bench/sampling.ts` (BENCH_LINES, BENCH_SEED), or `BENCH_FILTER=sampling node bench/run.ts`.
 * The sidecar's own metrics (service.telemetry) are left out: they count the sampling itself.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { runReplay } from '../src/cli/replay-command.ts';
import { defaultDocument } from '../src/config/default.ts';
import { decodeOtlpBody } from '../test/support/otlp-server.ts';
import { generateMix, toLogplexBodies, TYPICAL_APP, type MixProfile } from './mix.ts';

const ROOT = new URL('../', import.meta.url).pathname;

export const SAMPLING = {
  decision_wait: '10s',
  policies: [
    { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
    { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
  ],
};

interface Received {
  logBytes: number;
  logWireBytes: number;
  logs: any[];
  metrics: any[];
}

/** A sink that keeps every decoded request, and the log requests' sizes. */
async function startSink(): Promise<{ server: Server; url: string; take: () => Received }> {
  let got: Received = { logBytes: 0, logWireBytes: 0, logs: [], metrics: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const wire = Buffer.concat(chunks);
      const path = req.url === '/v1/logs' ? '/v1/logs' : '/v1/metrics';
      const body = decodeOtlpBody(path, req.headers, wire);
      if (path === '/v1/logs') {
        got.logWireBytes += wire.length;
        got.logBytes += req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire).length : wire.length;
        got.logs.push(...body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords)));
      } else {
        got.metrics.push(...body.resourceMetrics);
      }
      res.writeHead(200, { 'content-type': String(req.headers['content-type']) });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    take: () => {
      const out = got;
      got = { logBytes: 0, logWireBytes: 0, logs: [], metrics: [] };
      return out;
    },
  };
}

const attribute = (r: any, key: string) => {
  const a = r.attributes?.find((x: any) => x.key === key);
  return a === undefined ? undefined : Object.values(a.value)[0];
};

/** A router record the latency policy must keep: connect + service of 1 s or more. */
function isSlow(r: any): boolean {
  if (r.eventName !== 'heroku.router.request') return false;
  const ms = Math.round(Number(attribute(r, 'heroku.router.connect.duration') ?? 0) * 1000) + Math.round(Number(attribute(r, 'heroku.router.service.duration') ?? 0) * 1000);
  return ms >= 1000;
}

/** An error: a router record with a 5xx or an H-code, any other record at severity ERROR or above. */
function isError(r: any): boolean {
  if (r.eventName === 'heroku.router.request') return Number(attribute(r, 'http.response.status_code') ?? 0) >= 500 || attribute(r, 'heroku.error.code') !== undefined;
  return (r.severityNumber ?? 0) >= 17;
}

/** A record's identity across the two runs; alerts' own records are stamped at wall time, so by rule and state. */
const identity = (r: any) => (attribute(r, 'heroku.alert.rule') !== undefined ? `alert\u0000${attribute(r, 'heroku.alert.rule')}\u0000${attribute(r, 'heroku.alert.state')}` : `${r.timeUnixNano}\u0000${r.body?.stringValue ?? ''}`);

/**
 * Data points as a canonical, order-free text: the metrics pipeline's output, however batched.
 * Replay stamps each export with the lines' clock, but the last one (at shutdown) with the wall
 * clock: a time at or after the run's start reads `shutdown`.
 */
function canonicalMetrics(resourceMetrics: any[], startedNs: bigint): string {
  const points: string[] = [];
  for (const rm of resourceMetrics) {
    const resource = JSON.stringify(rm.resource);
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
      const { name, unit, description } = m;
      const kind = Object.keys(m).find((k) => ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'].includes(k))!;
      for (const dp of m[kind].dataPoints) {
        const point = BigInt(dp.timeUnixNano) >= startedNs ? { ...dp, timeUnixNano: 'shutdown' } : dp;
        points.push(JSON.stringify([resource, name, unit, description, kind, m[kind].aggregationTemporality, m[kind].isMonotonic, point]));
      }
    }
  }
  return points.sort().join('\n');
}

async function replay(dir: string, name: string, sinkUrl: string, captures: string[], sampled: boolean): Promise<void> {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'shop-web', PORT: '0' };
  const { document } = defaultDocument(env);
  const service = document.service as { pipelines: Record<string, { processors: string[] }>; telemetry?: unknown };
  delete service.telemetry;
  if (sampled) {
    (document.processors as Record<string, unknown>).tail_sampling = SAMPLING;
    const logs = service.pipelines.logs!.processors;
    logs.splice(logs.indexOf('alerts') + 1, 0, 'tail_sampling');
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(document));
  const said: string[] = [];
  const { code } = await runReplay([{ kind: 'config', uri: file }], captures, {}, env, (m) => said.push(m), undefined);
  if (code !== 0) throw new Error(`replay ${name} failed: ${said.join('\n')}`);
}

export interface SamplingResult {
  bench: string;
  lines: number;
  log_records_unsampled: number;
  log_records_sampled: number;
  log_bytes_unsampled: number;
  log_bytes_sampled: number;
  log_bytes_kept: number;
  log_gzip_bytes_kept: number;
  errors: number;
  errors_kept: number;
  /** Records the deterministic policies must keep (errors, slow requests), as a fraction of all: the floor of log_bytes_kept, about. */
  must_keep_records: number;
  metrics_identical: boolean;
  metric_points: number;
}

/**
 * `profile`: the mix's router outcomes (bench/mix.ts); unset, the stress mix (about 9 % errors and
 * 8 % over a second). `count-then-sample-typical` runs TYPICAL_APP: 1 % errors, 2 % slow, app
 * lines that log their request's id (held until their router line decides them).
 */
export async function runSamplingBench(lines: number, seed: number, profile?: MixProfile, name = 'count-then-sample'): Promise<SamplingResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-sampling-bench-'));
  const capture = join(dir, 'mix.logplex');
  const shipped = ['mixed.logplex', 'heroku-logs.txt', 'syslog-drain.log'].map((f) => join(ROOT, 'examples/captures', f));
  writeFileSync(capture, Buffer.concat([...toLogplexBodies(generateMix(lines, seed, profile)).map((b) => b.buf), ...shipped.filter((f) => f.endsWith('.logplex')).map((f) => readFileSync(f))]));
  const captures = [capture, ...shipped.filter((f) => !f.endsWith('.logplex'))];
  const sink = await startSink();
  try {
    const started = [BigInt(Date.now()) * 1_000_000n];
    await replay(dir, 'unsampled', sink.url, captures, false);
    const all = sink.take();
    started.push(BigInt(Date.now()) * 1_000_000n);
    await replay(dir, 'sampled', sink.url, captures, true);
    const kept = sink.take();
    const keptIds = new Set(kept.logs.map(identity));
    const errors = all.logs.filter(isError);
    const before = canonicalMetrics(all.metrics, started[0]!);
    return {
      bench: name,
      lines,
      log_records_unsampled: all.logs.length,
      log_records_sampled: kept.logs.length,
      log_bytes_unsampled: all.logBytes,
      log_bytes_sampled: kept.logBytes,
      log_bytes_kept: Number((kept.logBytes / all.logBytes).toFixed(4)),
      log_gzip_bytes_kept: Number((kept.logWireBytes / all.logWireBytes).toFixed(4)),
      errors: errors.length,
      must_keep_records: Number((all.logs.filter((r) => isError(r) || isSlow(r)).length / all.logs.length).toFixed(4)),
      errors_kept: errors.length === 0 ? 1 : Number((errors.filter((r) => keptIds.has(identity(r))).length / errors.length).toFixed(4)),
      metrics_identical: before === canonicalMetrics(kept.metrics, started[1]!),
      metric_points: before === '' ? 0 : before.split('\n').length,
    };
  } finally {
    await new Promise((r) => sink.server.close(r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lines = Number(process.env.BENCH_LINES ?? 100_000);
  const seed = Number(process.env.BENCH_SEED ?? 42);
  console.log(JSON.stringify(await runSamplingBench(lines, seed)));
  console.log(JSON.stringify(await runSamplingBench(lines, seed, TYPICAL_APP, 'count-then-sample-typical')));
}
