/**
 * `processors-attributes`, `processors-filter-transform`: the Collector processors of issue 16
 * over the mix's records, on copies made each pass (they change records in place), records per
 * second, next to `processors-copy-only` (the copying alone) to read their own cost from.
 * Configs as a user writes them: attributes upsert + hash + extract; filter dropping successful
 * health checks, transform setting an attribute where a condition holds and masking a pattern;
 * tail_sampling with the policies of bench/sampling.ts.
 */
import { attributesConfigSchema } from '../src/processors/attributes/config.ts';
import { attributesFactory } from '../src/processors/attributes/factory.ts';
import { filterConfigSchema } from '../src/processors/filter/config.ts';
import { filterFactory } from '../src/processors/filter/factory.ts';
import { transformConfigSchema } from '../src/processors/transform/config.ts';
import { transformFactory } from '../src/processors/transform/factory.ts';
import { tailSamplingConfigSchema } from '../src/processors/tail_sampling/config.ts';
import { tailSamplingFactory } from '../src/processors/tail_sampling/factory.ts';
import type { Processed, Processor } from '../src/service/component.ts';
import type { LogRecordData } from '../src/translate/telemetry.ts';
import type { Scenario } from './harness.ts';

const host = { log: () => {}, extension: () => undefined, emitLogs: () => true };
const RESOURCE = { 'service.name': 'shop-web' };

function scenario(name: string, what: string, batches: readonly LogRecordData[][], chain: Processor[]): Scenario {
  const records = batches.reduce((n, b) => n + b.length, 0);
  return {
    name,
    what,
    items: records,
    pass: () => {
      let out = 0;
      for (const b of batches) {
        let copies: LogRecordData[] = b.map((r) => ({ ...r, attributes: { ...r.attributes } }));
        for (const p of chain) {
          const r = p.process!(RESOURCE, copies, [], new Set()) as Processed | undefined;
          if (r?.logs !== undefined) copies = r.logs;
        }
        out += copies.length;
      }
      return out;
    },
  };
}

export function collectorProcessorScenarios(batches: readonly LogRecordData[][]): Scenario[] {
  const attributes = attributesFactory.create(
    'attributes',
    attributesConfigSchema.parse({
      actions: [
        { key: 'deployment.environment.name', value: 'production', action: 'upsert' },
        { key: 'client.address', action: 'hash' },
        { key: 'url.path', pattern: '^/users/(?P<user_id>\\d+)', action: 'extract' },
      ],
    }),
    host,
  );
  const filter = filterFactory.create('filter', filterConfigSchema.parse({ error_mode: 'ignore', logs: { log_record: ['attributes["url.path"] == "/health" and attributes["http.response.status_code"] < 400'] } }), host);
  const transform = transformFactory.create(
    'transform',
    transformConfigSchema.parse({
      error_mode: 'ignore',
      log_statements: ['set(attributes["team"], "shop") where resource.attributes["service.name"] == "shop-web"', 'replace_pattern(body, "token=[^ ]+", "token=***")'],
    }),
    host,
  );
  // Held app lines would pile up pass after pass: decision_wait 0 decides each at once.
  const tailSampling = tailSamplingFactory.create(
    'tail_sampling',
    tailSamplingConfigSchema.parse({
      decision_wait: 0,
      policies: [
        { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
        { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      ],
    }),
    host,
  );
  return [
    scenario('processors-copy-only', 'copy each record (what the scenarios below also do)', batches, []),
    scenario('processors-attributes', 'attributes: upsert, hash client.address (SHA-256), extract from url.path', batches, [attributes]),
    scenario('processors-filter-transform', 'filter (OTTL condition) then transform (set where, replace_pattern on body)', batches, [filter, transform]),
    scenario('processors-tail-sampling', 'tail_sampling: errors, over 1 s, 10 % (request ids hashed to trace ids, FNV-1a per decision)', batches, [tailSampling]),
  ];
}
