/**
 * What the metrics pipeline sends for the e2e mix over a steady drain: OTLP metrics requests,
 * bytes on the wire (gzip) and uncompressed, data points, distinct series, temporality, and the
 * sidecar's peak RSS. Written to compare the per-batch export (every batch's points as deltas,
 * before the aggregation stage) with the per-interval cumulative export (after it), and runs
 * unchanged against an older checkout: its config names no processor the old code lacks.
 *
 * The real sidecar (`bin/heroku-otel-drain.js start --config`) runs the embedded default's
 * pipelines without memory_limiter and redact: a logplex receiver (accept_any_drain, loopback,
 * port 0), logs and metrics pipelines with [alerts, batch], and otlphttp (proto, gzip) into a
 * sink served by this process. The sink decodes every /v1/metrics request with
 * opentelemetry-proto's generated code; a series is a metric name with its data point's
 * attributes and its resource's attributes. The sidecar's own self-telemetry goes through the
 * metrics pipeline too: its series are counted, and also shown apart (`self_series`).
 *
 * BENCH_METRICS_DRAINS Logplex-like drains (bench/logplex-drains.ts; default 4) send the mix (generateMix, seed 7) as
 * POSTs of 100 lines, one in flight per drain, paced so that together they send
 * BENCH_METRICS_RATE lines/s (default 1000) for BENCH_METRICS_SECONDS (default 120); a drain
 * behind its schedule sends at once, and a POST answered anything but 200 is sent again with the
 * same frame id (1 s after a 503, 0.5 s otherwise) until 30 s past the run's end. Then SIGTERM,
 * and the sidecar's exit (it flushes what it holds); what arrived after the SIGTERM is also shown
 * apart (`after_sigterm_*`), since an interval export there is an extra one in a short run.
 * OTEL_METRIC_EXPORT_INTERVAL (default 60000) is passed to the sidecar; a checkout without the
 * aggregation stage ignores it. Rates per minute are over the load's seconds.
 *
 *   node bench/metrics-export.ts
 *
 * Prints one JSON line. BENCH_METRICS_VERBOSE=1 shows the sidecar's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { generateMix, toBatches } from './mix.ts';
import { sendAsDrains } from './logplex-drains.ts';
import { cpuSeconds, peakRssMb, shippedNodeFlags } from './proc.ts';

const NODE = process.execPath;
const ROOT = new URL('../', import.meta.url).pathname;

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
};
const RATE = env('BENCH_METRICS_RATE', 1000);
const SECONDS = env('BENCH_METRICS_SECONDS', 120);
const DRAINS = env('BENCH_METRICS_DRAINS', 4);
const INTERVAL_MS = env('OTEL_METRIC_EXPORT_INTERVAL', 60_000);
const BATCH = 100;
/** How long past the load's end a refused POST is still sent again. */
const RETRY_GRACE_MS = 30_000;
/** Heroku's grace period after SIGTERM, and a little more: then SIGKILL. */
const EXIT_DEADLINE_MS = 35_000;

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const MetricsRequest = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const TEMPORALITY = ['unspecified', 'delta', 'cumulative'];

/** Attributes (OTLP KeyValue list) as one string, the same whatever their order. */
function attributesKey(attributes: ReadonlyArray<{ key: string; value?: unknown }> | undefined): string {
  if (attributes === undefined || attributes.length === 0) return '';
  // The generated AnyValue's toJSON writes int64 values as strings: stable across requests.
  return attributes
    .map((kv) => `${kv.key}=${JSON.stringify(kv.value ?? null)}`)
    .sort()
    .join('\u0001');
}

/** The OTLP/HTTP backend: counts what the metrics requests hold, answers everything 200. */
class MetricsSink {
  requests = 0;
  bytesWire = 0;
  bytesRaw = 0;
  points = 0;
  logRequests = 0;
  readonly series = new Set<string>();
  readonly selfSeries = new Set<string>();
  readonly metricNames = new Set<string>();
  /** Data points per `type` or `type_temporality` (`sum_cumulative`, `histogram_delta`, `gauge`). */
  readonly temporality: Record<string, number> = {};
  readonly errors: string[] = [];
  /** Requests and wire bytes that arrived after `markSigterm()`. */
  afterSigterm = { requests: 0, bytesWire: 0, points: 0 };
  private _sigtermSent = false;
  private readonly _server: Server;

  private constructor(server: Server) {
    this._server = server;
  }

  static async start(): Promise<MetricsSink> {
    let sink: MetricsSink | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          if (req.url === '/v1/metrics') sink!._metrics(Buffer.concat(chunks), req.headers['content-encoding']);
          else if (req.url === '/v1/logs') sink!.logRequests++;
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } catch (error) {
          sink!.errors.push(String(error).slice(0, 200));
          res.writeHead(400).end(String(error));
        }
      });
    });
    sink = new MetricsSink(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get port(): number {
    return (this._server.address() as AddressInfo).port;
  }

  markSigterm(): void {
    this._sigtermSent = true;
  }

  close(): Promise<void> {
    this._server.closeAllConnections();
    return new Promise((resolve) => this._server.close(() => resolve()));
  }

  private _metrics(wire: Buffer, encoding: string | undefined): void {
    const raw = encoding === 'gzip' ? gunzipSync(wire) : encoding === 'zstd' ? zstdDecompressSync(wire) : wire;
    const request = MetricsRequest.decode(raw);
    let points = 0;
    for (const rm of request.resourceMetrics) {
      const resourceAttributes = rm.resource?.attributes ?? [];
      const resource = attributesKey(resourceAttributes);
      const self = resourceAttributes.some((kv: any) => kv.key === 'service.name' && kv.value?.stringValue === 'heroku-otel-drain');
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          this.metricNames.add(metric.name);
          const type = metric.data as string | undefined;
          const data = type === undefined ? undefined : metric[type];
          const kind = data?.aggregationTemporality === undefined ? String(type) : `${type}_${TEMPORALITY[data.aggregationTemporality] ?? data.aggregationTemporality}`;
          for (const dp of data?.dataPoints ?? []) {
            const key = `${metric.name}\u0000${attributesKey(dp.attributes)}\u0000${resource}`;
            this.series.add(key);
            if (self) this.selfSeries.add(key);
            this.temporality[kind] = (this.temporality[kind] ?? 0) + 1;
            points++;
          }
        }
      }
    }
    this.requests++;
    this.bytesWire += wire.length;
    this.bytesRaw += raw.length;
    this.points += points;
    if (this._sigtermSent) {
      this.afterSigterm.requests++;
      this.afterSigterm.bytesWire += wire.length;
      this.afterSigterm.points += points;
    }
  }
}

/** The sidecar process, started on a config file; resolves once its logplex receiver listens. */
async function startSidecar(configPath: string): Promise<{ proc: ChildProcess; port: number; exited: Promise<number | null>; log: () => string }> {
  const proc = spawn(NODE, [...shippedNodeFlags(ROOT), 'bin/heroku-otel-drain.js', 'start', '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.stdout!.resume();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sidecar did not start: ${tail.slice(-3000)}`)), 30_000);
    void exited.then((code) => reject(new Error(`the sidecar exited (${code}): ${tail.slice(-3000)}`)));
    proc.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d).slice(-20_000);
      if (process.env.BENCH_METRICS_VERBOSE === '1') process.stderr.write(d);
      const m = /logplex: listening on 127\.0\.0\.1:(\d+)/.exec(tail);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { proc, port, exited, log: () => tail };
}

function sidecarConfig(sinkPort: number): string {
  return [
    'receivers:',
    '  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }',
    'processors:',
    '  alerts: {}',
    '  batch: {}',
    'exporters:',
    `  otlphttp: { endpoint: "http://127.0.0.1:${sinkPort}", encoding: proto, compression: gzip }`,
    'service:',
    '  pipelines:',
    '    logs: { receivers: [logplex], processors: [alerts, batch], exporters: [otlphttp] }',
    '    metrics: { receivers: [logplex], processors: [alerts, batch], exporters: [otlphttp] }',
    '',
  ].join('\n');
}

export async function runMetricsExport(): Promise<Record<string, unknown>> {
  const bodies = toBatches(generateMix(Math.round(RATE * SECONDS), 7), BATCH);
  const sink = await MetricsSink.start();
  const dir = mkdtempSync(join(tmpdir(), 'hod-metrics-export-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, sidecarConfig(sink.port));
  const sidecar = await startSidecar(configPath);
  try {
    const r = await sendAsDrains(sidecar.port, { drains: DRAINS, bodies, linesPerSecond: RATE, retryGraceMs: RETRY_GRACE_MS });
    // /proc has nothing once the process is gone: read it before the SIGTERM.
    const rss = peakRssMb(sidecar.proc.pid!);
    const cpu = cpuSeconds(sidecar.proc.pid!);
    sink.markSigterm();
    sidecar.proc.kill('SIGTERM');
    const stopped = performance.now();
    let deadline: NodeJS.Timeout | undefined;
    const exitCode = await Promise.race([sidecar.exited, new Promise<'timeout'>((resolve) => (deadline = setTimeout(resolve, EXIT_DEADLINE_MS, 'timeout')))]);
    clearTimeout(deadline);
    if (exitCode === 'timeout') sidecar.proc.kill('SIGKILL');
    const exitMs = performance.now() - stopped;
    const perMin = (n: number) => Math.round((n * 60) / r.seconds);
    return {
      bench: 'metrics-export',
      lines_per_s: Math.round(r.acked / r.seconds),
      seconds: Number(r.seconds.toFixed(1)),
      lines: r.acked,
      metrics_requests: sink.requests,
      metrics_bytes_per_min_wire: perMin(sink.bytesWire),
      metrics_bytes_per_min_raw: perMin(sink.bytesRaw),
      points_per_min: perMin(sink.points),
      series: sink.series.size,
      peak_rss_mb: rss,
      temporality: sink.temporality,
      interval_ms: INTERVAL_MS,
      drains: DRAINS,
      points: sink.points,
      self_series: sink.selfSeries.size,
      metric_names: sink.metricNames.size,
      after_sigterm_requests: sink.afterSigterm.requests,
      after_sigterm_bytes_wire: sink.afterSigterm.bytesWire,
      after_sigterm_points: sink.afterSigterm.points,
      log_requests: sink.logRequests,
      lines_given_up: r.givenUp,
      retried_posts: r.retried,
      behind_ms: Math.round(r.behindMs),
      sidecar_cpu_s: cpu,
      exit_code: exitCode,
      exit_ms: Math.round(exitMs),
      sink_errors: sink.errors.length,
      ...(sink.errors.length > 0 ? { first_sink_error: sink.errors[0] } : {}),
    };
  } finally {
    if (sidecar.proc.exitCode === null && sidecar.proc.signalCode === null) sidecar.proc.kill('SIGKILL');
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runMetricsExport()));
}
