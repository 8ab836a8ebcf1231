/**
 * Issue 14, item 5: every shipped backend example, run as the real sidecar process with its
 * exporter pointed at a test backend that applies that backend's documented acceptance rules
 * (test/support/otlp-backends.ts), fed a realistic Heroku mix over Logplex for several export
 * intervals. 100 % of the metric points must be accepted, every cumulative series must keep one
 * start time and never decrease, and two instances must not write the same series.
 *
 * Which rules for which example:
 * - grafana-cloud.yaml: the Prometheus OTLP translator as Mimir runs it
 *   (test/support/prometheus-otlp-rules.ts; grafana.com/docs/grafana-cloud/send-data/otlp/
 *   otlp-format-considerations/: "Grafana Cloud stores metrics in Mimir").
 * - datadog.yaml: Datadog's OTLP metrics intake (test/support/datadog-otlp-rules.ts): delta only.
 * - newrelic.yaml: both temporalities, start times detect resets, delta non-monotonic sums not
 *   kept, `api-key` and 1 MB (newrelic/docs-website opentelemetry-best-practices-metrics.mdx and
 *   opentelemetry-otlp.mdx).
 * - honeycomb.yaml: "Counters and sums: Cumulative or delta"
 *   (https://docs.honeycomb.io/get-started/honeycomb/metrics-in-honeycomb), `x-honeycomb-team`.
 * - otel-collector.yaml: the otlp receiver takes any valid OTLP; the data model's rules
 *   (https://opentelemetry.io/docs/specs/otel/metrics/data-model/) still hold for what it forwards.
 *
 * Endpoints: an example that reads its endpoint from a variable gets the double's URL there;
 * one with a fixed vendor host (Datadog, Honeycomb, New Relic) runs from a copy whose `endpoint:`
 * hosts are replaced by the double's, nothing else changed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatadogOtlpChecker } from '../support/datadog-otlp-rules.ts';
import { OtlpBackendDouble, OtlpDataModelChecker } from '../support/otlp-backends.ts';
import { dataPointsOf, PrometheusOtlpChecker, TEMPORALITY, type MetricsRules } from '../support/prometheus-otlp-rules.ts';
import { startSidecar, type RunningSidecar } from '../support/sidecar.ts';
import { settle, until } from '../support/wait.ts';
import { syslogTime } from '../support/heroku-time.ts';

const DIR = new URL('../../examples/backends/', import.meta.url).pathname;
const EXAMPLES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const APP = 'shop-web';
const DRAIN_PASSWORD = 'drain-secret';
/**
 * The export interval asked of the sidecar. Datadog keeps one point per series and second ("last
 * write wins", docs.datadoghq.com/opentelemetry/setup/otlp_ingest/metrics/, Troubleshooting), so
 * two delta points 500 ms apart lose one: its case runs at 1 s, the shortest interval Datadog can
 * keep whole.
 */
const INTERVAL_MS: Record<string, number> = { 'datadog.yaml': 1000 };
const DEFAULT_INTERVAL_MS = 500;
/**
 * Exports expected after the last POST: a cumulative pipeline sends every live series at every
 * interval; a delta one (cumulativetodelta) sends only what changed, so once the last batch is
 * out it has nothing more to say.
 */
const EXPORTS_AFTER_LAST_POST: Record<string, number> = { 'datadog.yaml': 1 };
/** Batches posted, one every POST_EVERY_MS: several export intervals of traffic. */
const BATCHES = 10;
const POST_EVERY_MS = 250;

type Rules = PrometheusOtlpChecker | DatadogOtlpChecker | OtlpDataModelChecker;

function rulesFor(file: string): Rules {
  if (file === 'grafana-cloud.yaml') return new PrometheusOtlpChecker({ flavor: 'mimir' });
  if (file === 'datadog.yaml') return new DatadogOtlpChecker();
  if (file === 'newrelic.yaml') return new OtlpDataModelChecker({ requiredHeaders: ['api-key'], maxBodyBytes: 1_000_000, dropDeltaNonMonotonicSums: true });
  if (file === 'honeycomb.yaml') return new OtlpDataModelChecker({ requiredHeaders: ['x-honeycomb-team'] });
  if (file === 'otel-collector.yaml') return new OtlpDataModelChecker();
  throw new Error(`no backend rules for ${file}: add them here`);
}

// ---------------------------------------------------------------------------------------------
// A realistic Heroku mix, as Logplex frames (formats from examples/captures and test/cases)

const DYNO_ID = 'heroku.2808254.d97d0ea7-cf3d-411b-b453-d2943a50b456';
const PATHS = ['/', '/search?q=shoes&page=2', '/products/42', '/cart', '/pay', '/api/orders', '/assets/app.js', '/users/sign_in'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'GET', 'PUT', 'GET', 'DELETE'];
const STATUSES = [200, 200, 200, 201, 200, 304, 200, 404, 302, 422, 500, 200];
const WEB_DYNOS = ['web.1', 'web.2', 'web.3'];


function routerLine(i: number, ms: number): string {
  const ts = syslogTime(ms);
  const fwd = `203.0.113.${(i * 7) % 250}`;
  if (i % 29 === 28) {
    // A request no dyno answered (H10): counted, at 0 s.
    return `<158>1 ${ts} host heroku router - at=error code=H10 desc="App crashed" method=GET path="/" host=shop.example.com request_id=${randomUUID()} fwd="${fwd}" dyno= connect= service= status=503 bytes= protocol=https`;
  }
  if (i % 23 === 22) {
    return `<158>1 ${ts} host heroku router - at=error code=H12 desc="Request timeout" method=POST path="/pay" host=shop.example.com request_id=${randomUUID()} fwd="${fwd}" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`;
  }
  const status = STATUSES[i % STATUSES.length]!;
  return (
    `<158>1 ${ts} host heroku router - at=info method=${METHODS[i % METHODS.length]} path="${PATHS[i % PATHS.length]}" host=shop.example.com ` +
    `request_id=${randomUUID()} fwd="${fwd}" dyno=${WEB_DYNOS[i % WEB_DYNOS.length]} connect=${i % 3}ms service=${(i * 37) % 900 + 5}ms status=${status} bytes=${(i * 131) % 9000} protocol=https`
  );
}

/** One POST's worth of lines at `ms`: router lines, dyno runtime samples, add-on samples, l2met app lines. */
function herokuBatch(batch: number, ms: number, routerLines: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < routerLines; i++) lines.push(routerLine(batch * routerLines + i, ms - (routerLines - i) * 5));
  const ts = syslogTime(ms);
  for (const [n, dyno] of ['web.1', 'web.2', 'worker.1'].entries()) {
    const pgpgin = 348_836 + batch * 120 + n * 1000;
    const pgpgout = 343_403 + batch * 95 + n * 1000;
    lines.push(`<45>1 ${ts} host heroku ${dyno} - source=${dyno} dyno=${DYNO_ID} sample#load_avg_1m=${(0.4 + n * 0.3 + (batch % 4) * 0.05).toFixed(2)} sample#load_avg_5m=0.31 sample#load_avg_15m=0.22`);
    lines.push(
      `<45>1 ${ts} host heroku ${dyno} - source=${dyno} dyno=${DYNO_ID} sample#memory_total=${(400 + batch).toFixed(2)}MB sample#memory_rss=${(380 + batch).toFixed(2)}MB sample#memory_cache=20.00MB ` +
        `sample#memory_swap=0.00MB sample#memory_pgpgin=${pgpgin}pages sample#memory_pgpgout=${pgpgout}pages sample#memory_quota=512.00MB`,
    );
  }
  lines.push(
    `<134>1 ${ts} host app heroku-postgres - source=DATABASE addon=postgresql-curly-12345 sample#current_transaction=${19_028_263 + batch * 40} sample#db_size=10311979679bytes sample#tables=42 ` +
      `sample#active-connections=${11 + (batch % 3)} sample#waiting-connections=0 sample#index-cache-hit-rate=0.99814 sample#table-cache-hit-rate=0.96729 sample#load-avg-1m=0.05 sample#read-iops=0 ` +
      `sample#write-iops=0.21311 sample#tmp-disk-used=543600640 sample#memory-total=8036340kB sample#memory-postgres=23380kB sample#wal-percentage-used=0.0642`,
  );
  lines.push(
    `<134>1 ${ts} host app heroku-redis - source=REDIS addon=redis-closed-12345 sample#active-connections=1 sample#load-avg-1m=0.145 sample#memory-total=16082928kB ` +
      `sample#memory-redis=460192bytes sample#hit-rate=0.92675 sample#evicted-keys=${batch * 3}`,
  );
  lines.push(`<134>1 ${ts} host app heroku-postgres - source=pgbouncer addon=postgresql-contoured-12345 sample#client_active=56 sample#client_waiting=0 sample#server_active=0 sample#server_idle=16 sample#max_wait=0 sample#avg_query=8751 sample#avg_recv=37568 sample#avg_sent=1339005`);
  lines.push(`<190>1 ${ts} host app web.2 - at=info msg="order placed" count#orders.created=${1 + (batch % 2)} measure#checkout.latency=${100 + batch * 7}ms sample#queue.depth=${batch % 5}`);
  lines.push(`<190>1 ${ts} host app worker.1 - count#jobs.processed=3 measure#job.duration=${250 + batch}ms`);
  lines.push(`<190>1 ${ts} host app web.1 - Completed 200 OK in 12ms (Views: 3.1ms | ActiveRecord: 1.2ms)`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Running an example

interface Instance {
  writer: string;
  sidecar: RunningSidecar;
  post: (lines: string[], frameId: string) => Promise<number>;
}

let running: RunningSidecar[] = [];
let doubles: OtlpBackendDouble[] = [];
afterEach(async () => {
  for (const s of running) s.proc.kill('SIGTERM');
  await Promise.all(running.map((s) => s.exited));
  await Promise.all(doubles.map((d) => d.stop()));
  running = [];
  doubles = [];
});

/** The example with every `endpoint:` host that is not a variable replaced by `base`. */
function pointedAt(text: string, base: string): string {
  return text
    .split('\n')
    .map((line) => (line.trimStart().startsWith('#') || !/endpoint:/.test(line) ? line : line.replace(/https:\/\/[A-Za-z0-9.-]+(?::\d+)?/g, base)))
    .join('\n');
}

async function startInstance(file: string, double: OtlpBackendDouble, writer: string): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), `hod-conformance-${writer}-`));
  const base = double.endpointFor(writer);
  const text = pointedAt(readFileSync(DIR + file, 'utf8'), base);
  const config = join(dir, file);
  writeFileSync(config, text);
  const token = `d.${randomUUID()}`;
  const env: NodeJS.ProcessEnv = { OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS[file] ?? DEFAULT_INTERVAL_MS) };
  for (const m of text.matchAll(/\$\{env:([A-Z0-9_]+)(?::-[^}]*)?\}/g)) {
    const name = m[1]!;
    env[name] = name === 'PORT' ? '0' : name === 'QUEUE_DIRECTORY' ? join(dir, 'queue') : name.includes('ENDPOINT') ? base : name === 'DRAIN_PASSWORD' ? DRAIN_PASSWORD : name === 'DRAIN_TOKEN' ? token : name === 'APP_NAME' ? APP : `value-of-${name}`;
  }
  const sidecar = await startSidecar(['start', '--config', config], env);
  running.push(sidecar);
  const basic = text.includes('basic_auth:');
  const post = async (lines: string[], frameId: string) => {
    const body = lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join('');
    const headers: Record<string, string> = { 'content-type': 'application/logplex-1', 'logplex-msg-count': String(lines.length), 'logplex-frame-id': frameId, 'logplex-drain-token': token };
    if (basic) headers.authorization = `Basic ${Buffer.from(`logplex:${DRAIN_PASSWORD}`).toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${sidecar.port}/logs?app=${APP}`, { method: 'POST', body, headers });
    return res.status;
  };
  return { writer, sidecar, post };
}

/**
 * Posts BATCHES batches, round robin over the instances as Heroku's router spreads Logplex's
 * POSTs over dynos; then waits (bounded) until each instance has exported three more times, so
 * the last batch is in a cumulative point. Returns the router lines posted.
 */
async function drive(double: OtlpBackendDouble, instances: Instance[], exportsAfter = 3): Promise<{ routerLines: number; exportsAfterLastPost: number[] }> {
  let routerLines = 0;
  for (let b = 0; b < BATCHES; b++) {
    const instance = instances[b % instances.length]!;
    const perBatch = 12 + (b % 4) * 3;
    const status = await instance.post(herokuBatch(b, Date.now(), perBatch), `frame-${instance.writer}-${b}`);
    expect(status, `POST ${b} to ${instance.writer}`).toBe(200);
    routerLines += perBatch;
    await settle(POST_EVERY_MS);
  }
  const after = instances.map((i) => double.metricsExchanges(i.writer).length);
  // Bounded, and not fatal here: before the interval stage exports on its own, there may be no
  // export after the last POST; the assertions below say what is wrong first.
  await until(() => instances.every((inst, k) => double.metricsExchanges(inst.writer).length >= after[k]! + exportsAfter), { timeoutMs: 8000, what: `${exportsAfter} exports per instance after the last POST` }).catch(() => undefined);
  return { routerLines, exportsAfterLastPost: instances.map((inst, k) => double.metricsExchanges(inst.writer).length - after[k]!) };
}

/** Requests per writer observed by the double, for the failure messages. */
function answers(double: OtlpBackendDouble): string {
  return double
    .metricsExchanges()
    .map((e) => `${e.writer} ${e.status}${e.verdict?.partial ? ` partial(${e.verdict.rejectedDataPoints})` : ''}${e.verdict?.message ? `: ${e.verdict.message.split('\n')[0]}` : ''}`)
    .join('\n');
}

/** Router requests the backend now counts, from http.server.request.duration: what a dashboard's request total shows. */
function requestsCounted(rules: Rules): number {
  if (rules instanceof PrometheusOtlpChecker) {
    return rules
      .series()
      .filter((s) => s.name === 'http_server_request_duration_seconds_count')
      .reduce((total, s) => total + s.samples[s.samples.length - 1]!.v, 0);
  }
  if (rules instanceof DatadogOtlpChecker) {
    return rules
      .series()
      .filter((s) => s.name === 'http.server.request.duration')
      .reduce((total, s) => total + [...s.points.values()].reduce((a, p) => a + p.v, 0), 0);
  }
  return rules
    .streams()
    .filter((s) => s.metric === 'http.server.request.duration')
    .reduce((total, s) => total + (s.temporality === TEMPORALITY.CUMULATIVE ? s.samples[s.samples.length - 1]!.v : s.samples.reduce((a, p) => a + p.v, 0)), 0);
}

/** The rules every example must pass, whatever the backend. */
function expectConformance(file: string, double: OtlpBackendDouble<Rules>, routerLines: number): void {
  const rules = double.rules;
  const exchanges = double.metricsExchanges();
  expect(exchanges.length, `${file}: metrics requests received`).toBeGreaterThan(0);
  // Every request answered 200 with no partial success, and every point accepted.
  expect(
    exchanges.filter((e) => e.status !== 200 || e.verdict?.partial),
    `${file}: requests the backend refused or partly refused:\n${answers(double)}`,
  ).toEqual([]);
  expect(
    rules.rejected.map((p) => `${p.metric}: ${p.reason}`),
    `${file}: rejected points`,
  ).toEqual([]);
  const points = double.pointVerdicts();
  expect(points.length, `${file}: metric points received`).toBeGreaterThan(0);
  // An example with a traces pipeline: every span request accepted by the OTLP data model's rules.
  const traces = double.exchanges.filter((e) => e.path === '/v1/traces');
  expect(traces.filter((e) => e.status !== 200).map((e) => `${e.writer} ${e.status}`), `${file}: span requests refused`).toEqual([]);
  if (/^\s+traces: \{/m.test(readFileSync(new URL(`../../examples/backends/${file.split(' ')[0]}`, import.meta.url), 'utf8'))) {
    const spans = traces.flatMap((e) => (e.body.resourceSpans ?? []).flatMap((rs: any) => (rs.scopeSpans ?? []).flatMap((ss: any) => ss.spans ?? [])));
    expect(spans.length, `${file}: a span per router line`).toBe(routerLines);
  }
  expect(points.filter((p) => p.accepted).length / points.length, `${file}: share of points accepted`).toBe(1);

  if (rules instanceof DatadogOtlpChecker) {
    // Done-when of issue 14: every sum and histogram delta; nothing answered for and then lost.
    const cumulative = exchanges.flatMap((e) => dataPointsOf(e.body).metrics).filter((m) => (m.kind === 'sum' && m.monotonic) || m.kind === 'histogram' || m.kind === 'exponentialHistogram').filter((m) => m.temporality !== TEMPORALITY.DELTA);
    expect(cumulative.map((m) => m.name), `${file}: sums and histograms that are not delta`).toEqual([]);
    // A gauge's newer sample replacing an older one of the same second is a gauge's meaning, not a loss.
    expect(rules.losses.filter((l) => l.superseded !== true).map((l) => `${l.series}: ${l.message}`), `${file}: points Datadog would not keep`).toEqual([]);
  } else {
    // Each cumulative series keeps one start time and never decreases.
    const series = rules instanceof PrometheusOtlpChecker ? rules.cumulativeSeries() : rules.cumulativeStreams();
    if (rules instanceof PrometheusOtlpChecker) expect(series.length, `${file}: cumulative counter and histogram series`).toBeGreaterThan(0);
    expect(series.filter((s) => s.startTimes.length !== 1).map((s) => `${s.key}: start times ${s.startTimes.join(', ')}`), `${file}: series with more than one start time`).toEqual([]);
    expect(series.filter((s) => s.resets.length > 0).map((s) => s.key), `${file}: series that were reset`).toEqual([]);
    expect(rules.violations().map((v) => `${v.series}: ${v.rule}: ${v.message}`), `${file}: single-writer and start-time violations`).toEqual([]);
  }
  // Every router line counted exactly once: nothing lost, nothing counted twice.
  expect(requestsCounted(rules), `${file}: requests counted by http.server.request.duration`).toBe(routerLines);
}

describe('backend conformance of every examples/backends/*.yaml', () => {
  it('covers every shipped example', () => {
    expect(EXAMPLES).toEqual(['datadog.yaml', 'grafana-cloud.yaml', 'honeycomb.yaml', 'newrelic.yaml', 'otel-collector.yaml']);
  });

  it.each(EXAMPLES)(
    '%s: every metric point accepted over several export intervals, cumulative series whole',
    async (file) => {
      const double = new OtlpBackendDouble<Rules>(rulesFor(file));
      doubles.push(double);
      await double.start();
      const instance = await startInstance(file, double, 'a');
      const expected = EXPORTS_AFTER_LAST_POST[file] ?? 3;
      const { routerLines, exportsAfterLastPost } = await drive(double, [instance], expected);
      expectConformance(file, double, routerLines);
      expect(exportsAfterLastPost[0], `${file}: exports after the last POST (one every OTEL_METRIC_EXPORT_INTERVAL)`).toBeGreaterThanOrEqual(expected);
    },
    60_000,
  );

  it('grafana-cloud.yaml: two instances behind one app write disjoint series, each whole', async () => {
    // The single-writer rule (opentelemetry.io/docs/specs/otel/metrics/data-model/#single-writer):
    // two sidecar dynos of one app, Logplex's POSTs spread over both, one Grafana Cloud stack.
    const double = new OtlpBackendDouble<Rules>(rulesFor('grafana-cloud.yaml'));
    doubles.push(double);
    await double.start();
    const instances = [await startInstance('grafana-cloud.yaml', double, 'a'), await startInstance('grafana-cloud.yaml', double, 'b')];
    const { routerLines } = await drive(double, instances);
    const rules = double.rules as PrometheusOtlpChecker;
    expect(rules.seriesKeysOf('a').size, 'series written by instance a').toBeGreaterThan(0);
    expect(rules.seriesKeysOf('b').size, 'series written by instance b').toBeGreaterThan(0);
    expect(rules.sharedSeries('a', 'b'), 'series both instances wrote').toEqual([]);
    expectConformance('grafana-cloud.yaml (two instances)', double, routerLines);
  }, 60_000);
});
