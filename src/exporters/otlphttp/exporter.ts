/**
 * The `otlphttp` exporter: OTLP over HTTP (protobuf or JSON; gzip, zstd or none), as the Collector's.
 * Our pipeline does the batching, queueing and retry schedule (the SDK's batch processor drops
 * records when its queue is full; ours answers Logplex 503 instead): this encodes one batch,
 * sends it with undici over kept-alive connections, and says how it went: exported, partly
 * rejected (OTLP partial success), worth retrying (429/502/503/504, timeouts, unreachable, with
 * the backend's Retry-After) or refused for good (any other status, with the backend's message).
 *
 * The encoders are ours (proto.ts, otlp-json.ts) rather than the SDK's for speed: see proto.ts.
 */
import { promisify } from 'node:util';
import { constants as zlibConstants, gzip as gzipCallback, zstdCompress as zstdCallback } from 'node:zlib';
import type { ConnectionOptions } from 'node:tls';
import type { buildConnector, Dispatcher } from 'undici';
import { undici } from '../../undici.ts';
import { clientTlsOptions, describeTlsFailure, TlsConfigError } from '../../config/tls.ts';
import type { ClientAuthenticator } from '../../service/component.ts';
import type { Logger } from '../../service/log.ts';
import { logsRequest, metricsRequest, tracesRequest } from '../../translate/otlp-json.ts';
import type { Attributes, LogRecordData, SpanData } from '../../translate/telemetry.ts';
import { SCOPE, urlForLogs, type EncodedItems, type ExportBatch, type ExportDetail, type ExportResult, type ExportSignal, type Exporter, type WireForm } from '../exporter.ts';
import type { OtlphttpConfig } from './config.ts';
import { OtlpProtoEncoder } from './proto.ts';
import { partialSuccess, statusMessage } from './response.ts';

const gzip = promisify(gzipCallback);
const zstd = promisify(zstdCallback);

/** Statuses OTLP/HTTP says to retry; anything else from the backend is a permanent refusal. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** What we read of a response body: enough for a partial success or an error message. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * zlib's output buffer. Its default (16 KiB) makes a batch of megabytes a hundred round trips
 * between the thread pool and a busy event loop, each waiting for the loop: one or two suffice.
 */
const COMPRESS_CHUNK = 1 << 20;

/** TLS errors kept for the message of the request that met them (see TlsAlerts). */
const MAX_TLS_ALERTS = 64;

/**
 * TLS errors of our sockets, by local port. With TLS 1.3 a backend refuses a client certificate
 * after the handshake, and undici reports only "other side closed": the alert the socket got
 * says what happened.
 */
class TlsAlerts {
  private readonly _byPort = new Map<number, { code: string; message: string }>();
  watch(socket: { localPort?: number | undefined; on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown }): void {
    socket.on('error', (error) => {
      if (socket.localPort === undefined || error.code === undefined || !error.code.startsWith('ERR_SSL_')) return;
      if (this._byPort.size >= MAX_TLS_ALERTS) this._byPort.delete(this._byPort.keys().next().value!);
      this._byPort.set(socket.localPort, { code: error.code, message: error.message });
    });
  }
  take(port: number | undefined): { code: string; message: string } | undefined {
    if (port === undefined) return undefined;
    const alert = this._byPort.get(port);
    this._byPort.delete(port);
    return alert;
  }
}

/** How long shutdown waits for requests still in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 2000;

const USER_AGENT = `${SCOPE.name}/${SCOPE.version}`;

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

type Signal = ExportSignal;

/** The order a batch holding several signals sends them in. */
const SIGNALS: readonly Signal[] = ['logs', 'metrics', 'traces'];

/** How many items of one signal a batch holds. */
function countOf(signal: Signal, batch: ExportBatch): number {
  if (batch.encoded !== undefined) return batch.encoded.signal === signal ? batch.encoded.count : 0;
  return signal === 'logs' ? batch.logs.length : signal === 'metrics' ? batch.metrics.length : (batch.spans?.length ?? 0);
}

/** The first `n` items of an encoded batch, or the rest after them (`rest`). */
function encodedPart(encoded: EncodedItems, wire: WireForm, n: number, rest: boolean): EncodedItems {
  const whole = encoded.parts.length === 1 ? encoded.parts[0]! : Buffer.concat(encoded.parts);
  const [head, tail] = wire.split(whole, n);
  return rest ? { signal: encoded.signal, count: encoded.count - n, parts: [tail] } : { signal: encoded.signal, count: n, parts: [head] };
}

/** Items [from, to) of a batch's `signal`, as a batch of that signal alone (`to`: its end, or `from` 0). */
function partOf(signal: Signal, batch: ExportBatch, from: number, to: number, wire: WireForm): ExportBatch {
  const resource = batch.resource;
  if (batch.encoded !== undefined) {
    // Halves only: the first `to` items, or those from `from` to the end.
    const encoded = from === 0 ? encodedPart(batch.encoded, wire, to, false) : encodedPart(batch.encoded, wire, from, true);
    return { resource, logs: [], metrics: [], encoded };
  }
  if (signal === 'logs') return { resource, logs: batch.logs.slice(from, to), metrics: [] };
  if (signal === 'metrics') return { resource, logs: [], metrics: batch.metrics.slice(from, to) };
  return { resource, logs: [], metrics: [], spans: (batch.spans ?? []).slice(from, to) };
}

/** Turns a batch into request bytes: our protobuf encoder, or OTLP/JSON. */
interface Encoder {
  encode(signal: Signal, batch: ExportBatch): Uint8Array;
}

class ProtoEncoder implements Encoder {
  private readonly _encoder = new OtlpProtoEncoder(SCOPE);
  encode(signal: Signal, batch: ExportBatch): Uint8Array {
    const encoded = batch.encoded;
    if (encoded !== undefined) return signal === 'logs' ? this._encoder.logsOf(batch.resource, encoded.parts) : this._encoder.spansOf(batch.resource, encoded.parts);
    if (signal === 'logs') return this._encoder.logs(batch.resource, batch.logs);
    if (signal === 'metrics') return this._encoder.metrics(batch.resource, batch.metrics);
    return this._encoder.spans(batch.resource, batch.spans ?? []);
  }
}

/** Fields of a message, each a one-byte tag, a varint length and that many bytes: ends at the end of the buffer. */
function skipField(bytes: Uint8Array, at: number): number {
  let length = 0;
  let shift = 0;
  let p = at + 1;
  for (;;) {
    const b = bytes[p++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return p + length;
}

/**
 * The protobuf encoding's wire form: log records and spans as the repeated fields of their
 * request (ScopeLogs.log_records, ScopeSpans.spans), which a request wraps as they are. Metric
 * points stay objects: a request groups them by metric, across everything it holds.
 */
class OtlpProtoWire implements WireForm {
  readonly name = 'otlp-proto-1';
  /** Its own encoder: a queue encodes as it takes items, while requests use theirs. */
  private readonly _encoder = new OtlpProtoEncoder(SCOPE, 64 * 1024);
  /** False with the JSON encoding: its queues then hold objects (it still sends what a protobuf run left stored). */
  private readonly _queueEncodes: boolean;
  constructor(queueEncodes: boolean) {
    this._queueEncodes = queueEncodes;
  }
  encodes(signal: Signal): boolean {
    return this._queueEncodes && signal !== 'metrics';
  }
  encode(signal: Signal, items: readonly unknown[]): Uint8Array {
    return signal === 'logs' ? this._encoder.logFragments(items as LogRecordData[]) : this._encoder.spanFragments(items as SpanData[]);
  }
  split(bytes: Uint8Array, n: number): [Uint8Array, Uint8Array] {
    let at = 0;
    for (let i = 0; i < n && at < bytes.length; i++) at = skipField(bytes, at);
    return [bytes.subarray(0, at), bytes.subarray(at)];
  }
}

class JsonEncoder implements Encoder {
  encode(signal: Signal, batch: ExportBatch): Uint8Array {
    const body =
      signal === 'logs' ? logsRequest(batch.resource, SCOPE, batch.logs) : signal === 'metrics' ? metricsRequest(batch.resource, SCOPE, batch.metrics) : tracesRequest(batch.resource, SCOPE, batch.spans ?? []);
    return Buffer.from(JSON.stringify(body), 'utf8');
  }
}

/** At most `limit` holders at once; the rest wait their turn, in order. */
class Slots {
  private _free: number;
  private readonly _waiting: Array<() => void> = [];
  constructor(limit: number) {
    this._free = limit;
  }
  acquire(): Promise<void> | undefined {
    if (this._free > 0) {
      this._free--;
      return undefined;
    }
    return new Promise((resolve) => this._waiting.push(resolve));
  }
  release(): void {
    const next = this._waiting.shift();
    if (next !== undefined) next();
    else this._free++;
  }
}

/** What one export call sent: summed over its requests (every signal, 413 halves). */
interface Sent {
  bytes: number;
  status: number | undefined;
}

/**
 * Userinfo in an endpoint (`https://user:password@host`) as Go's HTTP client, and so the
 * Collector, uses it: Basic authorization. undici would drop it silently and the backend answer 401.
 */
function basicAuthOf(url: string): string | undefined {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}

/** The URL requests go to: without userinfo, which travels as a header instead. */
function withoutUserinfo(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** What the service gives an exporter besides its config. */
export interface OtlphttpOptions {
  log?: Logger;
  /** The extension `auth.authenticator` names, resolved. */
  auth?: ClientAuthenticator;
}

export class OtlphttpExporter implements Exporter {
  readonly id: string;
  /** Where each signal goes; traces only with `endpoint` or `traces_endpoint`. */
  readonly endpoints: Readonly<Partial<Record<Signal, string>>>;
  /**
   * With the protobuf encoding, its queues hold records and spans encoded, once, as they take
   * them. With JSON they hold objects; what a protobuf run left in storage is still sent, as
   * protobuf (which every OTLP/HTTP server must take), rather than lost.
   */
  readonly wire: WireForm;
  private readonly _config: OtlphttpConfig;
  private readonly _urls: Partial<Record<Signal, string>>;
  /** An Agent, or a ProxyAgent with proxy_url; replaced when tls.reload_interval finds new files. */
  private _agent: Dispatcher;
  /** Dispatchers replaced by a reload, closing once their requests are done. */
  private readonly _retired = new Set<Promise<void>>();
  /** The TLS options in use (the last pair reload_interval found). */
  private _tls: ConnectionOptions | undefined;
  /** tls.reload_interval: when cert_file and key_file are read again (ms since the epoch); undefined: never. */
  private _reloadAt: number | undefined;
  private readonly _headers: Record<string, string>;
  private readonly _auth: ClientAuthenticator | undefined;
  private readonly _log: Logger;
  private readonly _tlsAlerts = new TlsAlerts();
  /** Requests in flight, at most sending_queue.num_consumers. */
  private readonly _slots: Slots;
  /**
   * Batches being encoded and compressed at once: each holds an encoder's buffer (megabytes for
   * a full batch), and more than two would only queue on zlib's threads.
   */
  private readonly _encoding = new Slots(2);
  /** Encoders not in use: each protobuf encoder keeps its buffer for the next request. */
  private readonly _encoders: Encoder[] = [];
  /** Header values and userinfo: masked in any error text a backend or a proxy might echo them in. */
  private readonly _secrets: string[];
  private _stopped = false;

  constructor(id: string, config: OtlphttpConfig, options: OtlphttpOptions = {}) {
    this.id = id;
    this._config = config;
    this.wire = new OtlpProtoWire(config.encoding === 'proto');
    this._auth = options.auth;
    this._log = options.log ?? (() => {});
    const urls = {
      logs: config.logs_endpoint ?? `${config.endpoint}/v1/logs`,
      metrics: config.metrics_endpoint ?? `${config.endpoint}/v1/metrics`,
      // The schema asks logs and metrics for a URL; traces has none without endpoint or traces_endpoint (see otlphttpSignalProblems).
      traces: config.traces_endpoint ?? (config.endpoint !== undefined ? `${config.endpoint}/v1/traces` : undefined),
    };
    this._urls = { logs: withoutUserinfo(urls.logs), metrics: withoutUserinfo(urls.metrics), ...(urls.traces !== undefined ? { traces: withoutUserinfo(urls.traces) } : {}) };
    this.endpoints = { logs: urlForLogs(urls.logs), metrics: urlForLogs(urls.metrics), ...(urls.traces !== undefined ? { traces: urlForLogs(urls.traces) } : {}) };
    const signalUrls = [urls.logs, urls.metrics, ...(urls.traces !== undefined ? [urls.traces] : [])];
    const consumers = config.sending_queue.num_consumers;
    this._slots = new Slots(consumers);
    // Read now: a certificate that cannot be used stops the start, naming its key and file.
    this._tls = config.tls === undefined ? undefined : clientTlsOptions(config.tls, `exporters.${id}.tls`);
    const reload = config.tls?.reload_interval;
    if (this._tls?.cert !== undefined && config.tls?.cert_file !== undefined && reload !== undefined && reload > 0) this._reloadAt = Date.now() + reload;
    this._agent = this._dispatcher(this._tls);
    const configured = lowerCaseKeys(config.headers);
    // One endpoint's userinfo for every signal: a backend has one set of credentials.
    let basic: string | undefined;
    for (const url of signalUrls) basic ??= basicAuthOf(url);
    this._headers = {
      'user-agent': USER_AGENT,
      ...(basic !== undefined && configured.authorization === undefined ? { authorization: basic } : {}),
      ...configured,
      'content-type': config.encoding === 'proto' ? 'application/x-protobuf' : 'application/json',
      ...(config.compression !== 'none' ? { 'content-encoding': config.compression } : {}),
    };
    this._secrets = [...Object.values(config.headers), ...[...signalUrls, ...(config.proxy_url !== undefined ? [config.proxy_url] : [])].flatMap(userinfoParts)]
      // `Bearer <token>`: the token alone too, as an error may quote it.
      .flatMap((v) => [v, v.slice(v.indexOf(' ') + 1).trim()])
      .filter((v) => v.length >= 4)
      .sort((a, b) => b.length - a.length);
  }

  async export(batch: ExportBatch, signal?: AbortSignal): Promise<ExportResult> {
    if (this._stopped) return { ok: false, retryable: false, error: 'exporter is shut down' };
    const sent: Sent = { bytes: 0, status: undefined };
    const result = await this._exportBoth(batch, sent, signal);
    const detail: ExportDetail = sent.status === undefined ? { bytes: sent.bytes } : { bytes: sent.bytes, status: sent.status };
    return result.ok ? { ...result, ...detail } : { ...result, ...detail, error: this._mask(result.error) };
  }

  private async _exportBoth(batch: ExportBatch, sent: Sent, signal: AbortSignal | undefined): Promise<ExportResult> {
    // A batch holds one signal (a pipeline's); each is sent in turn when it holds several.
    let result: ExportResult = { ok: true };
    for (const s of SIGNALS) {
      if (countOf(s, batch) === 0) continue;
      const next = await this._sendSplitting(s, batch, sent, signal);
      if (!next.ok) return next;
      if (next.warning === undefined) continue;
      result = result.warning === undefined ? next : { ok: true, rejected: (result.rejected ?? 0) + (next.rejected ?? 0), warning: `${result.warning}; ${next.warning}` };
    }
    return result;
  }

  /** `text` with every configured credential masked. */
  private _mask(text: string): string {
    for (const secret of this._secrets) if (text.includes(secret)) text = text.split(secret).join('[REDACTED]');
    return text;
  }

  /**
   * Sends a batch; one the backend finds too large (413: New Relic takes 1 MB, others a few) is
   * sent again in halves, down to single items, rather than lost. (Should a later half then
   * fail in a way worth retrying, the retry sends the earlier halves again: duplicates, never loss.)
   */
  private async _sendSplitting(signal: Signal, batch: ExportBatch, sent: Sent, abort: AbortSignal | undefined): Promise<ExportResult> {
    const result = await this._send(signal, batch, sent, abort);
    const count = countOf(signal, batch);
    if (result.ok || !result.error.startsWith('413') || count < 2) return result;
    const half = count >> 1;
    const first = await this._sendSplitting(signal, partOf(signal, batch, 0, half, this.wire), sent, abort);
    if (!first.ok) return first;
    const second = await this._sendSplitting(signal, partOf(signal, batch, half, count, this.wire), sent, abort);
    if (!second.ok) return second;
    const rejected = (first.rejected ?? 0) + (second.rejected ?? 0);
    const warnings = [first.warning, second.warning].filter((w) => w !== undefined);
    return warnings.length === 0 ? { ok: true } : { ok: true, rejected, warning: warnings.join('; ') };
  }

  private async _send(signal: Signal, batch: ExportBatch, sent: Sent, abort: AbortSignal | undefined): Promise<ExportResult> {
    // Refused for good: no retry finds a URL (validate says it first where the service asks).
    if (this._urls[signal] === undefined) return { ok: false, retryable: false, error: `${signal}_endpoint: either endpoint or ${signal}_endpoint must be specified` };
    await this._slots.acquire();
    await this._encoding.acquire();
    // Encoded items go out as protobuf whatever the encoding (left in storage by a protobuf run).
    const asProto = batch.encoded !== undefined && this._config.encoding !== 'proto';
    let encoder: Encoder | undefined = asProto ? new ProtoEncoder() : (this._encoders.pop() ?? (this._config.encoding === 'proto' ? new ProtoEncoder() : new JsonEncoder()));
    const releaseEncoder = () => {
      if (encoder === undefined) return;
      if (!asProto) this._encoders.push(encoder);
      encoder = undefined;
      this._encoding.release();
    };
    try {
      let body = encoder.encode(signal, batch);
      const compression = this._config.compression;
      if (compression !== 'none') {
        try {
          // zlib compresses on libuv's thread pool, off the event loop that parses lines.
          body =
            compression === 'gzip'
              ? await gzip(body, { level: this._config.compression_params.level, chunkSize: COMPRESS_CHUNK })
              : await zstd(body, { chunkSize: COMPRESS_CHUNK, params: { [zlibConstants.ZSTD_c_compressionLevel]: this._config.compression_params.level } });
        } catch (error) {
          return { ok: false, retryable: false, error: `${compression}: ${(error as Error).message}` };
        }
      } else {
        // The encoder's buffer must not wait for the backend: send a copy.
        body = Uint8Array.prototype.slice.call(body);
      }
      // The compressed copy is what goes out: the encoder's buffer is free for the next batch.
      releaseEncoder();
      return await this._post(signal, body, batch.resource, sent, abort, asProto);
    } finally {
      releaseEncoder();
      this._slots.release();
    }
  }

  /**
   * What requests go through: an Agent, or a ProxyAgent with proxy_url (the backend's TLS
   * settings inside the tunnel, and for an https:// proxy itself, as Go's transport does).
   */
  private _dispatcher(tls: ConnectionOptions | undefined): Dispatcher {
    const consumers = this._config.sending_queue.num_consumers;
    const proxy = this._config.proxy_url;
    if (proxy === undefined) {
      const { Agent, buildConnector } = undici();
      const connector = buildConnector({ ...tls });
      const connect: buildConnector.connector = (options, callback) =>
        connector(options, (...args) => {
          if (args[1] != null) this._tlsAlerts.watch(args[1]);
          callback(...args);
        });
      return new Agent({ keepAliveTimeout: 30_000, connections: consumers, connect });
    }
    const { servername: _backendName, ...proxyTls } = tls ?? {};
    return new (undici().ProxyAgent)({ uri: proxy, keepAliveTimeout: 30_000, connections: consumers, ...(tls !== undefined ? { requestTls: tls, proxyTls } : {}) });
  }

  /**
   * tls.reload_interval: once it has passed, cert_file and key_file are read again and, when
   * they changed, new connections use them (the old dispatcher closes once its requests are done).
   * A file that cannot be used now keeps the certificate in use, with a warning.
   */
  private _reloadIfDue(): void {
    if (this._reloadAt === undefined || Date.now() < this._reloadAt) return;
    this._reloadAt = Date.now() + this._config.tls!.reload_interval!;
    let tls: ConnectionOptions | undefined;
    try {
      tls = clientTlsOptions(this._config.tls!, `exporters.${this.id}.tls`);
    } catch (error) {
      const message = error instanceof TlsConfigError ? error.message : 'the certificate could not be read';
      this._log('warn', `${this.id}: client certificate not reloaded; the one in use stays`, { exporter: this.id, error: message });
      return;
    }
    if (tls === undefined || (samePem(tls.cert, this._tls?.cert) && samePem(tls.key, this._tls?.key))) return;
    const old = this._agent;
    this._tls = tls;
    this._agent = this._dispatcher(tls);
    const closing = old.close().catch(() => {});
    this._retired.add(closing);
    void closing.then(() => this._retired.delete(closing));
    this._log('info', `${this.id}: client certificate reloaded`, { exporter: this.id });
  }

  /** The headers of one request: ours, then the authenticator's over them. */
  private _requestHeaders(resource: Attributes, asProto: boolean): { headers: Record<string, string>; added: string[] } {
    if (this._auth === undefined && !asProto) return { headers: this._headers, added: [] };
    const headers: Record<string, string> = asProto ? { ...this._headers, 'content-type': 'application/x-protobuf' } : { ...this._headers };
    if (this._auth === undefined) return { headers, added: [] };
    this._auth.applyHeaders(headers, resource);
    // What it set may be a credential a backend's error could echo.
    const added: string[] = [];
    for (const k in headers) if (headers[k] !== this._headers[k] && !(asProto && k === 'content-type') && headers[k]!.length >= 4) added.push(headers[k]!, headers[k]!.slice(headers[k]!.indexOf(' ') + 1));
    return { headers, added };
  }

  private async _post(signal: Signal, body: Uint8Array, resource: Attributes, sent: Sent, abort: AbortSignal | undefined, asProto = false): Promise<ExportResult> {
    if (abort?.aborted) return { ok: false, retryable: false, error: 'given up: the shutdown deadline passed' };
    this._reloadIfDue();
    const { headers: requestHeaders, added } = this._requestHeaders(resource, asProto);
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: Buffer;
    sent.bytes += body.length;
    // One controller for the timeout and the deadline, not AbortSignal.any(): in Node 24 every
    // signal it derives from the pipeline's long-lived deadline stays in memory (~1.7 KB a request).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), this._config.timeout);
    const onDeadline = () => controller.abort(abort?.reason);
    abort?.addEventListener('abort', onDeadline, { once: true });
    try {
      const response = await undici().request(this._urls[signal]!, { method: 'POST', headers: requestHeaders, body, dispatcher: this._agent, signal: controller.signal });
      status = response.statusCode;
      headers = response.headers;
      text = await readCapped(response.body);
    } catch (error) {
      if (abort?.aborted) return { ok: false, retryable: false, error: 'given up: the shutdown deadline passed' };
      // Refused, reset, timed out, DNS, TLS: the backend was not reached or did not answer in time.
      const failure = describeNetworkError(error, this._config.timeout, controller.signal.aborted, this._tlsAlerts);
      return { ok: false, retryable: true, error: maskAll(failure, added) };
    } finally {
      clearTimeout(timer);
      abort?.removeEventListener('abort', onDeadline);
    }
    sent.status = status;
    const proto = String(headers['content-type'] ?? '').includes('protobuf');
    if (status >= 200 && status < 300) {
      const partial = partialSuccess(text, proto, signal);
      if (partial === undefined) return { ok: true };
      return { ok: true, rejected: partial.rejected, warning: maskAll(`${status} partial success: ${partial.rejected} rejected${partial.message ? `: ${partial.message}` : ''}`, added) };
    }
    const message = maskAll(statusMessage(text, proto), added);
    const error = `${status}${message ? ` ${message}` : ''}`;
    if (RETRYABLE_STATUS.has(status)) {
      const after = retryAfterMs(headers['retry-after']);
      return after === undefined ? { ok: false, retryable: true, error } : { ok: false, retryable: true, retryAfterMs: after, error };
    }
    return { ok: false, retryable: false, error };
  }

  /**
   * Waits a little for requests in flight (the pipeline's shutdown deadline has already passed
   * or they are done), then closes the connections: Heroku kills the dyno 30 s after SIGTERM.
   */
  async shutdown(): Promise<void> {
    if (this._stopped) return;
    this._stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SHUTDOWN_GRACE_MS)));
    const outcome = await Promise.race([Promise.all([this._agent.close(), ...this._retired]).then(() => 'closed' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late') await this._agent.destroy();
  }
}

/** `text` with each of `secrets` masked. */
function maskAll(text: string, secrets: readonly string[]): string {
  for (const secret of secrets) if (secret.length >= 4 && text.includes(secret)) text = text.split(secret).join('[REDACTED]');
  return text;
}

function samePem(a: unknown, b: unknown): boolean {
  return String(a) === String(b);
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES);
}

function userinfoParts(url: string): string[] {
  const u = new URL(url);
  return [u.username, u.password].filter((p) => p !== '').flatMap((p) => [p, decodeURIComponent(p)]);
}

function describeNetworkError(error: unknown, timeoutMs: number, timedOut: boolean, alerts: TlsAlerts): string {
  const e = error as Error & { code?: string; cause?: Error & { code?: string }; socket?: { localPort?: number } };
  if (timedOut || e?.name === 'TimeoutError') return `timed out after ${timeoutMs}ms (timeout)`;
  let code = e?.cause?.code ?? e?.code;
  let message = e?.cause?.message ?? e?.message ?? String(error);
  const alert = code === 'UND_ERR_SOCKET' ? alerts.take(e.socket?.localPort) : undefined;
  if (alert !== undefined) ({ code, message } = alert);
  const tls = describeTlsFailure(code, message);
  if (tls !== undefined) return tls;
  // undici's words for a proxy that refused the tunnel or the connection.
  const proxy = /proxy/i.test(e?.message ?? '') || e?.name === 'ProxyConnectionError' || e?.name === 'SecureProxyConnectionError';
  const text = code && !message.includes(code) ? `${code} ${message}` : message;
  return proxy && !text.includes('proxy_url') ? `proxy_url: ${text}` : text;
}
