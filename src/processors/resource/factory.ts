/**
 * The `resource` processor's factory. A drain's resource is one object shared by all its batches
 * and pipelines: this hands on a changed copy, one per input object (batches still go together).
 */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import { applyActions } from '../attributes/actions.ts';
import { resourceConfigSchema, RESOURCE_TYPE, type ResourceConfig } from './config.ts';

export const resourceFactory: ProcessorFactory = {
  kind: 'processors',
  type: RESOURCE_TYPE,
  configSchema: resourceConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(_id, config): Processor {
    const c = config as ResourceConfig;
    const changed = new WeakMap<Attributes, Attributes>();
    return {
      mutates: false,
      process(resource) {
        let out = changed.get(resource);
        if (out === undefined) {
          out = { ...resource };
          applyActions(c.attributes, out);
          changed.set(resource, out);
        }
        return { resource: out };
      },
    };
  },
};
