/**
 * `redact`: the redact processor (default word list) over the mix's records, on copies made
 * beforehand (it masks in place); records per second. Most lines hold no secret word: for them
 * it is one scan of the body.
 */
import { redactConfigSchema } from '../src/processors/redact/config.ts';
import { RedactProcessor } from '../src/processors/redact/processor.ts';
import type { LogRecordData } from '../src/translate/telemetry.ts';
import type { Scenario } from './harness.ts';

export function redactScenario(batches: readonly LogRecordData[][]): Scenario {
  const records = batches.reduce((n, b) => n + b.length, 0);
  const redact = new RedactProcessor('redact', redactConfigSchema.parse({}));
  return {
    name: 'redact',
    what: 'mask secret-looking keys, query parameters and JSON/logfmt pairs (default word list)',
    items: records,
    pass: () => {
      let masked = 0;
      for (const b of batches) {
        // Fresh attribute objects each pass: masking is in place, and a masked record has nothing left to find.
        const copies = b.map((r) => ({ ...r, attributes: { ...r.attributes } }));
        redact.process(copies);
        masked += copies.length;
      }
      return masked + redact.counters.masked;
    },
  };
}
