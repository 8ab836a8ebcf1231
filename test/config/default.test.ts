/** The embedded default config, from the standard OTEL_* variables and ours. */
import { describe, expect, it } from 'vitest';
import { defaultDocument, RUNNING_TOTAL_METRICS } from '../../src/config/default.ts';
import { METRIC_INSTRUMENTS } from '../../src/semconv/metrics.ts';
import { herokuLineCases } from '../cases/heroku-lines.ts';
import { validateConfig } from '../../src/config/load.ts';
import { makeTlsFixture } from '../support/tls-fixture.ts';

function otlphttp(env: NodeJS.ProcessEnv) {
  const embedded = defaultDocument(env);
  const result = validateConfig(embedded.document, env);
  return { problems: [...embedded.problems, ...result.problems], exporter: result.config?.exporters.get('otlphttp')?.config as any };
}

describe('embedded default config', () => {
  it('reads the OTLP exporter variables of the specification', () => {
    const { problems, exporter } = otlphttp({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example.com/otlp/v1/metrics',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(problems).toEqual([]);
    expect(exporter).toMatchObject({ endpoint: 'https://otlp.example.com', metrics_endpoint: 'https://metrics.example.com/otlp/v1/metrics', compression: 'none', timeout: 2500, encoding: 'json' });
    expect(exporter.logs_endpoint).toBeUndefined();
  });

  it('takes a signal endpoint alone, the other signal going to the default localhost:4318', () => {
    const { problems, exporter } = otlphttp({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example.com/v1/logs' });
    expect(problems).toEqual([]);
    expect(exporter).toMatchObject({ endpoint: 'http://localhost:4318', logs_endpoint: 'https://logs.example.com/v1/logs', compression: 'gzip', timeout: 10_000 });
  });

  it('never quotes a value that may be a secret set in the wrong variable', () => {
    const KEY = 'glc_eyJvIjoiMTIzIn0';
    const { problems } = otlphttp({ OTEL_EXPORTER_OTLP_ENDPOINT: KEY, OTEL_EXPORTER_OTLP_HEADERS: `${KEY},authorization=Bearer%ZZ${KEY}`, OTEL_EXPORTER_OTLP_PROTOCOL: KEY });
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL: the value (not shown) is not supported; use http/protobuf or http/json',
      'OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value with percent-encoded parts',
      'OTEL_EXPORTER_OTLP_HEADERS: the "authorization" entry is not key=value with percent-encoded parts',
      'exporters.otlphttp.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a value without http:// or https:// in front (not shown: it may hold a secret)',
    ]);
    for (const problem of problems) expect(problem).not.toContain(KEY);
  });

  it('names a bad compression, timeout or protocol', () => {
    const { problems } = otlphttp({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli', OTEL_EXPORTER_OTLP_TIMEOUT: '10s', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json (this build sends OTLP over HTTP only)',
      'OTEL_EXPORTER_OTLP_COMPRESSION: "brotli" is not supported; use gzip, zstd or none',
      'OTEL_EXPORTER_OTLP_TIMEOUT: "10s" is not a number of milliseconds above 0',
    ]);
  });
});

describe('embedded default config: per-signal OTLP variables', () => {
  const exportersOf = (env: NodeJS.ProcessEnv) => {
    const embedded = defaultDocument(env);
    const result = validateConfig(embedded.document, env);
    const config = result.config;
    return {
      problems: [...embedded.problems, ...result.problems],
      warnings: [...embedded.warnings, ...result.warnings],
      ids: config ? [...config.exporters.keys()] : [],
      exporter: (id: string) => config?.exporters.get(id)?.config as any,
      pipelines: config ? Object.fromEntries([...config.pipelines].map(([id, p]) => [id, p.exporters])) : {},
    };
  };

  it("sends Honeycomb's metrics dataset header with the metrics only, the team key with both", () => {
    const { problems, ids, exporter, pipelines } = exportersOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.honeycomb.io',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=hc-key',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-honeycomb-dataset=heroku-metrics',
    });
    expect(problems).toEqual([]);
    expect(ids).toEqual(['otlphttp/logs', 'otlphttp/metrics']);
    expect(pipelines).toEqual({ logs: ['otlphttp/logs'], metrics: ['otlphttp/metrics'] });
    expect(exporter('otlphttp/logs').headers).toEqual({ 'x-honeycomb-team': 'hc-key' });
    expect(exporter('otlphttp/metrics').headers).toEqual({ 'x-honeycomb-team': 'hc-key', 'x-honeycomb-dataset': 'heroku-metrics' });
    expect(exporter('otlphttp/logs').endpoint).toBe('https://api.honeycomb.io');
  });

  it('lets each per-signal variable win over the general one, a header of the same name in any case', () => {
    const { problems, exporter } = exportersOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com',
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Api-Key=general,x-tenant=t1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-api-key=logs-only',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '20000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example.com/custom/path',
    });
    expect(problems).toEqual([]);
    expect(exporter('otlphttp/logs')).toMatchObject({ headers: { 'x-api-key': 'logs-only', 'x-tenant': 't1' }, encoding: 'json', timeout: 20_000, compression: 'gzip' });
    expect(exporter('otlphttp/logs').metrics_endpoint).toBeUndefined();
    expect(exporter('otlphttp/metrics')).toMatchObject({ headers: { 'X-Api-Key': 'general', 'x-tenant': 't1' }, encoding: 'proto', timeout: 5000, compression: 'none', metrics_endpoint: 'https://metrics.example.com/custom/path' });
  });

  it('keeps one otlphttp exporter when both signals are sent alike', () => {
    const { ids } = exportersOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'a=1', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=1' });
    expect(ids).toEqual(['otlphttp']);
  });

  it('maps the certificate variables to the exporter\'s tls keys, per signal too', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/certs/ca.pem',
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/certs/client.pem',
      OTEL_EXPORTER_OTLP_CLIENT_KEY: '/certs/client-key.pem',
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: '/certs/metrics-ca.pem',
    };
    const { document, problems } = defaultDocument(env);
    expect(problems).toEqual([]);
    const exporters = document.exporters as any;
    expect(exporters['otlphttp/logs'].tls).toEqual({ ca_file: '/certs/ca.pem', cert_file: '/certs/client.pem', key_file: '/certs/client-key.pem' });
    expect(exporters['otlphttp/metrics'].tls).toEqual({ ca_file: '/certs/metrics-ca.pem', cert_file: '/certs/client.pem', key_file: '/certs/client-key.pem' });
    expect(defaultDocument({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/certs/client.pem' }).problems).toEqual([
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: is set without OTEL_EXPORTER_OTLP_CLIENT_KEY (or OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY): a client certificate and its key go together',
    ]);
  });

  it('refuses grpc with its reason, once for both signals, and names a bad per-signal value by its variable', () => {
    const { problems } = exportersOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3s', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'novalue' });
    expect(problems).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json (this build sends OTLP over HTTP only)',
      'OTEL_EXPORTER_OTLP_LOGS_HEADERS: entry 1 is not key=value with percent-encoded parts',
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "3s" is not a number of milliseconds above 0',
    ]);
  });

  it('says when OTLP variables are set but no endpoint is', () => {
    expect(defaultDocument({ OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=k' }).warnings).toEqual([
      'OTEL_EXPORTER_OTLP_HEADERS: set, but no OTEL_EXPORTER_OTLP_ENDPOINT (or _LOGS_ / _METRICS_ENDPOINT) is: the debug exporter prints what arrives to stdout instead',
    ]);
  });
});

describe('embedded default config: OTEL_TRACES_EXPORTER', () => {
  const traces = (env: NodeJS.ProcessEnv) => {
    const embedded = defaultDocument(env);
    const result = validateConfig(embedded.document, env);
    const config = result.config;
    return {
      problems: [...embedded.problems, ...result.problems],
      warnings: [...embedded.warnings, ...result.warnings],
      ids: config ? [...config.exporters.keys()] : [],
      exporter: (id: string) => config?.exporters.get(id)?.config as any,
      pipelines: config ? Object.fromEntries([...config.pipelines].map(([id, p]) => [id, p.exporters])) : {},
      tracesPipeline: config?.pipelines.get('traces'),
    };
  };
  const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com' };

  it('makes no spans unless asked: none is the default here, and none says so', () => {
    for (const env of [ENDPOINT, { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }, { ...ENDPOINT, OTEL_TRACES_EXPORTER: ' ' }]) {
      const { problems, pipelines } = traces(env);
      expect(problems).toEqual([]);
      expect(Object.keys(pipelines).sort()).toEqual(['logs', 'metrics']);
    }
  });

  it('sends spans through the logs exporter with otlp, after the logs pipeline\'s memory_limiter and redact', () => {
    const { problems, ids, pipelines, tracesPipeline, exporter } = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp' });
    expect(problems).toEqual([]);
    expect(ids).toEqual(['otlphttp']);
    expect(pipelines).toEqual({ logs: ['otlphttp'], metrics: ['otlphttp'], traces: ['otlphttp'] });
    expect(tracesPipeline).toMatchObject({ receivers: ['logplex'], processors: ['memory_limiter', 'redact', 'batch'] });
    // The general endpoint: /v1/traces appended by the exporter.
    expect(exporter('otlphttp').traces_endpoint).toBeUndefined();
    expect(exporter('otlphttp').endpoint).toBe('https://otlp.example.com');
  });

  it('reads OTEL_TRACES_EXPORTER case-insensitively, console meaning the debug exporter, a list taking both', () => {
    expect(traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'OTLP' }).pipelines.traces).toEqual(['otlphttp']);
    const console = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'console' });
    expect(console.problems).toEqual([]);
    expect(console.pipelines).toEqual({ logs: ['otlphttp'], metrics: ['otlphttp'], traces: ['debug'] });
    expect(console.exporter('debug')).toMatchObject({ verbosity: 'basic' });
    const both = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp, console' });
    expect(both.problems).toEqual([]);
    expect(both.pipelines.traces).toEqual(['otlphttp', 'debug']);
  });

  it('prints spans with the debug exporter when otlp is asked for but no endpoint is set, as the other signals', () => {
    const { problems, ids, pipelines } = traces({ OTEL_TRACES_EXPORTER: 'otlp' });
    expect(problems).toEqual([]);
    expect(ids).toEqual(['debug']);
    expect(pipelines).toEqual({ logs: ['debug'], metrics: ['debug'], traces: ['debug'] });
    expect(traces({ OTEL_TRACES_EXPORTER: 'otlp,console' }).pipelines.traces).toEqual(['debug']);
    expect(traces({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-honeycomb-team=k' }).warnings).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS: set, but no OTEL_EXPORTER_OTLP_ENDPOINT (or _LOGS_ / _METRICS_ / _TRACES_ENDPOINT) is: the debug exporter prints what arrives to stdout instead',
    ]);
  });

  it('gives spans their own otlphttp/traces exporter when a _TRACES_ variable makes them differ from the logs', async () => {
    // The loader reads the PEM files: real ones.
    const tls = await makeTlsFixture();
    const certs = { ca: tls.caFile, cert: tls.clientCert, key: tls.clientKey };
    const { problems, ids, pipelines, exporter } = traces({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Honeycomb-Team=hc-key',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-honeycomb-dataset=heroku-traces,x-honeycomb-team=traces-key',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'zstd',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certs.ca,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: certs.cert,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: certs.key,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/custom/traces',
      OTEL_TRACES_EXPORTER: 'otlp',
    });
    expect(problems).toEqual([]);
    expect(ids).toEqual(['otlphttp', 'otlphttp/traces']);
    expect(pipelines).toEqual({ logs: ['otlphttp'], metrics: ['otlphttp'], traces: ['otlphttp/traces'] });
    expect(exporter('otlphttp').headers).toEqual({ 'X-Honeycomb-Team': 'hc-key' });
    expect(exporter('otlphttp').traces_endpoint).toBeUndefined();
    expect(exporter('otlphttp/traces')).toMatchObject({
      traces_endpoint: 'https://traces.example.com/custom/traces',
      headers: { 'x-honeycomb-dataset': 'heroku-traces', 'x-honeycomb-team': 'traces-key' },
      encoding: 'json',
      compression: 'zstd',
      timeout: 3000,
      tls: { ca_file: certs.ca, cert_file: certs.cert, key_file: certs.key },
      // The same queue on disk and retry as the other exporters.
      sending_queue: { storage: 'file_storage' },
      retry_on_failure: { max_elapsed_time: 0 },
    });
    expect(exporter('otlphttp/traces').logs_endpoint).toBeUndefined();
    expect(exporter('otlphttp/traces').metrics_endpoint).toBeUndefined();
  });

  it('shares the logs exporter when only the traces endpoint is their own, and with otlphttp/logs when the metrics differ', () => {
    const endpointOnly = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces' });
    expect(endpointOnly.problems).toEqual([]);
    expect(endpointOnly.ids).toEqual(['otlphttp']);
    expect(endpointOnly.exporter('otlphttp').traces_endpoint).toBe('https://traces.example.com/v1/traces');
    const metricsApart = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-honeycomb-dataset=heroku-metrics', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces' });
    expect(metricsApart.problems).toEqual([]);
    expect(metricsApart.pipelines).toEqual({ logs: ['otlphttp/logs'], metrics: ['otlphttp/metrics'], traces: ['otlphttp/logs'] });
    expect(metricsApart.exporter('otlphttp/logs').traces_endpoint).toBe('https://traces.example.com/v1/traces');
    expect(metricsApart.exporter('otlphttp/metrics').traces_endpoint).toBeUndefined();
    const allApart = traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000' });
    expect(allApart.problems).toEqual([]);
    expect(allApart.ids).toEqual(['otlphttp/logs', 'otlphttp/metrics', 'otlphttp/traces']);
    expect(allApart.exporter('otlphttp/traces').timeout).toBe(2000);
  });

  it('sends to a traces endpoint set alone, the other signals to the default localhost:4318', () => {
    const { problems, exporter, pipelines } = traces({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces' });
    expect(problems).toEqual([]);
    expect(pipelines.traces).toEqual(['otlphttp']);
    expect(exporter('otlphttp')).toMatchObject({ endpoint: 'http://localhost:4318', traces_endpoint: 'https://traces.example.com/v1/traces' });
  });

  it('names OTEL_TRACES_EXPORTER for a value it does not take, and a bad _TRACES_ value by its variable', () => {
    expect(traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'zipkin' }).problems).toEqual(['OTEL_TRACES_EXPORTER: "zipkin" is not supported; use otlp, console (the debug exporter on stdout) or none']);
    expect(traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp,none' }).problems).toEqual(['OTEL_TRACES_EXPORTER: none cannot be listed with other exporters']);
    expect(traces({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'novalue' }).problems).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json (this build sends OTLP over HTTP only)',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 is not key=value with percent-encoded parts',
    ]);
  });

  it('says when traces variables are set but OTEL_TRACES_EXPORTER is not otlp, and reads none of them', () => {
    const { problems, warnings, ids, pipelines } = traces({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
    expect(problems).toEqual([]);
    expect(ids).toEqual(['otlphttp']);
    expect(pipelines.traces).toBeUndefined();
    expect(warnings).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: set, but OTEL_TRACES_EXPORTER is not otlp: no traces are sent (they are off unless OTEL_TRACES_EXPORTER=otlp)',
    ]);
  });
});

describe('embedded default config: the queue on disk', () => {
  it('keeps what it could not send yet on disk, per port, retried until the backend is back', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', PORT: '5123' };
    const embedded = defaultDocument(env);
    const { config, problems } = validateConfig(embedded.document, env);
    expect(problems).toEqual([]);
    expect(config!.extensions.get('file_storage')?.config).toMatchObject({ directory: expect.stringMatching(/heroku-otel-drain-queue-5123$/), create_directory: true, max_size_mib: 512 });
    expect(config!.serviceExtensions).toEqual(['file_storage']);
    expect(config!.exporters.get('otlphttp')?.config).toMatchObject({ sending_queue: { storage: 'file_storage', block_on_overflow: true }, retry_on_failure: { max_elapsed_time: 0 } });
  });

  it('takes a directory and a budget, keeps the queue in memory with 0, and names a bad budget', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com' };
    const set = validateConfig(defaultDocument({ ...base, DRAIN_QUEUE_DIRECTORY: '/data/queue', DRAIN_QUEUE_MAX_SIZE_MIB: '2048' }).document, {});
    expect(set.config!.extensions.get('file_storage')?.config).toMatchObject({ directory: '/data/queue', max_size_mib: 2048 });
    const memory = validateConfig(defaultDocument({ ...base, DRAIN_QUEUE_MAX_SIZE_MIB: '0' }).document, {});
    expect(memory.problems).toEqual([]);
    expect(memory.config!.extensions.size).toBe(0);
    expect((memory.config!.exporters.get('otlphttp')?.config as any).sending_queue.storage).toBeUndefined();
    expect(defaultDocument({ ...base, DRAIN_QUEUE_MAX_SIZE_MIB: 'lots' }).problems).toEqual(['DRAIN_QUEUE_MAX_SIZE_MIB: "lots" is not a number of MiB (0: keep the queue in memory)']);
    // Without an endpoint (the debug exporter on stdout) there is nothing to keep.
    expect(defaultDocument({}).document.extensions).toBeUndefined();
  });
});

describe('embedded default config: the drains', () => {
  it('names each drain\'s app, as service.name and as Fir\'s heroku.app.name, on its resource', () => {
    const env = { DRAIN_TOKENS: 'd.1=shop-web, d.2', DRAIN_BASIC_AUTH: 'u:p' };
    const { config, problems } = validateConfig(defaultDocument(env).document, env);
    expect(problems).toEqual([]);
    expect((config!.receivers.get('logplex')!.config as any).drains).toEqual([
      { token: 'd.1', resource: { 'service.name': 'shop-web', 'heroku.app.name': 'shop-web' } },
      { token: 'd.2', resource: {} },
    ]);
  });
});

describe('embedded default config: drains without a token', () => {
  const logplex = (env: NodeJS.ProcessEnv) => {
    const embedded = defaultDocument(env);
    const result = validateConfig(embedded.document, env);
    return { problems: [...embedded.problems, ...result.problems], receiver: result.config?.receivers.get('logplex')?.config as any };
  };

  it('lets only listed tokens in unless DRAIN_ACCEPT_TOKENLESS=true', () => {
    const base = { DRAIN_TOKENS: 'd.1=shop', DRAIN_BASIC_AUTH: 'u:p' };
    expect(logplex(base).receiver.accept_tokenless_drains).toBe(false);
    expect(logplex({ ...base, DRAIN_ACCEPT_TOKENLESS: 'true' }).receiver.accept_tokenless_drains).toBe(true);
    expect(logplex({ ...base, DRAIN_ACCEPT_TOKENLESS: 'yes please' }).problems).toContain('DRAIN_ACCEPT_TOKENLESS: expected true or false');
  });
});

describe('embedded default config: metrics export interval and temporality', () => {
  const metricsPipeline = (env: NodeJS.ProcessEnv) => {
    const embedded = defaultDocument(env);
    const result = validateConfig(embedded.document, env);
    const config = result.config;
    const processors = config?.pipelines.get('metrics')?.processors ?? [];
    return { problems: [...embedded.problems, ...result.problems], processors, config: (id: string) => config?.processors.get(id)?.config as any };
  };

  it('exports cumulative series every 60 s unless OTEL_METRIC_EXPORT_INTERVAL says otherwise', () => {
    const plain = metricsPipeline({});
    expect(plain.problems).toEqual([]);
    expect(plain.processors).toEqual(['memory_limiter', 'alerts', 'interval', 'batch']);
    expect(plain.config('interval').interval).toBeUndefined();
    const every15s = metricsPipeline({ OTEL_METRIC_EXPORT_INTERVAL: '15000' });
    expect(every15s.config('interval').interval).toBe(15_000);
    expect(metricsPipeline({ OTEL_METRIC_EXPORT_INTERVAL: '15s' }).problems).toEqual(['OTEL_METRIC_EXPORT_INTERVAL: "15s" is not a number of milliseconds above 0']);
  });

  it('reads OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE as the SDKs do: cumulative, delta, lowmemory', () => {
    expect(metricsPipeline({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'cumulative' }).processors).not.toContain('cumulativetodelta');
    const delta = metricsPipeline({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta' });
    expect(delta.problems).toEqual([]);
    expect(delta.processors).toEqual(['memory_limiter', 'alerts', 'interval', 'cumulativetodelta', 'batch']);
    expect(delta.config('cumulativetodelta').exclude).toBeUndefined();
    const low = metricsPipeline({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'lowmemory' });
    expect(low.config('cumulativetodelta').exclude).toEqual({ match_type: 'strict', metrics: [...RUNNING_TOTAL_METRICS], metric_types: [] });
    expect(metricsPipeline({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'deltas' }).problems).toEqual([
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "deltas" is not one of cumulative, delta, lowmemory',
    ]);
  });

  it('keeps cumulative, under lowmemory, exactly the running totals translation reports', () => {
    const totals = new Set(herokuLineCases.flatMap((c) => (c.expect.metrics ?? []).filter((m) => m.type === 'total').map((m) => m.name)));
    expect(totals.size).toBeGreaterThan(0);
    expect([...totals].sort()).toEqual([...RUNNING_TOTAL_METRICS].sort());
    for (const name of RUNNING_TOTAL_METRICS) expect(METRIC_INSTRUMENTS[name], name).toBe('counter');
  });
});

describe('the README table of the embedded default variables', () => {
  /** Every variable name a function asks the environment for, over the environments given. */
  function readNames(envs: NodeJS.ProcessEnv[], read: (env: NodeJS.ProcessEnv) => unknown): Set<string> {
    const names = new Set<string>();
    for (const env of envs) {
      read(new Proxy(env, { get: (target, name) => (typeof name === 'string' && /^[A-Z][A-Z0-9_]*$/.test(name) && names.add(name), Reflect.get(target, name)) }));
    }
    return names;
  }

  it('lists exactly the variables the embedded default and the log read', async () => {
    const { readFileSync } = await import('node:fs');
    const { logThresholdFromEnv } = await import('../../src/service/log.ts');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('| Variable | Default | Effect |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    const listed = new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)));
    const everything: NodeJS.ProcessEnv = { PORT: '5000', DRAIN_TOKENS: 'd.1=shop', DRAIN_BASIC_AUTH: 'u:p', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/c.pem', OTEL_EXPORTER_OTLP_CLIENT_KEY: '/k.pem', OTEL_TRACES_EXPORTER: 'otlp' };
    const read = readNames([{}, everything], (env) => {
      const embedded = defaultDocument(env);
      validateConfig(embedded.document, env);
      logThresholdFromEnv(env);
    });
    expect([...listed].sort()).toEqual([...read].sort());
  });
});
