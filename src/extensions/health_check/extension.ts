/**
 * The `health_check` extension: 200 once every component has started, 503 before and from the
 * moment shutdown begins (so a load balancer stops sending before the receivers close), with
 * the Collector's JSON bodies.
 */
import type { Server } from 'node:http';
import { createServer } from '../../node-http.ts';
import type { AddressInfo } from 'node:net';
import type { Extension } from '../../service/component.ts';
import type { Logger } from '../../service/log.ts';
import type { HealthCheckConfig } from './config.ts';

export class HealthCheck implements Extension {
  private readonly _id: string;
  private readonly _config: HealthCheckConfig;
  private readonly _log: Logger;
  private _server: Server | undefined;
  private _ready = false;
  private _upSince: Date | undefined;

  constructor(id: string, config: HealthCheckConfig, log: Logger) {
    this._id = id;
    this._config = config;
    this._log = log;
  }

  /** Where it listens (the real port when the config said 0). */
  get address(): { host: string; port: number } {
    const a = this._server?.address() as AddressInfo | null | undefined;
    return { host: this._config.endpoint.host, port: a?.port ?? this._config.endpoint.port };
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path !== this._config.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404).end();
        return;
      }
      const healthy = this._ready;
      const custom = healthy ? this._config.response_body?.healthy : this._config.response_body?.unhealthy;
      const body =
        custom ??
        JSON.stringify({
          status: healthy ? 'Server available' : 'Server not available',
          ...(this._upSince ? { upSince: this._upSince.toISOString(), uptime: `${((Date.now() - this._upSince.getTime()) / 1000).toFixed(3)}s` } : {}),
        });
      res.writeHead(healthy ? 200 : 503, { 'content-type': custom === undefined ? 'application/json' : 'text/plain' }).end(req.method === 'HEAD' ? undefined : body);
    });
    server.keepAliveTimeout = 5000;
    this._server = server;
    const { host, port } = this._config.endpoint;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`extensions.${this._id}: cannot listen on ${host}:${port}: ${error.code ?? error.message}`)));
      server.listen(port, host, () => resolve());
    });
    this._log('info', `${this._id}: health on http://${host}:${this.address.port}${this._config.path}`, { extension: this._id });
  }

  ready(): void {
    this._ready = true;
    this._upSince ??= new Date();
  }

  notReady(): void {
    this._ready = false;
  }

  async shutdown(): Promise<void> {
    this._ready = false;
    const server = this._server;
    this._server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
