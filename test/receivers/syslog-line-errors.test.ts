/**
 * The syslog receiver's last line of defence, with real sockets: a line whose handling throws (a
 * bug of ours, injected here into interpretation) is kept unparsed (never with the header, where
 * the drain's token is), counted and logged without its content; a pipeline that throws ends one connection, not the
 * process; the connection and the receiver go on.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HerokuLine } from '../../src/heroku/line.ts';
import type { ReceivedBatch } from '../../src/receivers/logplex/receiver.ts';
import { syslogConfigSchema } from '../../src/receivers/syslog/config.ts';
import { SyslogReceiver } from '../../src/receivers/syslog/receiver.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';
import { until } from '../support/wait.ts';

/** Real sockets on a machine that may be busy: 20 s before a wait fails. */
const WAIT = { timeoutMs: 20_000 };

// BOOM: interpreting the line throws (a bug of ours, injected).
vi.mock('../../src/heroku/classify.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/heroku/classify.ts')>();
  return {
    ...real,
    interpretLine: (line: HerokuLine) => {
      if (line.text.includes('BOOM')) throw new TypeError(`cannot read ${line.text}`);
      return real.interpretLine(line);
    },
  };
});

const TOKEN = 'd.9a1c2b3d-1111-4222-8333-444455556666';

let receiver: SyslogReceiver | undefined;
afterEach(async () => {
  await receiver?.shutdown();
  receiver = undefined;
});

function message(text: string): string {
  return `<190>1 2024-05-01T12:00:00+00:00 ${TOKEN} app web.1 - - ${text}`;
}
const frame = (text: string) => `${Buffer.byteLength(message(text))} ${message(text)}`;

async function start(consume?: (batch: ReceivedBatch) => boolean) {
  const config = syslogConfigSchema.parse({ tcp: { endpoint: '127.0.0.1:0' }, udp: { endpoint: '127.0.0.1:0' }, drains: [{ token: TOKEN }] });
  const bodies: string[] = [];
  const records: LogRecordData[] = [];
  const logged: unknown[] = [];
  const syslog = new SyslogReceiver(
    config,
    consume ??
      ((batch) => {
        for (const r of batch.telemetry.logs) {
          bodies.push(r.body);
          records.push(r);
        }
        return true;
      }),
    (...args) => logged.push(args),
  );
  receiver = syslog;
  await syslog.start();
  return { syslog, bodies, records, logged };
}

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

describe('a line whose handling throws', () => {
  it('over TCP: is kept unparsed, without the header that holds the token, counted, logged without its content; the connection goes on', async () => {
    const { syslog, bodies, records, logged } = await start();
    const s = await open(syslog.addresses.tcp!.port);
    s.write(frame('before') + frame('BOOM secret=hunter2') + frame('BOOM again') + frame('after'));
    await until(() => bodies.length === 4, WAIT);
    s.write(frame('still open'));
    await until(() => bodies.length === 5, WAIT);
    expect(bodies).toEqual(['before', 'BOOM secret=hunter2', 'BOOM again', 'after', 'still open']);
    const kept = records.filter((r) => r.body.startsWith('BOOM'));
    expect(kept.map((r) => r.attributes['heroku.log.parse_error'])).toEqual(['TypeError while reading the line: kept unparsed', 'TypeError while reading the line: kept unparsed']);
    // The drain's token (the HOSTNAME) is nowhere in what goes out.
    expect(JSON.stringify(records)).not.toContain(TOKEN);
    expect(syslog.counters).toMatchObject({ acceptedLines: 5, rawLines: 2, lineErrors: 2 });
    expect(s.closed).toBe(false);
    // Logged at a bounded rate (the second within the interval is only counted), never with what the line held.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toEqual(['error', expect.stringContaining('syslog line'), undefined]);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
    s.destroy();
  });

  it('over UDP: the same', async () => {
    const { syslog, bodies, records } = await start();
    const udp = createSocket('udp4');
    const send = (text: string) => new Promise<void>((r) => udp.send(message(text), syslog.addresses.udp!.port, '127.0.0.1', () => r()));
    await send('BOOM over udp');
    await send('fine over udp');
    await until(() => bodies.length === 2, WAIT);
    expect(bodies).toEqual(['BOOM over udp', 'fine over udp']);
    expect(JSON.stringify(records)).not.toContain(TOKEN);
    expect(syslog.counters).toMatchObject({ acceptedLines: 2, rawLines: 1, lineErrors: 1 });
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
    await until(() => bodies.length === 1, WAIT);
    expect(bodies).toEqual(['healthy']);
    expect(syslog.counters.acceptedLines).toBe(1);
  });
});
