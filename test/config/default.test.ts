/** The embedded default config, from the standard OTEL_* variables and ours. */
import { describe, expect, it } from 'vitest';
import { defaultDocument, RUNNING_TOTAL_METRICS } from '../../src/config/default.ts';
import { METRIC_INSTRUMENTS } from '../../src/semconv/metrics.ts';
import { herokuLineCases } from '../cases/heroku-lines.ts';
import { validateConfig } from '../../src/config/load.ts';

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
      'OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http/protobuf or http/json',
      'OTEL_EXPORTER_OTLP_COMPRESSION: "brotli" is not supported; use gzip, zstd or none',
      'OTEL_EXPORTER_OTLP_TIMEOUT: "10s" is not a number of milliseconds above 0',
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
