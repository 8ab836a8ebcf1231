/**
 * The `transform` processor's factory: OTTL statements on records and points in place, and on
 * the resource as a changed copy per drain resource object (never the drain's own object).
 */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import type { Target } from '../ottl/ottl.ts';
import { transformConfigSchema, TRANSFORM_TYPE, type StatementGroup, type TransformConfig } from './config.ts';

export const transformFactory: ProcessorFactory = {
  kind: 'processors',
  type: TRANSFORM_TYPE,
  configSchema: transformConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(id, config, host): Processor {
    const c = config as TransformConfig;
    const limited = new RateLimitedLog(host.log);
    const runGroups = (groups: readonly StatementGroup[], t: Target): void => {
      for (const g of groups) {
        try {
          if (g.conditions.length > 0 && !g.conditions.some((cond) => cond.test(t))) continue;
        } catch (error) {
          report(g.errorMode ?? c.error_mode, error, g.conditions.map((x) => x.source).join(' or '));
          continue;
        }
        for (const s of g.statements) {
          try {
            s.run(t);
          } catch (error) {
            report(g.errorMode ?? c.error_mode, error, s.source);
          }
        }
      }
    };
    const report = (mode: TransformConfig['error_mode'], error: unknown, source: string) => {
      if (mode !== 'silent') limited.report(mode === 'propagate' ? 'error' : 'warn', `eval:${source}`, `${id}: a statement failed; the item goes on as it was: ${(error as Error).message}`, { processor: id, statement: source });
    };
    const split = (groups: readonly StatementGroup[]) => ({ resource: groups.filter((g) => g.context === 'resource'), items: groups.filter((g) => g.context !== 'resource') });
    const logs = split(c.log_statements);
    const metrics = split(c.metric_statements);
    const traces = split(c.trace_statements);
    // Resource statements read and change the resource only: one changed copy per input object.
    const resources = { logs: new WeakMap<Attributes, Attributes>(), metrics: new WeakMap<Attributes, Attributes>(), traces: new WeakMap<Attributes, Attributes>() };
    const resourceOf = (signal: 'logs' | 'metrics' | 'traces', groups: readonly StatementGroup[], input: Attributes): Attributes => {
      if (groups.length === 0) return input;
      let out = resources[signal].get(input);
      if (out === undefined) {
        out = { ...input };
        runGroups(groups, { resource: out });
        resources[signal].set(input, out);
      }
      return out;
    };
    const target: Target = { resource: {} };
    return {
      mutates: logs.items.length + metrics.items.length + traces.items.length > 0,
      process(resource, records, points, _observed, spans) {
        if (spans !== undefined) {
          target.resource = resourceOf('traces', traces.resource, resource);
          if (traces.items.length > 0) {
            for (const s of spans) {
              target.span = s;
              runGroups(traces.items, target);
            }
            target.span = undefined;
          }
          return target.resource === resource ? undefined : { resource: target.resource };
        }
        const signal = records.length > 0 ? 'logs' : 'metrics';
        const groups = signal === 'logs' ? logs : metrics;
        target.resource = resourceOf(signal, groups.resource, resource);
        if (groups.items.length > 0) {
          for (const r of records) {
            target.record = r;
            runGroups(groups.items, target);
          }
          target.record = undefined;
          for (const p of points) {
            target.point = p;
            runGroups(groups.items, target);
          }
          target.point = undefined;
        }
        return target.resource === resource ? undefined : { resource: target.resource };
      },
    };
  },
};
