/**
 * The sidecar's own telemetry, as a real process (bin/heroku-otel-drain.js start --config): its
 * Prometheus reader scraped over HTTP after real Logplex POSTs and syslog lines, its counts
 * compared with what was posted and what the OTLP backend received; periodic OTLP readers
 * delivering to a local backend that decodes them as real OTLP (protobuf and JSON); its own log
 * over OTLP; the process metrics; and README's list of metrics against what the endpoint serves.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../scripts/semconv-registry.ts';
import { transportOf } from '../../src/service/self-telemetry.ts';
import { syslogTime } from '../support/heroku-time.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { parseExposition, valueOf, type Exposition } from '../support/prometheus-text.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { until } from '../support/wait.ts';

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';
const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;

/** Six Logplex lines: three of the app's, two router lines (a duration point each), a runtime sample (several points). */
function lines(at: number): string[] {
  const t = syslogTime(at);
  return [
    `<190>1 ${t} host app web.1 - started job 1`,
    `<190>1 ${t} host app web.1 - started job 2`,
    `<190>1 ${t} host app web.1 - password=hunter2 in a line`,
    `<158>1 ${t} host heroku router - at=info method=GET path="/" host=shop.example.com request_id=a fwd="203.0.113.9" dyno=web.1 connect=1ms service=12ms status=200 bytes=30 protocol=https`,
    `<158>1 ${t} host heroku router - at=info method=POST path="/cart" host=shop.example.com request_id=b fwd="203.0.113.9" dyno=web.1 connect=0ms service=40ms status=201 bytes=12 protocol=https`,
    `<45>1 ${t} host heroku web.1 - source=web.1 dyno=heroku.1.abc sample#memory_total=100.5MB sample#memory_rss=90MB sample#load_avg_1m=0.2`,
  ];
}

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hod-self-')), 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** The port of the first Prometheus reader, from its "own metrics for Prometheus" line. */
async function metricsPort(sidecar: RunningSidecar): Promise<number> {
  const m = await until(() => /own metrics for Prometheus on http:\/\/[^:]+:(\d+)\/metrics/.exec(sidecar.stderr()), { timeoutMs: 10_000, what: 'the metrics endpoint line' });
  return Number(m[1]);
}

async function post(port: number, body: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body, headers })).status;
}

/** Octet-counted syslog lines over TCP, as a syslog drain sends them. */
async function sendSyslog(port: number, messages: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('')));
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

async function stop(sidecar: RunningSidecar | undefined): Promise<void> {
  if (sidecar === undefined || sidecar.proc.exitCode !== null) return;
  sidecar.proc.kill('SIGTERM');
  await sidecar.exited;
}

/** README's table of the sidecar's own metrics: name, instrument, unit, attributes. */
function readmeMetrics(): Array<{ name: string; instrument: string; unit: string; attributes: string[] }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('\n');
  const header = readme.indexOf('| Metric | Instrument | Unit | Attributes | What it says |');
  const end = readme.indexOf('', header);
  return readme
    .slice(header + 2, end)
    .map((row) => {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return { name: ticked(cells[0]!)[0]!, instrument: cells[1]!, unit: ticked(cells[2]!)[0] ?? '', attributes: ticked(cells[3]!) };
    });
}

describe('self-telemetry through the Prometheus reader of a running sidecar', () => {
  const backend = new OtlpTestServer();
  const disk = new OtlpTestServer();
  let sidecar: RunningSidecar | undefined;
  let scrape: () => Promise<Exposition>;
  const scrapeValue = async (name: string, labels: Record<string, string>) => valueOf(await scrape(), name, labels);
  let startedAt = 0;
  const posted = lines(Date.now());

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-self-storage-'));
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}", resource: { service.name: shop-web } } ] }
  syslog: { tcp: { endpoint: "127.0.0.1:0" } }
processors:
  redact: {}
  alerts: { alertmanager: { endpoint: "http://127.0.0.1:9" } }
  interval: { interval: 1h }
  batch: { timeout: 50ms }
  # Keeps everything: here for its counters on the endpoint.
  tail_sampling: { adjusted_count_attribute: "", policies: [ { name: all, type: always_sample } ] }
extensions:
  file_storage: { directory: "${dir}" }
exporters:
  otlphttp: { endpoint: "${await backend.start()}", compression: none }
  otlphttp/disk: { endpoint: "${await disk.start()}", compression: none, sending_queue: { storage: file_storage } }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    logs: { receivers: [logplex, syslog], processors: [redact, alerts, tail_sampling, batch], exporters: [otlphttp, otlphttp/disk] }
    metrics: { receivers: [logplex], processors: [alerts, interval, batch], exporters: [otlphttp] }
    traces: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp] }
`);
    startedAt = Date.now();
    sidecar = await startSidecar(['start', '--config', config], {});
    const [logplexPort, syslogPort] = await sidecar.ports(2);
    const port = await metricsPort(sidecar);
    scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const body = posted.map(frame).join('');
    expect(await post(logplexPort!, body, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'a' })).toBe(200);
    // Logplex sending the same batch again: acknowledged, not emitted again.
    expect(await post(logplexPort!, body, { 'logplex-drain-token': TOKEN, 'logplex-frame-id': 'a', 'logplex-msg-count': String(posted.length) })).toBe(200);
    expect(await post(logplexPort!, body, { 'logplex-drain-token': 'd.not-ours' })).toBe(403);
    await sendSyslog(syslogPort!, [`<190>1 ${syslogTime(Date.now())} host app worker.1 - from syslog 1`, `<190>1 ${syslogTime(Date.now())} host app worker.1 - from syslog 2`]);
    await until(() => backend.logRecords().length === posted.length + 2 && disk.logRecords().length === posted.length + 2, { timeoutMs: 10_000, what: 'every record at both backends' });
  }, 30_000);

  afterAll(async () => {
    await stop(sidecar);
    await backend.stop();
    await disk.stop();
  });

  it('counts what was posted, what each processor saw and what each exporter delivered', async () => {
    // Sent counts move once the backend has answered: wait for them rather than guess.
    const m = await until(async () => {
      const e = await scrape();
      return valueOf(e, 'otelcol_exporter_sent_log_records_total', { exporter: 'otlphttp/disk' }) === posted.length + 2 ? e : undefined;
    }, { what: 'the disk exporter to have counted its records' });
    const logplex = { receiver: 'logplex', transport: 'http' };
    expect(valueOf(m, 'otelcol_receiver_accepted_log_records_total', logplex)).toBe(posted.length);
    expect(valueOf(m, 'otelcol_receiver_refused_log_records_total', logplex)).toBe(0);
    expect(valueOf(m, 'otelcol_receiver_accepted_log_records_total', { receiver: 'syslog', transport: 'tcp' })).toBe(2);
    expect(valueOf(m, 'otelcol_receiver_duplicate_lines_total', logplex)).toBe(posted.length);
    // A series from the start, at 0 while no drain's url_templates table is full.
    expect(valueOf(m, 'otelcol_receiver_url_template_overflow_paths_total', logplex)).toBe(0);
    expect(valueOf(m, 'otelcol_receiver_requests_total', { ...logplex, outcome: 'success' })).toBe(2);
    expect(valueOf(m, 'otelcol_receiver_requests_total', { ...logplex, outcome: 'failure', error_type: 'unknown_token' })).toBe(1);
    expect(valueOf(m, 'otelcol_receiver_requests_total', { ...logplex, outcome: 'refused', error_type: 'queue_full' })).toBe(0);
    expect(valueOf(m, 'otelcol_drain_lines_total', { drain: 'shop-web' })).toBe(posted.length);
    // Every point the receiver put into the metrics pipeline went through alerts, then into the aggregation.
    const points = valueOf(m, 'otelcol_receiver_accepted_metric_points_total', logplex)!;
    expect(points).toBeGreaterThanOrEqual(4);
    expect(valueOf(m, 'otelcol_processor_incoming_items_total', { processor: 'alerts', otel_signal: 'metrics' })).toBe(points);
    expect(valueOf(m, 'otelcol_processor_incoming_items_total', { processor: 'interval', otel_signal: 'metrics' })).toBe(points);
    expect(valueOf(m, 'otelcol_processor_interval_series', { processor: 'interval', pipeline: 'metrics' })).toBeGreaterThan(0);
    // redact saw every record of the logs pipeline, the syslog ones too, and handed them all on.
    expect(valueOf(m, 'otelcol_processor_incoming_items_total', { processor: 'redact', otel_signal: 'logs' })).toBe(posted.length + 2);
    expect(valueOf(m, 'otelcol_processor_outgoing_items_total', { processor: 'redact', otel_signal: 'logs' })).toBe(posted.length + 2);
    // What the backends hold is what the exporters say they sent.
    expect(valueOf(m, 'otelcol_exporter_sent_log_records_total', { exporter: 'otlphttp' })).toBe(backend.logRecords().length);
    expect(valueOf(m, 'otelcol_exporter_sent_log_records_total', { exporter: 'otlphttp/disk' })).toBe(disk.logRecords().length);
    expect(valueOf(m, 'otelcol_exporter_send_failed_log_records_total', { exporter: 'otlphttp' })).toBe(0);
    expect(valueOf(m, 'otelcol_exporter_queue_size', { exporter: 'otlphttp', data_type: 'logs' })).toBe(0);
    expect(valueOf(m, 'otelcol_exporter_queue_capacity', { exporter: 'otlphttp', data_type: 'logs' })).toBeGreaterThan(0);
    expect(valueOf(m, 'otelcol_storage_limit_bytes', { extension: 'file_storage' })).toBeGreaterThan(0);
    expect(valueOf(m, 'otelcol_processor_alerts_firing', { processor: 'alerts' })).toBe(0);
    expect(valueOf(m, 'otelcol_processor_alerts_notifications_total', { processor: 'alerts', target: 'alertmanager', outcome: 'failure' })).toBe(0);
    // A span per router line, once (the batch sent again is a duplicate), when a traces pipeline takes them.
    const routerLines = posted.filter((l) => l.includes(' router ')).length;
    expect(valueOf(m, 'otelcol_receiver_accepted_spans_total', logplex)).toBe(routerLines);
    expect(valueOf(m, 'otelcol_receiver_refused_spans_total', logplex)).toBe(0);
    expect(valueOf(m, 'otelcol_processor_incoming_items_total', { processor: 'redact', otel_signal: 'traces' })).toBe(routerLines);
    const sent = await until(async () => ((await scrapeValue('otelcol_exporter_sent_spans_total', { exporter: 'otlphttp' })) === routerLines ? true : undefined), { what: 'the spans to be sent' });
    expect(sent).toBe(true);
  });

  it('reports the process as the Collector does, and its event loop', async () => {
    const m = await scrape();
    const uptime = valueOf(m, 'otelcol_process_uptime_total')!;
    expect(uptime).toBeGreaterThan(0);
    // Started before the test's clock began to run, and not long before.
    expect(uptime).toBeLessThan((Date.now() - startedAt) / 1000 + 5);
    const rss = valueOf(m, 'otelcol_process_memory_rss')!;
    const heap = valueOf(m, 'otelcol_process_runtime_heap_alloc_bytes')!;
    expect(rss).toBeGreaterThan(10 * 2 ** 20);
    expect(heap).toBeGreaterThan(2 ** 20);
    expect(heap).toBeLessThan(rss);
    const cpu = valueOf(m, 'otelcol_process_cpu_seconds_total')!;
    expect(cpu).toBeGreaterThan(0);
    // A process uses at most its cores' time (a 2-core machine here, and 4 of slack).
    expect(cpu).toBeLessThan(uptime * 4);
    const utilization = valueOf(m, 'otelcol_process_runtime_event_loop_utilization')!;
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
    const p99 = valueOf(m, 'otelcol_process_runtime_event_loop_delay_p99_seconds')!;
    const max = valueOf(m, 'otelcol_process_runtime_event_loop_delay_max_seconds')!;
    expect(p99).toBeGreaterThanOrEqual(0);
    expect(max).toBeGreaterThanOrEqual(p99);
    expect(m.types.get('otelcol_process_cpu_seconds_total')).toBe('counter');
    expect(m.types.get('otelcol_process_memory_rss')).toBe('gauge');
  });

  it("lists in README every metric the endpoint serves, with its instrument, unit and attributes, and the registry declares them", async () => {
    const m = await scrape();
    const listed = readmeMetrics();
    expect(listed.length).toBeGreaterThan(30);
    const served = new Map<string, Set<string>>();
    for (const s of m.samples) {
      if (s.name === 'target_info') continue;
      const labels = served.get(s.name) ?? new Set<string>();
      for (const k of Object.keys(s.labels)) labels.add(k);
      served.set(s.name, labels);
    }
    const promName = (x: { name: string; instrument: string }) => (x.instrument === 'counter' ? `${x.name}_total` : x.name);
    const expected = listed;
    expect(expected.map(promName).sort()).toEqual([...served.keys()].sort());
    const registry = new Map(loadRegistry().metrics.map((r) => [r.name, r]));
    for (const x of expected) {
      const name = promName(x);
      expect({ name, type: m.types.get(name), unit: m.units.get(name) ?? '', labels: [...served.get(name)!].sort() }).toEqual({
        name,
        type: x.instrument,
        unit: x.unit,
        labels: x.attributes.map((a) => a.replace(/\./g, '_')).sort(),
      });
      const declared = registry.get(x.name);
      expect({ name: x.name, instrument: declared?.instrument, unit: declared?.unit, attributes: declared?.attributes }).toEqual({ name: x.name, instrument: x.instrument, unit: x.unit, attributes: x.attributes });
    }
    // And the registry declares no otelcol_ metric README leaves out.
    expect([...registry.keys()].filter((n) => n.startsWith('otelcol_')).sort()).toEqual(listed.map((x) => x.name).sort());
  });
});

describe('periodic OTLP readers and the own log over OTLP', () => {
  let sidecar: RunningSidecar | undefined;
  let backends: OtlpTestServer[] = [];
  afterEach(async () => {
    await stop(sidecar);
    sidecar = undefined;
    await Promise.all(backends.map((b) => b.stop()));
    backends = [];
  });

  /** The data points of `name` in every request the backend decoded, with the metric they came in. */
  const pointsOf = (backend: OtlpTestServer, name: string) =>
    backend.requests
      .filter((r) => r.path === '/v1/metrics')
      .flatMap((r) => r.body.resourceMetrics.flatMap((rm: any) => rm.scopeMetrics.flatMap((sm: any) => sm.metrics.filter((x: any) => x.name === name).flatMap((x: any) => (x.sum ?? x.gauge).dataPoints.map((d: any) => ({ metric: x, point: d, resource: rm.resource }))))));

  it('delivers the metrics as OTLP protobuf, cumulative, with the resource and names the registry declares', async () => {
    const self = new OtlpTestServer();
    backends = [self];
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}" } ] }
exporters:
  debug: { verbosity: basic }
service:
  telemetry:
    metrics:
      readers:
        - periodic: { interval: 300, exporter: { otlp: { protocol: http/protobuf, endpoint: "${await self.start()}", headers: [ { name: x-team, value: drains } ] } } }
    resource: { deployment.environment.name: test }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`);
    sidecar = await startSidecar(['start', '--config', config], {});
    expect(await post(sidecar.port, lines(Date.now()).map(frame).join(''), { 'logplex-drain-token': TOKEN })).toBe(200);
    const accepted = await until(() => pointsOf(self, 'otelcol_receiver_accepted_log_records').find((p) => p.point.asInt === '6'), { timeoutMs: 10_000, what: 'an export counting the 6 records' });
    expect(accepted.metric.unit).toBe('{record}');
    expect(accepted.metric.sum.isMonotonic).toBe(true);
    expect(accepted.metric.sum.aggregationTemporality).toBe(2);
    const attributes = (list: any[]) => Object.fromEntries(list.map((a: any) => [a.key, a.value.stringValue ?? a.value.intValue]));
    expect(attributes(accepted.point.attributes)).toEqual({ receiver: 'logplex', transport: 'http' });
    const resource = attributes(accepted.resource.attributes);
    expect(resource).toMatchObject({ 'service.name': 'heroku-otel-drain', 'deployment.environment.name': 'test' });
    expect(resource['service.instance.id']).toMatch(/-[0-9a-f]{8}$/);
    const request = self.requests.find((r) => r.path === '/v1/metrics')!;
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers['x-team']).toBe('drains');
    // Every metric delivered is declared, with the instrument and unit it came with.
    const registry = new Map(loadRegistry().metrics.map((r) => [r.name, r]));
    const seen = new Map<string, string>();
    for (const r of self.requests) for (const rm of r.body.resourceMetrics) for (const sm of rm.scopeMetrics) for (const x of sm.metrics) seen.set(x.name, `${x.sum ? (x.sum.isMonotonic ? 'counter' : 'updowncounter') : 'gauge'} ${x.unit}`);
    expect(seen.size).toBeGreaterThan(15);
    for (const [name, shape] of seen) expect(`${name}: ${shape}`).toBe(`${name}: ${registry.get(name)?.instrument} ${registry.get(name)?.unit}`);
  });

  it('sends JSON and deltas when asked, with only the headers its config names', async () => {
    const self = new OtlpTestServer();
    backends = [self];
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}" } ] }
exporters:
  debug: { verbosity: basic }
service:
  telemetry:
    metrics:
      level: basic
      readers:
        - periodic: { interval: 300, exporter: { otlp: { protocol: http/json, endpoint: "${await self.start()}", headers: { x-team: drains }, temporality_preference: delta } } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`);
    // The data's backend credentials, in the environment: they must not reach another endpoint.
    sidecar = await startSidecar(['start', '--config', config], { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20data-backend-secret', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-other=1' });
    expect(await post(sidecar.port, lines(Date.now()).map(frame).join(''), { 'logplex-drain-token': TOKEN })).toBe(200);
    expect(await post(sidecar.port, lines(Date.now()).slice(0, 2).map(frame).join(''), { 'logplex-drain-token': TOKEN })).toBe(200);
    // Deltas: the exports' points add up to what was posted.
    await until(() => pointsOf(self, 'otelcol_receiver_accepted_log_records').reduce((n, p) => n + Number(p.point.asInt), 0) === 8, { timeoutMs: 10_000, what: 'deltas adding up to 8 records' });
    const delta = pointsOf(self, 'otelcol_receiver_accepted_log_records')[0]!.metric;
    expect(delta.sum.aggregationTemporality).toBe(1);
    for (const r of self.requests) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-team']).toBe('drains');
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-other']).toBeUndefined();
    }
    // basic: the Collector's metrics only.
    const names = new Set(self.metrics().map((x) => x.name));
    expect(names.has('otelcol_exporter_sent_log_records')).toBe(true);
    expect(names.has('otelcol_drain_lines')).toBe(false);
    expect(names.has('otelcol_process_runtime_event_loop_utilization')).toBe(false);
  });

  it("copies its own log over OTLP at the level asked, the shutdown's last lines included, and no drain token", async () => {
    const self = new OtlpTestServer();
    backends = [self];
    const config = writeConfig(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: "${TOKEN}" } ] }
exporters:
  debug: { verbosity: basic }
service:
  telemetry:
    logs:
      level: debug
      processors:
        - batch: { schedule_delay: 200, exporter: { otlp: { protocol: http/protobuf, endpoint: "${await self.start()}" } } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`);
    sidecar = await startSidecar(['start', '--config', config], {});
    expect(await post(sidecar.port, lines(Date.now()).map(frame).join(''), { 'logplex-drain-token': TOKEN })).toBe(200);
    const body = (r: any) => r.body?.stringValue;
    const listening = await until(() => self.logRecords().find((r) => body(r)?.startsWith('logplex: listening on 127.0.0.1:')), { timeoutMs: 10_000, what: 'the listening line over OTLP' });
    expect(listening.severityText).toBe('INFO');
    expect(listening.severityNumber).toBe(9);
    expect(listening.attributes).toContainEqual({ key: 'receiver', value: { stringValue: 'logplex' } });
    // The level applies to stderr and to the copy: the debug line of each batch taken is in both.
    const taken = await until(() => self.logRecords().find((r) => body(r) === 'batch taken'), { what: 'the debug line over OTLP' });
    expect(taken.severityText).toBe('DEBUG');
    expect(sidecar.logLines().some((l) => l.level === 'debug' && l.msg === 'batch taken')).toBe(true);
    const requests = self.requests.filter((r) => r.path === '/v1/logs');
    expect(requests[0]!.body.resourceLogs[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'heroku-otel-drain' } });
    sidecar.proc.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
    // Its last line, written after everything else stopped, went out too.
    expect(self.logRecords().map(body)).toContain('stopped: every accepted item was exported');
    expect(JSON.stringify(self.requests.map((r) => r.body))).not.toContain(TOKEN.slice(2));
  });
});

describe('the transport attribute', () => {
  it("says http for HTTP over TLS too, as the Collector's HTTP receivers do, and both of a syslog receiver's", () => {
    expect(transportOf([{ transport: 'https' }])).toBe('http');
    expect(transportOf([{ transport: 'tcp' }, { transport: 'udp' }])).toBe('tcp,udp');
  });
});
