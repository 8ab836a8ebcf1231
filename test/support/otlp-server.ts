/**
 * A local OTLP/HTTP backend for tests: decodes what it receives with the protobuf code generated
 * from opentelemetry-proto (not with our encoder's inverse), or as OTLP/JSON, gunzipping first, and
 * answers from a script of statuses (then 200).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const collector = root.opentelemetry.proto.collector;
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  /** The request as a plain object; trace and span ids as hex. */
  body: any;
}

function hexIds(value: any): any {
  if (Array.isArray(value)) return value.map(hexIds);
  if (value && typeof value === 'object') {
    const out: any = {};
    for (const [k, v] of Object.entries(value)) out[k] = (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : hexIds(v);
    return out;
  }
  return value;
}

/**
 * The request body as a plain object, the way every test backend here reads it: gunzipped when
 * the request says gzip, then OTLP/JSON parsed or protobuf decoded (logs on `/v1/logs`, spans on
 * `/v1/traces`, metrics on any other path), trace, span and parent span ids as hex.
 */
export function decodeOtlpBody(path: string, headers: IncomingMessage['headers'], body: Buffer): any {
  const raw = headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  if (String(headers['content-type']).includes('json')) return JSON.parse(raw.toString('utf8'));
  const type = path.endsWith('/v1/logs')
    ? collector.logs.v1.ExportLogsServiceRequest
    : path.endsWith('/v1/traces')
      ? collector.trace.v1.ExportTraceServiceRequest
      : collector.metrics.v1.ExportMetricsServiceRequest;
  return hexIds(type.toObject(type.decode(raw), TO_OBJECT));
}

/** The path a request's body is decoded as: its own for logs and traces, metrics for any other. */
function signalPath(url: string | undefined): string {
  return url === '/v1/logs' || url === '/v1/traces' ? url : '/v1/metrics';
}

export class OtlpTestServer {
  readonly requests: ReceivedRequest[] = [];
  /**
   * Answers to give, in order; then 200. A 2xx records the request and answers `body` (an OTLP
   * partial success, say); any other status records nothing. `delayMs` holds the answer back.
   */
  script: Array<{ status: number; headers?: Record<string, string>; body?: string | Buffer; delayMs?: number }> = [];
  /** Log requests with more records than this are answered 413, as a backend's size limit. */
  maxLogRecords: number | undefined;
  /** Trace requests with more spans than this are answered 413. */
  maxSpans: number | undefined;
  private _server: Server | undefined;

  async start(): Promise<string> {
    this._server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const next = this.script.shift();
        const answer = (status: number, headers: Record<string, string>, body: string | Buffer) => {
          const send = () => {
            if (res.destroyed) return;
            res.writeHead(status, headers);
            res.end(body);
          };
          if (next?.delayMs) setTimeout(send, next.delayMs);
          else send();
        };
        if (next && (next.status < 200 || next.status > 299)) {
          answer(next.status, { 'content-type': 'text/plain', ...next.headers }, next.body ?? 'scripted failure');
          return;
        }
        const body = decodeOtlpBody(signalPath(req.url), req.headers, Buffer.concat(chunks));
        const items = req.url === '/v1/logs' ? body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords)).length : 0;
        const spans = req.url === '/v1/traces' ? (body.resourceSpans ?? []).flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans ?? [])).length : 0;
        if ((this.maxLogRecords !== undefined && items > this.maxLogRecords) || (this.maxSpans !== undefined && spans > this.maxSpans)) {
          answer(413, { 'content-type': 'text/plain' }, 'request entity too large');
          return;
        }
        this.requests.push({ path: req.url ?? '', headers: req.headers, body });
        const json = String(req.headers['content-type']).includes('json');
        answer(next?.status ?? 200, { 'content-type': String(req.headers['content-type']), ...next?.headers }, next?.body ?? (json ? '{}' : ''));
      });
    });
    await new Promise<void>((resolve) => this._server!.listen(0, '127.0.0.1', () => resolve()));
    return this.url;
  }

  /** The base URL, once started. */
  get url(): string {
    return `http://127.0.0.1:${(this._server!.address() as AddressInfo).port}`;
  }

  /** Every log record received, in order. */
  logRecords(): any[] {
    return this.requests.filter((r) => r.path === '/v1/logs').flatMap((r) => r.body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords)));
  }

  metrics(): any[] {
    return this.requests.filter((r) => r.path === '/v1/metrics').flatMap((r) => r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics)));
  }

  /** Every span received, in order. */
  spans(): any[] {
    return this.requests.filter((r) => r.path === '/v1/traces').flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans ?? [])));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this._server ? this._server.close(() => resolve()) : resolve()));
  }
}
