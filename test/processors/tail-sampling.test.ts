/**
 * tail_sampling: contrib's policies and keys on Heroku's router records, spans and app lines,
 * one decision per request wherever it is made, and the held / released / expired flow of app
 * lines that come before their router line (fake timers where time matters).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../src/config/load.ts';
import { parseAnyLine } from '../../src/heroku/input.ts';
import { tailSamplingConfigSchema } from '../../src/processors/tail_sampling/config.ts';
import { tailSamplingFactory } from '../../src/processors/tail_sampling/factory.ts';
import { compilePolicy, decide, fnv1a64, recordSubject, spanSubject, thresholdOf, withThreshold, type Subject } from '../../src/processors/tail_sampling/policies.ts';
import type { TailSamplingProcessor } from '../../src/processors/tail_sampling/processor.ts';
import type { EmitOptions, Processed, ProcessorHost } from '../../src/service/component.ts';
import { traceIdsOfRequest } from '../../src/translate/trace-context.ts';
import { newTelemetryBatch, SPAN_KIND_SERVER, SPAN_STATUS_ERROR, SPAN_STATUS_UNSET, type Attributes, type LogRecordData, type SpanData } from '../../src/translate/telemetry.ts';
import { translateLineSafely } from '../../src/translate/translate.ts';

const RESOURCE: Attributes = { 'service.name': 'shop-web' };

function recordOf(message: string): LogRecordData {
  const batch = newTelemetryBatch();
  translateLineSafely(parseAnyLine(message), 1, batch);
  return batch.logs[0]!;
}

/** A router line's record, through the real parser and translation. */
function routerRecord(requestId: string, opts: { status?: number; code?: string; connect?: number; service?: number } = {}): LogRecordData {
  const { status = 200, code, connect = 1, service = 40 } = opts;
  const text =
    code === undefined
      ? `at=info method=GET path="/p" host=shop.example.com request_id=${requestId} fwd="203.0.113.9" dyno=web.1 connect=${connect}ms service=${service}ms status=${status} bytes=10 protocol=https`
      : `at=error code=${code} desc="x" method=GET path="/p" host=shop.example.com request_id=${requestId} fwd="203.0.113.9" dyno=web.1 connect=${connect}ms service=${service}ms status=${status} bytes=0 protocol=https`;
  return recordOf(`<158>1 2024-05-01T12:00:01.000000+00:00 host heroku router - ${text}`);
}

/** An app line of a request, with the trace id request-routes gives it. */
function appRecord(requestId: string | undefined, level = 'info', text = 'rendered'): LogRecordData {
  const r = recordOf(`<190>1 2024-05-01T12:00:00.500000+00:00 host app web.1 - at=${level} msg="${text}"${requestId === undefined ? '' : ` request_id=${requestId}`}`);
  if (requestId !== undefined) {
    const ids = traceIdsOfRequest(requestId);
    r.traceId = ids.traceId;
    r.spanId = ids.spanId;
  }
  return r;
}

/** The router span the traces pipeline makes of the same line: start/end from connect + service. */
function routerSpan(requestId: string, record: LogRecordData): SpanData {
  const a = record.attributes;
  const ms = Math.round(Number(a['heroku.router.connect.duration'] ?? 0) * 1000) + Math.round(Number(a['heroku.router.service.duration'] ?? 0) * 1000);
  const end = record.timeUnixMicros;
  const status = a['http.response.status_code'];
  const error = (typeof status === 'number' && status >= 500) || a['heroku.error.code'] !== undefined;
  return {
    ...traceIdsOfRequest(requestId),
    parentSpanId: undefined,
    traceState: '',
    traceFlags: 1,
    name: 'GET',
    kind: SPAN_KIND_SERVER,
    startUnixMicros: end - ms * 1000,
    endUnixMicros: end,
    attributes: { ...a },
    statusCode: error ? SPAN_STATUS_ERROR : SPAN_STATUS_UNSET,
    statusMessage: '',
  };
}

interface Emitted {
  resource: Attributes;
  records: LogRecordData[];
  options: EmitOptions | undefined;
}

function sampler(config: unknown, emitted: Emitted[] = [], logs: string[] = []): TailSamplingProcessor {
  const host: ProcessorHost = {
    log: (_level, message) => logs.push(message),
    extension: () => undefined,
    emitLogs: (_id, resource, records, options) => (emitted.push({ resource, records, options }), true),
  };
  return tailSamplingFactory.create('tail_sampling', tailSamplingConfigSchema.parse(config), host) as TailSamplingProcessor;
}

const STANDARD = {
  decision_wait: '10s',
  policies: [
    { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
    { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
  ],
};

function run(p: TailSamplingProcessor, logs: LogRecordData[], pipeline = 'logs'): LogRecordData[] {
  const out = p.process(RESOURCE, logs, [], new Set(), undefined, pipeline) as Processed | undefined;
  return out?.logs ?? logs;
}

const subject = (s: Partial<Subject>): Subject => ({ attributes: {}, status: 'UNSET', durationMs: NaN, ...s });
const key = (traceId?: string) => ({ traceId, text: 'x', micros: 1 });
const policy = (p: unknown) => compilePolicy(tailSamplingConfigSchema.parse({ policies: [p] }).policies[0]!);
const decision = (p: unknown, subjects: Subject[], resource: Attributes = {}, traceId = 'a'.repeat(32)) => policy(p).evaluate(subjects, resource, key(traceId));

/** FNV-1a 64 as its definition states it, on bigints: the reference the limb version must equal. */
function fnvReference(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & ((1n << 64n) - 1n);
  return h;
}

describe('tail_sampling config (contrib keys)', () => {
  it('takes a contrib config as written, with its defaults', () => {
    const c = tailSamplingConfigSchema.parse({ policies: [{ name: 'all', type: 'always_sample' }] });
    expect(c.decision_wait).toBe(30_000);
    expect(c.num_traces).toBe(50_000);
    expect(c.adjusted_count_attribute).toBe('SampleRate');
    const full = tailSamplingConfigSchema.safeParse({
      decision_wait: '5s',
      num_traces: 100,
      expected_new_traces_per_sec: 10,
      decision_cache: { sampled_cache_size: 10, non_sampled_cache_size: 10 },
      policies: [
        { name: 'a', type: 'numeric_attribute', numeric_attribute: { key: 'http.response.status_code', min_value: 500, max_value: 599 } },
        { name: 'b', type: 'string_attribute', string_attribute: { key: 'url.path', values: ['^/api/.*'], enabled_regex_matching: true, invert_match: true } },
        { name: 'c', type: 'boolean_attribute', boolean_attribute: { key: 'x', value: true } },
        { name: 'd', type: 'and', and: { and_sub_policy: [{ name: 'd1', type: 'latency', latency: { threshold_ms: 5, upper_threshold_ms: 10 } }, { name: 'd2', type: 'probabilistic', probabilistic: { sampling_percentage: 50, hash_salt: 's' } }] } },
      ],
    });
    expect(full.success).toBe(true);
  });

  it('names the key of every problem', () => {
    const problems = (processor: unknown) =>
      validateConfig(
        {
          receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
          processors: { tail_sampling: processor },
          exporters: { debug: {} },
          service: { pipelines: { logs: { receivers: ['logplex'], processors: ['tail_sampling'], exporters: ['debug'] } } },
        },
        {},
      ).problems.join('\n');
    expect(problems({ policies: [{ name: 'r', type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } }] })).toMatch(/processors\.tail_sampling\.policies\[0\]\.type.*"rate_limiting" is not supported here: a rate depends on each instance/s);
    expect(problems({ policies: [{ name: 'l', type: 'latency' }] })).toMatch(/policies\[0\]\.latency.*is required for a latency policy/s);
    expect(problems({ policies: [{ name: 'x', type: 'always_sample' }, { name: 'x', type: 'always_sample' }] })).toMatch(/policies\[1\]\.name.*"x" names two policies/s);
    expect(problems({ policies: [{ name: 'p', type: 'probabilistic', probabilistic: { sampling_percentage: 120 } }] })).toMatch(/sampling_percentage/);
    expect(problems({ policies: [{ name: 's', type: 'string_attribute', string_attribute: { key: 'k', values: ['(?<=a)b'], enabled_regex_matching: true } }] })).toMatch(/string_attribute\.values\[0\]/);
    expect(problems({ policies: [] })).toMatch(/policies.*at least one policy/s);
    expect(problems({ policies: [{ name: 'a', type: 'always_sample' }], bogus: 1 })).toMatch(/bogus/);
  });

  it('validate warns when it comes before alerts (alerts must see every line), not after', () => {
    const warnings = (processors: string[]) =>
      validateConfig(
        {
          receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
          processors: { alerts: {}, redact: {}, tail_sampling: { policies: [{ name: 'all', type: 'always_sample' }] } },
          exporters: { debug: {} },
          service: { pipelines: { logs: { receivers: ['logplex'], processors, exporters: ['debug'] } } },
        },
        {},
      ).warnings.join('\n');
    expect(warnings(['redact', 'tail_sampling', 'alerts'])).toMatch(/service\.pipelines\.logs\.processors: "tail_sampling" comes before "alerts", so alerts see only the sampled lines/);
    expect(warnings(['redact', 'alerts', 'tail_sampling'])).not.toMatch(/tail_sampling/);
  });
});

describe('tail_sampling policies', () => {
  it("probabilistic hashes as contrib: FNV-1a 64 of the salt and the trace id's 16 bytes", () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const bytes = new Uint8Array([...new TextEncoder().encode('default-hash-seed'), ...Buffer.from(traceId, 'hex')]);
    expect(fnv1a64('default-hash-seed', traceId)).toBe(fnvReference(bytes));
    for (let i = 0; i < 200; i++) {
      const id = traceIdsOfRequest(`r${i}`).traceId;
      expect(fnv1a64('salt', id)).toBe(fnvReference(new Uint8Array([...Buffer.from('salt'), ...Buffer.from(id, 'hex')])));
    }
  });

  it('probabilistic keeps about its percentage, the same trace ids every time; the salt changes which', () => {
    const p = { name: 'p', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } };
    const ids = Array.from({ length: 20_000 }, (_, i) => traceIdsOfRequest(`req-${i}`).traceId);
    const kept = ids.filter((id) => decision(p, [], {}, id) === 1);
    expect(kept.length / ids.length).toBeGreaterThan(0.09);
    expect(kept.length / ids.length).toBeLessThan(0.11);
    expect(ids.filter((id) => decision(p, [], {}, id) === 1)).toEqual(kept);
    const salted = ids.filter((id) => decision({ ...p, probabilistic: { sampling_percentage: 10, hash_salt: 'other' } }, [], {}, id) === 1);
    expect(salted).not.toEqual(kept);
    expect(ids.every((id) => decision({ ...p, probabilistic: { sampling_percentage: 100 } }, [], {}, id) === 1)).toBe(true);
  });

  it('status_code: ERROR is a 5xx or an H-code on a router record, severity ERROR up on other records', () => {
    const errors = { name: 'e', type: 'status_code', status_code: { status_codes: ['ERROR'] } };
    const s = (r: LogRecordData) => [recordSubject(r, subject({}))];
    expect(decision(errors, s(routerRecord('a', { status: 503 })))).toBe(1);
    expect(decision(errors, s(routerRecord('a', { status: 499, code: 'H27' })))).toBe(1);
    expect(decision(errors, s(routerRecord('a', { status: 404 })))).toBe(0);
    expect(decision(errors, s(appRecord('a', 'error')))).toBe(1);
    expect(decision(errors, s(appRecord('a', 'warn')))).toBe(0);
    expect(decision({ ...errors, status_code: { status_codes: ['UNSET'] } }, s(routerRecord('a')))).toBe(1);
  });

  it("latency: a router record's connect + service, a span's duration; threshold and upper_threshold as contrib", () => {
    const slow = { name: 's', type: 'latency', latency: { threshold_ms: 1000 } };
    const r = (connect: number, service: number) => [recordSubject(routerRecord('a', { connect, service }), subject({}))];
    expect(decision(slow, r(1, 999))).toBe(1);
    expect(decision(slow, r(0, 999))).toBe(0);
    const band = { name: 'b', type: 'latency', latency: { threshold_ms: 100, upper_threshold_ms: 200 } };
    expect(decision(band, r(0, 100))).toBe(0);
    expect(decision(band, r(0, 150))).toBe(1);
    expect(decision(band, r(0, 200))).toBe(1);
    expect(decision(band, r(0, 201))).toBe(0);
    expect(decision(slow, [recordSubject(appRecord('a'), subject({}))])).toBe(0);
  });

  it('attribute policies look at the resource and the item; invert_match vetoes on a match', () => {
    const num = { name: 'n', type: 'numeric_attribute', numeric_attribute: { key: 'http.response.status_code', min_value: 400, max_value: 499 } };
    const router = (status: number) => [recordSubject(routerRecord('a', { status }), subject({}))];
    expect(decision(num, router(404))).toBe(1);
    expect(decision(num, router(200))).toBe(0);
    expect(decision({ ...num, numeric_attribute: { key: 'http.response.status_code', min_value: 400 } }, router(503))).toBe(1);
    const str = { name: 's', type: 'string_attribute', string_attribute: { key: 'url.path', values: ['/p', '/q'] } };
    expect(decision(str, router(200))).toBe(1);
    expect(decision({ ...str, string_attribute: { key: 'url.path', values: ['^/h'], enabled_regex_matching: true } }, router(200))).toBe(0);
    expect(decision({ ...str, string_attribute: { key: 'url.path', values: ['^/p$'], enabled_regex_matching: true } }, router(200))).toBe(1);
    expect(decision({ ...str, string_attribute: { key: 'url.path', values: ['/p'], invert_match: true } }, router(200))).toBe(3);
    expect(decision({ ...str, string_attribute: { key: 'url.path', values: ['/x'], invert_match: true } }, router(200))).toBe(2);
    expect(decision({ ...str, string_attribute: { key: 'service.name', values: ['shop-web'] } }, router(200), RESOURCE)).toBe(1);
    const bool = { name: 'b', type: 'boolean_attribute', boolean_attribute: { key: 'flag', value: true } };
    expect(decision(bool, [subject({ attributes: { flag: true } })])).toBe(1);
    expect(decision(bool, [subject({ attributes: { flag: 'true' } })])).toBe(0);
  });

  it('and samples only when every sub-policy does; the combination is contrib\'s (an inverted match vetoes)', () => {
    const and = {
      name: 'slow-api',
      type: 'and',
      and: {
        and_sub_policy: [
          { name: 'api', type: 'string_attribute', string_attribute: { key: 'url.path', values: ['/p'] } },
          { name: 'slow', type: 'latency', latency: { threshold_ms: 500 } },
        ],
      },
    };
    const r = (service: number) => [recordSubject(routerRecord('a', { service }), subject({}))];
    expect(decision(and, r(600))).toBe(1);
    expect(decision(and, r(100))).toBe(0);
    const combined = ['always', 'health'].map((n) =>
      n === 'always' ? policy({ name: n, type: 'always_sample' }) : policy({ name: n, type: 'string_attribute', string_attribute: { key: 'url.path', values: ['/p'], invert_match: true } }),
    );
    const counts = combined.map(() => ({ sampled: 0, not_sampled: 0 }));
    expect(decide(combined, counts, r(1), {}, key('a'.repeat(32)))).toBe(0);
    expect(counts).toEqual([{ sampled: 1, not_sampled: 0 }, { sampled: 0, not_sampled: 1 }]);
    // Only inverted no-matches and no plain not-sampled: kept.
    expect(decide([combined[1]!], [{ sampled: 0, not_sampled: 0 }], [subject({ attributes: { 'url.path': '/x' } })], {}, key())).toBe(1);
  });

  it('adjusted count: 1 when a deterministic policy kept it, 100 / percentage when only the probabilistic one did', () => {
    const policies = STANDARD.policies.map(policy);
    const counts = policies.map(() => ({ sampled: 0, not_sampled: 0 }));
    const prob = policies[2]!;
    const ids = Array.from({ length: 200 }, (_, i) => traceIdsOfRequest(`q${i}`).traceId);
    const luckyId = ids.find((id) => prob.evaluate([], {}, key(id)) === 1)!;
    const unluckyId = ids.find((id) => prob.evaluate([], {}, key(id)) === 0)!;
    const ok = [recordSubject(routerRecord('a'), subject({}))];
    const failed = [recordSubject(routerRecord('a', { status: 500 }), subject({}))];
    expect(decide(policies, counts, ok, {}, key(luckyId))).toBe(10);
    expect(decide(policies, counts, ok, {}, key(unluckyId))).toBe(0);
    expect(decide(policies, counts, failed, {}, key(luckyId))).toBe(1);
    expect(decide(policies, counts, failed, {}, key(unluckyId))).toBe(1);
  });

  it("the spec's threshold in a span's tracestate: th:0 for all kept, 2^56 * (1 - p) otherwise", () => {
    expect(thresholdOf(1)).toBe('0');
    expect(thresholdOf(10)).toBe('e6666666666666');
    expect(thresholdOf(2)).toBe('8');
    expect(thresholdOf(4)).toBe('c');
    expect(withThreshold('', '8')).toBe('ot=th:8');
    expect(withThreshold('vendor=x,ot=rv:abc;th:1', 'c')).toBe('ot=th:c;rv:abc,vendor=x');
  });
});

describe('tail_sampling on records and spans', () => {
  afterEach(() => vi.useRealTimers());

  it("a request's router record and its span get the same decision, in any instance", () => {
    const a = sampler(STANDARD);
    const b = sampler(STANDARD);
    let keptCount = 0;
    for (let i = 0; i < 500; i++) {
      const id = `7c1e${i}-request`;
      const opts = i % 17 === 0 ? { status: 503 } : i % 23 === 0 ? { service: 1500 } : {};
      const record = routerRecord(id, opts);
      const span = routerSpan(id, record);
      const keptRecord = run(a, [record]).length === 1;
      const spans = (b.process(RESOURCE, [], [], new Set(), [span]) as Processed).spans!;
      expect(spans.length === 1).toBe(keptRecord);
      if (keptRecord) {
        keptCount++;
        expect(span.attributes.SampleRate).toBe(record.attributes.SampleRate);
        expect(span.traceState).toBe(`ot=th:${thresholdOf(record.attributes.SampleRate as number)}`);
      }
      if (opts.status === 503 || opts.service === 1500) expect(keptRecord).toBe(true);
    }
    expect(keptCount).toBeGreaterThan(50);
    expect(keptCount).toBeLessThan(150);
  });

  it('records without a trace id are decided at once on their own facts', () => {
    const p = sampler(STANDARD);
    const errors = Array.from({ length: 50 }, (_, i) => appRecord(undefined, 'error', `boom ${i}`));
    const infos = Array.from({ length: 1000 }, (_, i) => appRecord(undefined, 'info', `fine ${i}`));
    expect(run(p, errors)).toHaveLength(50);
    const kept = run(p, infos);
    expect(kept.length).toBeGreaterThan(60);
    expect(kept.length).toBeLessThan(140);
    expect(kept.every((r) => r.attributes.SampleRate === 10)).toBe(true);
    expect(p.counts.holdingRecords).toBe(0);
  });

  it('app lines wait for their router line in a later batch, then go with its decision', () => {
    const emitted: Emitted[] = [];
    const p = sampler(STANDARD, emitted);
    const failing = [appRecord('req-fail', 'info', 'charging'), appRecord('req-fail', 'info', 'calling bank')];
    expect(run(p, failing)).toEqual([]);
    expect(p.counts.holdingRecords).toBe(2);
    const router = routerRecord('req-fail', { status: 503 });
    expect(run(p, [router])).toEqual([router]);
    // Released beside the batch, into the pipeline they were held for, after the processor.
    expect(emitted.map((e) => e.records.map((r) => r.body))).toEqual([['charging', 'calling bank']]);
    expect(emitted[0]!.options).toEqual({ after: true, pipeline: 'logs' });
    expect([router, ...emitted[0]!.records].every((r) => r.attributes.SampleRate === 1)).toBe(true);
    expect(p.counts.holdingRecords).toBe(0);

    // A request the policies drop: its app lines are dropped with its router line.
    const prob = policy(STANDARD.policies[2]);
    let n = 0;
    while (prob.evaluate([], {}, key(traceIdsOfRequest(`ok-${n}`).traceId)) === 1) n++;
    const dropped = `ok-${n}`;
    expect(run(p, [appRecord(dropped)])).toEqual([]);
    expect(run(p, [routerRecord(dropped)])).toEqual([]);
    expect(emitted).toHaveLength(1);
    expect(p.counts.holdingRecords).toBe(0);
    // An app line after the router line: the recent decision serves it at once.
    expect(run(p, [appRecord(dropped)])).toEqual([]);
    expect(run(p, [appRecord('req-fail', 'info', 'late')])).toHaveLength(1);
  });

  it("an error line of a request the policies drop is kept on its own facts (never an error lost), the request's other lines dropped", () => {
    const emitted: Emitted[] = [];
    const p = sampler(STANDARD, emitted);
    const prob = policy(STANDARD.policies[2]);
    let n = 0;
    while (prob.evaluate([], {}, key(traceIdsOfRequest(`fine-${n}`).traceId)) === 1) n++;
    const rid = `fine-${n}`;
    expect(run(p, [appRecord(rid, 'info', 'charging'), appRecord(rid, 'error', 'retrying the bank: timeout')])).toEqual([]);
    // The request itself is fine (200, fast, outside the percentage): its router record goes.
    expect(run(p, [routerRecord(rid)])).toEqual([]);
    expect(emitted.map((e) => e.records.map((r) => [r.body, r.attributes.SampleRate]))).toEqual([[['retrying the bank: timeout', 1]]]);
    // The same after the decision: a late error line kept, a late info line not.
    expect(run(p, [appRecord(rid, 'error', 'late failure')]).map((r) => r.body)).toEqual(['late failure']);
    expect(run(p, [appRecord(rid, 'info', 'late info')])).toEqual([]);
    // The policies' decision counters count the request once, not its rescued lines.
    expect(p.counts.policies.errors).toEqual({ sampled: 0, not_sampled: 1 });
  });

  it('app lines and their router line in one batch: decided together, in order', () => {
    const p = sampler(STANDARD);
    const batch = [appRecord('one', 'info', 'a'), appRecord('two', 'info', 'b'), routerRecord('one', { status: 502 }), appRecord(undefined, 'error', 'c')];
    const out = run(p, batch);
    expect(out.map((r) => r.body)).toEqual([batch[0]!.body, batch[2]!.body, batch[3]!.body]);
    expect(p.counts.holdingRecords).toBe(1); // 'two' waits for its router line
  });

  it('without a router line within decision_wait, held lines are decided on their own and leave after the processor', async () => {
    vi.useFakeTimers();
    const emitted: Emitted[] = [];
    const p = sampler(STANDARD, emitted);
    p.start();
    run(p, [appRecord('orphan-err', 'error', 'exploded')], 'logs/main');
    run(p, [appRecord('orphan-info', 'info', 'fine')], 'logs/main');
    vi.advanceTimersByTime(9_000);
    expect(emitted).toEqual([]);
    vi.advanceTimersByTime(1_500);
    const released = emitted.flatMap((e) => e.records.map((r) => r.body));
    expect(released).toContain('exploded');
    expect(emitted[0]!.options).toEqual({ after: true, pipeline: 'logs/main' });
    expect(emitted[0]!.resource).toBe(RESOURCE);
    const infoKept = traceIdsOfRequest('orphan-info').traceId;
    const expected = policy(STANDARD.policies[2]).evaluate([], {}, key(infoKept)) === 1;
    expect(released.some((b) => b.includes('fine'))).toBe(expected);
    expect(p.counts.releasedOnExpiry).toBe(2);
    expect(p.counts.holdingRecords).toBe(0);
    await p.shutdown();
  });

  it("a span decided first serves the logs pipeline's held lines at expiry", async () => {
    vi.useFakeTimers();
    const emitted: Emitted[] = [];
    const p = sampler(STANDARD, emitted);
    p.start();
    run(p, [appRecord('traced', 'info', 'step')]);
    const span = routerSpan('traced', routerRecord('traced', { status: 500 }));
    expect((p.process(RESOURCE, [], [], new Set(), [span]) as Processed).spans).toHaveLength(1);
    vi.advanceTimersByTime(11_000);
    expect(emitted.flatMap((e) => e.records.map((r) => r.attributes.SampleRate))).toEqual([1]);
    expect(p.counts.releasedOnExpiry).toBe(0);
    await p.shutdown();
  });

  it('num_traces bounds what is held: the oldest request is kept undecided (fail open) and counted', () => {
    const emitted: Emitted[] = [];
    const logs: string[] = [];
    const p = sampler({ ...STANDARD, num_traces: 2 }, emitted, logs);
    run(p, [appRecord('r1', 'info', 'first'), appRecord('r1', 'info', 'second')]);
    run(p, [appRecord('r2')]);
    run(p, [appRecord('r3')]);
    expect(emitted.flatMap((e) => e.records.map((r) => r.body))).toEqual(['first', 'second']);
    expect(p.counts.forced).toBe(2);
    expect(p.counts.holdingRequests).toBe(2);
    expect(logs.join('\n')).toMatch(/2 requests \(num_traces\) wait for their router line already; the oldest one's app lines are kept undecided/);
  });

  it('flush releases everything held as kept (shutdown loses nothing held)', async () => {
    const emitted: Emitted[] = [];
    const logs: string[] = [];
    const p = sampler(STANDARD, emitted, logs);
    run(p, [appRecord('s1'), appRecord('s2'), appRecord('s2')]);
    await p.flush();
    expect(emitted.reduce((n, e) => n + e.records.length, 0)).toBe(3);
    expect(emitted.every((e) => e.records.every((r) => r.attributes.SampleRate === 1))).toBe(true);
    expect(p.counts.flushed).toBe(3);
    expect(logs.join('\n')).toMatch(/tail_sampling: \d+ kept, \d+ dropped/);
  });

  it('a full pipeline refusing released lines: offered again at the next tick', () => {
    const emitted: Emitted[] = [];
    let open = false;
    const host: ProcessorHost = { log: () => {}, extension: () => undefined, emitLogs: (_id, resource, records, options) => (open ? (emitted.push({ resource, records, options }), true) : false) };
    const p = tailSamplingFactory.create('tail_sampling', tailSamplingConfigSchema.parse({ ...STANDARD, num_traces: 1 }), host) as TailSamplingProcessor;
    run(p, [appRecord('x1')]);
    run(p, [appRecord('x2')]);
    expect(emitted).toEqual([]);
    open = true;
    p.tick();
    expect(emitted.flatMap((e) => e.records)).toHaveLength(1);
  });
});
