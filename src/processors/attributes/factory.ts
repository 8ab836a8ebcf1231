/** The `attributes` processor's factory: the Collector's attribute actions on log records, data points and spans. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { applyActions } from './actions.ts';
import { attributesConfigSchema, ATTRIBUTES_TYPE, signalProblems, type AttributesConfig } from './config.ts';
import { compileLogMatcher, compileMetricMatcher, compileSpanMatcher } from './match.ts';

export const attributesFactory: ProcessorFactory = {
  kind: 'processors',
  type: ATTRIBUTES_TYPE,
  configSchema: attributesConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  signalProblems,
  create(_id, config): Processor {
    const c = config as AttributesConfig;
    const actions = c.actions;
    // Matchers for what each signal can take (validate has refused a block a listing pipeline cannot).
    const includeLog = c.include === undefined ? undefined : compileLogMatcher(c.include);
    const excludeLog = c.exclude === undefined ? undefined : compileLogMatcher(c.exclude);
    const includeMetric = c.include === undefined ? undefined : compileMetricMatcher(c.include);
    const excludeMetric = c.exclude === undefined ? undefined : compileMetricMatcher(c.exclude);
    const includeSpan = c.include === undefined ? undefined : compileSpanMatcher(c.include);
    const excludeSpan = c.exclude === undefined ? undefined : compileSpanMatcher(c.exclude);
    return {
      mutates: true,
      process(resource, logs, metrics, _observed, spans) {
        for (const r of logs) {
          if (includeLog !== undefined && !includeLog(resource, r)) continue;
          if (excludeLog !== undefined && excludeLog(resource, r)) continue;
          applyActions(actions, r.attributes);
        }
        for (const p of metrics) {
          if (includeMetric !== undefined && !includeMetric(p)) continue;
          if (excludeMetric !== undefined && excludeMetric(p)) continue;
          applyActions(actions, p.attributes);
        }
        if (spans === undefined) return;
        for (const s of spans) {
          if (includeSpan !== undefined && !includeSpan(resource, s)) continue;
          if (excludeSpan !== undefined && excludeSpan(resource, s)) continue;
          applyActions(actions, s.attributes);
        }
      },
    };
  },
};
