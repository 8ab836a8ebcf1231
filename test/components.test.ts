/**
 * The component model: every factory in the registry, by kind, with a lifecycle test for each
 * (create, start, shut down twice, start again on port 0), as the Collector generates for its
 * components. A component added to the registry without a row here fails the first test.
 */
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FACTORIES, factoryOf } from '../src/components.ts';
import { COMPONENT_SCHEMAS } from '../src/config/components.ts';
import type { Host, ProcessorHost } from '../src/service/component.ts';

/** A minimal config for each type, as a user would write it (defaults fill the rest). */
const MINIMAL: Record<string, unknown> = {
  logplex: { endpoint: '127.0.0.1:0' },
  syslog: { tcp: { endpoint: '127.0.0.1:0' }, udp: { endpoint: '127.0.0.1:0' } },
  batch: {},
  memory_limiter: { limit_mib: 400 },
  alerts: {},
  geoip: {},
  redact: {},
  redaction: { allow_all_keys: true },
  resource: { attributes: [{ key: 'deployment.environment.name', value: 'production', action: 'upsert' }] },
  attributes: { actions: [{ key: 'team', value: 'shop', action: 'insert' }] },
  filter: { logs: { log_record: ['attributes["url.path"] == "/health"'] } },
  transform: { log_statements: ['set(attributes["team"], "shop")'] },
  tail_sampling: { policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }] },
  interval: {},
  cumulativetodelta: {},
  otlphttp: { endpoint: 'http://127.0.0.1:4318' },
  otlp_http: { endpoint: 'http://127.0.0.1:4318' },
  debug: {},
  file: { path: '/dev/null' },
  redis: { url: 'redis://127.0.0.1:6379' },
  file_storage: { directory: `${tmpdir()}/heroku-otel-drain-lifecycle-${process.pid}`, create_directory: true },
  basicauth: { client_auth: { username: 'shop', password: 'lifecycle-password' } },
  bearertokenauth: { token: 'lifecycle-token' },
  health_check: { endpoint: '127.0.0.1:0' },
  headers_setter: { headers: [{ key: 'X-Scope-OrgID', from_context: 'service.name', default_value: 'anonymous' }] },
};

const host: Host = { log: () => {}, extension: () => undefined };
const processorHost: ProcessorHost = { ...host, emitLogs: () => true };

describe('the component registry', () => {
  it('has one factory per kind and type, each with a minimal config its schema accepts', () => {
    const keys = FACTORIES.map((f) => `${f.kind}/${f.type}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const f of FACTORIES) {
      expect(MINIMAL, `a lifecycle row for ${f.type}`).toHaveProperty(f.type);
      const parsed = f.configSchema.safeParse(MINIMAL[f.type]);
      expect(parsed.success, `${f.kind}.${f.type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(COMPONENT_SCHEMAS[f.kind][f.type]).toBe(f.configSchema);
    }
  });

  it('finds a factory by kind and type, and nothing for a type of another kind', () => {
    expect(factoryOf('receivers', 'logplex')?.type).toBe('logplex');
    expect(factoryOf('exporters', 'logplex')).toBeUndefined();
  });

  // redis needs a server: test/extensions/redis.test.ts runs one.
  for (const f of FACTORIES.filter((x) => x.kind === 'extensions' && x.type !== 'redis')) {
    it(`${f.type} extension: created, started, shut down twice, started again`, async () => {
      const factory = factoryOf('extensions', f.type)!;
      const extension = factory.create(f.type, factory.configSchema.parse(MINIMAL[f.type]), host);
      await extension.start();
      await extension.shutdown();
      await extension.shutdown();
      await extension.start();
      await extension.shutdown();
    });
  }

  for (const f of FACTORIES.filter((x) => x.kind === 'receivers')) {
    it(`${f.type} receiver: created, started, shut down twice, started again on port 0`, async () => {
      const factory = factoryOf('receivers', f.type)!;
      const config = factory.configSchema.parse(MINIMAL[f.type]);
      const receiver = factory.create(f.type, config, { consume: () => true, room: () => true }, host);
      await receiver.start();
      expect(receiver.listening().length).toBeGreaterThan(0);
      expect(receiver.listening().every((l) => l.port > 0)).toBe(true);
      await receiver.shutdown();
      await receiver.shutdown();
      await receiver.start();
      expect(receiver.listening().every((l) => l.port > 0)).toBe(true);
      await receiver.shutdown();
    });
  }

  for (const f of FACTORIES.filter((x) => x.kind === 'processors')) {
    it(`${f.type} processor: created, started, run on an empty batch, shut down twice`, async () => {
      const factory = factoryOf('processors', f.type)!;
      const processor = factory.create(f.type, factory.configSchema.parse(MINIMAL[f.type]), processorHost);
      expect(typeof processor.mutates).toBe('boolean');
      processor.start?.();
      processor.process?.({}, [], [], new Set());
      expect(processor.transformMetrics?.({}, []) ?? []).toEqual([]);
      await processor.flush?.();
      await processor.shutdown?.();
      await processor.shutdown?.();
    });
  }

  for (const f of FACTORIES.filter((x) => x.kind === 'exporters')) {
    it(`${f.type} exporter: created and shut down twice`, async () => {
      const factory = factoryOf('exporters', f.type)!;
      const built = factory.create(f.type, factory.configSchema.parse(MINIMAL[f.type]), host);
      expect(built.exporter.id).toBe(f.type);
      await built.exporter.shutdown();
      await built.exporter.shutdown();
    });
  }
});
