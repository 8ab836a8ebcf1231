/** Config of the `file` exporter: OTLP/JSON lines, the format of `parse` and the Collector's file exporter. */
import { z } from 'zod';

export const FILE_TYPE = 'file';

export const fileConfigSchema = z.strictObject({
  path: z.string().min(1, 'a file path is required'),
});

export type FileConfig = z.output<typeof fileConfigSchema>;
