/**
 * The redact processor: secret-looking query parameters, logfmt and JSON keys and attributes are
 * masked (and e-mail addresses when asked) before export; with the embedded default config, a
 * token in a router path never reaches the OTLP backend.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../src/heroku/classify.ts';
import { readCapture } from '../src/heroku/input.ts';
import { redactConfigSchema } from '../src/processors/redact/config.ts';
import { RedactProcessor } from '../src/processors/redact/processor.ts';
import { newTelemetryBatch } from '../src/translate/telemetry.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { OtlpTestServer } from './support/otlp-server.ts';
import { freePort } from './support/syslog-tools.ts';
import { heapKeptBy } from './support/heap.ts';

const TS = '2024-05-01T12:00:00+00:00';
const ROUTER = `${TS} heroku[router]: at=info method=GET path="/reset?token=abc123&page=2&X-Amz-Signature=f00d" host=a.example.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https`;
const JSON_LINE = `${TS} app[web.1]: {"level":"info","msg":"login","password":"hunter2","user":"bob@example.com","author":"ann"}`;
const LOGFMT = `${TS} app[web.1]: at=info msg=login api_key=sk_live_123 sessionId=s3 user=bob`;

function records(lines: string[]) {
  const batch = newTelemetryBatch();
  readCapture(Buffer.from(lines.join('\n') + '\n'), (line, status) => translateEvent(line, interpretLine(line), 1, batch, status));
  return batch.logs;
}

describe('redact processor', () => {
  it('searches every text that holds a secret name however its words are joined, and a Bearer credential in any case', () => {
    const redact = new RedactProcessor('redact', redactConfigSchema.parse({}));
    const lines = [
      `${TS} app[web.1]: at=info api__key=k1qvalueqq`,
      `${TS} app[web.1]: at=info api%5Bkey%5D=k2qvalueqq`,
      `${TS} app[web.1]: calling upstream with bEaReR k3qvalueqq0123456789`,
      `${TS} heroku[router]: at=info method=GET path="/x?api%5Bkey%5D=k4qvalueqq&page=2" host=a.example.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https`,
    ];
    const out = records(lines);
    redact.process(out);
    const all = JSON.stringify(out);
    for (const secret of ['k1qvalueqq', 'k2qvalueqq', 'k3qvalueqq', 'k4qvalueqq']) expect(all).not.toContain(secret);
    expect(out[3]!.attributes['url.query']).toBe('api%5Bkey%5D=***&page=2');
  });

  it('masks secret query parameters, JSON and logfmt keys, in attributes and bodies, and counts', () => {
    const redact = new RedactProcessor('redact', redactConfigSchema.parse({}));
    const [router, json, logfmt] = records([ROUTER, JSON_LINE, LOGFMT]);
    redact.process([router!, json!, logfmt!]);
    const all = JSON.stringify([router, json, logfmt]);
    for (const secret of ['abc123', 'f00d', 'hunter2', 'sk_live_123', '"s3"', '=s3']) expect(all).not.toContain(secret);
    expect(router!.attributes['url.query']).toBe('token=***&page=2&X-Amz-Signature=***');
    expect(router!.body).toContain('path="/reset?token=***&page=2&X-Amz-Signature=***"');
    expect(json!.attributes.password).toBe('***');
    expect(json!.attributes.author).toBe('ann');
    expect(logfmt!.attributes.api_key).toBe('***');
    // E-mail addresses stay unless asked for.
    expect(all).toContain('bob@example.com');
    expect(redact.counters.records).toBe(3);
    expect(redact.counters.masked).toBeGreaterThanOrEqual(6);
  });

  it('masks e-mail addresses when asked, with a configured mask and word list', () => {
    const redact = new RedactProcessor('redact', redactConfigSchema.parse({ emails: true, mask: '[redacted]', keys: ['password', 'pin'] }));
    const [json] = records([`${TS} app[web.1]: {"msg":"signup bob@example.com","pin":"1234","token":"kept"}`]);
    redact.process([json!]);
    expect(json!.body).not.toContain('bob@example.com');
    expect(json!.attributes.pin).toBe('[redacted]');
    expect(json!.attributes.token).toBe('kept');
    expect(redact.isSecret('X-Auth-Token')).toBe(false);
    expect(new RedactProcessor('r', redactConfigSchema.parse({})).isSecret('X-Auth-Token')).toBe(true);
    expect(new RedactProcessor('r', redactConfigSchema.parse({})).isSecret('authorName')).toBe(false);
  });

  it('with the embedded default, a token in a router path never reaches the OTLP backend', async () => {
    const backend = new OtlpTestServer();
    const endpoint = await backend.start();
    const port = await freePort();
    const proc = spawn(process.execPath, [new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname, 'start'], {
      env: { ...process.env, PORT: String(port), DRAIN_BASIC_AUTH: 'logplex:pw', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_COMPRESSION: 'none' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      while (!/listening on/.test(err)) await new Promise((r) => setTimeout(r, 50));
      const line = `<158>1 ${TS} host heroku router - at=info method=GET path="/callback?code=x&access_token=SECRET-TOKEN-42" host=a.example.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=5ms status=200 bytes=10 protocol=https`;
      const res = await fetch(`http://127.0.0.1:${port}/logs`, {
        method: 'POST',
        body: `${Buffer.byteLength(line) + 1} ${line}\n`,
        headers: { authorization: `Basic ${Buffer.from('logplex:pw').toString('base64')}` },
      });
      expect(res.status).toBe(200);
      proc.kill('SIGTERM');
      expect(await new Promise((r) => proc.once('exit', (code) => r(code)))).toBe(0);
      const received = JSON.stringify(backend.requests.map((r) => r.body));
      expect(backend.logRecords().length).toBeGreaterThan(0);
      expect(received).toContain('access_token=***');
      expect(received).not.toContain('SECRET-TOKEN-42');
    } finally {
      proc.kill('SIGKILL');
      await backend.stop();
    }
  });

  it('keeps no line alive through the names it remembers (long lines, each with a name of its own)', async () => {
    // In a process of its own that can collect garbage when asked: 300 lines of 100 KB, each
    // searched (a secret word) with a pair whose long name is new; then the heap after a full GC.
    const processor = new URL('../src/processors/redact/processor.ts', import.meta.url).pathname;
    const config = new URL('../src/processors/redact/config.ts', import.meta.url).pathname;
    const kept = await heapKeptBy(
      `
      const { RedactProcessor } = await import(${JSON.stringify(processor)});
      const { redactConfigSchema } = await import(${JSON.stringify(config)});
      const redact = new RedactProcessor('redact', redactConfigSchema.parse({}));`,
      `
      for (let i = 0; i < 300; i++) {
        const line = '<190>1 - host app web.1 - token seen ' + 'x'.repeat(100000) + ' field_name_number_' + i + '=1';
        redact.process([{ timeUnixMicros: 0, observedUnixMicros: 0, severityNumber: 9, severityText: 'INFO', body: line.slice(20), eventName: 'heroku.app.log', attributes: { ['attribute_name_number_' + i]: line.slice(30) }, traceFlags: 0 }]);
      }`,
    );
    // 30 MB of lines went through; a name holding its line would keep about that much.
    expect(kept).toBeLessThan(3_000_000);
  });
});
