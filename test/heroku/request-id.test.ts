/**
 * The router's request id in app lines (src/heroku/request-id.ts): which fields and tags carry it,
 * and what is too unlike a router request id to be taken. Heroku's rule for ids (Dev Center,
 * "HTTP Request IDs"): the router's own is a UUID; a client's X-Request-ID is kept when it is 20
 * to 200 characters of ASCII letters, digits, `+`, `/`, `=` and `-`, and replaced otherwise.
 */
import { describe, expect, it } from 'vitest';
import { parseAppLine } from '../../src/heroku/app.ts';
import { DEFAULT_REQUEST_ID_KEYS_CONFIG, isRequestIdShaped, requestIdKeys, requestIdOf, requestIdOfTags } from '../../src/heroku/request-id.ts';

const UUID = '0b4d2f8e-1c2a-4e5b-9f00-123456789abc';
const CLIENT_ID = 'Zm9vYmFy+/=-0123456789AbC'; // 25 characters of Heroku's allowed set

const cases: Array<{ name: string; line: string; id: string | undefined }> = [
  { name: 'logfmt request_id', line: `at=info request_id=${UUID} msg="charged card"`, id: UUID },
  { name: 'logfmt quoted request_id', line: `level=info request_id="${UUID}" msg=x`, id: UUID },
  { name: 'JSON request_id', line: `{"level":"info","msg":"x","request_id":"${UUID}"}`, id: UUID },
  { name: 'JSON requestId (pino-http style)', line: `{"level":30,"requestId":"${UUID}","msg":"x"}`, id: UUID },
  { name: 'JSON "request.id" as one key', line: `{"msg":"x","request.id":"${UUID}"}`, id: UUID },
  { name: 'JSON nested request: {id}', line: `{"msg":"x","request":{"id":"${UUID}","method":"GET"}}`, id: UUID },
  { name: "a client's X-Request-ID", line: `request_id=${CLIENT_ID} msg=x`, id: CLIENT_ID },
  { name: 'Rails tag first', line: `[${UUID}] Started GET "/" for 203.0.113.9 at 2024-05-01 12:00:00 +0000`, id: UUID },
  { name: 'Rails tag after other tags', line: `[web.1] [abc] [${UUID}] Completed 200 OK in 12ms`, id: UUID },
  { name: 'Rails tag after Ruby Logger prefix', line: `I, [2024-05-01T12:00:00.123456 #4]  INFO -- : [${UUID}] Started GET "/"`, id: UUID },
  { name: "an older router's 32 hex id as a tag", line: '[f9ed4675f1c53513c61a3b3b4e25b4c0] Processing by HomeController#index', id: 'f9ed4675f1c53513c61a3b3b4e25b4c0' },
  { name: 'a random client id as a tag', line: `[${CLIENT_ID}] Started GET "/"`, id: CLIENT_ID },
  { name: 'too short to be a request id', line: 'request_id=abc123 msg=x', id: undefined },
  { name: 'over 200 characters', line: `request_id=${'a1'.repeat(101)} msg=x`, id: undefined },
  { name: 'characters Heroku does not allow', line: `{"request_id":"${UUID}.x"}`, id: undefined },
  { name: 'a number, not a string', line: '{"request_id":12345678901234567890123}', id: undefined },
  { name: 'a slug of words in a tag', line: '[my-review-app-production] [web.1] hello', id: undefined },
  { name: 'an address and a host in tags', line: '[203.0.113.9] [shop.example.com] GET /', id: undefined },
  { name: 'a tag that never closes', line: `[${UUID} Started`, id: undefined },
  { name: 'a tag not at the start', line: `Started GET "/" [${UUID}]`, id: undefined },
  { name: 'no request id at all', line: 'Listening on http://0.0.0.0:5000', id: undefined },
];

describe('request ids in app lines', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(requestIdOf(parseAppLine(c.line), DEFAULT_REQUEST_ID_KEYS_CONFIG)).toBe(c.id);
    });
  }

  it('reads the configured keys only, in their order, and tags only when asked', () => {
    const line = parseAppLine(`{"trace_key":"${CLIENT_ID}","request_id":"${UUID}"}`);
    expect(requestIdOf(line, requestIdKeys(['trace_key', 'request_id']))).toBe(CLIENT_ID);
    expect(requestIdOf(line, requestIdKeys(['request_id', 'trace_key']))).toBe(UUID);
    expect(requestIdOf(line, requestIdKeys([]))).toBeUndefined();
    const tagged = parseAppLine(`[${UUID}] Started GET "/"`);
    expect(requestIdOf(tagged, requestIdKeys([], false))).toBeUndefined();
    expect(requestIdOf(tagged, requestIdKeys([], true))).toBe(UUID);
    const nested = parseAppLine(`{"ctx":{"req":{"rid":"${UUID}"}}}`);
    expect(requestIdOf(nested, requestIdKeys(['ctx.req.rid']))).toBe(UUID);
  });

  it('stops reading tags after eight, and never looks past 200 characters for a closing bracket', () => {
    expect(requestIdOfTags(`${'[a] '.repeat(8)}[${UUID}] x`)).toBeUndefined();
    expect(requestIdOfTags(`${'[a] '.repeat(7)}[${UUID}] x`)).toBe(UUID);
    expect(requestIdOfTags(`[${'a'.repeat(1_000_000)}]`)).toBeUndefined();
  });

  it("takes exactly Heroku's X-Request-ID bounds", () => {
    expect(isRequestIdShaped('a'.repeat(19))).toBe(false);
    expect(isRequestIdShaped('a'.repeat(20))).toBe(true);
    expect(isRequestIdShaped('a'.repeat(200))).toBe(true);
    expect(isRequestIdShaped('a'.repeat(201))).toBe(false);
    expect(isRequestIdShaped(`${'a'.repeat(19)}_`)).toBe(false);
  });
});
