/**
 * The Prometheus pull reader of the sidecar's own metrics (`service.telemetry.metrics.readers[].pull`,
 * or the `address` shorthand), as the Collector's :8888/metrics: the SDK's Prometheus reader
 * collects at each scrape (the instruments read the components' counters then: nothing on the
 * data path changes) and writes the Collector's exposition, counters with `_total`, no unit
 * suffixes, no scope labels, and target_info with the resource. Our own HTTP server serves it, so
 * that an address other machines reach is behind basic auth.
 */
import type { Server } from 'node:http';
import { createServer } from '../node-http.ts';
import type { AddressInfo } from 'node:net';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { DrainAuth } from '../receivers/logplex/auth.ts';
import { prometheusExporter } from './otel-sdk.ts';

/** The text exposition format Prometheus reads (its classic one). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class PrometheusEndpoint {
  /** The reader the meter provider collects through (set by load()); the scrape answers from it. */
  private _exporter: PrometheusExporter | undefined;
  private readonly _address: { host: string; port: number };
  private readonly _auth: DrainAuth<never> | undefined;
  private _server: Server | undefined;

  /** `basicAuth`: asked of every scrape; the config requires it off loopback. */
  constructor(address: { host: string; port: number }, basicAuth?: { username: string; password: string }) {
    this._address = address;
    this._auth = basicAuth && new DrainAuth<never>([], basicAuth);
  }

  /** The SDK's reader, made (its package imported) on first call: a config with no pull reader loads none of it. */
  async load(): Promise<PrometheusExporter> {
    if (this._exporter === undefined) {
      const { PrometheusExporter } = prometheusExporter();
      this._exporter ??= new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    }
    return this._exporter;
  }

  /** Where it listens (the real port once started, when the config said 0). */
  get address(): { host: string; port: number } {
    const a = this._server?.address() as AddressInfo | null | undefined;
    return { host: a?.address ?? this._address.host, port: a?.port ?? this._address.port };
  }

  async start(): Promise<void> {
    const exporter = await this.load();
    const server = createServer((req, res) => {
      if (this._auth !== undefined && !this._auth.basicAuthMatches(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="heroku-otel-drain metrics"', 'content-type': 'text/plain' }).end('unauthenticated\n');
        return;
      }
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.setHeader('x-content-type-options', 'nosniff');
      exporter.getMetricsRequestHandler(req, res);
      // Set by the handler at once (the body follows the collection): the exact format, for Prometheus.
      res.setHeader('content-type', CONTENT_TYPE);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this._address.port, this._address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this._server = server;
  }

  /** Closes the server (the reader is shut down with its meter provider); safe twice. */
  async shutdown(): Promise<void> {
    const server = this._server;
    this._server = undefined;
    if (!server) return;
    // Prometheus keeps its scrape connection alive: close it, or close() would wait for it.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
