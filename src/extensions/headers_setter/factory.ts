/** The `headers_setter` extension's factory: headers set on exporters' requests. */
import type { ExtensionFactory } from '../../service/component.ts';
import { headersSetterConfigSchema, HEADERS_SETTER_TYPE, type HeadersSetterConfig } from './config.ts';
import { HeadersSetter } from './extension.ts';

export const headersSetterFactory: ExtensionFactory = {
  kind: 'extensions',
  type: HEADERS_SETTER_TYPE,
  configSchema: headersSetterConfigSchema,
  authenticates: () => ({ client: true, server: false }),
  create: (id, config, host) => new HeadersSetter(id, config as HeadersSetterConfig, host),
};
