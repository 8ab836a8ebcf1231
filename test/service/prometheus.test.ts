/**
 * The sidecar's own metrics through its Prometheus pull reader: the Collector's exposition
 * (`otelcol_*`, counters with `_total`, no unit suffixes, no scope labels, target_info), scraped
 * over HTTP, and by a real Prometheus (Debian's, started on loopback), which then answers a PromQL
 * query for the lines accepted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';
import { Service } from '../../src/service/service.ts';
import { HeldBackend } from '../support/held-backend.ts';
import { OtlpTestServer } from '../support/otlp-server.ts';
import { freePort, hasCommand } from '../support/syslog-tools.ts';
import { until } from '../support/wait.ts';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const frame = (m: string) => `${Buffer.byteLength(m) + 1} ${m}\n`;

let service: Service | undefined;
let prometheus: ChildProcess | undefined;
let backends: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  prometheus?.kill('SIGKILL');
  await service?.shutdown(5000);
  await Promise.all(backends.map((b) => b.stop()));
  service = prometheus = undefined;
  backends = [];
});

describe('service.telemetry.metrics', () => {
  it("serves the counters in the Collector's exposition", async () => {
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
exporters:
  debug: {}
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`),
      {},
    );
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const body = Array.from({ length: 4 }, (_, i) => frame(`<190>1 2024-05-01T12:00:00+00:00 host app web.1 - line ${i}`)).join('');
    await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body });
    const res = await fetch(`http://127.0.0.1:${service.prometheus!.address.port}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE otelcol_receiver_accepted_log_records_total counter');
    expect(text).toContain('otelcol_receiver_accepted_log_records_total{receiver="logplex",transport="http"} 4');
    expect(text).toContain('otelcol_receiver_requests_total{receiver="logplex",transport="http",outcome="success"} 1');
    expect(text).toMatch(/# TYPE otelcol_pipeline_held_items gauge/);
    expect(text).toContain('otelcol_drain_lines_total{drain="unnamed"} 4');
    // No unit suffixes, as the Collector's reader writes them (without_units).
    expect(text).toMatch(/^otelcol_process_memory_rss \d+$/m);
    expect(text).toMatch(/^otelcol_process_uptime_total [\d.e+-]+$/m);
    // The resource once, in target_info; no scope labels on the series.
    expect(text).toMatch(/^target_info\{.*service_name="heroku-otel-drain".*\} 1$/m);
    expect(text).not.toContain('otel_scope_name');
    expect((await fetch(`http://127.0.0.1:${service.prometheus!.address.port}/other`)).status).toBe(404);
  });

  it("counts a metrics pipeline's series and the points max_streams sent to the overflow series", async () => {
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  interval: { max_streams: 2 }
exporters:
  debug: {}
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    metrics: { receivers: [logplex], processors: [interval], exporters: [debug] }
`),
      {},
    );
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    // Five l2met counters, five series: two fit, the points of the other three go to their metrics' overflow series.
    const body = ['a', 'b', 'c', 'd', 'e'].map((m) => frame(`<190>1 2024-05-01T12:00:00+00:00 host app web.1 - count#${m}=1`)).join('');
    expect((await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body })).status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${service.prometheus!.address.port}/metrics`)).text();
    expect(text).toContain('otelcol_processor_interval_overflow_points_total{processor="interval",pipeline="metrics"} 3');
    expect(text).toContain('otelcol_processor_interval_not_finite_points_total{processor="interval",pipeline="metrics"} 0');
    // Two series, and one overflow series per metric that had no room (c, d, e).
    expect(text).toContain('otelcol_processor_interval_series{processor="interval",pipeline="metrics"} 5');
    // The interval processor took the five points; it has exported none yet.
    expect(text).toContain('otelcol_processor_incoming_items_total{processor="interval",otel_signal="metrics"} 5');
    expect(text).toContain('otelcol_processor_outgoing_items_total{processor="interval",otel_signal="metrics"} 0');
  });

  it("serves each exporter queue's otelcol_exporter_* series, as the Collector names them, and each storage's bytes", async () => {
    // otlphttp/backup: a backend that holds its first request, then refuses it for good (400);
    // a queue of one request that drops when full. otlphttp/disk: a healthy backend, a queue on disk.
    const held = new HeldBackend();
    const healthy = new OtlpTestServer();
    backends = [held, healthy];
    const dir = mkdtempSync(join(tmpdir(), 'hod-prom-queues-'));
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
extensions:
  file_storage: { directory: "${dir}", max_size_mib: 8 }
exporters:
  otlphttp/disk: { endpoint: "${await healthy.start()}", compression: none, sending_queue: { storage: file_storage } }
  otlphttp/backup: { endpoint: "${await held.start()}", compression: none, sending_queue: { num_consumers: 1, queue_size: 1, sizer: items, block_on_overflow: false } }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "127.0.0.1:0" }, status: { enabled: true } }
  pipelines:
    logs: { receivers: [logplex], exporters: [otlphttp/disk, otlphttp/backup] }
`),
      {},
    );
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    const receiver = `http://127.0.0.1:${service.receivers[0]!.receiver.address.port}`;
    const post = (from: number, n: number) =>
      fetch(`${receiver}/logs`, { method: 'POST', body: Array.from({ length: n }, (_, i) => frame(`<190>1 2024-05-01T12:00:00+00:00 host app web.1 - line ${from + i}`)).join('') });
    const scrape = async () => (await fetch(`http://127.0.0.1:${service!.prometheus!.address.port}/metrics`)).text();
    const queue = (id: string) => service!.queues.find((q) => q.id === id)!;

    // The first batch is the backup's one request, held in flight; the second finds it full: dropped for it alone.
    expect((await post(0, 3)).status).toBe(200);
    expect((await post(3, 2)).status).toBe(200);
    let text = await scrape();
    expect(text).toContain('otelcol_exporter_queue_size{exporter="otlphttp/backup",data_type="logs"} 3');
    expect(text).toContain('otelcol_exporter_queue_capacity{exporter="otlphttp/backup",data_type="logs"} 1');
    expect(text).toContain('otelcol_exporter_enqueue_failed_log_records_total{exporter="otlphttp/backup"} 2');
    expect(text).toContain('otelcol_exporter_send_failed_log_records_total{exporter="otlphttp/backup"} 0');
    expect(text).toContain('otelcol_exporter_enqueue_failed_log_records_total{exporter="otlphttp/disk"} 0');
    expect(text).toMatch(/# TYPE otelcol_exporter_sent_log_records_total counter/);
    expect(text).toMatch(/# TYPE otelcol_exporter_queue_size gauge/);
    // On disk without a queue_size, only the storage's budget bounds it: no capacity of its own.
    expect(text).not.toContain('otelcol_exporter_queue_capacity{exporter="otlphttp/disk"');
    // Nor has its pipeline an item limit (+Inf is no number to alert on): the disk's budget is its bound.
    expect(text).not.toContain('otelcol_pipeline_capacity_items{pipeline="logs"}');
    expect(text).toContain('otelcol_storage_limit_bytes{extension="file_storage"} 8388608');
    expect(text).toMatch(/^otelcol_storage_usage_bytes\{extension="file_storage"\} \d+$/m);

    held.release(400);
    // Settled: the backup's request refused, the disk queue's sent and acknowledged on disk.
    const settled = () => queue('otlphttp/backup').counters.sendFailed === 3 && queue('otlphttp/disk').counters.sent === 5 && service!.queues.every((q) => q.size === 0);
    await until(settled, { timeoutMs: 2000, what: "the backup's request refused and the disk queue's sent" });
    text = await scrape();
    expect(text).toContain('otelcol_exporter_send_failed_log_records_total{exporter="otlphttp/backup"} 3');
    expect(text).toContain('otelcol_exporter_sent_log_records_total{exporter="otlphttp/backup"} 0');
    expect(text).toContain('otelcol_exporter_sent_log_records_total{exporter="otlphttp/disk"} 5');
    expect(text).toContain('otelcol_exporter_send_failed_log_records_total{exporter="otlphttp/disk"} 0');
    expect(text).toContain('otelcol_exporter_queue_size{exporter="otlphttp/backup",data_type="logs"} 0');
    expect(text).toContain('otelcol_exporter_queue_size{exporter="otlphttp/disk",data_type="logs"} 0');
    expect(healthy.logRecords()).toHaveLength(5);

    // The status page's table of queues says the same, for a person.
    const page = await (await fetch(`${receiver}/`)).text();
    const rows = [...page.matchAll(/<tr><td>otlphttp\/.*?<\/tr>/g)].map(([row]) => [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map(([, cell]) => cell!.replace(/<[^>]+>/g, '')));
    expect(rows).toEqual([
      ['otlphttp/disk', 'logs', '0 requests / disk budget', '5', '0', '0', 'on disk'],
      ['otlphttp/backup', 'logs', '0 / 1 items', '0', '3 (failing)', '2 (full)', 'in memory'],
    ]);
    expect(page).toContain('<td class="n">0 / no item limit</td>');
  });

  it('refuses, in validate, to serve the counters on a public address without basic_auth', () => {
    const yaml = (metrics: string) => `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
exporters:
  debug: {}
service:
  telemetry: { metrics: ${metrics} }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`;
    expect(validateConfig(parseYaml(yaml('{ address: "0.0.0.0:8888" }')), {}).problems).toEqual([
      "service.telemetry.metrics.address: would serve the sidecar's counters (drain names, volumes) to anyone who reaches 0.0.0.0:8888; set metrics.basic_auth or a loopback address",
    ]);
    expect(validateConfig(parseYaml(yaml('{ address: "0.0.0.0:8888", basic_auth: { username: prom, password: s3cret } }')), {}).problems).toEqual([]);
    // The same rule for a pull reader in the Collector's shape.
    expect(validateConfig(parseYaml(yaml('{ readers: [ { pull: { exporter: { prometheus: { host: "0.0.0.0", port: 8888 } } } } ] }')), {}).problems).toEqual([
      "service.telemetry.metrics.readers[0].pull.exporter.prometheus.host: would serve the sidecar's counters (drain names, volumes) to anyone who reaches 0.0.0.0:8888; set metrics.basic_auth or a loopback address",
    ]);
  });

  it("takes the Collector's reader shapes, and says what is wrong with one", () => {
    const problems = (telemetry: string) =>
      validateConfig(
        parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
exporters:
  debug: {}
service:
  telemetry: ${telemetry}
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`),
        {},
      ).problems;
    // As otelcol-contrib's documentation writes them: a pull reader, a periodic OTLP reader with headers as a list, logs over OTLP.
    expect(
      problems(`
    metrics:
      level: detailed
      readers:
        - pull: { exporter: { prometheus: { host: localhost, port: 8888, without_units: true, without_type_suffix: true, without_scope_info: true } } }
        - periodic:
            interval: 10000
            exporter: { otlp: { protocol: http/protobuf, endpoint: "https://otlp.example.com/v1/metrics", headers: [ { name: api-key, value: k } ] } }
    logs:
      level: DEBUG
      processors:
        - batch: { exporter: { otlp: { protocol: http/json, endpoint: "https://otlp.example.com/v1/logs" } } }
    resource: { deployment.environment.name: production, service.instance.id: null }`),
    ).toEqual([]);
    expect(problems('{ metrics: { readers: [ { periodic: { exporter: { otlp: { protocol: grpc, endpoint: "http://localhost:4317" } } } } ] } }')).toEqual([
      'service.telemetry.metrics.readers[0].periodic.exporter.otlp.protocol: expected one of "http/protobuf", "http/json"',
    ]);
    expect(problems('{ metrics: { readers: [ {} ] } }')).toEqual(['service.telemetry.metrics.readers[0]: a reader is either pull (prometheus) or periodic (otlp)']);
    expect(problems('{ metrics: { level: verbose } }')).toEqual(['service.telemetry.metrics.level: expected one of "none", "basic", "normal", "detailed"']);
    expect(problems('{ logs: { sampling: { enabled: false } } }')).toEqual(['service.telemetry.logs.sampling: unknown key']);
  });

  it('refuses, in validate, a status page served without a password on a public address', () => {
    const { problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "0.0.0.0:8080", drains: [ { token: d.1 } ] }
exporters:
  debug: {}
service:
  telemetry: { status: { enabled: true } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`),
      {},
    );
    // (Its advice grows with the receiver's ways to authenticate: the start of it is what this test is about.)
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^service\.telemetry\.status: would be served without a password on receivers\.logplex \(0\.0\.0\.0:8080\); set basic_auth/);
  });

  it.skipIf(!hasCommand('prometheus') && !CI)('is scraped by a real Prometheus with basic auth, which answers a PromQL query for the lines accepted', async () => {
    const metricsPort = await freePort();
    const { config, problems } = validateConfig(
      parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
exporters:
  debug: {}
service:
  telemetry: { metrics: { address: "127.0.0.1:${metricsPort}", basic_auth: { username: prom, password: "s3cret" } } }
  pipelines:
    logs: { receivers: [logplex], exporters: [debug] }
`),
      {},
    );
    expect(problems).toEqual([]);
    service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(401);
    const body = Array.from({ length: 7 }, (_, i) => frame(`<190>1 2024-05-01T12:00:00+00:00 host app web.1 - line ${i}`)).join('');
    expect((await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body })).status).toBe(200);

    const dir = mkdtempSync(join(tmpdir(), 'hod-prometheus-'));
    const promPort = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: heroku-otel-drain\n    basic_auth: { username: prom, password: s3cret }\n    static_configs: [ { targets: ["127.0.0.1:${metricsPort}"] } ]\n`);
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    const query = encodeURIComponent('sum(otelcol_receiver_accepted_log_records_total{job="heroku-otel-drain"})');
    const value = await until(async () => {
      // Refused, or not JSON yet, while Prometheus starts.
      const res = (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${query}`)
        .then((r) => r.json())
        .catch(() => undefined)) as any;
      const v = res?.data?.result?.[0]?.value?.[1];
      return v === '7' ? v : undefined;
    }, { timeoutMs: 30_000, everyMs: 200, what: 'Prometheus to answer 7 lines accepted' });
    expect(value).toBe('7');
  });
});
