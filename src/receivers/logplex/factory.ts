/** The `logplex` receiver's factory: Heroku's HTTPS drains. */
import type { ReceiverFactory } from '../../service/component.ts';
import { isOpen, logplexConfigSchema, LOGPLEX_TYPE, type LogplexConfig } from './config.ts';
import { LogplexReceiver, type SharedClaims } from './receiver.ts';

export const logplexFactory: ReceiverFactory = {
  kind: 'receivers',
  type: LOGPLEX_TYPE,
  configSchema: logplexConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  open: (config) => isOpen(config as LogplexConfig),
  create(id, config, next, host) {
    const c = config as LogplexConfig;
    const store = c.storage === undefined ? undefined : (host.extension(c.storage) as SharedClaims | undefined);
    let authenticator;
    if (c.auth !== undefined) {
      // validate checked the reference; a receiver built without it (a test) is told the same.
      authenticator = host.extension(c.auth.authenticator)?.serverAuth;
      if (authenticator === undefined) throw new Error(`receivers.${id}.auth.authenticator: extension "${c.auth.authenticator}" is not running or does not authenticate a receiver's requests`);
    }
    return new LogplexReceiver(c, next.consume, host.log, store, next.room, { id, spans: next.spans ?? false, ...(authenticator !== undefined ? { authenticator } : {}) });
  },
};
