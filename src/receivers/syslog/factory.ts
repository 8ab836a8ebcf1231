/** The `syslog` receiver's factory: Heroku's syslog drains and any RFC 5424 sender. */
import type { ReceiverFactory } from '../../service/component.ts';
import { syslogConfigSchema, SYSLOG_TYPE, type SyslogConfig } from './config.ts';
import { SyslogReceiver } from './receiver.ts';

export const syslogFactory: ReceiverFactory = {
  kind: 'receivers',
  type: SYSLOG_TYPE,
  configSchema: syslogConfigSchema,
  signals: ['logs', 'metrics', 'traces'],
  open: (config) => {
    const c = config as SyslogConfig;
    return c.drains.length === 0 && !c.accept_any_drain;
  },
  // TCP flow control is its backpressure: a connection stops being read while the pipelines have no room.
  create: (_id, config, next, host) => new SyslogReceiver(config as SyslogConfig, next.consume, host.log, next.spans ?? false, next.room),
};
