/** Config of the `debug` exporter: telemetry printed to stdout, as the Collector's debug exporter. */
import { z } from 'zod';

export const DEBUG_TYPE = 'debug';

export const debugConfigSchema = z.strictObject({
  /** `basic` (a line per batch), `normal` (a line per record, point and span) or `detailed` (every field). */
  verbosity: z.enum(['basic', 'normal', 'detailed']).default('basic'),
});

export type DebugConfig = z.output<typeof debugConfigSchema>;
