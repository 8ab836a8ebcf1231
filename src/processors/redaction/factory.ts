/**
 * The `redaction` processor's factory (contrib's, on log records, data points, spans and the resource),
 * and the processor `redact` shares: contrib's redaction first, then our secret masking
 * (../redact/processor.ts) when its keys ask for it.
 */
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import { RedactProcessor } from '../redact/processor.ts';
import { redactionConfigSchema, REDACTION_TYPE, type RedactionConfig } from './config.ts';
import { ContribRedaction } from './contrib.ts';

/** One processor for either type; `secrets`: whether our masking runs. */
export function createRedaction(id: string, c: RedactionConfig, secrets: boolean): Processor {
  const contrib = new ContribRedaction(c);
  const ours = secrets ? new RedactProcessor(id, c) : undefined;
  // contrib redacts the resource's attributes too: a copy per drain resource object, as batches go together by it.
  const resources = new WeakMap<Attributes, Attributes>();
  const resourceOf = (resource: Attributes): Attributes => {
    let out = resources.get(resource);
    if (out === undefined) {
      out = { ...resource };
      contrib.attributes(out);
      resources.set(resource, out);
    }
    return out;
  };
  return {
    mutates: true,
    redacts: ours !== undefined,
    process(resource, logs, metrics, _observed, spans) {
      if (contrib.active) {
        for (const r of logs) {
          contrib.attributes(r.attributes);
          contrib.body(r);
        }
        for (const p of metrics) contrib.attributes(p.attributes);
        if (spans !== undefined) for (const s of spans) contrib.attributes(s.attributes);
      }
      ours?.process(logs);
      if (spans !== undefined) ours?.processSpans(spans);
      return contrib.active ? { resource: resourceOf(resource) } : undefined;
    },
  };
}

export const redactionFactory: ProcessorFactory = {
  kind: 'processors',
  type: REDACTION_TYPE,
  configSchema: redactionConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  create(id, config): Processor {
    const c = config as RedactionConfig;
    return createRedaction(id, c, c.keys.length > 0 || c.token_shapes || c.emails);
  },
};
