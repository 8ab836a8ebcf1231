/**
 * service.workers and WEB_CONCURRENCY: what runs on several workers, what is refused (naming its
 * key), and when WEB_CONCURRENCY is left aside (said why); the primary's frame-id claims.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runValidate } from '../../src/cli/validate-command.ts';
import { loadConfig, validateConfig, type SidecarConfig } from '../../src/config/load.ts';
import { AlertTable, type AlertsMessage } from '../../src/service/workers/alert-windows.ts';
import { ClaimTable, WorkerClaims, type ClaimMessage } from '../../src/service/workers/claims.ts';
import { planWorkers } from '../../src/service/workers/plan.ts';
import { workerConfig } from '../../src/service/workers/worker-config.ts';

const BASE = `
receivers:
  logplex: { endpoint: 127.0.0.1:0 }
processors:
  batch: {}
  redact: {}
exporters:
  debug: {}
`;

function validate(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return validateConfig(parseYaml(yaml), env);
}

function valid(yaml: string): SidecarConfig {
  const r = validate(yaml);
  expect(r.problems).toEqual([]);
  return r.config!;
}

describe('service.workers', () => {
  it('takes a whole number or auto; anything else is a problem naming the key', () => {
    const pipelines = `  pipelines:\n    logs: { receivers: [logplex], processors: [redact, batch], exporters: [debug] }\n`;
    expect(valid(`${BASE}service:\n  workers: 3\n${pipelines}`).workers).toBe(3);
    expect(valid(`${BASE}service:\n  workers: auto\n${pipelines}`).workers).toBe('auto');
    expect(valid(`${BASE}service:\n${pipelines}`).workers).toBeUndefined();
    for (const bad of ['0', '1.5', 'many', '1000']) {
      expect(validate(`${BASE}service:\n  workers: ${bad}\n${pipelines}`).problems).toEqual(['service.workers: expected a whole number from 1 to 256, or auto']);
    }
  });

  it('above 1, refuses tail_sampling, the status page, a Prometheus scrape, health_check and the file exporter, each by its key', () => {
    const r = validate(`
receivers:
  logplex: { endpoint: 127.0.0.1:0 }
processors:
  alerts: {}
  tail_sampling: { policies: [ { name: all, type: always_sample } ] }
exporters:
  debug: {}
  file: { path: out.jsonl }
extensions:
  health_check: {}
service:
  workers: 2
  extensions: [health_check]
  telemetry:
    status: { enabled: true }
    metrics: { readers: [ { pull: { exporter: { prometheus: { host: localhost, port: 0 } } } } ] }
  pipelines:
    logs: { receivers: [logplex], processors: [alerts, tail_sampling], exporters: [debug, file] }
`);
    expect(r.config).toBeUndefined();
    const keys = r.problems.map((p) => p.slice(0, p.indexOf(':')));
    expect(keys).toEqual(['processors.tail_sampling', 'exporters.file', 'service.telemetry.status', 'service.telemetry.metrics.readers[0]', 'extensions.health_check']);
    expect(r.problems[0]).toBe("processors.tail_sampling: tail_sampling keeps a request's lines together, and they reach different workers; run one worker (service.workers is 2)");
  });

  it('alerts with a redis store run on several workers (windows added up, each alert sent by one)', () => {
    const config = valid(`
receivers:
  logplex: { endpoint: 127.0.0.1:0 }
processors:
  alerts: { storage: redis }
  redact: {}
exporters:
  debug: {}
extensions:
  redis: { url: "redis://127.0.0.1:6379" }
service:
  workers: 2
  extensions: [redis]
  pipelines:
    logs: { receivers: [logplex], processors: [redact, alerts], exporters: [debug] }
`);
    expect(planWorkers(config, {}, 4).count).toBe(2);
  });
});

describe('WEB_CONCURRENCY', () => {
  const pipelines = `service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [redact, batch], exporters: [debug] }\n`;

  it('gives the count when service.workers is unset, at most the cores; service.workers wins', () => {
    const config = valid(BASE + pipelines);
    expect(planWorkers(config, {}, 4)).toEqual({ count: 1, reason: 'one process' });
    expect(planWorkers(config, { WEB_CONCURRENCY: '3' }, 4).count).toBe(3);
    expect(planWorkers(config, { WEB_CONCURRENCY: '16' }, 4)).toEqual({ count: 4, reason: 'WEB_CONCURRENCY=16, at most the 4 cores' });
    expect(planWorkers({ ...config, workers: 1 }, { WEB_CONCURRENCY: '3' }, 4).count).toBe(1);
    expect(planWorkers({ ...config, workers: 'auto' }, {}, 6).count).toBe(6);
    expect(planWorkers(config, { WEB_CONCURRENCY: 'lots' }, 4)).toEqual({ count: 1, reason: 'one process', ignored: 'WEB_CONCURRENCY is not a positive whole number; running one process' });
  });

  it('is followed by the embedded default (its alerts add up through the primary)', async () => {
    const env = { PORT: '0', WEB_CONCURRENCY: '4', DRAIN_QUEUE_DIRECTORY: '/tmp/q' };
    const loaded = await loadConfig([{ kind: 'default' }], env);
    expect(loaded.problems).toEqual([]);
    expect(planWorkers(loaded.config!, env, 8)).toEqual({ count: 4, reason: 'WEB_CONCURRENCY=4' });
  });

  it('is left aside, saying why, for a config not correct across workers; validate says so before a deploy', async () => {
    const yaml = `${BASE.replace('  redact: {}\n', '  redact: {}\n  tail_sampling: { policies: [ { name: all, type: always_sample } ] }\n')}service:\n  pipelines:\n    logs: { receivers: [logplex], processors: [redact, tail_sampling, batch], exporters: [debug] }\n`;
    const env = { WEB_CONCURRENCY: '4' };
    const plan = planWorkers(valid(yaml), env, 8);
    expect(plan.count).toBe(1);
    expect(plan.ignored).toBe("WEB_CONCURRENCY=4 left aside, one process: this config is not correct across workers (processors.tail_sampling: tail_sampling keeps a request's lines together, and they reach different workers; run one worker)");
    const v = await runValidate([{ kind: 'config', uri: `yaml:${yaml}` }], env);
    expect(v.code).toBe(0);
    expect(v.stderr).toContain('warning: WEB_CONCURRENCY=4 left aside, one process');
  });
});

describe("a worker's config", () => {
  it('its own file_storage sub-directory and an Nth of the disk and memory budgets; logplex claims and alert windows through the primary', () => {
    const config = valid(`
receivers:
  logplex: { endpoint: 127.0.0.1:0 }
processors:
  memory_limiter: { check_interval: 1s, limit_mib: 400, spike_limit_mib: 100 }
  redact: {}
  alerts: {}
extensions:
  file_storage: { directory: /var/q, max_size_mib: 1000, recreate: true }
exporters:
  otlphttp: { endpoint: http://127.0.0.1:4318, sending_queue: { storage: file_storage } }
service:
  workers: 2
  extensions: [file_storage]
  pipelines:
    logs: { receivers: [logplex], processors: [memory_limiter, redact, alerts], exporters: [otlphttp] }
`);
    const w = workerConfig(config, 1, 2, false);
    expect(w.processors.get('alerts')!.config).toMatchObject({ storage: '(workers)' });
    expect(w.extensions.get('file_storage')!.config).toMatchObject({ directory: '/var/q/worker-1', create_directory: true, max_size_mib: 500, recreate: true });
    expect(w.processors.get('memory_limiter')!.config).toMatchObject({ limit_mib: 200, spike_limit_mib: 50 });
    expect(w.receivers.get('logplex')!.config).toMatchObject({ storage: '(workers)' });
    // A replacement keeps what its predecessor queued, recreate or not.
    expect(workerConfig(config, 1, 2, true).extensions.get('file_storage')!.config).toMatchObject({ recreate: false });
    // The config itself is left as it was.
    expect(config.extensions.get('file_storage')!.config).toMatchObject({ directory: '/var/q' });
  });
});

describe('the primary’s frame-id claims', () => {
  it('as RedisStore’s: the first claims, the others see pending then done; a release or expiry frees it', () => {
    const t = new ClaimTable();
    expect(t.claim('a', 30_000, 0, 1000)).toBe('claimed');
    expect(t.claim('a', 30_000, 1, 1001)).toBe('pending');
    t.done('a', 600_000, 1002);
    expect(t.claim('a', 30_000, 1, 1003)).toBe('done');
    expect(t.claim('a', 30_000, 1, 1002 + 600_000)).toBe('claimed');
    t.release('a');
    expect(t.claim('a', 30_000, 1, 1004)).toBe('claimed');
    expect(t.claim('a', 30_000, 0, 1004 + 30_000)).toBe('claimed');
  });

  it("a dead worker's pending claims are given back; what it finished stays done", () => {
    const t = new ClaimTable();
    t.claim('mine', 30_000, 1, 0);
    t.claim('taken', 30_000, 1, 0);
    t.done('taken', 600_000, 1);
    t.claim('other', 30_000, 0, 0);
    expect(t.releaseOwner(1)).toBe(1);
    expect(t.claim('mine', 30_000, 0, 2)).toBe('claimed');
    expect(t.claim('taken', 30_000, 0, 2)).toBe('done');
    expect(t.claim('other', 30_000, 1, 2)).toBe('pending');
  });

  it('stays bounded, the oldest forgotten first', () => {
    const t = new ClaimTable(3);
    for (const k of ['a', 'b', 'c', 'd']) t.done(k, 600_000, 0);
    expect(t.size).toBe(3);
    expect(t.claim('a', 30_000, 0, 1)).toBe('claimed');
    expect(t.claim('d', 30_000, 0, 1)).toBe('done');
  });

  it('claims of one moment go out in one message, a done rides with the next claims; the answers come back together', async () => {
    const t = new ClaimTable();
    let deliver: (m: unknown) => void = () => {};
    const sent: Array<ClaimMessage | AlertsMessage> = [];
    // The primary's side of the channel, in this process: what it does with a message (primary.ts).
    const claims = new WorkerClaims({
      send: (m) => {
        sent.push(m);
        if (m.hod === 'claims') setImmediate(() => deliver({ hod: 'claimed', answers: t.apply(m.ops, 0, Date.now()) }));
      },
      onMessage: (listener) => (deliver = listener),
    });
    expect(await Promise.all([claims.claim('a', 30_000), claims.claim('b', 30_000)])).toEqual(['claimed', 'claimed']);
    await claims.done('a', 600_000);
    expect(await Promise.all([claims.claim('a', 30_000), claims.claim('b', 30_000)])).toEqual(['done', 'pending']);
    expect(sent.map((m) => (m.hod === 'claims' ? m.ops.map((o) => o.op) : []))).toEqual([
      ['claim', 'claim'],
      ['done', 'claim', 'claim'],
    ]);
  });

  it('a worker that hears nothing back decides alone (undefined), as with Redis away', async () => {
    const sent: Array<ClaimMessage | AlertsMessage> = [];
    const claims = new WorkerClaims({ send: (m) => sent.push(m), onMessage: () => {} });
    expect(await claims.claim('frame:x', 30_000)).toBeUndefined();
    expect(sent).toEqual([{ hod: 'claims', ops: [{ op: 'claim', id: 0, key: 'frame:x', pendingMs: 30_000 }] }]);
    expect(claims.counters.unavailable).toBe(1);
  });
});

describe("the primary's alert windows", () => {
  const sync = (t: AlertTable, instance: string, own: Array<{ start: number; count: number }>, now: number) =>
    t.sync({ hod: 'alerts-sync', id: 0, processor: 'alerts', instance, rules: [{ name: 'R', windowMs: 60_000 }], own: own.map((b) => ({ ...b, hits: 0, sum: 0, max: -Infinity, rule: 'R', groupKey: 'g', labels: { app: 'shop' } })), now });

  it("adds up every worker's totals per bucket; a worker's values written again count once", () => {
    const t = new AlertTable();
    sync(t, 'w0', [{ start: 0, count: 6 }], 1000);
    sync(t, 'w1', [{ start: 0, count: 4 }, { start: 10_000, count: 1 }], 1000);
    // w0 again, its own total grown to 7: absolute, not added.
    const sums = sync(t, 'w0', [{ start: 0, count: 7 }], 1000);
    expect(sums).toEqual([{ rule: 'R', group: 'g', labels: { app: 'shop' }, buckets: [ { start: 0, count: 11, hits: 0, sum: 0, max: -Infinity }, { start: 10_000, count: 1, hits: 0, sum: 0, max: -Infinity } ] }]);
    // Past the window and a minute, a bucket is dropped; a group quiet for two windows is forgotten.
    expect(sync(t, 'w0', [], 125_000)).toEqual([]);
  });

  it('moves an alert only from the right state, as the redis store: one worker sends each transition', () => {
    const t = new AlertTable();
    const move = (state: 'firing' | 'resolved', now: number) => t.transition({ hod: 'alerts-transition', id: 0, key: 'alerts:R:f', state, now, repeatMs: 60_000, ttlMs: 600_000 });
    expect(move('resolved', 0)).toBe(false);
    expect(move('firing', 0)).toBe(true);
    expect(move('firing', 1)).toBe(false);
    expect(move('firing', 60_000)).toBe(true);
    expect(move('resolved', 60_001)).toBe(true);
    expect(move('resolved', 60_002)).toBe(false);
    expect(move('firing', 60_003)).toBe(true);
  });
});
