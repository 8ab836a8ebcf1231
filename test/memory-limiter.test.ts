/**
 * The memory_limiter processor, with the Collector's keys: limits from MiB or from the memory
 * available (the cgroup's limit, as on a Heroku dyno, or the machine's), refusal above the soft
 * limit with a 503 from the real receiver, and taking data again once memory is back under.
 */
import { totalmem } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../src/config/load.ts';
import { memoryLimiterConfigSchema } from '../src/processors/memory_limiter/config.ts';
import { availableMemoryBytes, memoryLimits, MemoryLimiter } from '../src/processors/memory_limiter/limiter.ts';
import { Service } from '../src/service/service.ts';

const MIB = 1024 * 1024;

describe('memory_limiter config', () => {
  const problems = (c: unknown) => {
    const r = memoryLimiterConfigSchema.safeParse(c);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes exactly one of limit_mib and limit_percentage, with a spike below it', () => {
    expect(problems({ limit_mib: 400 })).toEqual([]);
    expect(problems({ limit_percentage: 80, spike_limit_percentage: 20 })).toEqual([]);
    expect(problems({})).toEqual([': set exactly one of limit_mib and limit_percentage']);
    expect(problems({ limit_mib: 400, limit_percentage: 80 })).toEqual([': set exactly one of limit_mib and limit_percentage']);
    expect(problems({ limit_mib: 400, spike_limit_mib: 400 })).toEqual(['spike_limit_mib: must be less than limit_mib']);
    expect(problems({ limit_mib: 400, check_interval: 0 })).toEqual(['check_interval: must be more than 0']);
    expect(problems({ limit_mib: 400, spike_limit_percentage: 10 })).toEqual(['spike_limit_percentage: goes with limit_percentage; with limit_mib, use spike_limit_mib']);
  });

  it('puts the soft limit a spike (20 % of the limit by default) below the hard one', () => {
    expect(memoryLimits(memoryLimiterConfigSchema.parse({ limit_mib: 500 }))).toEqual({ hardBytes: 500 * MIB, softBytes: 400 * MIB });
    expect(memoryLimits(memoryLimiterConfigSchema.parse({ limit_mib: 500, spike_limit_mib: 50 }))).toEqual({ hardBytes: 500 * MIB, softBytes: 450 * MIB });
    expect(memoryLimits(memoryLimiterConfigSchema.parse({ limit_percentage: 85, spike_limit_percentage: 15 }), () => 512 * MIB)).toEqual({
      hardBytes: 0.85 * 512 * MIB,
      softBytes: 0.7 * 512 * MIB,
    });
  });

  it("reads the container's memory from its cgroup (v2, then v1, as on a Heroku dyno), else the machine's", () => {
    const files = (entries: Record<string, string>) => (path: string) => {
      if (!(path in entries)) throw new Error('ENOENT');
      return entries[path]!;
    };
    expect(availableMemoryBytes(files({ '/sys/fs/cgroup/memory.max': '536870912\n' }))).toBe(512 * MIB);
    expect(availableMemoryBytes(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBe(totalmem());
    expect(availableMemoryBytes(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '1073741824\n' }))).toBe(1024 * MIB);
    expect(availableMemoryBytes(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' }))).toBe(totalmem());
    expect(availableMemoryBytes(files({}))).toBe(totalmem());
  });
});

describe('memory_limiter', () => {
  it('refuses above the soft limit and takes data again below it, saying so once each way', () => {
    let rss = 100 * MIB;
    const logged: Array<[string, string]> = [];
    const m = new MemoryLimiter('memory_limiter', memoryLimiterConfigSchema.parse({ limit_mib: 500 }), (level, message) => logged.push([level, message]), () => rss);
    m.check();
    expect(m.accepting).toBe(true);
    rss = 420 * MIB;
    m.check();
    m.check();
    expect(m.accepting).toBe(false);
    rss = 390 * MIB;
    m.check();
    expect(m.accepting).toBe(true);
    expect(logged.map(([level]) => level)).toEqual(['warn', 'info']);
    expect(logged[0]![1]).toContain('refusing data');
  });
});

describe('memory_limiter in a pipeline', () => {
  let service: Service | undefined;
  afterEach(async () => {
    await service?.shutdown(2000);
    service = undefined;
  });

  it('has the receiver answer 503 while memory is above the limit, 200 when the limit is far', async () => {
    const line = '<190>1 2024-05-01T12:00:00+00:00 host app web.1 - hello';
    const body = `${Buffer.byteLength(line) + 1} ${line}\n`;
    for (const [limit, status] of [
      [1, 503],
      [1_000_000, 200],
    ] as const) {
      const { config, problems } = validateConfig(
        parseYaml(`
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  memory_limiter: { check_interval: 100ms, limit_mib: ${limit} }
  redact: {}
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [logplex], processors: [memory_limiter, redact], exporters: [debug] }
`),
        {},
      );
      expect(problems).toEqual([]);
      const logged: string[] = [];
      service = new Service(config!, (_level, message) => logged.push(message), { selfTelemetryIntervalMs: 0 });
      await service.start();
      const res = await fetch(`http://127.0.0.1:${service.receivers[0]!.receiver.address.port}/logs`, { method: 'POST', body });
      expect(res.status).toBe(status);
      if (status === 503) {
        expect(res.headers.get('retry-after')).toBe('1');
        expect(logged.some((m) => m.includes('memory above the soft limit'))).toBe(true);
      }
      await service.shutdown(2000);
      service = undefined;
    }
  });
});
