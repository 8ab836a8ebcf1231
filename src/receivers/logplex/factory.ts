/** The `logplex` receiver's factory: Heroku's HTTPS drains. */
import type { ReceiverFactory } from '../../service/component.ts';
import { logplexConfigSchema, LOGPLEX_TYPE, type LogplexConfig } from './config.ts';
import { LogplexReceiver, type SharedClaims } from './receiver.ts';

export const logplexFactory: ReceiverFactory = {
  kind: 'receivers',
  type: LOGPLEX_TYPE,
  configSchema: logplexConfigSchema,
  signals: ['logs', 'metrics'],
  open: (config) => {
    const c = config as LogplexConfig;
    return c.drains.length === 0 && c.basic_auth === undefined && !c.accept_any_drain;
  },
  create(_id, config, next, host) {
    const c = config as LogplexConfig;
    const store = c.storage === undefined ? undefined : (host.extension(c.storage) as SharedClaims | undefined);
    return new LogplexReceiver(c, next.consume, host.log, store, next.room);
  },
};
