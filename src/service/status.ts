/**
 * The status page: what a person checks first. Per drain, lines per kind over the last 15
 * minutes, the last line seen, lines kept raw (parse failures) with a sample, Logplex L10 drops;
 * per pipeline, what each exporter sent or lost and how full the queue is; per exporter and
 * signal, its sending queue (held, capacity, sent, failed, dropped because full, on disk or not);
 * the alerts firing.
 * Plain server-rendered HTML that reloads itself; no front-end build.
 */
import type { AlertEvent } from '../processors/alerts/engine.ts';
import type { Attributes, LogRecordData } from '../translate/telemetry.ts';
import type { PipelineCounters } from './pipeline.ts';
import type { QueueSnapshot } from './self-telemetry.ts';

const MINUTE = 60_000;
const WINDOW_MINUTES = 15;
const MAX_DRAINS = 1000;

interface DrainStatus {
  name: string;
  /** Per minute (epoch minute) and kind: lines. */
  minutes: Map<number, Map<string, number>>;
  lastLine: string;
  lastSeen: number;
  raw: number;
  rawSample: string;
  dropped: number;
}

export interface StatusSource {
  pipelines(): Array<{ id: string; held: number; capacity: number; counters: PipelineCounters }>;
  /** Every exporter's sending queue, one per signal it serves. */
  queues(): readonly QueueSnapshot[];
  firing(): AlertEvent[];
}

/** A queue's held / capacity, in its sizer's unit; a queue on disk without queue_size is bounded by its storage. */
function fill(q: QueueSnapshot): string {
  const unit = q.sizer === undefined ? '' : ` ${q.sizer}`;
  return Number.isFinite(q.capacity) ? `${q.size} / ${q.capacity}${unit}` : `${q.size}${unit} / disk budget`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export class StatusBoard {
  private readonly _drains = new Map<string, DrainStatus>();
  private readonly _started = Date.now();

  /** Notes a batch a receiver took (cheap: a few map updates per line). */
  observe(resource: Attributes, logs: readonly LogRecordData[], now = Date.now()): void {
    if (logs.length === 0) return;
    const name = String(resource['service.name'] ?? logs[0]!.attributes['heroku.drain.fingerprint'] ?? 'any drain');
    let drain = this._drains.get(name);
    if (drain === undefined) {
      if (this._drains.size >= MAX_DRAINS) return;
      drain = { name, minutes: new Map(), lastLine: '', lastSeen: 0, raw: 0, rawSample: '', dropped: 0 };
      this._drains.set(name, drain);
    }
    const minute = Math.floor(now / MINUTE);
    let kinds = drain.minutes.get(minute);
    if (kinds === undefined) {
      kinds = new Map();
      drain.minutes.set(minute, kinds);
      for (const m of drain.minutes.keys()) if (m <= minute - WINDOW_MINUTES) drain.minutes.delete(m);
    }
    for (const r of logs) {
      const kind = String(r.attributes['heroku.log.kind'] ?? 'app');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (r.attributes['heroku.log.shape'] === 'raw') {
        drain.raw++;
        drain.rawSample = r.body;
      }
      const dropped = r.attributes['heroku.logplex.dropped_messages'];
      if (typeof dropped === 'number') drain.dropped += dropped;
    }
    drain.lastLine = logs[logs.length - 1]!.body;
    drain.lastSeen = now;
  }

  render(source: StatusSource, now = Date.now()): string {
    const kinds = ['router', 'app', 'runtime', 'addon', 'platform', 'api'];
    const drains = [...this._drains.values()].sort((a, b) => a.name.localeCompare(b.name));
    const rows = drains
      .map((d) => {
        const counts = new Map<string, number>();
        for (const [minute, byKind] of d.minutes) if (minute > Math.floor(now / MINUTE) - WINDOW_MINUTES) for (const [k, n] of byKind) counts.set(k, (counts.get(k) ?? 0) + n);
        const ago = Math.round((now - d.lastSeen) / 1000);
        return `<tr><td class="drain">${escape(d.name)}</td>${kinds.map((k) => `<td class="n">${counts.get(k) ?? 0}</td>`).join('')}<td class="n">${ago} s ago</td><td><code>${escape(d.lastLine.slice(0, 200))}</code></td><td class="n">${d.raw}${d.rawSample ? `<br><code>${escape(d.rawSample.slice(0, 120))}</code>` : ''}</td><td class="n">${d.dropped}</td></tr>`;
      })
      .join('\n');
    const pipelines = source
      .pipelines()
      .map((p) => {
        const exporters = Object.keys(p.counters.exported)
          .map((e) => `${escape(e)}: ${p.counters.exported[e]} sent, ${p.counters.failed[e]} failed${p.counters.failed[e]! > 0 ? ' <span class="bad">(failing)</span>' : ''}`)
          .join('<br>');
        return `<tr><td>${escape(p.id)}</td><td>${exporters}</td><td class="n">${p.held} / ${Number.isFinite(p.capacity) ? p.capacity : 'no item limit'}</td><td class="n">${p.counters.refused}</td><td class="n">${p.counters.droppedAtShutdown}</td></tr>`;
      })
      .join('\n');
    const queues = source
      .queues()
      .map((q) => {
        const c = q.counters;
        return `<tr><td>${escape(q.id)}</td><td>${q.signal}</td><td class="n">${fill(q)}</td><td class="n">${c.sent}</td><td class="n">${c.sendFailed}${c.sendFailed > 0 ? ' <span class="bad">(failing)</span>' : ''}</td><td class="n">${c.enqueueFailed}${c.enqueueFailed > 0 ? ' <span class="bad">(full)</span>' : ''}</td><td>${q.persistent ? 'on disk' : 'in memory'}</td></tr>`;
      })
      .join('\n');
    const firing = source.firing();
    const alerts =
      firing.length === 0
        ? '<p>No alert firing.</p>'
        : `<table><tr><th>Alert</th><th>Severity</th><th>Labels</th><th>Since</th><th>Summary</th></tr>${firing
            .map((a) => `<tr><td>${escape(a.rule)}</td><td>${escape(a.severity)}</td><td>${escape(Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', '))}</td><td>${new Date(a.startsAtMs).toISOString()}</td><td>${escape(a.annotations.summary ?? '')}</td></tr>`)
            .join('')}</table>`;
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>heroku-otel-drain status</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}td.n{text-align:right}code{font-size:12px}.bad{color:#b00}</style>
</head><body>
<h1>heroku-otel-drain</h1>
<p>Up ${Math.round((now - this._started) / 1000)} s. This page reloads every 10 s.</p>
<h2>Drains (last ${WINDOW_MINUTES} minutes)</h2>
${drains.length === 0 ? '<p>No drain has sent anything yet.</p>' : `<table><tr><th>Drain</th>${kinds.map((k) => `<th>${k}</th>`).join('')}<th>Last line seen</th><th>Last line</th><th>Kept raw (sample)</th><th>Logplex drops (L10)</th></tr>\n${rows}</table>`}
<h2>Pipelines</h2>
<table><tr><th>Pipeline</th><th>Exporters</th><th>Queue (held / capacity)</th><th>Refused (503)</th><th>Dropped at shutdown</th></tr>
${pipelines}</table>
<h2>Exporter queues</h2>
<table><tr><th>Exporter</th><th>Signal</th><th>Held / capacity (sizer unit)</th><th>Sent</th><th>Failed</th><th>Dropped: queue full</th><th>Kept</th></tr>
${queues}</table>
<h2>Alerts</h2>
${alerts}
</body></html>`;
  }
}
