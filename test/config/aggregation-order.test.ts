/**
 * Where a metrics pipeline aggregates (src/config/load.ts, aggregationOrder): what reads points as
 * lines made them (alerts) before the interval processor, what reads aggregated series
 * (cumulativetodelta) after it, and one aggregation per pipeline. A wrong order is a problem that
 * names the pipeline, the processor's place and the processor it must go before.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load.ts';

/** A valid config but for `pipelines` (each line one pipeline under service.pipelines). */
function validate(...pipelines: string[]) {
  const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
  alerts: {}
  batch: {}
  redact: {}
  interval: { interval: 10s }
  interval/fast: { interval: 1s }
  cumulativetodelta: {}
  cumulativetodelta/other: {}
exporters:
  debug: {}
service:
  pipelines:
${pipelines.map((p) => `    ${p}`).join('\n')}
`;
  return validateConfig(parseYaml(yaml), {});
}

describe('metrics pipelines: where aggregation happens', () => {
  it('refuses alerts after cumulativetodelta, naming both and the place', () => {
    const { config, problems } = validate('metrics: { receivers: [logplex], processors: [interval, cumulativetodelta, alerts], exporters: [debug] }');
    expect(config).toBeUndefined();
    expect(problems).toEqual(['service.pipelines.metrics.processors[2]: "alerts" works on the points as lines made them, so it goes before "cumulativetodelta" (which works on aggregated series)']);
  });

  it('refuses alerts after interval', () => {
    const { problems } = validate('metrics/grafana: { receivers: [logplex], processors: [interval, alerts, batch], exporters: [debug] }');
    expect(problems).toEqual(['service.pipelines.metrics/grafana.processors[1]: "alerts" works on the points as lines made them, so it goes before "interval" (the aggregation)']);
  });

  it('refuses alerts after cumulativetodelta in a pipeline with no interval listed', () => {
    const { problems } = validate('metrics: { receivers: [logplex], processors: [cumulativetodelta, alerts], exporters: [debug] }');
    expect(problems).toEqual(['service.pipelines.metrics.processors[1]: "alerts" works on the points as lines made them, so it goes before "cumulativetodelta" (which works on aggregated series)']);
  });

  it('refuses cumulativetodelta before interval', () => {
    const { problems } = validate('metrics/datadog: { receivers: [logplex], processors: [alerts, cumulativetodelta, interval, batch], exporters: [debug] }');
    expect(problems).toEqual(['service.pipelines.metrics/datadog.processors[2]: "interval" is where the pipeline aggregates, so it goes before "cumulativetodelta" (which works on aggregated series)']);
  });

  it('refuses a second interval processor', () => {
    const { problems } = validate('metrics: { receivers: [logplex], processors: [interval, batch, interval/fast], exporters: [debug] }');
    expect(problems).toEqual(['service.pipelines.metrics.processors[2]: "interval/fast" aggregates a second time after "interval"; a metrics pipeline aggregates once']);
  });

  it("reports every pipeline's wrong order together", () => {
    const { problems } = validate(
      'metrics/a: { receivers: [logplex], processors: [cumulativetodelta, interval], exporters: [debug] }',
      'metrics/b: { receivers: [logplex], processors: [interval, interval/fast], exporters: [debug] }',
      'metrics/c: { receivers: [logplex], processors: [alerts, interval], exporters: [debug] }',
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^service\.pipelines\.metrics\/a\.processors\[1\]: "interval" /);
    expect(problems[1]).toMatch(/^service\.pipelines\.metrics\/b\.processors\[1\]: "interval\/fast" aggregates a second time/);
  });

  it('takes the orders that make sense', () => {
    for (const processors of [
      'alerts, interval, cumulativetodelta, batch',
      'alerts, cumulativetodelta',
      'cumulativetodelta',
      'interval',
      'batch, alerts, interval',
      'alerts',
      '',
      'interval, cumulativetodelta, cumulativetodelta/other',
      'alerts, interval, batch',
    ]) {
      const { config, problems } = validate(`metrics: { receivers: [logplex], processors: [${processors}], exporters: [debug] }`);
      expect(problems, `processors: [${processors}]`).toEqual([]);
      expect(config).toBeDefined();
    }
  });

  it('leaves logs pipelines alone: the order rules are about metrics', () => {
    const { problems } = validate('logs: { receivers: [logplex], processors: [redact, batch, alerts], exporters: [debug] }', 'metrics: { receivers: [logplex], processors: [alerts, interval], exporters: [debug] }');
    expect(problems).toEqual([]);
  });
});

describe('OTEL_METRIC_EXPORT_INTERVAL with a config file', () => {
  const yaml = {
    receivers: { logplex: { endpoint: '127.0.0.1:0', accept_any_drain: true } },
    exporters: { debug: {} },
    service: { pipelines: { metrics: { receivers: ['logplex'], exporters: ['debug'] } } },
  };
  it('warns when it is not a number of milliseconds, and is quiet when it is', () => {
    expect(validateConfig(yaml, { OTEL_METRIC_EXPORT_INTERVAL: '30s' }).warnings).toContain(
      'OTEL_METRIC_EXPORT_INTERVAL: not a number of milliseconds above 0, so left aside: metrics go out every 60s unless an interval processor says otherwise',
    );
    expect(validateConfig(yaml, { OTEL_METRIC_EXPORT_INTERVAL: '30000' }).warnings.filter((w) => w.startsWith('OTEL_METRIC'))).toEqual([]);
  });
});
