/**
 * Test backends that answer as real ones do: an OTLP/HTTP server that decodes each metrics
 * request (protobuf or JSON, gzip or not: otlp-server.ts's decoding), hands it to a rule set
 * (prometheus-otlp-rules.ts for Prometheus, Mimir and Grafana Cloud; datadog-otlp-rules.ts for
 * Datadog's OTLP intake; OtlpDataModelChecker below for backends that take both temporalities),
 * and answers with the rule set's verdict: the status, a google.rpc.Status or text error body,
 * or a 200 with partial_success, in the request's encoding. Every exchange is kept with its
 * verdict for assertions.
 *
 * Several writers (sidecar instances) can share one double: each gets its own base URL
 * (`endpointFor('a')` is `<url>/w/a`, to which an exporter appends /v1/metrics), so the rule
 * sets know which instance wrote which series.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpBody } from './otlp-server.ts';
import { dataPointsOf, millis, num, TEMPORALITY, type MetricsRules, type MetricsVerdict, type PointVerdict, type RequestContext, type SeriesViolation, type StoredSample } from './prometheus-otlp-rules.ts';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const MetricsResponse = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;

// ---------------------------------------------------------------------------------------------
// Backends that accept cumulative and delta

/** Options of OtlpDataModelChecker. */
export interface OtlpDataModelOptions {
  /** Headers without which the backend answers 401 (New Relic `api-key`, Honeycomb `x-honeycomb-team`). Default none. */
  requiredHeaders?: string[];
  /** Largest body on the wire, bytes; larger is 413. Default unlimited (New Relic: 1e6). */
  maxBodyBytes?: number;
  /**
   * Delta non-monotonic sums are answered 200 and then not kept. New Relic: "Not supported since
   * data is not meaningful" (newrelic/docs-website src/content/docs/opentelemetry/best-practices/
   * opentelemetry-best-practices-metrics.mdx, "OTLP sum metrics"). Default false.
   */
  dropDeltaNonMonotonicSums?: boolean;
}

/** One OTLP metric stream (D: metric stream identity) as the backend holds it. */
export interface StreamView {
  key: string;
  metric: string;
  kind: string;
  temporality: number | undefined;
  monotonic: boolean;
  samples: StoredSample[];
  startTimes: number[];
  writers: Set<string>;
  resets: Array<{ t: number; from: number; to: number; st: number }>;
  violations: SeriesViolation[];
}

function sortedAttributes(m: Map<string, string>): string {
  return JSON.stringify([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The OpenTelemetry data model's rules, for backends documented to take both temporalities and
 * to use start times for resets (New Relic: "The Metric.*.data_points.start_time_unix_nano is
 * used to detect series resets", opentelemetry-best-practices-metrics.mdx; Honeycomb: "Counters
 * and sums: Cumulative or delta", https://docs.honeycomb.io/get-started/honeycomb/metrics-in-honeycomb;
 * an OpenTelemetry Collector's otlp receiver takes any valid OTLP). Nothing is refused for its
 * temporality; what the data model forbids is recorded per stream
 * (https://opentelemetry.io/docs/specs/otel/metrics/data-model/ #single-writer, #resets-and-gaps,
 * #sums: delta points cover non-overlapping intervals).
 */
export class OtlpDataModelChecker implements MetricsRules {
  readonly rejected: PointVerdict[] = [];
  private readonly _options: OtlpDataModelOptions;
  private readonly _streams = new Map<string, StreamView>();

  constructor(options: OtlpDataModelOptions = {}) {
    this._options = options;
  }

  streams(): StreamView[] {
    return [...this._streams.values()];
  }

  /** Cumulative monotonic streams: sums and histograms (by count) that must never drop under one start time. */
  cumulativeStreams(): StreamView[] {
    return this.streams().filter((s) => s.temporality === TEMPORALITY.CUMULATIVE && s.monotonic);
  }

  violations(): SeriesViolation[] {
    return this.streams().flatMap((s) => s.violations);
  }

  seriesKeysOf(writer: string): Set<string> {
    const out = new Set<string>();
    for (const s of this._streams.values()) if (s.writers.has(writer)) out.add(s.key);
    return out;
  }

  sharedSeries(a: string, b: string): string[] {
    return this.streams()
      .filter((s) => s.writers.has(a) && s.writers.has(b))
      .map((s) => s.key);
  }

  check(request: any, context: RequestContext = {}): MetricsVerdict {
    const writer = context.writer ?? 'default';
    const refuse = (status: number, message: string): MetricsVerdict => ({ status, message, partial: false, rejectedDataPoints: 0, errorFormat: 'status', points: [] });
    for (const h of this._options.requiredHeaders ?? []) if (context.headers?.[h] === undefined || context.headers[h] === '') return refuse(401, `missing ${h} header`);
    if (this._options.maxBodyBytes !== undefined && (context.wireBytes ?? 0) > this._options.maxBodyBytes) return refuse(413, `payload of ${context.wireBytes} bytes is over ${this._options.maxBodyBytes}`);
    const { points } = dataPointsOf(request);
    const verdicts: PointVerdict[] = points.map((p) => ({ metric: p.metric.name, attributes: Object.fromEntries(p.attributes), timeNs: p.timeNs, accepted: true }));
    points.forEach((p, i) => {
      if (this._options.dropDeltaNonMonotonicSums && p.kind === 'sum' && p.temporality === TEMPORALITY.DELTA && !p.monotonic) {
        Object.assign(verdicts[i]!, { accepted: false, rule: 'delta-non-monotonic-sum', reason: 'delta non-monotonic sums are not supported (answered 200, not kept)' });
        this.rejected.push(verdicts[i]!);
        return;
      }
      const key = `${p.metric.name}|${p.kind}|${p.metric.unit}|${p.temporality ?? ''}|${sortedAttributes(p.resource)}|${p.scope.name}@${p.scope.version}|${sortedAttributes(p.attributes)}`;
      let view = this._streams.get(key);
      const monotonic = (p.kind === 'sum' && p.monotonic) || p.kind === 'histogram' || p.kind === 'exponentialHistogram';
      if (view === undefined) {
        view = { key, metric: p.metric.name, kind: p.kind, temporality: p.temporality, monotonic, samples: [], startTimes: [], writers: new Set(), resets: [], violations: [] };
        this._streams.set(key, view);
      }
      const t = millis(p.timeNs);
      const st = millis(p.startNs);
      const v = p.kind === 'gauge' || p.kind === 'sum' ? (p.raw.asInt !== undefined ? num(p.raw.asInt) : num(p.raw.asDouble)) : num(p.raw.count);
      const prev = view.samples[view.samples.length - 1];
      const violation = (rule: SeriesViolation['rule'], message: string) => view!.violations.push({ series: key, rule, message, t, writer });
      if (p.temporality === TEMPORALITY.CUMULATIVE) {
        if (st > t) violation('start-after-time', `start time ${st} after time ${t}`);
        if (prev !== undefined && st < prev.st) violation('start-time-went-back', `start time went back from ${prev.st} to ${st} (${prev.writer} then ${writer})`);
        else if (prev !== undefined && monotonic && v < prev.v) {
          if (st === prev.st) violation('decrease-under-same-start-time', `dropped from ${prev.v} to ${v} under start time ${st} (${prev.writer} then ${writer})`);
          else view.resets.push({ t, from: prev.v, to: v, st });
        }
        if (!view.startTimes.includes(st)) view.startTimes.push(st);
      } else if (p.temporality === TEMPORALITY.DELTA && prev !== undefined && st < prev.t) {
        violation('start-time-went-back', `delta interval starting ${st} overlaps the previous one ending ${prev.t} (${prev.writer} then ${writer})`);
      }
      view.samples.push({ t, st, v, writer });
      view.writers.add(writer);
    });
    return { status: 200, message: '', partial: false, rejectedDataPoints: 0, errorFormat: 'status', points: verdicts };
  }
}

// ---------------------------------------------------------------------------------------------
// The HTTP double

/** One request the double answered. */
export interface BackendExchange {
  writer: string;
  /** Path without the writer prefix: /v1/metrics, /v1/logs or /v1/traces. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The decoded request; undefined when it could not be decoded. */
  body: any;
  status: number;
  /** Metrics only: the rule set's verdict. */
  verdict?: MetricsVerdict;
}

/** google.rpc.Status {int32 code = 1; string message = 2;} in protobuf. */
function statusProto(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  return Buffer.concat([Buffer.from([0x08, ...varint(code), 0x12, ...varint(text.length)]), text]);
}

/**
 * The first span in an ExportTraceServiceRequest (decoded, ids as hex) that breaks the OTLP data
 * model's rules for a span (opentelemetry-proto trace.proto): trace_id 16 bytes and span_id 8
 * bytes, required and not all zero; parent_span_id empty or 8 bytes; a name ("required");
 * start and end times set, end not before start; a kind. A trace backend (Tempo, Honeycomb)
 * refuses such a request.
 */
function spanProblem(body: any): string | undefined {
  for (const rs of body?.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const id = (x: unknown, hex: number) => typeof x === 'string' && x.length === hex && /^[0-9a-f]+$/.test(x) && !/^0+$/.test(x);
        if (!id(span.traceId, 32)) return `span ${span.name}: trace_id is not 16 bytes, or all zero`;
        if (!id(span.spanId, 16)) return `span ${span.name}: span_id is not 8 bytes, or all zero`;
        if (span.parentSpanId !== undefined && span.parentSpanId !== '' && !id(span.parentSpanId, 16)) return `span ${span.name}: parent_span_id is not 8 bytes`;
        if (typeof span.name !== 'string' || span.name === '') return 'a span without a name';
        const start = BigInt(span.startTimeUnixNano ?? 0);
        const end = BigInt(span.endTimeUnixNano ?? 0);
        if (start === 0n || end === 0n || end < start) return `span ${span.name}: start ${start}, end ${end}`;
        if (!span.kind) return `span ${span.name}: no kind`;
      }
    }
  }
  return undefined;
}

/** An OTLP/HTTP backend applying one rule set; see the file comment. */
export class OtlpBackendDouble<R extends MetricsRules = MetricsRules> {
  readonly rules: R;
  readonly exchanges: BackendExchange[] = [];
  private _server: Server | undefined;

  constructor(rules: R) {
    this.rules = rules;
  }

  /** Listens on loopback; resolves with the base URL. */
  async start(): Promise<string> {
    this._server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const wire = Buffer.concat(chunks);
        const url = req.url ?? '/';
        const prefixed = url.startsWith('/w/') ? url.slice(3) : undefined;
        const writer = prefixed === undefined ? 'default' : prefixed.slice(0, prefixed.indexOf('/'));
        const path = (prefixed === undefined ? url : prefixed.slice(writer.length)).split('?')[0]!;
        const json = String(req.headers['content-type']).includes('json');
        const send = (status: number, contentType: string, body: Buffer | string) => {
          res.writeHead(status, { 'content-type': contentType });
          res.end(body);
        };
        if (path !== '/v1/metrics' && path !== '/v1/logs' && path !== '/v1/traces') {
          send(404, 'text/plain', '404 page not found\n');
          return;
        }
        let body: any;
        let decodedBytes = wire.length;
        try {
          if (req.headers['content-encoding'] === 'gzip') decodedBytes = gunzipSync(wire).length;
          body = decodeOtlpBody(path, req.headers, wire);
        } catch (error) {
          this.exchanges.push({ writer, path, headers: req.headers, body: undefined, status: 400 });
          send(400, 'text/plain', `failed to decode the request: ${(error as Error).message}\n`);
          return;
        }
        if (path === '/v1/logs') {
          this.exchanges.push({ writer, path, headers: req.headers, body, status: 200 });
          send(200, json ? 'application/json' : 'application/x-protobuf', json ? '{}' : Buffer.alloc(0));
          return;
        }
        if (path === '/v1/traces') {
          const problem = spanProblem(body);
          this.exchanges.push({ writer, path, headers: req.headers, body, status: problem === undefined ? 200 : 400 });
          if (problem === undefined) send(200, json ? 'application/json' : 'application/x-protobuf', json ? '{}' : Buffer.alloc(0));
          else send(400, 'text/plain', `${problem}\n`);
          return;
        }
        const verdict = this.rules.check(body, { writer, headers: req.headers, wireBytes: wire.length, decodedBytes });
        this.exchanges.push({ writer, path, headers: req.headers, body, status: verdict.status, verdict });
        if (verdict.status >= 200 && verdict.status < 300) {
          const partialSuccess = verdict.partial ? { rejectedDataPoints: verdict.rejectedDataPoints, errorMessage: verdict.message } : undefined;
          if (json) send(verdict.status, 'application/json', JSON.stringify(partialSuccess ? { partialSuccess: { ...partialSuccess, rejectedDataPoints: String(partialSuccess.rejectedDataPoints) } } : {}));
          else send(verdict.status, 'application/x-protobuf', Buffer.from(MetricsResponse.encode(MetricsResponse.fromObject(partialSuccess ? { partialSuccess } : {})).finish()));
          return;
        }
        if (verdict.errorFormat === 'text') send(verdict.status, 'text/plain; charset=utf-8', `${verdict.message}\n`);
        else if (json) send(verdict.status, 'application/json', JSON.stringify({ code: verdict.status, message: verdict.message }));
        else send(verdict.status, 'application/x-protobuf', statusProto(verdict.status, verdict.message));
      });
    });
    await new Promise<void>((resolve) => this._server!.listen(0, '127.0.0.1', () => resolve()));
    return this.url;
  }

  /** The base URL, once started. */
  get url(): string {
    return `http://127.0.0.1:${(this._server!.address() as AddressInfo).port}`;
  }

  /** The base URL for one writer: an exporter appends /v1/metrics and /v1/logs to it. */
  endpointFor(writer: string): string {
    return `${this.url}/w/${writer}`;
  }

  /** Metrics exchanges, of one writer or all. */
  metricsExchanges(writer?: string): BackendExchange[] {
    return this.exchanges.filter((e) => e.path === '/v1/metrics' && (writer === undefined || e.writer === writer));
  }

  /** Every point verdict so far, of one writer or all. */
  pointVerdicts(writer?: string): PointVerdict[] {
    return this.metricsExchanges(writer).flatMap((e) => e.verdict?.points ?? []);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this._server ? this._server.close(() => resolve()) : resolve()));
  }
}
