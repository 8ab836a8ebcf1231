/**
 * Moving from the embedded default to a shipped example never stops masking: every
 * examples/backends/*.yaml, loaded by the real config loader, runs as a sidecar whose exporters
 * point at a local OTLP backend; the secret table (test/cases/redact-secrets.ts), POSTed as app
 * and router lines the way Logplex sends them, reaches the backend masked.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDocument } from '../src/config/default.ts';
import { loadConfigFile, type SidecarConfig } from '../src/config/load.ts';
import type { LogplexConfig } from '../src/receivers/logplex/config.ts';
import { Service } from '../src/service/service.ts';
import { SECRET_CASES } from './cases/redact-secrets.ts';
import { OtlpTestServer } from './support/otlp-server.ts';

const DIR = new URL('../examples/backends/', import.meta.url).pathname;
const examples = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const TS = '2024-05-01T12:00:00.000000+00:00';

/** The secret table as Logplex frames: each text as an app line, and a router line leaking a form password. */
function logplexBody(): { body: string; lines: number } {
  const lines = SECRET_CASES.map((c) => `<190>1 ${TS} host app web.1 - ${c.text}`);
  lines.push(
    `<158>1 ${TS} host heroku router - at=info method=POST path="/users/sign_in?user[email]=bob&user[password]=PASSrouter0050&access_token=TOKENrouter0051" host=shop.example.com request_id=r1 fwd="81.2.69.142" dyno=web.1 connect=0ms service=12ms status=302 bytes=99 protocol=https`,
  );
  return { body: lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(''), lines: lines.length };
}
const ROUTER_SECRETS = ['PASSrouter0050', 'TOKENrouter0051'];

/** Every ${env:...} an example names, set; endpoints are replaced below anyway. */
function exampleEnv(text: string, endpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const m of text.matchAll(/\$\{env:([A-Z0-9_]+)(?::-[^}]*)?\}/g)) env[m[1]!] = m[1] === 'PORT' ? '0' : m[1]!.includes('ENDPOINT') ? endpoint : `value-of-${m[1]}`;
  // A queue's directory in a temporary place, not in the working tree.
  if (env.QUEUE_DIRECTORY !== undefined) env.QUEUE_DIRECTORY = mkdtempSync(join(tmpdir(), 'hod-redact-queue-'));
  return env;
}

/** The example as shipped, but listening on loopback and exporting to the local backend. */
function pointAtLocal(config: SidecarConfig, endpoint: string): void {
  for (const { config: receiver } of config.receivers.values()) (receiver as LogplexConfig).endpoint = { host: '127.0.0.1', port: 0 };
  for (const { type, config: exporter } of config.exporters.values()) {
    expect(type).toBe('otlphttp');
    Object.assign(exporter as object, { endpoint, logs_endpoint: `${endpoint}/v1/logs`, metrics_endpoint: `${endpoint}/v1/metrics` });
  }
}

describe('redaction in every shipped example', () => {
  let backend: OtlpTestServer;
  let endpoint: string;
  beforeEach(async () => {
    backend = new OtlpTestServer();
    endpoint = await backend.start();
  });
  afterEach(async () => {
    await backend.stop();
  });

  // memory_limiter may come before it: it refuses data, it does not look at records.
  const firstLooking = (processors: readonly string[], typeOf: (id: string) => string | undefined) => processors.find((id) => typeOf(id) !== 'memory_limiter');
  it.each(examples)('%s: redact runs first in every logs and traces pipeline, as in the embedded default', async (file) => {
    const { readFileSync } = await import('node:fs');
    const { config, problems } = await loadConfigFile(DIR + file, exampleEnv(readFileSync(DIR + file, 'utf8'), 'https://otlp.example.com'));
    expect(problems).toEqual([]);
    // Spans carry url.path and url.query too: a traces pipeline masks them first as well.
    const logs = [...config!.pipelines].filter(([id]) => id.startsWith('logs') || id.startsWith('traces'));
    expect(logs.length).toBeGreaterThan(0);
    for (const [id, p] of logs) expect(config!.processors.get(firstLooking(p.processors, (pid) => config!.processors.get(pid)?.type)!)?.type, id).toBe('redact');
    const embedded = defaultDocument({}).document as { service: { pipelines: { logs: { processors: string[] } } } };
    expect(firstLooking(embedded.service.pipelines.logs.processors, (pid) => pid)).toBe('redact');
  });

  it.each(examples)('%s: the secret table leaves masked, end to end', async (file) => {
    const { readFileSync } = await import('node:fs');
    const { config, problems } = await loadConfigFile(DIR + file, exampleEnv(readFileSync(DIR + file, 'utf8'), endpoint));
    expect(problems).toEqual([]);
    pointAtLocal(config!, endpoint);
    const service = new Service(config!, () => {}, { selfTelemetryIntervalMs: 0 });
    await service.start();
    try {
      const logplex = config!.receivers.values().next().value!.config as LogplexConfig;
      const headers: Record<string, string> = { 'content-type': 'application/logplex-1', 'logplex-frame-id': `frame-${file}` };
      if (logplex.basic_auth) headers.authorization = `Basic ${Buffer.from(`${logplex.basic_auth.username}:${logplex.basic_auth.password}`).toString('base64')}`;
      if (logplex.drains.length > 0) headers['logplex-drain-token'] = logplex.drains[0]!.token;
      const { body, lines } = logplexBody();
      headers['logplex-msg-count'] = String(lines);
      const res = await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body, headers });
      expect(res.status).toBe(200);
    } finally {
      await service.shutdown(5000);
    }
    const records = backend.logRecords();
    expect(records.length).toBeGreaterThanOrEqual(SECRET_CASES.length + 1);
    // An example with a traces pipeline sends the router line's span, which must be masked too.
    const tracing = [...config!.pipelines.keys()].some((id) => id.startsWith('traces'));
    expect(backend.requests.some((r) => r.path === '/v1/traces'), file).toBe(tracing);
    const received = JSON.stringify(backend.requests.map((r) => r.body));
    for (const c of SECRET_CASES) for (const secret of c.secrets) expect(received, `${c.name}: ${secret}`).not.toContain(secret);
    for (const secret of ROUTER_SECRETS) expect(received).not.toContain(secret);
    expect(received).toContain('postgres://u:***@host/db');
    expect(received).toContain('user[password]=***&access_token=***');
  });
});
