/**
 * The `filter` processor's factory: drops records and points any condition matches, and counts
 * them. A condition that fails to evaluate keeps the item (never a silent loss), logged per
 * error_mode.
 */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { RateLimitedLog } from '../../service/rate-limited-log.ts';
import type { LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';
import type { CompiledCondition } from '../ottl/config.ts';
import type { Target } from '../ottl/ottl.ts';
import { filterConfigSchema, FILTER_TYPE, type FilterConfig } from './config.ts';

export interface FilterProcessor extends Processor {
  /** Items dropped by a condition, per signal. */
  readonly dropped: { logs: number; metrics: number; traces: number };
}

export const filterFactory: ProcessorFactory = {
  kind: 'processors',
  type: FILTER_TYPE,
  configSchema: filterConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(id, config, host): FilterProcessor {
    const c = config as FilterConfig;
    const limited = new RateLimitedLog(host.log);
    const logConditions = c.logs?.log_record ?? [];
    const pointConditions = [...(c.metrics?.metric ?? []), ...(c.metrics?.datapoint ?? [])];
    const spanConditions = c.traces?.span ?? [];
    const dropped = { logs: 0, metrics: 0, traces: 0 };
    const matches = (conditions: readonly CompiledCondition[], t: Target): boolean => {
      for (const cond of conditions) {
        try {
          if (cond.test(t)) return true;
        } catch (error) {
          if (c.error_mode !== 'silent') limited.report(c.error_mode === 'propagate' ? 'error' : 'warn', `eval:${cond.source}`, `${id}: a condition failed to evaluate, so the item is kept: ${(error as Error).message}`, { processor: id, condition: cond.source });
        }
      }
      return false;
    };
    const target: Target = { resource: {} };
    return {
      mutates: false,
      dropped,
      process(resource, logs, metrics, _observed, spans) {
        target.resource = resource;
        if (spans !== undefined && spans.length > 0 && spanConditions.length > 0) {
          let kept: SpanData[] | undefined;
          for (let i = 0; i < spans.length; i++) {
            target.span = spans[i]!;
            const drop = matches(spanConditions, target);
            if (drop && kept === undefined) kept = spans.slice(0, i);
            else if (!drop && kept !== undefined) kept.push(spans[i]!);
          }
          target.span = undefined;
          if (kept !== undefined) {
            dropped.traces += spans.length - kept.length;
            return { spans: kept };
          }
          return undefined;
        }
        if (logs.length > 0 && logConditions.length > 0) {
          let kept: LogRecordData[] | undefined;
          target.point = undefined;
          for (let i = 0; i < logs.length; i++) {
            target.record = logs[i]!;
            const drop = matches(logConditions, target);
            if (drop && kept === undefined) kept = logs.slice(0, i);
            else if (!drop && kept !== undefined) kept.push(logs[i]!);
          }
          target.record = undefined;
          if (kept !== undefined) {
            dropped.logs += logs.length - kept.length;
            return { logs: kept };
          }
        }
        if (metrics.length > 0 && pointConditions.length > 0) {
          let kept: MetricPointData[] | undefined;
          for (let i = 0; i < metrics.length; i++) {
            target.point = metrics[i]!;
            const drop = matches(pointConditions, target);
            if (drop && kept === undefined) kept = metrics.slice(0, i);
            else if (!drop && kept !== undefined) kept.push(metrics[i]!);
          }
          target.point = undefined;
          if (kept !== undefined) {
            dropped.metrics += metrics.length - kept.length;
            return { metrics: kept };
          }
        }
        return undefined;
      },
    };
  },
};
