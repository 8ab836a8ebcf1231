/**
 * The embedded default config: what `heroku-otel-drain` runs with no config file, from the
 * environment alone, so that a Heroku app of its own needs only config vars.
 *
 * - `PORT` (8080 if unset): where the logplex receiver listens, on every interface when drains or
 *   basic auth are set, on loopback only otherwise (nobody else's logs get in by accident).
 * - `DRAIN_TOKENS`: the drains allowed in, comma-separated `token` or `token=app`
 *   (`d.9a1c...=shop-web,d.77b0...=shop-worker`); read the tokens with `heroku drains --json`.
 *   The app's name is the drain's service.name and heroku.app.name (Fir's name for it).
 * - `DRAIN_BASIC_AUTH`: `user:password`, as in the drain URL `https://user:password@host/logs`.
 * - `DRAIN_ACCEPT_TOKENLESS`: `true` lets in requests without a drain token (space-level drains)
 *   beside `DRAIN_TOKENS`; without it, only listed tokens get in.
 * - `OTEL_EXPORTER_OTLP_*`, as the OpenTelemetry specification defines them for the signals we
 *   export (logs, metrics; traces with `OTEL_TRACES_EXPORTER=otlp`, below): ENDPOINT (the base
 *   URL, `/v1/logs`, `/v1/metrics` and `/v1/traces` appended), HEADERS (`k=v,k2=v2`,
 *   percent-encoded), PROTOCOL (`http/protobuf`, the default, or `http/json`; `grpc` refused),
 *   COMPRESSION (`gzip`, the default here, `zstd` or `none`), TIMEOUT (milliseconds),
 *   CERTIFICATE / CLIENT_CERTIFICATE / CLIENT_KEY (PEM files: the exporter's tls ca_file /
 *   cert_file / key_file), and each as `OTEL_EXPORTER_OTLP_LOGS_*` / `_METRICS_*` / `_TRACES_*`
 *   for one signal, which wins over the general one (a per-signal ENDPOINT is a full URL, used as
 *   given; per-signal HEADERS are added to the general ones, replacing a header of the same
 *   name). Logs and metrics alike: one `otlphttp` exporter; otherwise `otlphttp/logs` and
 *   `otlphttp/metrics`. Without any endpoint, the debug exporter prints to stdout.
 * - `OTEL_TRACES_EXPORTER`: `otlp` adds a traces pipeline (a SERVER span per router line;
 *   memory_limiter, redact and batch, as the logs pipeline has them), `console` sends its spans
 *   to the debug exporter, `none` makes none: the default here (the specification's is `otlp`),
 *   since every span adds to the backend's bill. A comma-separated list takes several. Traces
 *   sent as the logs are (endpoint aside) go through the logs' exporter, otherwise through their
 *   own `otlphttp/traces`.
 * - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`: the resource of every drain.
 * - `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds, default 60000): how often the aggregated
 *   metrics go out (the interval processor's `interval`), and the sidecar's own metrics
 *   (`otelcol_*`, service.name heroku-otel-drain), which a periodic OTLP reader
 *   (service.telemetry.metrics.readers) sends to the same endpoint with the same headers.
 * - `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: `cumulative` (the default: what
 *   Prometheus, Grafana Cloud's Mimir and New Relic take), `delta` (Datadog: every sum and
 *   histogram as the change since the previous export), or `lowmemory` (as the SDK reads it:
 *   counts and histograms as deltas, the running totals a source reports, such as a dyno's
 *   pgpgin, cumulative).
 * - `DRAIN_QUEUE_DIRECTORY` (default `$TMPDIR/heroku-otel-drain-queue-$PORT`) and
 *   `DRAIN_QUEUE_MAX_SIZE_MIB` (default 512; `0` keeps the queue in memory only): with an OTLP
 *   endpoint, what was answered 200 waits on disk while the backend is down, so an outage longer
 *   than Logplex's patience (it shrinks a failing drain's buffer after 5 minutes) loses nothing.
 *   On Heroku the dyno's disk lasts until the dyno restarts; on a VM or in Kubernetes with a
 *   volume, point the directory at it and it lasts across restarts too.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromEnv } from '../translate/resource.ts';
import { METRIC_HEROKU_DYNO_MEMORY_PGPGIN, METRIC_HEROKU_DYNO_MEMORY_PGPGOUT, METRIC_HEROKU_REDIS_EVICTED_KEYS } from '../semconv/metrics.ts';

/**
 * The metrics a source reports as its own running total (`total` points): what the SDK's
 * `lowmemory` keeps cumulative, as it does observable counters. test/config-default.test.ts
 * checks the list against what translation makes of every sample line.
 */
export const RUNNING_TOTAL_METRICS: readonly string[] = [METRIC_HEROKU_DYNO_MEMORY_PGPGIN, METRIC_HEROKU_DYNO_MEMORY_PGPGOUT, METRIC_HEROKU_REDIS_EVICTED_KEYS];

export interface DefaultDocument {
  document: Record<string, unknown>;
  /** Problems with the environment itself (a malformed variable), each naming the variable. */
  problems: string[];
  warnings: string[];
}

/**
 * An environment value as a message may quote it: a short word such as `grpc` or `brotli` as it
 * is; anything longer or stranger, which may be a secret set in the wrong variable, not at all.
 */
function quoted(value: string): string {
  return /^[a-z0-9/._-]{1,12}$/.test(value) ? `"${value}"` : 'the value (not shown)';
}

function otlpHeaders(raw: string | undefined, problems: string[], variable = 'OTEL_EXPORTER_OTLP_HEADERS'): Record<string, string> {
  const out: Record<string, string> = {};
  const pairs = (raw ?? '').split(',');
  pairs.forEach((pair, i) => {
    if (pair.trim() === '') return;
    const eq = pair.indexOf('=');
    // A header value is a credential; a pair without `=` may be one pasted alone: neither is shown.
    const key = eq > 0 ? /^[A-Za-z0-9-]{1,40}$/.exec(pair.slice(0, eq).trim())?.[0] : undefined;
    try {
      if (eq <= 0) throw new Error();
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      problems.push(`${variable}: ${key !== undefined ? `the "${key}" entry` : `entry ${i + 1}`} is not key=value with percent-encoded parts`);
    }
  });
  return out;
}

type Signal = 'logs' | 'metrics' | 'traces';

/** What `OTEL_TRACES_EXPORTER` asks for: an OTLP exporter, the debug exporter (`console`), both, or neither. */
interface TracesExporters {
  otlp: boolean;
  console: boolean;
}

/**
 * `OTEL_TRACES_EXPORTER` as the specification reads it (a comma-separated list, case-insensitive,
 * empty as unset), except its default: `none` here, since every span is billed by the backend.
 */
function tracesExporters(env: NodeJS.ProcessEnv, problems: string[]): TracesExporters {
  const names = new Set((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== ''));
  for (const name of names) {
    if (name !== 'otlp' && name !== 'console' && name !== 'none') problems.push(`OTEL_TRACES_EXPORTER: ${quoted(name)} is not supported; use otlp, console (the debug exporter on stdout) or none`);
  }
  if (names.has('none') && names.size > 1) problems.push('OTEL_TRACES_EXPORTER: none cannot be listed with other exporters');
  return { otlp: names.has('otlp'), console: names.has('console') };
}

/** One signal's exporter settings, as the specification reads them: `OTEL_EXPORTER_OTLP_{LOGS,METRICS,TRACES}_X` over `OTEL_EXPORTER_OTLP_X`. */
interface SignalSettings {
  protocol: string;
  /** The general headers, with the signal's own over them (Honeycomb: the team key for both, the dataset for metrics). */
  headers: Record<string, string>;
  compression: string | undefined;
  timeout: string | undefined;
  tls: Record<string, string> | undefined;
}

function signalSettings(env: NodeJS.ProcessEnv, signal: 'LOGS' | 'METRICS' | 'TRACES', problems: string[], said: Set<string>): SignalSettings {
  const read = (name: string): { variable: string; value: string } | undefined => {
    for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
      const value = env[variable]?.trim();
      if (value) return { variable, value };
    }
    return undefined;
  };
  // A variable every signal reads is checked once.
  const problem = (variable: string, message: string) => {
    if (said.has(variable)) return;
    said.add(variable);
    problems.push(`${variable}: ${message}`);
  };
  const protocol = read('PROTOCOL') ?? { variable: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' };
  if (protocol.value !== 'http/protobuf' && protocol.value !== 'http/json') {
    problem(protocol.variable, `${quoted(protocol.value)} is not supported; use http/protobuf or http/json${protocol.value === 'grpc' ? ' (this build sends OTLP over HTTP only)' : ''}`);
  }
  const generalProblems: string[] = [];
  const headers = otlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, generalProblems);
  const ownProblems: string[] = [];
  const own = otlpHeaders(env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`], ownProblems, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`);
  // Header names are case-insensitive: the signal's `X-Api-Key` replaces a general `x-api-key`.
  const ownNames = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  for (const name of Object.keys(headers)) if (ownNames.has(name.toLowerCase())) delete headers[name];
  Object.assign(headers, own);
  for (const m of [...generalProblems, ...ownProblems]) {
    if (said.has(m)) continue;
    said.add(m);
    problems.push(m);
  }
  let compression: string | undefined;
  const c = read('COMPRESSION');
  if (c) {
    if (c.value === 'gzip' || c.value === 'none' || c.value === 'zstd') compression = c.value;
    else problem(c.variable, `${quoted(c.value)} is not supported; use gzip, zstd or none`);
  }
  let timeout: string | undefined;
  const t = read('TIMEOUT');
  if (t) {
    // Milliseconds, by the specification.
    if (/^\d+$/.test(t.value) && Number(t.value) > 0) timeout = `${t.value}ms`;
    else problem(t.variable, `${quoted(t.value)} is not a number of milliseconds above 0`);
  }
  // PEM files: the backend's CA (tls.ca_file), and this client's certificate and key for mutual
  // TLS (tls.cert_file, tls.key_file).
  const ca = read('CERTIFICATE');
  const cert = read('CLIENT_CERTIFICATE');
  const key = read('CLIENT_KEY');
  const alone = cert === undefined ? key : key === undefined ? cert : undefined;
  if (alone !== undefined) {
    const partner = alone === cert ? 'CLIENT_KEY' : 'CLIENT_CERTIFICATE';
    problem(alone.variable, `is set without OTEL_EXPORTER_OTLP_${partner} (or OTEL_EXPORTER_OTLP_${signal}_${partner}): a client certificate and its key go together`);
  }
  const tls = ca || cert || key ? { ...(ca ? { ca_file: ca.value } : {}), ...(cert ? { cert_file: cert.value } : {}), ...(key ? { key_file: key.value } : {}) } : undefined;
  return { protocol: protocol.value, headers, compression, timeout, tls };
}

export function defaultDocument(env: NodeJS.ProcessEnv): DefaultDocument {
  const problems: string[] = [];
  const warnings: string[] = [];
  const drains: Array<{ token: string; resource: Record<string, string> }> = [];
  for (const entry of (env.DRAIN_TOKENS ?? '').split(',')) {
    const item = entry.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const token = eq < 0 ? item : item.slice(0, eq).trim();
    const app = eq < 0 ? '' : item.slice(eq + 1).trim();
    drains.push({ token, resource: app ? { 'service.name': app, 'heroku.app.name': app } : {} });
  }
  let basicAuth: { username: string; password: string } | undefined;
  if (env.DRAIN_BASIC_AUTH) {
    const colon = env.DRAIN_BASIC_AUTH.indexOf(':');
    if (colon <= 0 || colon === env.DRAIN_BASIC_AUTH.length - 1) problems.push('DRAIN_BASIC_AUTH: expected user:password');
    else basicAuth = { username: env.DRAIN_BASIC_AUTH.slice(0, colon), password: env.DRAIN_BASIC_AUTH.slice(colon + 1) };
  }
  const tokenless = env.DRAIN_ACCEPT_TOKENLESS?.trim().toLowerCase();
  if (tokenless !== undefined && tokenless !== '' && tokenless !== 'true' && tokenless !== 'false') problems.push('DRAIN_ACCEPT_TOKENLESS: expected true or false');
  const open = drains.length === 0 && basicAuth === undefined;
  const port = env.PORT?.trim() || '8080';
  const logplex: Record<string, unknown> = {
    endpoint: `${open ? '127.0.0.1' : '0.0.0.0'}:${port}`,
    drains,
    resource: resourceFromEnv(env, (message) => warnings.push(message)),
    ...(basicAuth ? { basic_auth: basicAuth } : {}),
    ...(tokenless === 'true' ? { accept_tokenless_drains: true } : {}),
  };
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // Signal-specific endpoints are used as given, as the OpenTelemetry specification says.
  const logsEndpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?.trim();
  const metricsEndpoint = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim();
  const traces = tracesExporters(env, problems);
  const tracesEndpoint = traces.otlp ? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() : undefined;
  let exporterId = 'debug';
  let ownMetrics: Record<string, unknown> | undefined;
  const exporters: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  let logsExporterId = 'debug';
  let tracesOtlpExporterId = 'debug';
  if (endpoint || logsEndpoint || metricsEndpoint || tracesEndpoint) {
    const said = new Set<string>();
    const bySignal = {
      logs: signalSettings(env, 'LOGS', problems, said),
      metrics: signalSettings(env, 'METRICS', problems, said),
      traces: traces.otlp ? signalSettings(env, 'TRACES', problems, said) : undefined,
    };
    const exporterOf = (settings: SignalSettings, signals: ReadonlySet<Signal>): Record<string, unknown> => ({
      // The specification's default for a signal without an endpoint of its own.
      endpoint: endpoint || 'http://localhost:4318',
      ...(logsEndpoint && signals.has('logs') ? { logs_endpoint: logsEndpoint } : {}),
      ...(metricsEndpoint && signals.has('metrics') ? { metrics_endpoint: metricsEndpoint } : {}),
      ...(tracesEndpoint && signals.has('traces') ? { traces_endpoint: tracesEndpoint } : {}),
      encoding: settings.protocol === 'http/json' ? 'json' : 'proto',
      headers: settings.headers,
      ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
      ...(settings.timeout !== undefined ? { timeout: settings.timeout } : {}),
      ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    });
    // One exporter per distinct way of sending: the logs' takes the metrics and the traces sent
    // alike; a per-signal variable that makes one differ gives that signal its own.
    const same = (a: SignalSettings, b: SignalSettings) => JSON.stringify(a) === JSON.stringify(b);
    const groups: Array<{ settings: SignalSettings; signals: Set<Signal> }> = [{ settings: bySignal.logs, signals: new Set(['logs']) }];
    const place = (signal: Signal, settings: SignalSettings) => {
      if (same(settings, bySignal.logs)) groups[0]!.signals.add(signal);
      else groups.push({ settings, signals: new Set([signal]) });
    };
    place('metrics', bySignal.metrics);
    if (bySignal.traces !== undefined) place('traces', bySignal.traces);
    // `otlphttp` while logs and metrics share it (as before traces), else named by its first signal.
    const idOf = (signals: ReadonlySet<Signal>) => (groups.length === 1 || (signals.has('logs') && signals.has('metrics')) ? 'otlphttp' : `otlphttp/${[...signals][0]!}`);
    const built: Array<[string, Record<string, unknown>]> = groups.map((g) => [idOf(g.signals), exporterOf(g.settings, g.signals)]);
    const idFor = (signal: Signal) => idOf(groups.find((g) => g.signals.has(signal))!.signals);
    const metricsExporter = built.find(([id]) => id === idFor('metrics'))![1];
    const maxSize = env.DRAIN_QUEUE_MAX_SIZE_MIB?.trim() || '512';
    if (!/^\d+(\.\d+)?$/.test(maxSize)) problems.push(`DRAIN_QUEUE_MAX_SIZE_MIB: ${quoted(maxSize)} is not a number of MiB (0: keep the queue in memory)`);
    else if (Number(maxSize) > 0) {
      extensions.file_storage = {
        // Port 0 (any port) names no instance: this process's own directory then.
        directory: env.DRAIN_QUEUE_DIRECTORY?.trim() || join(tmpdir(), `heroku-otel-drain-queue-${port === '0' ? `pid${process.pid}` : port}`),
        create_directory: true,
        max_size_mib: Number(maxSize),
      };
      // On disk, the budget bounds the queue: retry until the backend is back, however long.
      for (const [, e] of built) {
        e.sending_queue = { storage: 'file_storage' };
        e.retry_on_failure = { max_elapsed_time: 0 };
      }
    }
    logsExporterId = idFor('logs');
    exporterId = idFor('metrics');
    if (bySignal.traces !== undefined) tracesOtlpExporterId = idFor('traces');
    // The sidecar's own metrics go where the data's metrics go, by the Collector's periodic OTLP
    // reader (service.telemetry), not through the data's pipelines: same URL, headers and protocol.
    const ownEndpoint = metricsEndpoint || (endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/metrics` : undefined);
    // A malformed endpoint is the exporter's problem already: said once.
    if (ownEndpoint !== undefined && /^https?:\/\//.test(ownEndpoint) && URL.canParse(ownEndpoint)) {
      const temporality = env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE?.trim().toLowerCase();
      const every = env.OTEL_METRIC_EXPORT_INTERVAL?.trim();
      ownMetrics = {
        periodic: {
          ...(every && /^\d+$/.test(every) && Number(every) > 0 ? { interval: Number(every) } : {}),
          exporter: {
            otlp: {
              protocol: bySignal.metrics.protocol === 'http/json' ? 'http/json' : 'http/protobuf',
              endpoint: ownEndpoint,
              headers: metricsExporter.headers,
              compression: metricsExporter.compression === 'none' ? 'none' : 'gzip',
              ...(typeof metricsExporter.timeout === 'string' ? { timeout: metricsExporter.timeout } : {}),
              ...(bySignal.metrics.tls?.ca_file ? { certificate: bySignal.metrics.tls.ca_file } : {}),
              ...(bySignal.metrics.tls?.cert_file ? { client_certificate: bySignal.metrics.tls.cert_file } : {}),
              ...(bySignal.metrics.tls?.key_file ? { client_key: bySignal.metrics.tls.key_file } : {}),
              temporality_preference: temporality === 'delta' ? 'delta' : temporality === 'lowmemory' ? 'low_memory' : 'cumulative',
            },
          },
        },
      };
    }
    for (const [id, e] of built) exporters[id] = e;
  } else {
    exporters.debug = { verbosity: 'basic' };
    const unused = Object.keys(env).filter((name) => name.startsWith('OTEL_EXPORTER_OTLP_') && !name.endsWith('_TEMPORALITY_PREFERENCE') && (traces.otlp || !name.startsWith('OTEL_EXPORTER_OTLP_TRACES_')) && env[name]?.trim());
    if (unused.length > 0) warnings.push(`${unused.sort().join(', ')}: set, but no OTEL_EXPORTER_OTLP_ENDPOINT (or _LOGS_ / _METRICS_${traces.otlp ? ' / _TRACES_' : ''}ENDPOINT) is: the debug exporter prints what arrives to stdout instead`);
  }
  // Traces are off by default here, unlike in the SDKs: say so to whoever set traces variables.
  const unsentTraces = traces.otlp ? [] : Object.keys(env).filter((name) => name.startsWith('OTEL_EXPORTER_OTLP_TRACES_') && env[name]?.trim());
  if (unsentTraces.length > 0) warnings.push(`${unsentTraces.sort().join(', ')}: set, but OTEL_TRACES_EXPORTER is not otlp: no traces are sent (they are off unless OTEL_TRACES_EXPORTER=otlp)`);
  const tracesExporterIds = [...new Set([...(traces.otlp ? [tracesOtlpExporterId] : []), ...(traces.console ? ['debug'] : [])])];
  if (tracesExporterIds.includes('debug')) exporters.debug = { verbosity: 'basic' };
  // Data is refused (503, Logplex keeps it) above 70 % of the dyno's or container's memory, well
  // before R14 (memory_limiter); secrets in request paths and app output are masked before
  // anything leaves (redact); the built-in alert pack watches both signals and writes its alerts
  // into the logs.
  const metricsProcessors = ['memory_limiter', 'alerts', 'interval'];
  const interval: Record<string, unknown> = {};
  const intervalMs = env.OTEL_METRIC_EXPORT_INTERVAL?.trim();
  if (intervalMs) {
    if (/^\d+$/.test(intervalMs) && Number(intervalMs) > 0) interval.interval = `${intervalMs}ms`;
    else problems.push(`OTEL_METRIC_EXPORT_INTERVAL: ${quoted(intervalMs)} is not a number of milliseconds above 0`);
  }
  const processors: Record<string, unknown> = { memory_limiter: { check_interval: '1s', limit_percentage: 85, spike_limit_percentage: 15 }, redact: {}, alerts: {}, interval, batch: {} };
  // Case-insensitive, as the SDKs read it.
  const temporality = env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE?.trim().toLowerCase();
  if (temporality === 'delta' || temporality === 'lowmemory') {
    processors.cumulativetodelta = temporality === 'delta' ? {} : { exclude: { match_type: 'strict', metrics: [...RUNNING_TOTAL_METRICS] } };
    metricsProcessors.push('cumulativetodelta');
  } else if (temporality && temporality !== 'cumulative') {
    problems.push(`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: ${quoted(temporality)} is not one of cumulative, delta, lowmemory`);
  }
  metricsProcessors.push('batch');
  const document = {
    receivers: { logplex },
    processors,
    exporters,
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
    service: {
      ...(Object.keys(extensions).length > 0 ? { extensions: Object.keys(extensions) } : {}),
      ...(ownMetrics !== undefined ? { telemetry: { metrics: { readers: [ownMetrics] } } } : {}),
      pipelines: {
        logs: { receivers: ['logplex'], processors: ['memory_limiter', 'redact', 'alerts', 'batch'], exporters: [logsExporterId] },
        metrics: { receivers: ['logplex'], processors: metricsProcessors, exporters: [exporterId] },
        // A SERVER span per router line; the logs' processors but alerts, which reads no spans.
        ...(tracesExporterIds.length > 0 ? { traces: { receivers: ['logplex'], processors: ['memory_limiter', 'redact', 'batch'], exporters: tracesExporterIds } } : {}),
      },
    },
  };
  // These values come from the environment already: a `$` in a password is a `$`, not a reference.
  return { document: escapeDollars(document) as Record<string, unknown>, problems, warnings };
}

function escapeDollars(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$/g, '$$$$');
  if (Array.isArray(value)) return value.map(escapeDollars);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)]));
  return value;
}
