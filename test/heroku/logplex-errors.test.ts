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
