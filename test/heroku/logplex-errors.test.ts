/** Logplex's in-band errors (L10 and kin): the count, since when, and the drain they name. */
import { describe, expect, it } from 'vitest';
import { parsePlatformLine } from '../../src/heroku/platform.ts';

const DRAIN = 'd.5a1e0c2b-1111-4222-8333-444455556666';

describe('Logplex errors', () => {
  it.each([
    ['Error L10 (output buffer overflow): 3 messages dropped since 2024-05-01T11:59:00+00:00.', 'L10', 3, '2024-05-01T11:59:00+00:00', undefined],
    ['Error L10 (output buffer overflow): 1 message dropped since 2024-05-01T11:59:00.123456+00:00', 'L10', 1, '2024-05-01T11:59:00.123456+00:00', undefined],
    [`Error L10 (output buffer overflow): drain ${DRAIN} dropped 1041 messages since 2024-05-01T11:58:02Z.`, 'L10', 1041, '2024-05-01T11:58:02Z', DRAIN],
    [`Error L10 (output buffer overflow): drain '${DRAIN}' dropped 7 messages since 2024-05-01T11:58:02Z.`, 'L10', 7, '2024-05-01T11:58:02Z', DRAIN],
    ['Error L12 (local buffer overflow): 250 messages lost since 2024-05-01T11:00:00+00:00', 'L12', 250, '2024-05-01T11:00:00+00:00', undefined],
  ])('%s', (text, code, dropped, since, drain) => {
    const ev = parsePlatformLine(text);
    expect(ev).toMatchObject({ type: 'error', code, droppedMessages: dropped, droppedSince: since, drainToken: drain });
  });

  it('takes no `since` that is not a timestamp, and no drain that is not a drain id', () => {
    const ev = parsePlatformLine('Error L10 (output buffer overflow): 3 messages dropped since yesterday; drain main is slow');
    expect(ev).toMatchObject({ droppedMessages: 3, droppedSince: undefined, drainToken: undefined });
  });

  it('reads no Logplex fields out of R errors', () => {
    expect(parsePlatformLine('Error R14 (Memory quota exceeded) since 2024-05-01T11:59:00+00:00')).toMatchObject({ code: 'R14', droppedSince: undefined });
  });
});

describe('Logplex errors as records', () => {
  it('carries since when, and the drain as a fingerprint: the token is nowhere in the record or its points', async () => {
    const { parseSyslogLine } = await import('../../src/heroku/syslog.ts');
    const { interpretLine } = await import('../../src/heroku/classify.ts');
    const { translateEvent, drainFingerprint } = await import('../../src/translate/translate.ts');
    const { newTelemetryBatch } = await import('../../src/translate/telemetry.ts');
    const line = parseSyslogLine(`<172>1 2024-05-01T12:00:00+00:00 host heroku logplex - Error L10 (output buffer overflow): drain ${DRAIN} dropped 12 messages since 2024-05-01T11:59:00+00:00.`)!;
    const out = newTelemetryBatch();
    translateEvent(line, interpretLine(line), 1, out);
    const [record] = out.logs;
    expect(record!.attributes).toMatchObject({
      'heroku.logplex.dropped_messages': 12,
      'heroku.logplex.dropped_since': '2024-05-01T11:59:00+00:00',
      'heroku.drain.fingerprint': drainFingerprint(DRAIN),
    });
    expect(record!.body).toBe(`Error L10 (output buffer overflow): drain [fingerprint ${drainFingerprint(DRAIN)}] dropped 12 messages since 2024-05-01T11:59:00+00:00.`);
    expect(JSON.stringify(out)).not.toContain(DRAIN);
    expect(out.metrics.map((p) => [p.name, p.value])).toEqual([['heroku.logplex.dropped_messages', 12]]);
  });
});
