/** What real loggers write on Heroku, and the level, message and trace context we read from it. */
import { describe, expect, it } from 'vitest';
import { parseAppLine, plainTextLevel } from '../../src/heroku/app.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('JSON loggers', () => {
  it.each([
    ['structlog: the message is `event`', '{"event":"user logged in","level":"info","logger":"app.auth"}', { level: 'info', message: 'user logged in', fields: { logger: 'app.auth' } }],
    ['structlog with a message key too keeps event as a field', '{"event":"signup","message":"ok","level":"info"}', { message: 'ok', fields: { event: 'signup' } }],
    ['zap', '{"level":"dpanic","ts":1714564800.1,"caller":"main.go:1","msg":"odd"}', { level: 'critical', message: 'odd' }],
    ['slog with a level offset', '{"time":"2024-05-01T12:00:00Z","level":"DEBUG-4","msg":"verbose"}', { level: 'debug', message: 'verbose' }],
    ['log15', '{"lvl":"eror","msg":"boom"}', { level: 'error', message: 'boom' }],
    ['winston colorized', '{"level":"\\u001b[31merror\\u001b[39m","message":"red"}', { level: 'error', message: 'red' }],
    ['Serilog CLEF', '{"@t":"2024-05-01T12:00:00Z","@l":"Warning","@mt":"Slow {Ms}","@m":"Slow 900","Ms":900}', { level: 'warn', message: 'Slow 900' }],
    ['.NET JSON console', '{"Timestamp":"x","LogLevel":"Warning","Category":"App","Message":"slow"}', { level: 'warn', message: 'slow' }],
    ['Datadog status as a level word', '{"status":"error","message":"x"}', { level: 'error' }],
    ['an HTTP status is no level', '{"status":200,"message":"x"}', { level: undefined, fields: { status: 200 } }],
  ])('%s', (_name, line, expected) => {
    expect(parseAppLine(line)).toMatchObject({ format: 'json', ...expected });
  });

  it.each([
    ['OpenTelemetry fields', `{"msg":"x","trace_id":"${TRACE}","span_id":"${SPAN}"}`, TRACE, SPAN],
    ['Python OTel logging', `{"message":"x","otelTraceID":"${TRACE}","otelSpanID":"${SPAN}","otelTraceSampled":true}`, TRACE, SPAN],
    ['GCP', `{"message":"x","logging.googleapis.com/trace":"projects/p/traces/${TRACE}","logging.googleapis.com/spanId":"${SPAN}"}`, TRACE, SPAN],
    ['ECS nested', `{"message":"x","trace":{"id":"${TRACE}"},"span":{"id":"${SPAN}"}}`, TRACE, SPAN],
    // Datadog's decimal 64-bit ids: 1234567890123456789 = 0x112210f47de98115, 987654321 = 0x3ade68b1.
    ['Datadog dotted', '{"message":"x","dd.trace_id":"1234567890123456789","dd.span_id":"987654321"}', '0000000000000000112210f47de98115', '000000003ade68b1'],
    ['Datadog nested', '{"message":"x","dd":{"trace_id":"1234567890123456789","span_id":"987654321"}}', '0000000000000000112210f47de98115', '000000003ade68b1'],
  ])('%s: trace context', (_name, line, traceId, spanId) => {
    const ev = parseAppLine(line);
    expect(ev.traceId).toBe(traceId);
    expect(ev.spanId).toBe(spanId);
  });

  it('reads a stack from winston, zap and python-json-logger fields', () => {
    expect(parseAppLine('{"level":"error","message":"boom","stack":"Error: boom\\n at x"}')).toMatchObject({ error: undefined, errorStack: 'Error: boom\n at x' });
    expect(parseAppLine('{"level":"error","msg":"boom","stacktrace":"main.f()\\n\\tmain.go:1"}')).toMatchObject({ errorStack: 'main.f()\n\tmain.go:1' });
    expect(parseAppLine('{"levelname":"ERROR","message":"boom","exc_info":"Traceback ..."}')).toMatchObject({ level: 'error', errorStack: 'Traceback ...' });
  });

  it('parses JSON with blanks around it', () => {
    expect(parseAppLine('   {"level":"warn","msg":"indented"}  ')).toMatchObject({ format: 'json', level: 'warn', message: 'indented' });
  });

  it('reads log15 levels in logfmt', () => {
    expect(parseAppLine('t=2024-05-01T12:00:00Z lvl=eror msg="db down"')).toMatchObject({ format: 'logfmt', level: 'error', message: 'db down' });
  });
});

describe('plain text levels', () => {
  it.each([
    ['[2024-05-01 12:00:00 +0000] [4] [CRITICAL] WORKER TIMEOUT (pid:9)', 'critical'],
    ['[2024-05-01 12:00:00 +0000] [4] [ERROR] Exception in worker process', 'error'],
    ['2025-12-26 12:07:27,672.672 [WARNING] Anon NOT IN db', 'warn'],
    ['2024-05-01T12:00:00.000Z pid=4 tid=abc WARN: RuntimeError: boom', 'warn'],
    ['2024-05-01 12:00:00.123  WARN 4 --- [main] o.s.b.StartupInfoLogger : slow', 'warn'],
    ['2024/05/01 12:00:00 [error] 12#0: *1 connect() failed', 'error'],
    ['panic: runtime error: index out of range [3] with length 3', 'fatal'],
    ['ERROR:root:boom', 'error'],
    ['E, [2024-05-01T12:00:00.123456 #4] ERROR -- : boom', 'error'],
    ['Error: connect ECONNREFUSED 127.0.0.1:5432', 'error'],
  ])('%s', (line, level) => {
    expect(plainTextLevel(line)).toBe(level);
  });

  it.each(['request finished without ERROR', 'Completed 200 OK in 12ms (Views: 3.1ms)', 'GET /health 200', 'Started GET "/" for 1.2.3.4 at 2024-05-01 12:00:00 +0000', 'the error was handled'])(
    'no level in prose: %s',
    (line) => {
      expect(plainTextLevel(line)).toBeUndefined();
    },
  );
});
