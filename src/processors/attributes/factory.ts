/** The `attributes` processor's factory: the Collector's attribute actions on records and data points. */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import { applyActions } from './actions.ts';
import { attributesConfigSchema, ATTRIBUTES_TYPE, type AttributesConfig } from './config.ts';
import { compileMatcher } from './match.ts';

export const attributesFactory: ProcessorFactory = {
  kind: 'processors',
  type: ATTRIBUTES_TYPE,
  configSchema: attributesConfigSchema,
  signals: ['logs', 'metrics'],
  create(_id, config): Processor {
    const c = config as AttributesConfig;
    const include = c.include === undefined ? undefined : compileMatcher(c.include);
    const exclude = c.exclude === undefined ? undefined : compileMatcher(c.exclude);
    return {
      mutates: true,
      process(resource, logs, metrics) {
        for (const r of logs) {
          if (include !== undefined && !include(resource, r, undefined)) continue;
          if (exclude !== undefined && exclude(resource, r, undefined)) continue;
          applyActions(c.actions, r.attributes);
        }
        for (const p of metrics) {
          if (include !== undefined && !include(resource, undefined, p)) continue;
          if (exclude !== undefined && exclude(resource, undefined, p)) continue;
          applyActions(c.actions, p.attributes);
        }
      },
    };
  },
};
