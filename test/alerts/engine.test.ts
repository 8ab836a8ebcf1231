/**
 * The alert engine on a fake clock: window, for, resolve, repeat and group_by semantics, then each
 * built-in rule on a realistic scenario of Heroku lines (through the real parsing and mapping),
 * and quiet on normal traffic.
 */
import { describe, expect, it } from 'vitest';
import { interpretLine } from '../../src/heroku/classify.ts';
import { readCapture } from '../../src/heroku/input.ts';
import { BUILTIN_RULES } from '../../src/processors/alerts/builtin.ts';
import { AlertEngine, fillTemplate, type AlertEvent } from '../../src/processors/alerts/engine.ts';
import { ruleSchema, type RuleConfig } from '../../src/processors/alerts/rules.ts';
import { drainResource } from '../../src/translate/resource.ts';
import { newTelemetryBatch, type TelemetryBatch } from '../../src/translate/telemetry.ts';
import { translateEvent } from '../../src/translate/translate.ts';

const SHOP = drainResource({ 'service.name': 'shop-web' });
const MIN = 60_000;

function telemetry(lines: readonly string[]): TelemetryBatch {
  const batch = newTelemetryBatch();
  readCapture(Buffer.from(lines.join('\n') + '\n'), (line, status) => translateEvent(line, interpretLine(line), 1, batch, status));
  return batch;
}

const TS = '2024-05-01T12:00:00.000000+00:00';
const router = (fields: string) => `${TS} heroku[router]: ${fields}`;
const ok = (i: number, service = 50, status = 200) =>
  router(`at=info method=GET path="/p/${i}" host=shop.example.com request_id=r${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=${service}ms status=${status} bytes=100 protocol=https`);
const hcode = (code: string, desc: string, i = 0) =>
  router(`at=error code=${code} desc="${desc}" method=GET path="/x/${i}" host=shop.example.com request_id=e${i} fwd="203.0.113.9" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`);
const sample = (rssMb: number, quotaMb = 512) =>
  `${TS} heroku[web.1]: source=web.1 dyno=heroku.1.2 sample#memory_total=${rssMb}MB sample#memory_rss=${rssMb}MB sample#memory_cache=0.00MB sample#memory_swap=0.00MB sample#memory_pgpgin=1pages sample#memory_pgpgout=1pages sample#memory_quota=${quotaMb}.00MB`;

/** A fake clock and an engine fed from Heroku lines. */
function harness(rules: readonly RuleConfig[]) {
  const engine = new AlertEngine(rules.map((r) => ruleSchema.parse(r)));
  let now = 1_700_000_000_000;
  const events: AlertEvent[] = [];
  return {
    engine,
    events,
    feed(lines: readonly string[], resource = SHOP) {
      const t = telemetry(lines);
      engine.observeRecords(resource, t.logs, now);
      engine.observePoints(resource, t.metrics, now);
    },
    tick(ms: number) {
      now += ms;
      events.push(...engine.evaluate(now));
      return now;
    },
    fired: () => [...new Set(events.filter((e) => e.state === 'firing').map((e) => e.rule))].sort(),
  };
}

describe('alert engine semantics', () => {
  const storm: RuleConfig = { name: 'Storm', match: { kind: 'router', attributes: { 'error.type': { equals: 'H12' } } }, count: {}, window: '5m', above: 2, group_by: ['service.name'], for: '1m', repeat_interval: '10m', severity: 'critical', annotations: { summary: '{{ value }} H12 on {{ service.name }} ({{ rule }})' } };

  it('fires after `for`, repeats while firing, resolves once the window empties', () => {
    const h = harness([storm]);
    h.feed([hcode('H12', 'Request timeout', 1), hcode('H12', 'Request timeout', 2), hcode('H12', 'Request timeout', 3)]);
    h.tick(1000);
    expect(h.events).toEqual([]); // pending: must hold for a minute
    h.tick(MIN);
    expect(h.events).toHaveLength(1);
    const firing = h.events[0]!;
    expect(firing).toMatchObject({ rule: 'Storm', state: 'firing', severity: 'critical', value: 3, endsAtMs: undefined });
    expect(firing.labels).toEqual({ alertname: 'Storm', severity: 'critical', service_name: 'shop-web' });
    expect(firing.annotations.summary).toBe('3 H12 on shop-web (Storm)');
    expect(firing.samples).toHaveLength(3);
    expect(firing.samples[2]).toContain('code=H12');
    // Still holding two minutes later: no repeat before repeat_interval (10m)...
    h.tick(2 * MIN);
    expect(h.events).toHaveLength(1);
    // ...the lines leave the 5-minute window: resolved, with the time it started.
    h.tick(3 * MIN);
    expect(h.events).toHaveLength(2);
    expect(h.events[1]).toMatchObject({ rule: 'Storm', state: 'resolved', startsAtMs: firing.startsAtMs });
    expect(h.events[1]!.endsAtMs).toBeGreaterThan(firing.startsAtMs);
    h.tick(MIN);
    expect(h.events).toHaveLength(2);
  });

  it('repeats a firing alert every repeat_interval', () => {
    const h = harness([{ ...storm, for: 0, window: '1h', repeat_interval: '10m' }]);
    h.feed(Array.from({ length: 3 }, (_, i) => hcode('H12', 'Request timeout', i)));
    h.tick(1000);
    h.tick(9 * MIN);
    h.tick(2 * MIN);
    expect(h.events.map((e) => e.state)).toEqual(['firing', 'firing']);
  });

  it('does not fire when the condition stops holding before `for`', () => {
    const h2 = harness([{ ...storm, for: '10m' }]);
    h2.feed(Array.from({ length: 3 }, (_, i) => hcode('H12', 'Request timeout', i)));
    for (let t = 0; t < 8; t++) h2.tick(MIN);
    expect(h2.events).toEqual([]);
  });

  it('keeps one alert per group', () => {
    const h = harness([{ ...storm, for: 0 }]);
    h.feed(Array.from({ length: 3 }, (_, i) => hcode('H12', 'Request timeout', i)));
    h.feed(Array.from({ length: 3 }, (_, i) => hcode('H12', 'Request timeout', i)), drainResource({ 'service.name': 'shop-api' }));
    h.feed([hcode('H12', 'Request timeout', 9)], drainResource({ 'service.name': 'quiet' }));
    h.tick(1000);
    expect(h.events.map((e) => e.labels.service_name).sort()).toEqual(['shop-api', 'shop-web']);
  });

  it("groups by the drain's resource before a line's own fields", () => {
    const h = harness([{ name: 'Errors', match: { kind: 'app' }, count: {}, window: '5m', above: 0, group_by: ['service.name'] }]);
    h.feed([`${TS} app[web.1]: {"level":"error","service.name":"evil","msg":"x"}`]);
    h.tick(1000);
    expect(h.events.map((e) => e.labels.service_name)).toEqual(['shop-web']);
  });

  it('resolves and forgets a group silent for two windows, even when its silence is the condition', () => {
    const h = harness([{ name: 'Quiet', match: { kind: 'router' }, count: {}, window: '1m', below: 1, group_by: ['heroku.dyno.name'] }]);
    h.feed([ok(1)]);
    h.tick(90_000);
    expect(h.events.map((e) => e.state)).toEqual(['firing']);
    h.tick(MIN);
    expect(h.events.map((e) => e.state)).toEqual(['firing', 'resolved']);
    h.tick(MIN);
    expect(h.events).toHaveLength(2);
  });

  it('starts a forgotten group anew when its lines come back, with the latest lines as samples', () => {
    const h = harness([{ ...storm, for: 0, window: '1m' }]);
    h.feed([1, 2, 3].map((i) => hcode('H12', 'Request timeout', i)));
    h.tick(1000);
    // Silent for two windows: resolved and forgotten.
    h.tick(3 * MIN);
    expect(h.events.map((e) => e.state)).toEqual(['firing', 'resolved']);
    // The same group's lines again, in two batches: one new alert, holding the last three.
    h.feed([4, 5].map((i) => hcode('H12', 'Request timeout', i)));
    h.feed([6, 7].map((i) => hcode('H12', 'Request timeout', i)));
    h.tick(1000);
    expect(h.events.map((e) => e.state)).toEqual(['firing', 'resolved', 'firing']);
    expect(h.events[2]!.value).toBe(4);
    expect(h.events[2]!.samples.map((line) => /path="\/x\/(\d)"/.exec(line)?.[1])).toEqual(['5', '6', '7']);
  });

  it('weighs each window bucket by what it saw, not by the sample it kept', () => {
    const h = harness([{ name: 'P95', match: { kind: 'router' }, quantile: { attribute: 'heroku.router.service.duration', q: 0.95 }, window: '10m', above: 3 }]);
    // 1000 fast requests in one bucket, 30 slow ones (under 3 %) in the next.
    h.feed(Array.from({ length: 1000 }, (_, i) => ok(i, 20)));
    h.tick(20_000);
    h.feed(Array.from({ length: 30 }, (_, i) => ok(i, 5000)));
    h.tick(1000);
    expect(h.events).toEqual([]);
    // And one slow line alone judges nothing (min_count 20).
    const one = harness([{ name: 'P95', match: { kind: 'router' }, quantile: { attribute: 'heroku.router.service.duration', q: 0.95 }, window: '10m', above: 3 }]);
    one.feed([ok(1, 30000)]);
    one.tick(1000);
    expect(one.events).toEqual([]);
  });

  it('refuses labels Alertmanager would not take, or that overwrite ours', () => {
    const messages = (r: unknown) => ruleSchema.safeParse(r).error?.issues.map((i) => i.message) ?? [];
    expect(messages({ name: 'x', count: {}, above: 1, labels: { 'bad-name': 'v' } })).toEqual(['a label name is letters, digits and _, not starting with a digit']);
    expect(messages({ name: 'x', count: {}, above: 1, labels: { alertname: 'y' } })).toEqual(['alertname is set by the rule (its name, its severity)']);
    expect(messages({ name: 'x', count: {}, above: 1, group_by: ['a.b', 'a_b'] })).toEqual(['a.b and a_b would both be the label a_b']);
  });

  it('fills templates from the group, the labels and the value', () => {
    expect(fillTemplate('{{ value }} on {{ service.name }} / {{service_name}} {{ missing }}!', { value: '3', 'service.name': 'a', service_name: 'a' })).toBe('3 on a / a !');
  });

  it('refuses a bad rule with a message naming the problem', () => {
    const problems = (r: unknown) => ruleSchema.safeParse(r).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({ name: 'x', count: {}, rate: {}, above: 1 })).toEqual([': a rule computes exactly one of count, rate, ratio, avg, max, quantile, gauge, gauge_ratio (found count, rate)']);
    expect(problems({ name: 'x', count: {} })).toEqual(['above: a rule needs a threshold: above or below']);
    expect(problems({ name: 'x', count: {}, above: 1, match: { body: '(' } })![0]).toMatch(/^match\.body: not a regular expression/);
    expect(problems({ name: 'bad name', count: {}, above: 1 })![0]).toMatch(/^name: a rule name is letters/);
  });
});

describe('built-in rules', () => {
  const normal = [
    ...Array.from({ length: 200 }, (_, i) => ok(i)),
    sample(256),
    `${TS} app[web.1]: Processing OrdersController#index as HTML`,
    `${TS} app[web.1]: Completed 200 OK in 12ms`,
  ];

  it('stay quiet on normal traffic', () => {
    const h = harness(BUILTIN_RULES);
    for (let m = 0; m < 12; m++) {
      h.feed(normal);
      h.tick(MIN);
    }
    expect(h.fired()).toEqual([]);
  });

  const scenarios: Array<[string, string[], number?]> = [
    ['AppAuthenticationFailure', [`${TS} app[web.1]: Login failed for user bob@example.com from 203.0.113.9`]],
    ['RouterAuthFailureBurst', Array.from({ length: 51 }, (_, i) => ok(i, 20, 401))],
    ['RouterH10AppCrashed', [hcode('H10', 'App crashed')]],
    ['RouterH12Storm', Array.from({ length: 11 }, (_, i) => hcode('H12', 'Request timeout', i))],
    ['RouterH13ConnectionClosed', [hcode('H13', 'Connection closed without response')]],
    ['RouterH14NoWebDynos', [hcode('H14', 'No web processes running')]],
    ['RouterH20BootTimeout', [hcode('H20', 'App boot timeout')]],
    ['RouterErrorCodes', Array.from({ length: 6 }, (_, i) => hcode('H18', 'Server Request Interrupted', i))],
    ['DynoMemoryQuotaExceeded', [`${TS} heroku[web.1]: Error R14 (Memory quota exceeded)`]],
    ['DynoMemoryQuotaVastlyExceeded', [`${TS} heroku[worker.1]: Error R15 (Memory quota vastly exceeded)`]],
    ['DynoCrashLoop', Array.from({ length: 3 }, () => `${TS} heroku[web.1]: State changed from up to crashed`)],
    // Beside the 200 normal requests: 30 more answered 500 (10 %), or 30 more taking 4.5 s.
    ['Http5xxRatio', Array.from({ length: 30 }, (_, i) => ok(i, 40, 500))],
    ['SlowServiceTimeP95', Array.from({ length: 30 }, (_, i) => ok(i, 4500))],
    ['LogplexDroppingLogs', ['<172>1 2024-05-01T12:00:00+00:00 host heroku logplex - Error L10 (output buffer overflow): 491 messages dropped since 2024-05-01T11:59:00+00:00.']],
    ['Release', [`${TS} heroku[api]: Release v42 created by jane@example.com`]],
    ['HighSeverityEvents', [`${TS} app[web.1]: {"level":"error","msg":"payment provider unreachable"}`]],
  ];

  it.each(scenarios)('%s fires on its scenario', (rule, lines) => {
    const h = harness(BUILTIN_RULES);
    h.feed(normal);
    h.feed(lines);
    h.tick(1000);
    expect(h.fired()).toContain(rule);
  });

  it('DynoMemoryNearQuota fires after 5 minutes over 90 % of the quota, not before, and resolves', () => {
    const h = harness(BUILTIN_RULES);
    for (let m = 0; m < 4; m++) {
      h.feed([sample(480)]);
      h.tick(MIN);
    }
    expect(h.fired()).not.toContain('DynoMemoryNearQuota');
    for (let m = 0; m < 3; m++) {
      h.feed([sample(480)]);
      h.tick(MIN);
    }
    const alert = h.events.find((e) => e.rule === 'DynoMemoryNearQuota')!;
    expect(alert.labels).toMatchObject({ service_name: 'shop-web', heroku_dyno_name: 'web.1' });
    expect(alert.value).toBeCloseTo(480 / 512, 3);
    h.feed([sample(200)]);
    h.tick(MIN);
    expect(h.events.filter((e) => e.rule === 'DynoMemoryNearQuota').map((e) => e.state)).toEqual(['firing', 'resolved']);
  });

  it('Http5xxRatio needs at least 20 requests', () => {
    const h = harness(BUILTIN_RULES);
    h.feed([...Array.from({ length: 15 }, (_, i) => ok(i)), ...Array.from({ length: 4 }, (_, i) => ok(i, 40, 502))]);
    h.tick(1000);
    expect(h.fired()).not.toContain('Http5xxRatio');
  });

  it('every built-in rule is valid, named once, and documented in the README', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const names = BUILTIN_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of BUILTIN_RULES) {
      expect(ruleSchema.safeParse(r).success).toBe(true);
      expect(readme).toContain(`\`${r.name}\``);
    }
  });
});
