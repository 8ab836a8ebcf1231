/**
 * The syslog receiver's last line of defence, with real sockets: a line whose handling throws (a
 * bug of ours, injected here into translation) is kept raw, or refused when even that throws,
 * counted and logged without its content; a pipeline that throws ends one connection, not the
 * process; the connection and the receiver go on.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HerokuLine } from '../../src/heroku/line.ts';
import type { ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { syslogConfigSchema } from '../../src/receivers/syslog/config.ts';
import { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import type { TelemetryBatch } from '../../src/translate/telemetry.ts';

// BOOM: interpreting the line throws (after adding half a record), its raw form does not.
// CRASH: even the raw form throws.
vi.mock('../../src/translate/translate.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/translate/translate.ts')>();
  return {
    ...real,
    translateEvent: (line: HerokuLine, event: never, observed: number, out: TelemetryBatch, frame: never) => {
      if (line.text.includes('CRASH') || (line.shape !== 'raw' && line.text.includes('BOOM'))) {
        out.logs.push({ body: 'half a record' } as never);
        throw new TypeError(`cannot read ${line.text}`);
      }
      return real.translateEvent(line, event, observed, out, frame);
    },
  };
});

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

let receiver: SyslogReceiver | undefined;
afterEach(async () => {
  await receiver?.shutdown();
  receiver = undefined;
});

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const started = Date.now();
  while (!what()) {
    if (Date.now() - started > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function message(text: string): string {
  return `<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - ${text}`;
}
const frame = (text: string) => `${Buffer.byteLength(message(text))} ${message(text)}`;

async function start(consume?: (batch: ReceivedBatch) => boolean) {
  const config = syslogConfigSchema.parse({ tcp: { endpoint: '127.0.0.1:0' }, udp: { endpoint: '127.0.0.1:0' }, drains: [{ token: TOKEN }] });
  const bodies: string[] = [];
  const logged: unknown[] = [];
  const syslog = new SyslogReceiver(
    config,
    consume ??
      ((batch) => {
        for (const r of batch.telemetry.logs) bodies.push(r.body);
        return true;
      }),
    (...args) => logged.push(args),
  );
  receiver = syslog;
  await syslog.start();
  return { syslog, bodies, logged };
}

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

describe('a line whose handling throws', () => {
  it('over TCP: is kept raw (or refused when even that throws), counted, logged without its content; the connection goes on', async () => {
    const { syslog, bodies, logged } = await start();
    const s = await open(syslog.addresses.tcp!.port);
    s.write(frame('before') + frame('BOOM secret=hunter2') + frame('CRASH secret=hunter2') + frame('after'));
    await until(() => bodies.length === 3);
    s.write(frame('still open'));
    await until(() => bodies.length === 4);
    // Kept raw: the whole message as it came, nothing of the half-made record.
    expect(bodies).toEqual(['before', message('BOOM secret=hunter2'), 'after', 'still open']);
    expect(syslog.counters).toMatchObject({ acceptedLines: 4, rawLines: 1, lineErrors: 2 });
    expect(syslog.counters.rejectedLines.line_error).toBe(1);
    expect(s.closed).toBe(false);
    // Logged, at a bounded rate (the second within the interval is only counted), with where it
    // was thrown and never what the line held.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject(['error', expect.stringContaining('syslog line'), { error_type: 'TypeError' }]);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
    s.destroy();
  });

  it('over UDP: the same', async () => {
    const { syslog, bodies } = await start();
    const udp = createSocket('udp4');
    const send = (text: string) => new Promise<void>((r) => udp.send(message(text), syslog.addresses.udp!.port, '127.0.0.1', () => r()));
    await send('BOOM over udp');
    await send('CRASH over udp');
    await send('fine over udp');
    await until(() => bodies.length === 2 && syslog.counters.rejectedLines.line_error === 1);
    expect(bodies).toEqual([message('BOOM over udp'), 'fine over udp']);
    expect(syslog.counters).toMatchObject({ acceptedLines: 2, rawLines: 1, lineErrors: 2 });
    udp.close();
  });
});

describe('a pipeline that throws', () => {
  it('ends that connection, counted, and refuses what it held; other connections go on', async () => {
    const bodies: string[] = [];
    const { syslog } = await start((batch) => {
      if (batch.telemetry.logs.some((r) => r.body === 'poison')) throw new Error('consumer bug');
      for (const r of batch.telemetry.logs) bodies.push(r.body);
      return true;
    });
    const port = syslog.addresses.tcp!.port;
    const bad = await open(port);
    bad.write(frame('poison'));
    await new Promise((r) => bad.once('close', r));
    expect(syslog.counters.rejectedConnections.internal_error).toBe(1);
    expect(syslog.counters.rejectedLines.line_error).toBe(1);
    const good = await open(port);
    good.end(frame('healthy'));
    await until(() => bodies.length === 1);
    expect(bodies).toEqual(['healthy']);
    expect(syslog.counters.acceptedLines).toBe(1);
  });
});
