/**
 * The sidecar's own counters for Prometheus to scrape (`service.telemetry.metrics.address`, as the
 * Collector's :8888/metrics), through prom-client. Values are read from the components' counters
 * at each scrape: nothing is counted twice and nothing on the hot path changes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { DrainAuth } from '../receivers/logplex/auth.ts';
import * as A from '../semconv/attributes.ts';
import * as M from '../semconv/metrics.ts';
import type { PipelineCounters } from './pipeline.ts';
import { QUEUE_COUNTERS, type QueueSnapshot, type ReceiverCounters, type StorageSnapshot } from './self-telemetry.ts';

export interface TelemetrySource {
  receivers(): Array<{ id: string; type: string; counters: ReceiverCounters }>;
  pipelines(): Array<{ id: string; held: number; capacity: number; counters: PipelineCounters; aggregation?: { series: number; overflowPoints: number; notFinite: number } | undefined }>;
  alerts(): Array<{ id: string; firing: number; resolved: number; targets: Array<{ name: string; sent: number; failed: number }> }>;
  /** Lines taken per drain (service.name). */
  drains(): Array<[string, number]>;
  /** Every exporter's sending queue, one per signal it serves. */
  queues(): readonly QueueSnapshot[];
  /** Storage extensions (file_storage): bytes on disk and budget. */
  storages(): readonly StorageSnapshot[];
}

/** Label values and the value read for one series. */
type Series = Array<[Record<string, string>, number]>;

/**
 * A metric whose series are all read at scrape time: emptied, then `write` gives it each value
 * read, so a series that is gone is gone. Counters and gauges differ only in `write`.
 */
function readAtScrape<M extends Counter | Gauge>(
  Metric: new (configuration: { name: string; help: string; labelNames: string[]; registers: Registry[]; collect(this: M): void }) => M,
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Series,
  write: (metric: M, labels: Record<string, string>, value: number) => void,
): void {
  new Metric({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) write(this, labels, value);
    },
  });
}

/**
 * A counter whose values are the totals read at scrape time. `zeros`: a series from the start,
 * so that `increase()` sees the first one.
 */
function totals(registry: Registry, name: string, help: string, labelNames: string[], read: () => Series, zeros = false): void {
  readAtScrape<Counter>(Counter, registry, name, help, labelNames, read, (counter, labels, value) => {
    if (value > 0 || (zeros && value === 0)) counter.inc(labels, value);
  });
}

/** A gauge whose values are read at scrape time; a series that is gone is gone. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Series): void {
  readAtScrape<Gauge>(Gauge, registry, name, help, labelNames, read, (metric, labels, value) => metric.set(labels, value));
}

export class PrometheusEndpoint {
  readonly registry = new Registry();
  private readonly _address: { host: string; port: number };
  private _server: Server | undefined;

  private readonly _auth: DrainAuth<never> | undefined;

  constructor(address: { host: string; port: number }, source: TelemetrySource, basicAuth?: { username: string; password: string }) {
    this._address = address;
    this._auth = basicAuth && new DrainAuth<never>([], basicAuth);
    const r = this.registry;
    totals(r, 'heroku_otel_drain_receiver_lines_total', 'Lines a receiver took (accepted), acknowledged again (duplicate) or refused one by one (rejected, by reason).', ['receiver', 'outcome', 'reason'], () =>
      source.receivers().flatMap(({ id, counters }) => [
        [{ receiver: id, outcome: 'accepted', reason: '' }, counters.acceptedLines] as [Record<string, string>, number],
        [{ receiver: id, outcome: 'duplicate', reason: '' }, counters.duplicateLines],
        ...Object.entries(counters.rejectedLines ?? {}).map(([reason, n]): [Record<string, string>, number] => [{ receiver: id, outcome: 'rejected', reason }, n]),
      ]),
    );
    totals(r, 'heroku_otel_drain_drain_lines_total', 'Lines taken per drain (its service.name).', ['drain'], () =>
      source.drains().map(([drain, n]): [Record<string, string>, number] => [{ drain }, n]),
    );
    totals(r, 'heroku_otel_drain_receiver_requests_rejected_total', 'Requests a receiver refused, by reason.', ['receiver', 'reason'], () =>
      source.receivers().flatMap(({ id, counters }) => Object.entries(counters.rejectedRequests ?? {}).map(([reason, n]): [Record<string, string>, number] => [{ receiver: id, reason }, n])),
    );
    totals(r, 'heroku_otel_drain_receiver_connections_rejected_total', 'Connections a receiver refused or closed, by reason.', ['receiver', 'reason'], () =>
      source.receivers().flatMap(({ id, counters }) => Object.entries(counters.rejectedConnections ?? {}).map(([reason, n]): [Record<string, string>, number] => [{ receiver: id, reason }, n])),
    );
    totals(r, 'heroku_otel_drain_pipeline_items_total', "Records or points by outcome: exported or failed per exporter, refused by a full pipeline, dropped at shutdown; a metrics pipeline's aggregation: added to an overflow series (max_streams reached) or left out (not a finite number).", ['pipeline', 'exporter', 'outcome'], () =>
      source.pipelines().flatMap(({ id, counters, aggregation }) => [
        ...(aggregation === undefined
          ? []
          : ([
              [{ pipeline: id, exporter: '', outcome: 'overflow' }, aggregation.overflowPoints],
              [{ pipeline: id, exporter: '', outcome: 'not_finite' }, aggregation.notFinite],
            ] as Array<[Record<string, string>, number]>)),
        ...Object.entries(counters.exported).map(([exporter, n]): [Record<string, string>, number] => [{ pipeline: id, exporter, outcome: 'exported' }, n]),
        ...Object.entries(counters.failed).map(([exporter, n]): [Record<string, string>, number] => [{ pipeline: id, exporter, outcome: 'failed' }, n]),
        [{ pipeline: id, exporter: '', outcome: 'refused' }, counters.refused],
        [{ pipeline: id, exporter: '', outcome: 'dropped' }, counters.droppedAtShutdown],
      ]),
    );
    gauge(r, 'heroku_otel_drain_pipeline_series', "Series a metrics pipeline's aggregation holds: at most max_streams, and an overflow series per metric past it.", ['pipeline'], () =>
      source.pipelines().flatMap(({ id, aggregation }): Array<[Record<string, string>, number]> => (aggregation === undefined ? [] : [[{ pipeline: id }, aggregation.series]])),
    );
    new Gauge({
      name: 'heroku_otel_drain_pipeline_held',
      help: 'Items a pipeline holds (queued, batching, being exported): its memory in use.',
      labelNames: ['pipeline'],
      registers: [r],
      collect() {
        for (const p of source.pipelines()) this.set({ pipeline: p.id }, p.held);
      },
    });
    new Gauge({
      name: 'heroku_otel_drain_pipeline_capacity',
      help: 'Items a pipeline may hold (sending_queue) before receivers answer 503.',
      labelNames: ['pipeline'],
      registers: [r],
      collect() {
        this.reset();
        // Infinity (its queues on disk, or none that blocks): no item limit, no series.
        for (const p of source.pipelines()) if (Number.isFinite(p.capacity)) this.set({ pipeline: p.id }, p.capacity);
      },
    });
    // The Collector's exporter metrics, with its names and labels (see QUEUE_COUNTERS); counters get
    // `_total`, as its Prometheus reader writes them.
    for (const signal of ['logs', 'metrics'] as const) {
      const names = QUEUE_COUNTERS[signal];
      const what = signal === 'logs' ? 'log records' : 'metric points';
      const per = (count: (q: QueueSnapshot) => number) => (): Array<[Record<string, string>, number]> =>
        source.queues().flatMap((q) => (q.signal === signal ? [[{ [A.ATTR_EXPORTER]: q.id }, count(q)]] : []));
      totals(r, `${names.sent}_total`, `Number of ${what} successfully sent to destination.`, [A.ATTR_EXPORTER], per((q) => q.counters.sent), true);
      totals(r, `${names.sendFailed}_total`, `Number of ${what} the exporter could not deliver: refused for good, retries given up, or unreadable from storage.`, [A.ATTR_EXPORTER], per((q) => q.counters.sendFailed), true);
      totals(r, `${names.enqueueFailed}_total`, `Number of ${what} failed to be added to the sending queue: full, with block_on_overflow off.`, [A.ATTR_EXPORTER], per((q) => q.counters.enqueueFailed), true);
    }
    const queueLabels = [A.ATTR_EXPORTER, A.ATTR_DATA_TYPE];
    gauge(r, M.METRIC_OTELCOL_EXPORTER_QUEUE_SIZE, "Current size of the exporter's sending queue, in its sizer's unit (requests by default).", queueLabels, () =>
      source.queues().map((q): [Record<string, string>, number] => [{ [A.ATTR_EXPORTER]: q.id, [A.ATTR_DATA_TYPE]: q.signal }, q.size]),
    );
    // A queue on disk without a queue_size has no capacity of its own: its storage's budget is.
    gauge(r, M.METRIC_OTELCOL_EXPORTER_QUEUE_CAPACITY, "Capacity of the exporter's sending queue, in its sizer's unit; absent when only its storage's budget bounds it.", queueLabels, () =>
      source.queues().flatMap((q): Array<[Record<string, string>, number]> => (Number.isFinite(q.capacity) ? [[{ [A.ATTR_EXPORTER]: q.id, [A.ATTR_DATA_TYPE]: q.signal }, q.capacity]] : [])),
    );
    // Our registry's names, as OpenTelemetry's Prometheus exporters write a gauge in bytes.
    const inBytes = (metric: string) => `${metric.replaceAll('.', '_')}_bytes`;
    gauge(r, inBytes(M.METRIC_HEROKU_OTEL_DRAIN_STORAGE_USAGE), "Bytes a file_storage extension's queues take on disk now.", ['extension'], () =>
      source.storages().map((s): [Record<string, string>, number] => [{ extension: s.id }, s.bytes]),
    );
    gauge(r, inBytes(M.METRIC_HEROKU_OTEL_DRAIN_STORAGE_LIMIT), "A file_storage extension's budget (max_size_mib) for all its queues.", ['extension'], () =>
      source.storages().map((s): [Record<string, string>, number] => [{ extension: s.id }, s.maxBytes]),
    );
    totals(r, 'heroku_otel_drain_alerts_transitions_total', 'Alerts that started firing (repeats included) or resolved.', ['processor', 'state'], () =>
      source.alerts().flatMap((a) => [
        [{ processor: a.id, state: 'firing' }, a.firing] as [Record<string, string>, number],
        [{ processor: a.id, state: 'resolved' }, a.resolved],
      ]),
    );
    totals(r, 'heroku_otel_drain_alerts_notifications_total', 'Notifications to Alertmanager or webhooks: delivered or given up on.', ['processor', 'target', 'outcome'], () =>
      source.alerts().flatMap((a) =>
        a.targets.flatMap((t) => [
          [{ processor: a.id, target: t.name, outcome: 'sent' }, t.sent] as [Record<string, string>, number],
          [{ processor: a.id, target: t.name, outcome: 'failed' }, t.failed] as [Record<string, string>, number],
        ]),
      ),
    );
  }

  get address(): { host: string; port: number } {
    const a = this._server?.address() as AddressInfo | null | undefined;
    return { host: a?.address ?? this._address.host, port: a?.port ?? this._address.port };
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (this._auth !== undefined && !this._auth.basicAuthMatches(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="heroku-otel-drain metrics"', 'content-type': 'text/plain' }).end('unauthenticated\n');
        return;
      }
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType, 'x-content-type-options': 'nosniff' });
          res.end(text);
        },
        (error: Error) => {
          res.writeHead(500).end(`${error.message}\n`);
        },
      );
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
