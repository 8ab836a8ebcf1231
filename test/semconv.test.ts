import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../scripts/semconv-generate.ts';
import { interpretLine } from '../src/heroku/classify.ts';
import type { HerokuEvent } from '../src/heroku/events.ts';
import { readCapture } from '../src/heroku/input.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../src/translate/telemetry.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { registryProblems } from './support/semconv-check.ts';

/** Keys and metric names that come from the app's own output, not from us. */
function appDefined(event: HerokuEvent, into: Set<string>): void {
  if (event.kind !== 'app') return;
  for (const key of Object.keys(event.fields ?? {})) into.add(key);
  for (const m of event.measurements ?? []) into.add(m.name);
}

function translate(input: string | Buffer): { batch: TelemetryBatch; app: Set<string> } {
  const batch = newTelemetryBatch();
  const app = new Set<string>();
  readCapture(typeof input === 'string' ? Buffer.from(input) : input, (line, status) => {
    const event = interpretLine(line);
    appDefined(event, app);
    translateEvent(line, event, 1_714_564_800_000_000, batch, status);
  });
  return { batch, app };
}

describe('semconv registry', () => {
  it('generated constants and README are current (run `npm run semconv:generate`)', () => {
    for (const [path, content] of generatedFiles()) {
      expect(readFileSync(path, 'utf8'), path).toBe(content);
    }
  });

  it('declares everything the shipped capture produces, with its type and unit', () => {
    const { batch, app } = translate(readFileSync(new URL('../examples/captures/mixed.logplex', import.meta.url)));
    expect(batch.logs.length).toBeGreaterThan(10);
    expect(registryProblems(batch.logs, batch.metrics, app)).toEqual([]);
  });

  it('declares everything generated lines of every kind produce', () => {
    const router = fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PURGE', ''),
        path: fc.constantFrom('/', '/a?b=c', '"/x y?z=1"'),
        status: fc.constantFrom('200', '503', ''),
        code: fc.constantFrom('', 'code=H12 desc="Request timeout" ', 'code=H10 '),
        extra: fc.constantFrom('', 'tls=true tls_version=TLSv1.3 ', 'sock=client ', 'newkey=1 '),
        protocol: fc.constantFrom('https', 'http', 'http1.1', 'HTTP/2.0'),
      })
      .map((r) => `heroku[router]: at=${r.code ? 'error' : 'info'} ${r.code}method=${r.method} path=${r.path} host=a.example.com fwd="1.2.3.4,2001:db8::1" dyno=web.1 connect=1ms service=2ms status=${r.status} bytes=3 ${r.extra}protocol=${r.protocol}`);
    const sample = fc
      .tuple(fc.constantFrom('heroku[web.1]: source=web.1 dyno=heroku.1.x', 'app[heroku-postgres]: source=DATABASE addon=pg-1', 'app[heroku-redis]: source=REDIS addon=r-1', 'app[heroku-pgbouncer]: source=pgb addon=pg-1'), fc.constantFrom('memory_rss=1MB', 'load_avg_1m=0.1', 'memory-total=10kB', 'db_size=10bytes', 'new-key=3', 'pages=4pages', 'tmp-disk-used=5', 'memory_pgpgin=5pages', 'evicted-keys=2', 'avg_query=8751'))
      .map(([head, kv]) => `${head} sample#${kv}`);
    const other = fc.constantFrom(
      'heroku[web.1]: Error R14 (Memory quota exceeded)',
      'heroku[logplex]: Error L10 (output buffer overflow): 3 messages dropped since 2024-05-01T12:00:00+00:00.',
      'heroku[web.1]: Process running mem=590M(115.2%)',
      'heroku[web.1]: Starting process with command `npm start`',
      'heroku[run.1]: Starting process with command `bash` by user a@b.c',
      'heroku[web.1]: State changed from up to crashed',
      'heroku[web.1]: Process exited with status 1',
      'heroku[web.1]: Stopping all processes with SIGTERM',
      'heroku[web.1]: Cycling',
      'heroku[web.1]: Unidling',
      'heroku[web.1]: something new',
      'app[api]: Release v1 created by user a@b.c',
      'app[api]: Deploy 1a2b3c4 by user a@b.c',
      'app[api]: Rollback to v7 by user a@b.c',
      'app[api]: Set A, B config vars by user a@b.c',
      'app[api]: Scaled to web@2:Basic by user a@b.c',
      'app[api]: Attach DATABASE (@ref:postgresql-x-1) by user a@b.c',
      'app[api]: Build failed -- check your build output',
      'app[api]: Enable maintenance mode by user a@b.c',
      'app[api]: Something else by user a@b.c',
      'app[postgres.1]: [DATABASE] [9-1] sql_error_code = 28P01 time_ms = "x" pid="1" database="d" FATAL:  password authentication failed',
      'app[heroku-postgres]: some add-on message',
      'app[web.1]: {"level":"warn","msg":"m","error":{"message":"x","stack":"y"},"user":{"id":1},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}',
      'app[web.1]: at=info msg="x" count#a.b=2 measure#lat=3ms sample#q=4 unique#u=bob foo=bar',
      'app[web.1]: ERROR something',
      'app[scheduler.1]: plain',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(router, sample, other), { minLength: 1, maxLength: 20 }), (lines) => {
        const text = lines.map((l) => `2024-05-01T12:00:00.000001+00:00 ${l}`).join('\n');
        const { batch, app } = translate(text);
        expect(batch.logs).toHaveLength(lines.length);
        expect(registryProblems(batch.logs, batch.metrics, app)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('reports an undeclared attribute, a wrong type and a wrong unit', () => {
    const { batch, app } = translate('2024-05-01T12:00:00Z heroku[web.1]: source=web.1 sample#memory_rss=1MB');
    batch.logs[0]!.attributes['heroku.not_declared'] = 'x';
    batch.logs[0]!.attributes['heroku.dyno.name'] = 42;
    batch.metrics[0]!.unit = 'MB';
    expect(registryProblems(batch.logs, batch.metrics, app)).toEqual([
      'log heroku.runtime.sample: attribute heroku.dyno.name=42 should be a string',
      'log heroku.runtime.sample: attribute heroku.not_declared is not in semconv/',
      'metric heroku.dyno.memory_rss: unit MB, registry says By',
    ]);
  });
});
