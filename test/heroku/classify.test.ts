import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../../src/heroku/classify.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { rawLine, type HerokuLine } from '../../src/heroku/line.ts';
import { translateEvent } from '../../src/translate/translate.ts';
import { newTelemetryBatch } from '../../src/translate/telemetry.ts';

function line(appName: string, procId: string, text: string): HerokuLine {
  return { ...rawLine(text), shape: 'heroku-logs', appName, procId };
}

describe('interpretLine routing', () => {
  it.each([
    ['heroku', 'router', 'at=info method=GET', 'router'],
    ['heroku', 'router', 'Error H10 (App crashed) -> GET x.com/ dyno=none', 'router'],
    ['heroku', 'router', 'something else', 'platform'],
    ['heroku', 'web.1', 'source=web.1 dyno=heroku.1.x sample#load_avg_1m=0.1', 'runtime'],
    ['heroku', 'web.1', 'State changed from up to down', 'platform'],
    ['heroku', 'run.12', 'Process exited with status 0', 'platform'],
    ['heroku', 'scheduler.7', 'Starting process with command `rake x`', 'platform'],
    ['heroku', 'api', 'Deploy abc by x@y', 'api'],
    ['app', 'api', 'Deploy abc by user x@y', 'api'],
    ['app', 'heroku-postgres', 'source=DATABASE sample#tables=1', 'addon'],
    ['heroku', 'heroku-postgres', 'source=DATABASE sample#tables=1', 'addon'],
    ['app', 'heroku-redis', 'maintenance soon', 'app'],
    ['app', 'postgres', 'LOG:  x', 'addon'],
    ['app', 'postgres.123', '[DATABASE] [1-1] sql_error_code = 00000 LOG:  x', 'addon'],
    ['app', 'postgresql-worker.1', 'hello', 'app'],
    ['heroku', 'logplex', 'Error L10 (output buffer overflow): 3 messages dropped since 2024-01-01T00:00:00+00:00.', 'platform'],
    ['app', 'log-shuttle', 'Error L12: 2 messages dropped since 2024-01-01T00:00:00+00:00.', 'platform'],
    ['app', 'run.3', 'Error R13 (Attach error) -> Failed to attach to process', 'platform'],
    ['app', 'web.1', 'Error R14 in my own words', 'app'],
    ['app', 'web.1', 'Error RX1 (x)', 'app'],
    ['app', 'web.1', 'at=info method=GET', 'app'],
    ['app', 'web.1', 'source=web.1 sample#x=1', 'app'],
    ['', '', 'anything', 'app'],
  ] as const)('%s[%s]: %s -> %s', (appName, procId, text, kind) => {
    expect(interpretLine(line(appName, procId, text)).kind).toBe(kind);
  });
});

describe('properties', () => {
  const herokuish = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc
      .array(
        fc.oneof(
          fc.constantFrom('at=', 'code=H', 'path="', 'fwd="', 'sample#', 'count#', 'measure#', '"', '\\', '=', ' ', '\r', '\t', '[', ']', '(', ')', '->', ':', 'Error ', 'R14', 'L10', '{', '}', 'sql_error_code = ', 'LOG:  ', 'by user ', '`'),
          fc.string({ maxLength: 5 }),
        ),
        { maxLength: 30 },
      )
      .map((parts) => parts.join('')),
  );
  const envelope = fc.constantFrom(
    ['heroku', 'router'],
    ['heroku', 'web.1'],
    ['heroku', 'api'],
    ['app', 'api'],
    ['heroku', 'logplex'],
    ['app', 'log-shuttle'],
    ['app', 'heroku-postgres'],
    ['app', 'heroku-redis'],
    ['app', 'postgres.1'],
    ['app', 'web.1'],
    ['app', 'run.1'],
    ['', ''],
  );

  it('never throws and always yields exactly one record', () => {
    fc.assert(
      fc.property(envelope, herokuish, ([appName, procId], text) => {
        const l = line(appName!, procId!, text);
        const out = newTelemetryBatch();
        translateEvent(l, interpretLine(l), 1, out);
        expect(out.logs).toHaveLength(1);
        for (const m of out.metrics) expect(Number.isFinite(m.value)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on whole lines of any shape', () => {
    const prefix = fc.constantFrom('', '2024-05-01T12:00:00.123456+00:00 heroku[router]: ', '2024-05-01T12:00:00+00:00 app[web.1]: ', '<158>1 2024-05-01T12:00:00+00:00 host heroku router - ', '123 <134>1 - host app heroku-postgres - ');
    fc.assert(
      fc.property(prefix, herokuish, (p, text) => {
        const l = parseAnyLine(p + text);
        const out = newTelemetryBatch();
        translateEvent(l, interpretLine(l), 1, out);
        expect(out.logs).toHaveLength(1);
      }),
      { numRuns: 3000 },
    );
  });
});
