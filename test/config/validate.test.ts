import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, validateConfig } from '../../src/config/load.ts';
import { parseDurationMs, parseSizeBytes } from '../../src/config/units.ts';

const GOOD = `
receivers:
  logplex:
    endpoint: 0.0.0.0:\${env:PORT:-8080}
    drains:
      - token: \${env:DRAIN_TOKEN}
        resource: { service.name: shop-web }
processors:
  batch: {}
  redact: {}
exporters:
  otlphttp/grafana:
    endpoint: https://otlp-gateway.example.com/otlp
    headers: { Authorization: "Basic \${env:GRAFANA_AUTH}" }
  debug: {}
service:
  pipelines:
    logs: { receivers: [logplex], processors: [redact, batch], exporters: [otlphttp/grafana] }
    metrics: { receivers: [logplex], processors: [batch], exporters: [otlphttp/grafana, debug] }
`;

function validate(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return validateConfig(parseYaml(yaml), env);
}

/** A minimal valid config with one part replaced. */
function withParts(parts: { receivers?: string; processors?: string; exporters?: string; service?: string; extra?: string }): string {
  return [
    parts.receivers ?? 'receivers:\n  logplex: { drains: [ { token: d.x } ] }',
    parts.processors ?? '',
    parts.exporters ?? 'exporters:\n  debug: {}',
    parts.service ?? 'service:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug] }',
    parts.extra ?? '',
  ].join('\n');
}

describe('config', () => {
  it('accepts a Collector-shaped config, expands ${env:...} and applies defaults', () => {
    const { config, problems, warnings } = validate(GOOD, { PORT: '5000', DRAIN_TOKEN: 'd.abc', GRAFANA_AUTH: 'dXNlcjpwYXNz' });
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    const logplex = config!.receivers.get('logplex')!;
    expect(logplex).toMatchObject({ type: 'logplex', config: { endpoint: { host: '0.0.0.0', port: 5000 }, path: '/logs', drains: [{ token: 'd.abc', resource: { 'service.name': 'shop-web' } }], max_request_body_size: 10 * 1024 * 1024 } });
    expect(config!.exporters.get('otlphttp/grafana')).toMatchObject({
      type: 'otlphttp',
      config: { endpoint: 'https://otlp-gateway.example.com/otlp', encoding: 'proto', compression: 'gzip', timeout: 10_000, headers: { Authorization: 'Basic dXNlcjpwYXNz' }, retry_on_failure: { enabled: true, max_elapsed_time: 300_000 }, sending_queue: { queue_size: 20, sizer: 'requests', num_consumers: 10 } },
    });
    expect(config!.processors.get('batch')!.config).toEqual({ timeout: 200, send_batch_size: 1024, send_batch_max_size: 0 });
    expect(config!.pipelines.get('metrics')).toEqual({ signal: 'metrics', receivers: ['logplex'], processors: ['batch'], exporters: ['otlphttp/grafana', 'debug'] });
  });

  it('warns that a processor of another signal only is left out of a logs or metrics pipeline', () => {
    const r = validateConfig({ receivers: { logplex: { accept_any_drain: true } }, processors: { geoip: {}, redact: {} }, exporters: { debug: {} }, service: { pipelines: { logs: { receivers: ['logplex'], processors: ['redact', 'geoip'], exporters: ['debug'] }, metrics: { receivers: ['logplex'], processors: ['geoip'], exporters: ['debug'] } } } }, {});
    expect(r.problems).toEqual([]);
    expect(r.warnings).toContain('service.pipelines.metrics.processors[0]: processor "geoip" works on logs and traces only: left out of this metrics pipeline');
    expect(r.warnings.filter((w) => w.includes('left out'))).toHaveLength(1);
  });

  it('refuses a batch send_batch_max_size below send_batch_size, as the Collector does', () => {
    const doc = (batch: Record<string, unknown>) => ({ receivers: { logplex: { accept_any_drain: true } }, processors: { batch }, exporters: { debug: {} }, service: { pipelines: { logs: { receivers: ['logplex'], processors: ['batch'], exporters: ['debug'] } } } });
    expect(validateConfig(doc({ send_batch_size: 500, send_batch_max_size: 100 }), {}).problems).toContain('processors.batch.send_batch_max_size: must be 0 or at least send_batch_size (500)');
    expect(validateConfig(doc({ send_batch_size: 500, send_batch_max_size: 500 }), {}).problems).toEqual([]);
    expect(validateConfig(doc({ send_batch_size: 500, send_batch_max_size: 0 }), {}).problems).toEqual([]);
  });

  it('uses the default of ${env:VAR:-default} when the variable is unset or empty, and warns about unset ones without', () => {
    const { config, warnings } = validate(GOOD, { PORT: '', DRAIN_TOKEN: 'd.abc' });
    expect(config!.receivers.get('logplex')!.config).toMatchObject({ endpoint: { port: 8080 } });
    expect(warnings).toEqual(['exporters.otlphttp/grafana.headers.Authorization: GRAFANA_AUTH is not set; it expands to an empty string']);
  });

  it('gives a value that is one reference the type its text reads as, and $$ a literal $', () => {
    const yaml = withParts({ receivers: 'receivers:\n  logplex: { accept_any_drain: "${env:ANY}", path: "/logs$$x" }' });
    const { config } = validate(yaml, { ANY: 'true' });
    expect(config!.receivers.get('logplex')!.config).toMatchObject({ accept_any_drain: true, path: '/logs$x' });
  });

  it.each([
    ['an unknown top-level key', withParts({ extra: 'connectors: {}' }), ['connectors: unknown key']],
    ['a storage that is no running extension', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x } ], storage: redis }', extra: 'extensions:\n  redis: { url: "redis://127.0.0.1:6379" }' }), ['receivers.logplex.storage: extension "redis" is not listed in service.extensions']],
    ['a bad redis URL', withParts({ extra: 'extensions:\n  redis: { url: "http://127.0.0.1:6379" }' }), ['extensions.redis.url: expected a redis:// or rediss:// URL']],
    ['an unknown component key', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x } ], pathh: /x }' }), ['receivers.logplex.pathh: unknown key']],
    ['an unknown component type', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x } ] }\n  kafka: {}' }), ['receivers.kafka: unknown receiver type "kafka" (known: logplex, syslog)']],
    ['a syslog receiver listening on nothing', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x } ] }\n  syslog: { drains: [ { token: d.x } ] }' }), ['receivers.syslog: listens on nothing: set tcp, udp or both']],
    ['an open syslog receiver on a public address', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x } ] }\n  syslog: { tcp: { endpoint: "0.0.0.0:6514" } }' }), ["receivers.syslog.tcp.endpoint: no drains: refusing to accept anyone's logs on 0.0.0.0:6514; add drains (tokens) or set accept_any_drain: true"]],
    ['a malformed component id', withParts({ exporters: 'exporters:\n  debug: {}\n  "Debug/x y": {}' }), ['exporters.Debug/x y: not a component id (type or type/name, such as otlphttp/grafana)']],
    ['a wrong type', withParts({ processors: 'processors:\n  batch: { send_batch_size: lots }' , service: 'service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [batch], exporters: [debug] }' }), ['processors.batch.send_batch_size: expected number, got string']],
    ['a bad enum', withParts({ exporters: 'exporters:\n  debug: { verbosity: loud }' }), ['exporters.debug.verbosity: expected one of "basic", "normal", "detailed"']],
    ['a bad endpoint', withParts({ receivers: 'receivers:\n  logplex: { endpoint: "localhost", drains: [ { token: d.x } ] }' }), ['receivers.logplex.endpoint: expected host:port such as 127.0.0.1:8080, got "localhost"']],
    ['a bad exporter URL', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "otlp.example.com:4318" }' }), ['exporters.otlphttp.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a value without http:// or https:// in front (not shown: it may hold a secret)']],
    ['an exporter URL of another scheme', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "grpc://otlp.example.com:4317" }' }), ['exporters.otlphttp.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a grpc:// URL']],
    ['an exporter timeout of 0', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", timeout: 0 }' }), ['exporters.otlphttp.timeout: must be more than 0: every request would time out before it is sent']],
    ['an exporter timeout of 0s', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", timeout: 0s }' }), ['exporters.otlphttp.timeout: must be more than 0: every request would time out before it is sent']],
    ['a negative exporter timeout', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", timeout: -5 }' }), ['exporters.otlphttp.timeout: must not be negative']],
    ['a negative exporter timeout as a duration', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", timeout: -5s }' }), ['exporters.otlphttp.timeout: must not be negative']],
    [
      'retry intervals of 0, which would retry back to back',
      withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", retry_on_failure: { initial_interval: 0, max_interval: 0s } }' }),
      ['exporters.otlphttp.retry_on_failure.initial_interval: must be more than 0: failed requests would be retried back to back', 'exporters.otlphttp.retry_on_failure.max_interval: must be more than 0: failed requests would be retried back to back'],
    ],
    [
      'a max_elapsed_time shorter than an interval (as the Collector)',
      withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", retry_on_failure: { max_elapsed_time: 10s } }' }),
      ['exporters.otlphttp.retry_on_failure.max_elapsed_time: must not be less than max_interval (0: no limit)'],
    ],
    ['a queue_size of 0', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", sending_queue: { queue_size: 0 } }' }), ['exporters.otlphttp.sending_queue.queue_size: Too small: expected number to be >0']],
    ['num_consumers of 0', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", sending_queue: { num_consumers: 0 } }' }), ['exporters.otlphttp.sending_queue.num_consumers: Too small: expected number to be >0']],
    ['an exporter without an endpoint', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: {}' }), ['exporters.otlphttp.endpoint: an endpoint is required (or both logs_endpoint and metrics_endpoint)']],
    ['a bad duration', withParts({ exporters: 'exporters:\n  debug: {}\n  otlphttp: { endpoint: "http://127.0.0.1:4318", timeout: 10 seconds }' }), ['exporters.otlphttp.timeout: expected a duration such as 200ms, 10s or 1m30s, got "10 seconds"']],
    ['a missing required key', withParts({ exporters: 'exporters:\n  debug: {}\n  file: {}' }), ['exporters.file.path: is required']],
    ['an undefined component in a pipeline', withParts({ service: 'service:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug, otlphttp] }' }), ['service.pipelines.logs.exporters[1]: exporter "otlphttp" is not defined under exporters']],
    ['an unknown pipeline kind', withParts({ service: 'service:\n  pipelines:\n    profiles: { receivers: [logplex], exporters: [debug] }' }), ['service.pipelines.profiles: a pipeline id is logs, metrics or traces, optionally /name (logs/backup)']],
    ['a pipeline without exporters', withParts({ service: 'service:\n  pipelines:\n    logs: { receivers: [logplex] }' }), ['service.pipelines.logs.exporters: at least one exporter is required']],
    ['no pipelines', withParts({ service: 'service: {}' }), ['service.pipelines: is required, with a logs, a metrics and/or a traces pipeline']],
    ['a bad ${...} reference', withParts({ exporters: 'exporters:\n  debug: { verbosity: "${env:VERBOSITY-LEVEL}" }' }), ['exporters.debug.verbosity: "${env:VERBOSITY-LEVEL}" is not ${env:NAME} or ${env:NAME:-default} (a name is letters, digits and _)', 'exporters.debug.verbosity: expected one of "basic", "normal", "detailed"']],
    ['a reference with a scheme not supported', withParts({ exporters: 'exporters:\n  debug: { verbosity: "${https://config.example.com/v}" }' }), ['exporters.debug.verbosity: "${https:...}": the https scheme is not supported here (env and file are)', 'exporters.debug.verbosity: expected one of "basic", "normal", "detailed"']],
    ['a duplicated drain token', withParts({ receivers: 'receivers:\n  logplex: { drains: [ { token: d.x }, { token: d.x } ] }' }), ['receivers.logplex.drains[1].token: this token is listed twice']],
    [
      'an open receiver on a public address',
      withParts({ receivers: 'receivers:\n  logplex: { endpoint: "0.0.0.0:8080" }' }),
      ["receivers.logplex.endpoint: no drains and no basic_auth: refusing to accept anyone's logs on 0.0.0.0:8080; add drains (tokens), basic_auth or auth (an authenticator extension), or set accept_any_drain: true"],
    ],
  ])('names the key path of %s', (_name, yaml, expected) => {
    const { config, problems } = validate(yaml);
    expect(problems).toEqual(expected);
    expect(config).toBeUndefined();
  });

  it('takes what the Collector takes: max_elapsed_time 0 (no limit), retries off with intervals of 0, a batch timeout of 0', () => {
    const { config, problems } = validate(
      withParts({
        exporters: 'exporters:\n  otlphttp: { endpoint: "http://127.0.0.1:4318", retry_on_failure: { max_elapsed_time: 0 } }\n  otlphttp/b: { endpoint: "http://127.0.0.1:4318", retry_on_failure: { enabled: false, initial_interval: 0 } }',
        processors: 'processors:\n  batch: { timeout: 0 }',
        service: 'service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [batch], exporters: [otlphttp, otlphttp/b] }',
      }),
    );
    expect(problems).toEqual([]);
    expect(config!.exporters.get('otlphttp')!.config).toMatchObject({ retry_on_failure: { max_elapsed_time: 0 } });
  });

  it('never quotes a value that came from the environment: the message shows it as the file wrote it', () => {
    const KEY = 'glc_eyJvIjoiOTk5OTk5IiwibiI6InN0YWNrIn0=';
    const env = { API_KEY: KEY, PORT: 'not-a-port-secret' };
    const { problems } = validate(
      withParts({
        receivers: 'receivers:\n  logplex: { endpoint: "0.0.0.0:${env:PORT}", drains: [ { token: d.x } ] }',
        exporters:
          'exporters:\n  debug: {}\n  otlphttp/a: { endpoint: "https://${env:API_KEY}@otlp.example.com:99999" }\n  otlphttp/b: { endpoint: "${env:API_KEY}" }\n  otlphttp/c: { endpoint: "https://x.example.com", timeout: "${env:API_KEY}" }',
      }),
      env,
    );
    expect(problems).toEqual([
      'receivers.logplex.endpoint: expected host:port such as 127.0.0.1:8080, got "0.0.0.0:${env:PORT}"',
      'exporters.otlphttp/a.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a https:// value that is not a valid URL (not shown: it may hold a secret)',
      'exporters.otlphttp/b.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a value without http:// or https:// in front (not shown: it may hold a secret)',
      'exporters.otlphttp/c.timeout: expected a duration such as 200ms, 10s or 1m30s, got "${env:API_KEY}"',
    ]);
    for (const problem of problems) {
      expect(problem).not.toContain(KEY);
      expect(problem).not.toContain('not-a-port-secret');
    }
  });

  it('lets an open receiver listen on loopback, or anywhere when accept_any_drain says so', () => {
    expect(validate(withParts({ receivers: 'receivers:\n  logplex: { endpoint: "127.0.0.1:8080" }' })).problems).toEqual([]);
    expect(validate(withParts({ receivers: 'receivers:\n  logplex: { endpoint: "0.0.0.0:8080", accept_any_drain: true }' })).problems).toEqual([]);
    expect(validate(withParts({ receivers: 'receivers:\n  logplex: { endpoint: "0.0.0.0:8080", basic_auth: { username: u, password: p } }' })).problems).toEqual([]);
  });

  it('collects every problem of a config at once', () => {
    const yaml = 'receivers:\n  logplex: { pathh: /x }\nexporters:\n  debug: { verbosity: loud }\nservice:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [nope] }';
    expect(validate(yaml).problems).toEqual([
      'receivers.logplex.pathh: unknown key',
      'exporters.debug.verbosity: expected one of "basic", "normal", "detailed"',
      'service.pipelines.logs.exporters[0]: exporter "nope" is not defined under exporters',
    ]);
  });

  it('warns about components no pipeline uses', () => {
    const { problems, warnings } = validate(withParts({ exporters: 'exporters:\n  debug: {}\n  file: { path: out.jsonl }' }));
    expect(problems).toEqual([]);
    expect(warnings).toContain('exporters.file: defined but used in no pipeline');
  });

  it('warns about a logs pipeline without redact, and only about that one', () => {
    const { problems, warnings } = validate(
      withParts({
        processors: 'processors:\n  redact: {}',
        service: 'service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [redact], exporters: [debug] }\n    logs/raw: { receivers: [logplex], exporters: [debug] }\n    metrics: { receivers: [logplex], exporters: [debug] }',
      }),
    );
    expect(problems).toEqual([]);
    expect(warnings).toEqual([
      'service.pipelines.logs/raw: no redact processor, so passwords, tokens and keys inside log lines reach the exporters as they are; add redact first in processors',
    ]);
  });

  it('reports unreadable files and YAML errors with where they are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-cfg-'));
    expect((await loadConfigFile(join(dir, 'none.yaml'))).problems).toEqual(['cannot read the config: no such file']);
    writeFileSync(join(dir, 'broken.yaml'), 'receivers:\n  logplex: { endpoint: [\n');
    const broken = await loadConfigFile(join(dir, 'broken.yaml'));
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(/^line \d+, column \d+: not valid YAML: /);
  });

  it('parses durations and sizes as the Collector writes them', () => {
    expect(parseDurationMs('200ms')).toBe(200);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('0')).toBe(0);
    expect(parseDurationMs('10')).toBeNaN();
    expect(parseSizeBytes('5MiB')).toBe(5 * 1024 * 1024);
    expect(parseSizeBytes('100KB')).toBe(100_000);
    expect(parseSizeBytes('1048576')).toBe(1048576);
    expect(parseSizeBytes('lots')).toBeNaN();
  });
});

describe('heroku-otel-drain validate', () => {
  const BIN = new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname;
  const run = promisify(execFile);
  async function validateCli(args: string[], env: NodeJS.ProcessEnv = {}) {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, 'validate', ...args], { env: { ...process.env, ...env } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('exits 0 for a valid config and names its pipelines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hod-cfg-')), 'ok.yaml');
    writeFileSync(file, GOOD);
    const { code, stdout } = await validateCli(['--config', file], { DRAIN_TOKEN: 'd.abc', GRAFANA_AUTH: 'x' });
    expect(code).toBe(0);
    expect(stdout).toBe(`${file}: valid: logs (logplex -> redact -> batch -> otlphttp/grafana); metrics (logplex -> batch -> otlphttp/grafana, debug)\n`);
  });

  it('exits 1 with every problem, one per line, and their count', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hod-cfg-')), 'bad.yaml');
    writeFileSync(file, 'receivers:\n  logplex: { pathh: /x }\nexporters:\n  debug: { verbosity: loud }\nservice:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug] }\n');
    const { code, stderr } = await validateCli(['--config', file]);
    expect(code).toBe(1);
    expect(stderr).toBe(`${file}: receivers.logplex.pathh: unknown key\n${file}: exporters.debug.verbosity: expected one of "basic", "normal", "detailed"\n${file}: 2 problems\n`);
  });

  it('rejects timeout: 0 and prints no secret that an endpoint took from the environment', async () => {
    const SECRET = 'hunter2-0123456789abcdef';
    const file = join(mkdtempSync(join(tmpdir(), 'hod-cfg-')), 'secret.yaml');
    writeFileSync(
      file,
      [
        'receivers:',
        '  logplex: { drains: [ { token: d.x } ] }',
        'exporters:',
        '  otlphttp/a: { endpoint: "https://user:${env:API_KEY}@[otlp.example.com", timeout: 0 }',
        '  otlphttp/b: { endpoint: "${env:OTLP_ENDPOINT}" }',
        'service:',
        '  pipelines:',
        '    logs: { receivers: [logplex], exporters: [otlphttp/a, otlphttp/b] }',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await validateCli(['--config', file], { API_KEY: SECRET, OTLP_ENDPOINT: `${SECRET}.example.com:4318` });
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        `${file}: exporters.otlphttp/a.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a https:// value that is not a valid URL (not shown: it may hold a secret)`,
        `${file}: exporters.otlphttp/a.timeout: must be more than 0: every request would time out before it is sent`,
        `${file}: exporters.otlphttp/b.endpoint: expected an http:// or https:// URL such as https://otlp.example.com, got a value without http:// or https:// in front (not shown: it may hold a secret)`,
        `${file}: 3 problems`,
        '',
      ].join('\n'),
    );
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('exits 2 without --config', async () => {
    expect(await validateCli([])).toMatchObject({ code: 2, stderr: 'heroku-otel-drain validate: --config FILE is required\n' });
  });
});

describe('the README', () => {
  it("shows a config that validates, with every key it names", async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const { problems } = validateConfig(parseYaml(yaml), { DRAIN_TOKEN: 'd.x', TOKEN: 't' });
    expect(problems).toEqual([]);
  });

  it('shows an alerts config that validates (with a receiver and an exporter)', async () => {
    const { readFileSync, mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Alerts'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const document = parseYaml(yaml);
    // The rules file it names, in a scratch directory.
    const dir = mkdtempSync(join(tmpdir(), 'hod-readme-'));
    writeFileSync(join(dir, 'alerts.yaml'), '[]\n');
    document.processors.alerts.rules_files = [join(dir, 'alerts.yaml')];
    document.processors.batch = {};
    const full = { ...document, receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } }, exporters: { otlphttp: { endpoint: 'http://127.0.0.1:4318' } } };
    const { config, problems } = validateConfig(full, {});
    expect(problems).toEqual([]);
    const rules = (config!.processors.get('alerts')!.config as { rules: Array<{ name: string; above?: number; enabled: boolean }> }).rules;
    expect(rules.find((r) => r.name === 'RouterH12Storm')!.above).toBe(50);
    expect(rules.find((r) => r.name === 'HighSeverityEvents')!.enabled).toBe(false);
    expect(rules.map((r) => r.name)).toContain('CheckoutErrors');
  });

  it('shows a redis extension config that validates', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Several instances'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const { config, problems } = validateConfig(parseYaml(yaml), { REDIS_URL: 'rediss://h:p@ec2.example.com:6380', PORT: '5000', DRAIN_TOKEN: 'd.x', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com' });
    expect(problems).toEqual([]);
    expect(config!.serviceExtensions).toEqual(['redis']);
  });

  it('shows interval and cumulativetodelta configs that validate, with the keys and defaults it states', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Metrics: aggregation'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const document = {
      ...parseYaml(yaml),
      receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
      exporters: { otlphttp: { endpoint: 'http://127.0.0.1:4318' } },
      service: { pipelines: { metrics: { receivers: ['logplex'], processors: ['interval', 'cumulativetodelta'], exporters: ['otlphttp'] } } },
    };
    const { config, problems } = validateConfig(document, {});
    expect(problems).toEqual([]);
    expect(config!.processors.get('interval')!.config).toEqual({ interval: 60_000, max_streams: 10_000, max_stale: 300_000 });
    expect(config!.processors.get('cumulativetodelta')!.config).toMatchObject({ initial_value: 'auto' });
  });

  it('shows a syslog receiver config that validates (with the batch processor and an exporter)', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Syslog drains'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const document = { ...parseYaml(yaml), processors: { batch: {} }, exporters: { otlphttp: { endpoint: 'http://127.0.0.1:4318' } } };
    const { config, problems } = validateConfig(document, {});
    expect(problems).toEqual([]);
    expect(config!.receivers.get('syslog')!.config).toMatchObject({ tcp: { endpoint: { host: '0.0.0.0', port: 6514 }, idle_timeout: 600_000 }, max_message_size: 64 * 1024 });
  });
});
