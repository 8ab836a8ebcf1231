/**
 * Config of the `file_storage` extension, with the Collector's keys: a directory where exporters'
 * sending queues keep what they have not sent yet (`sending_queue: { storage: file_storage }`),
 * so that what was answered 200 survives a backend outage, SIGTERM, SIGKILL and a restart on the
 * same directory.
 *
 * ```yaml
 * extensions:
 *   file_storage:
 *     directory: /var/lib/heroku-otel-drain   # one sub-directory per exporter and signal
 *     max_size_mib: 1024                      # all queues together; full: the receiver answers 503
 * service:
 *   extensions: [file_storage]
 * exporters:
 *   otlphttp:
 *     sending_queue: { storage: file_storage }
 * ```
 */
import { z } from 'zod';
import { duration } from '../../config/units.ts';

export const FILE_STORAGE_TYPE = 'file_storage';

export const fileStorageConfigSchema = z.strictObject({
  /** Default `/var/lib/otelcol/file_storage`, the Collector's. It must exist unless `create_directory` is on. */
  directory: z.string().min(1).default('/var/lib/otelcol/file_storage'),
  /** Create the directory (and its parents) when it is missing. Default false, as the Collector. */
  create_directory: z.boolean().default(false),
  /** Permissions of a directory we create, in octal. Default `0750`. */
  directory_permissions: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'expected octal permissions such as 0750')
    .default('0750'),
  /**
   * Flush every write to the disk before the receiver answers 200. Default false, as the
   * Collector: without it, what was answered 200 survives SIGKILL and a restart of the process
   * (the kernel has it) but not a power cut or a crash of the machine.
   */
  fsync: z.boolean().default(false),
  /** Start empty: what an earlier run left is deleted, unsent. Default false. */
  recreate: z.boolean().default(false),
  /** How long to wait for another process to release the directory. Default 1s, as the Collector. */
  timeout: duration.default(1000),
  /**
   * The Collector's compaction settings, accepted so its configs load; nothing to set here: a
   * segment of the queue's log is deleted as soon as everything in it was sent.
   */
  compaction: z.record(z.string(), z.unknown()).optional(),
  /**
   * What all queues in this storage may take on disk together, in MiB. Default 1024. When it is
   * full, a queue that blocks makes the receiver answer 503 (Logplex keeps the data and sends it
   * again); one that does not block drops, counted and logged.
   */
  max_size_mib: z.number().positive().default(1024),
});

export type FileStorageConfig = z.output<typeof fileStorageConfigSchema>;
