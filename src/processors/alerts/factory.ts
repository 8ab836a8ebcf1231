/** The `alerts` processor's factory: rules over logs and metrics, transitions as log records. */
import type { Processor, ProcessorFactory, ProcessorHost } from '../../service/component.ts';
import type { RedisStore } from '../../extensions/redis/store.ts';
import { SharedAlertWindows } from '../../extensions/redis/alert-windows.ts';
import type { Attributes } from '../../translate/telemetry.ts';
import { drainResource } from '../../translate/resource.ts';
import pkg from '../../../package.json' with { type: 'json' };
import { alertsConfigSchema, ALERTS_TYPE, type AlertsConfig } from './config.ts';
import type { AlertEvent } from './engine.ts';
import { alertRecord, AlertsProcessor, type SharedWindows } from './processor.ts';

/** Resources kept for alert records, one per service.name: past it, alerts of new names get a fresh one. */
const MAX_RESOURCES = 10_000;

export const alertsFactory: ProcessorFactory = {
  kind: 'processors',
  type: ALERTS_TYPE,
  configSchema: alertsConfigSchema,
  signals: ['logs', 'metrics'],
  // Its rules read the points as lines made them, not the aggregated series.
  metricsPlacement: 'before-aggregation',
  create(id, config, host): Processor {
    const c = config as AlertsConfig;
    // Windows shared across instances through a redis extension (RedisStore), or across a
    // cluster's workers through its primary (an extension that makes them: WorkerShare).
    const store = c.storage === undefined ? undefined : (host.extension(c.storage) as (RedisStore & { alertWindows?: undefined }) | { alertWindows(id: string): SharedWindows } | undefined);
    const shared = store === undefined ? undefined : store.alertWindows !== undefined ? store.alertWindows(id) : new SharedAlertWindows(store as RedisStore, id);
    const deliver = alertDelivery(id, host);
    return new AlertsProcessor(id, c, deliver, host.log, Date.now, shared);
  },
};

/** Alert transitions as log records, into the logs pipelines (the host says which), one resource per service.name. */
function alertDelivery(id: string, host: ProcessorHost): (events: AlertEvent[]) => void {
  const resources = new Map<string, Attributes>();
  return (events) => {
    const observed = Date.now() * 1000;
    for (const event of events) {
      const name = event.group['service.name'] || pkg.name;
      let resource = resources.get(name);
      if (resource === undefined) {
        resource = drainResource({ 'service.name': name });
        if (resources.size < MAX_RESOURCES) resources.set(name, resource);
      }
      if (!host.emitLogs(id, resource, [alertRecord(event, observed)])) host.log('warn', `${id}: alert not taken by a full pipeline`, { rule: event.rule, state: event.state });
    }
  };
}
