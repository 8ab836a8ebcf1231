/**
 * confmap as the Collector has it: references (${env:}, ${VAR}, ${file:}, $$), several sources
 * merged in order, --set, and the effective config print-config shows (defaults in, secrets out).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { defaultDocument } from '../../src/config/default.ts';
import { expandReferences, maskExpansions, type ExpandProblem, type Expansion } from '../../src/config/expand.ts';
import { loadConfig, validateConfig } from '../../src/config/load.ts';
import { effectiveConfig, formatDuration, REDACTED } from '../../src/config/print.ts';
import { mergeDocuments, parseSetKey, readSource } from '../../src/config/sources.ts';

function expand(value: unknown, env: NodeJS.ProcessEnv, files: Record<string, string> = {}) {
  const problems: ExpandProblem[] = [];
  const warnings: string[] = [];
  const expansions: Expansion[] = [];
  const readFile = (path: string) => {
    if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return files[path]!;
  };
  return { value: expandReferences(value, { env, readFile }, problems, warnings, expansions), problems, warnings, expansions };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'hod-confmap-'));
}

describe('references', () => {
  it('takes ${VAR} and ${VAR:-default} as env, the default scheme; leaves $VAR alone; $$ is a $', () => {
    const { value, problems } = expand({ a: '${TOKEN}', b: '${MISSING:-fallback}', c: 'cost: $5 and $HOME', d: '$${env:TOKEN}', e: 'x-${env:TOKEN}-y' }, { TOKEN: 'abc' });
    expect(problems).toEqual([]);
    expect(value).toEqual({ a: 'abc', b: 'fallback', c: 'cost: $5 and $HOME', d: '${env:TOKEN}', e: 'x-abc-y' });
  });

  it('reads ${file:PATH}, dropping one trailing newline, typed as a whole-value ${env:} is', () => {
    const files = { '/s/token': 'tok-123\n', '/s/port': '4318\n', '/s/pem': '-----BEGIN-----\nAAA\n-----END-----\n\n' };
    const { value, problems, expansions } = expand({ token: '${file:/s/token}', port: '${file:/s/port}', header: 'Bearer ${file:/s/token}', pem: '${file:/s/pem}' }, {}, files);
    expect(problems).toEqual([]);
    expect(value).toEqual({ token: 'tok-123', port: 4318, header: 'Bearer tok-123', pem: '-----BEGIN-----\nAAA\n-----END-----\n' });
    expect(expansions.find((e) => e.path === 'header')).toEqual({ path: 'header', source: 'Bearer ${file:/s/token}', expanded: 'Bearer tok-123', values: [{ reference: '${file:/s/token}', value: 'tok-123' }] });
  });

  it('names the key path of a file it cannot read, a scheme it does not know, a reference inside a reference', () => {
    const { problems } = expand({ a: { b: '${file:/nope}' }, c: '${http://x.example.com/c.yaml}', d: '${env:${X}}', e: '${file:}' }, {});
    expect(problems).toEqual([
      { path: 'a.b', message: 'cannot read ${file:/nope}: no such file' },
      { path: 'c', message: '"${http:...}": the http scheme is not supported here (env and file are)' },
      { path: 'd', message: '"${env:${X}": a reference inside a reference is not supported' },
      { path: 'e', message: '"${file:}" names no file' },
    ]);
  });

  it('takes a value as it is: a reference inside an environment value is not expanded again', () => {
    expect(expand({ a: '${env:A}' }, { A: '${env:B}', B: 'b' }).value).toEqual({ a: '${env:B}' });
  });

  it('masks values from files in messages, as it does values from the environment', () => {
    const { expansions } = expand({ endpoint: 'https://u:${file:/s/key}@[bad', other: '${env:KEY}' }, { KEY: 'env-secret-1' }, { '/s/key': 'file-secret-9\n' });
    expect(maskExpansions('got https://u:file-secret-9@[bad', expansions)).toBe('got https://u:${file:/s/key}@[bad');
    expect(maskExpansions('file-secret-9 and env-secret-1', expansions)).toBe('${file:/s/key} and ${env:KEY}');
  });
});

describe('several sources, merged in order', () => {
  it('merges mappings key by key and replaces lists and scalars, as the Collector does', () => {
    const provenance = new Map<string, string>();
    let merged = mergeDocuments({}, { exporters: { otlphttp: { endpoint: 'https://a', headers: { a: '1' } } }, service: { pipelines: { logs: { processors: ['redact', 'batch'] } } } }, 'a.yaml', provenance);
    merged = mergeDocuments(merged, { exporters: { otlphttp: { headers: { b: '2' } } }, service: { pipelines: { logs: { processors: ['batch'] } } } }, 'b.yaml', provenance);
    expect(merged).toEqual({ exporters: { otlphttp: { endpoint: 'https://a', headers: { a: '1', b: '2' } } }, service: { pipelines: { logs: { processors: ['batch'] } } } });
    expect(provenance.get('exporters.otlphttp.headers.b')).toBe('b.yaml');
    expect(provenance.get('service.pipelines.logs.processors')).toBe('b.yaml');
    expect(provenance.get('exporters')).toBe('a.yaml');
  });

  it('reads --set with . (the Collector\'s) or :: between keys, the value as YAML', async () => {
    expect(parseSetKey('processors.batch.timeout=2s')).toEqual(['processors', 'batch', 'timeout']);
    expect(parseSetKey('receivers::logplex::resource::service.name=shop')).toEqual(['receivers', 'logplex', 'resource', 'service.name']);
    expect(parseSetKey('processors.batch.timeout')).toBe('expects key.path=value (missing =)');
    expect(parseSetKey('processors..timeout=1s')).toBe('"processors..timeout" is not a key path such as processors.batch.timeout');
    expect((await readSource({ kind: 'set', assignment: 'a.b=[x, y]' }, {})).document).toEqual({ a: { b: ['x', 'y'] } });
    expect((await readSource({ kind: 'set', assignment: 'a.b = 10' }, {})).document).toEqual({ a: { b: 10 } });
    // Not YAML: the text itself.
    expect((await readSource({ kind: 'set', assignment: 'a.token=@abc: d' }, {})).document).toEqual({ a: { token: '@abc: d' } });
  });

  it('takes the Collector\'s --config URIs: file:, env:, yaml: (:: between keys); refuses http:', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'a.yaml'), 'exporters: { debug: {} }\n');
    expect((await readSource({ kind: 'config', uri: `file:${join(dir, 'a.yaml')}` }, {})).document).toEqual({ exporters: { debug: {} } });
    expect((await readSource({ kind: 'config', uri: 'env:CFG' }, { CFG: 'exporters: { debug: {} }' })).document).toEqual({ exporters: { debug: {} } });
    const yaml = await readSource({ kind: 'config', uri: 'yaml:exporters::otlphttp::headers::authorization: Bearer s3cret' }, {});
    expect(yaml).toMatchObject({ label: 'yaml:exporters::otlphttp::headers::authorization', document: { exporters: { otlphttp: { headers: { authorization: 'Bearer s3cret' } } } } });
    expect((await readSource({ kind: 'config', uri: 'https://example.com/c.yaml' }, {})).problems).toEqual(['the https: scheme is not supported here: give a path, or a file:, env: or yaml: URI']);
    expect((await readSource({ kind: 'config', uri: 'env:NOPE' }, {})).problems).toEqual(['NOPE is not set (--config env:NOPE reads a whole config from it)']);
  });

  it('names the source that set the key a problem is about', async () => {
    const dir = scratch();
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, 'receivers:\n  logplex: { drains: [ { token: d.x } ] }\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [logplex], exporters: [debug] }\n');
    writeFileSync(b, 'exporters:\n  debug: { verbosity: loud }\n');
    const result = await loadConfig([{ kind: 'config', uri: a }, { kind: 'config', uri: b }, { kind: 'set', assignment: 'receivers.logplex.path=logs' }], {});
    expect(result.config).toBeUndefined();
    expect(result.problems.map((p, i) => `${result.problemSources[i]}: ${p}`)).toEqual([
      `--set receivers.logplex.path: receivers.logplex.path: a path starts with /`,
      `${b}: exporters.debug.verbosity: expected one of "basic", "normal", "detailed"`,
    ]);
    expect(result.label).toBe(`${a} + ${b} + --set receivers.logplex.path`);
  });

  it('lays --set over the embedded default', async () => {
    const result = await loadConfig([{ kind: 'default' }, { kind: 'set', assignment: 'exporters.debug.verbosity=detailed' }], {});
    expect(result.problems).toEqual([]);
    expect(result.config!.exporters.get('debug')!.config).toEqual({ verbosity: 'detailed' });
  });
});

describe('the effective config (print-config)', () => {
  it('writes durations as configs do', () => {
    expect([0, 200, 1000, 1500, 90_000, 300_000, 3_600_000].map(formatDuration)).toEqual(['0s', '200ms', '1s', '1.5s', '1m30s', '5m', '1h']);
  });

  it('fills in every component default, in a form that validates to the same config', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k3y', DRAIN_TOKENS: 'd.1=shop', DRAIN_BASIC_AUTH: 'u:pw' };
    const original = validateConfig(defaultDocument(env).document, env);
    expect(original.problems).toEqual([]);
    const printed = effectiveConfig({ document: original.document!, expansions: original.expansions! }, { unredacted: true });
    const exporter = (printed.exporters as any).otlphttp;
    expect(exporter).toMatchObject({ timeout: '10s', compression: 'gzip', encoding: 'proto', retry_on_failure: { initial_interval: '5s', max_interval: '30s', max_elapsed_time: 0 } });
    expect((printed.receivers as any).logplex.path).toBe('/logs');
    const again = validateConfig(parseYaml(stringify(printed)), env);
    expect(again.problems).toEqual([]);
    expect(again.config).toEqual(original.config);
  });

  it('round-trips every shipped example', () => {
    const dir = new URL('../../examples/backends/', import.meta.url).pathname;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const env: NodeJS.ProcessEnv = {};
      for (const m of text.matchAll(/\$\{env:([A-Z0-9_]+)/g)) env[m[1]!] = m[1] === 'PORT' ? '8080' : m[1]!.includes('ENDPOINT') ? 'https://otlp.example.com' : m[1]!.includes('DIRECTORY') ? scratch() : `value-of-${m[1]}`;
      const original = validateConfig(parseYaml(text), env);
      expect(original.problems, file).toEqual([]);
      const printed = effectiveConfig({ document: original.document!, expansions: original.expansions! }, { unredacted: true });
      const again = validateConfig(parseYaml(stringify(printed)), env);
      expect(again.problems, file).toEqual([]);
      expect(again.config, file).toEqual(original.config);
    }
  });

  it('masks passwords, tokens, header values, URL userinfo and values from secret-looking references', () => {
    const document = {
      receivers: { logplex: { endpoint: '0.0.0.0:8080', drains: [{ token: 'd.secret-token' }], basic_auth: { username: 'drain', password: 'pw-123456' } } },
      exporters: {
        otlphttp: { endpoint: 'https://user:pass-777@otlp.example.com', headers: { 'x-honeycomb-team': 'hc-key-1' }, logs_endpoint: 'https://otlp.example.com/v1/logs?k=${env:SHOP_API_TOKEN}' },
      },
      service: { pipelines: { logs: { receivers: ['logplex'], exporters: ['otlphttp'] } } },
    };
    const result = validateConfig(document, { SHOP_API_TOKEN: 'tok-999' });
    expect(result.problems).toEqual([]);
    const printed = effectiveConfig({ document: result.document!, expansions: result.expansions! });
    const text = stringify(printed);
    for (const secret of ['d.secret-token', 'pw-123456', 'pass-777', 'hc-key-1', 'tok-999']) expect(text).not.toContain(secret);
    expect(printed).toMatchObject({
      receivers: { logplex: { drains: [{ token: REDACTED }], basic_auth: { username: 'drain', password: REDACTED } } },
      exporters: { otlphttp: { endpoint: `https://${REDACTED}@otlp.example.com`, headers: { 'x-honeycomb-team': REDACTED }, logs_endpoint: REDACTED, compression: 'gzip' } },
    });
  });

  it("masks headers_setter's header values but shows which headers it sets and how", () => {
    const document = {
      extensions: { headers_setter: { headers: [{ key: 'X-Scope-OrgID', action: 'upsert', value: 'tenant-secret-42' }, { key: 'X-Api-Key', from_context: 'api_key', default_value: 'fallback-key-9' }] } },
      receivers: { logplex: { endpoint: '127.0.0.1:8080', accept_any_drain: true } },
      exporters: { otlphttp: { endpoint: 'https://otlp.example.com', auth: { authenticator: 'headers_setter' } } },
      service: { extensions: ['headers_setter'], pipelines: { logs: { receivers: ['logplex'], exporters: ['otlphttp'] } } },
    };
    const result = validateConfig(document, {});
    expect(result.problems).toEqual([]);
    const printed = effectiveConfig({ document: result.document!, expansions: result.expansions! });
    const text = stringify(printed);
    for (const secret of ['tenant-secret-42', 'fallback-key-9']) expect(text).not.toContain(secret);
    expect(printed).toMatchObject({
      extensions: {
        headers_setter: {
          headers: [
            { key: 'X-Scope-OrgID', action: 'upsert', value: REDACTED },
            { key: 'X-Api-Key', from_context: 'api_key', default_value: REDACTED },
          ],
        },
      },
    });
  });
});
