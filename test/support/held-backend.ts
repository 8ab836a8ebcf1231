/**
 * A backend that holds every request unanswered until the test releases it, then answers each,
 * and every later one, with the status given: a queue's request stays in flight for as long as a
 * test needs, without a timer.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HeldBackend {
  /** Requests received, answered or not. */
  received = 0;
  private readonly _held: ServerResponse[] = [];
  private _status: number | undefined;
  private _server: Server | undefined;

  /** Listens on loopback; the base URL. */
  async start(): Promise<string> {
    this._server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.received++;
        if (this._status === undefined) this._held.push(res);
        else this._answer(res, this._status);
      });
    });
    await new Promise<void>((resolve) => this._server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this._server!.address() as AddressInfo).port}`;
  }

  /** Answers what it holds, and everything after, with `status`. */
  release(status: number): void {
    this._status = status;
    for (const res of this._held.splice(0)) this._answer(res, status);
  }

  private _answer(res: ServerResponse, status: number): void {
    if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(`held, then ${status}`);
  }

  async stop(): Promise<void> {
    this.release(503);
    const server = this._server;
    this._server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
