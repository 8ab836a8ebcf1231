/** The `basicauth` extension's factory: htpasswd for receivers' requests, client_auth for exporters'. */
import type { ExtensionFactory } from '../../service/component.ts';
import { basicAuthConfigSchema, BASICAUTH_TYPE, type BasicAuthConfig } from './config.ts';
import { BasicAuthClient, BasicAuthServer } from './extension.ts';

export const basicAuthFactory: ExtensionFactory = {
  kind: 'extensions',
  type: BASICAUTH_TYPE,
  configSchema: basicAuthConfigSchema,
  authenticates: (config) => {
    const c = config as BasicAuthConfig;
    return { client: c.client_auth !== undefined, server: c.htpasswd !== undefined };
  },
  create: (id, config, host) => {
    const c = config as BasicAuthConfig;
    return c.client_auth !== undefined ? new BasicAuthClient(id, c.client_auth, host.log) : new BasicAuthServer(id, c.htpasswd!, host.log);
  },
};
