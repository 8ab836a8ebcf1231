/** The `file_storage` extension's factory: a directory where sending queues keep what they have not sent. */
import type { ExtensionFactory } from '../../service/component.ts';
import { fileStorageConfigSchema, FILE_STORAGE_TYPE, type FileStorageConfig } from './config.ts';
import { FileStorage } from './storage.ts';

export const fileStorageFactory: ExtensionFactory = {
  kind: 'extensions',
  type: FILE_STORAGE_TYPE,
  configSchema: fileStorageConfigSchema,
  create: (id, config, host) => new FileStorage(id, config as FileStorageConfig, host.log),
};
