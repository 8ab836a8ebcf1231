/** The `bearertokenauth` extension's factory: a bearer token for exporters' requests, or checked on receivers'. */
import type { ExtensionFactory } from '../../service/component.ts';
import { bearerTokenAuthConfigSchema, BEARERTOKENAUTH_TYPE, type BearerTokenAuthConfig } from './config.ts';
import { BearerTokenAuth } from './extension.ts';

export const bearerTokenAuthFactory: ExtensionFactory = {
  kind: 'extensions',
  type: BEARERTOKENAUTH_TYPE,
  configSchema: bearerTokenAuthConfigSchema,
  authenticates: () => ({ client: true, server: true }),
  create: (id, config, host) => new BearerTokenAuth(id, config as BearerTokenAuthConfig, host.log),
};
