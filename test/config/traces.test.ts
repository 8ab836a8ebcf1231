/**
 * service.pipelines.traces: which receivers, processors and exporters a traces pipeline takes,
 * and the problems validate names (each with its key) for those it cannot.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { factoryOf } from '../../src/components.ts';
import { validateConfig } from '../../src/config/load.ts';

function validate(yaml: string) {
  return validateConfig(parseYaml(yaml), {});
}


function config(processors: string, pipelines: string): string {
  return `
receivers:
  logplex: { drains: [ { token: d.x } ] }
  syslog: { tcp: { endpoint: "127.0.0.1:6514" }, drains: [ { token: d.y } ] }
processors:
${processors}
exporters:
  debug: {}
service:
  pipelines:
${pipelines}
`;
}

describe('a traces pipeline', () => {
  it('takes the logplex and syslog receivers and the processors that work on spans, under traces and traces/<name>', () => {
    const { config: c, problems } = validate(
      config(
        `  redact: {}\n  redaction: { allow_all_keys: true, blocked_values: ["4[0-9]{12}"] }\n  memory_limiter: { limit_mib: 200 }\n  batch: {}\n  resource: { attributes: [ { key: deployment.environment.name, value: prod, action: upsert } ] }\n  attributes: { actions: [ { key: url.query, action: delete } ], include: { match_type: strict, span_names: [GET] } }`,
        `    traces: { receivers: [logplex, syslog], processors: [memory_limiter, redact, redaction, resource, attributes, batch], exporters: [debug] }\n    traces/raw: { receivers: [logplex], exporters: [debug] }`,
      ),
    );
    expect(problems).toEqual([]);
    expect(c!.pipelines.get('traces/raw')?.signal).toBe('traces');
  });

  it.each([
    ['alerts', 'alerts: {}'],
    ['interval', 'interval: {}'],
    ['cumulativetodelta', 'cumulativetodelta: {}'],
  ])('refuses %s, a processor of other signals, naming its place: never left out silently', (type, yaml) => {
    const { problems } = validate(config(`  redact: {}\n  ${yaml}`, `    traces: { receivers: [logplex], processors: [redact, ${type}], exporters: [debug] }`));
    const signals = factoryOf('processors', type)!.signals.join(' and ');
    expect(problems).toContain(`service.pipelines.traces.processors[1]: processor "${type}" does not work on traces (a ${type} processor takes ${signals}); take it out of this pipeline`);
  });

  it("refuses attributes' include/exclude keys spans cannot take, and asks for one they can (contrib's ValidateForSpans)", () => {
    const bodies = validate(config(`  attributes: { actions: [ { key: a, value: b, action: insert } ], exclude: { match_type: regexp, log_bodies: ["^x"] } }`, `    traces: { receivers: [logplex], processors: [attributes], exporters: [debug] }`));
    expect(bodies.problems).toContain('processors.attributes.exclude.log_bodies: not valid for spans (the Collector refuses it in a traces pipeline); give spans their own attributes processor (service.pipelines.traces lists it)');
    const empty = validate(config(`  attributes: { actions: [ { key: a, value: b, action: insert } ], include: { match_type: strict } }`, `    traces: { receivers: [logplex], processors: [attributes], exporters: [debug] }`));
    expect(empty.problems).toContain('processors.attributes.include: needs at least one of services, span_names, span_kinds, attributes, libraries or resources for spans (service.pipelines.traces lists it)');
  });

  it('refuses span keys in a logs pipeline', () => {
    const { problems } = validate(config(`  redact: {}\n  attributes: { actions: [ { key: a, value: b, action: insert } ], include: { match_type: strict, span_kinds: [SPAN_KIND_SERVER] } }`, `    logs: { receivers: [logplex], processors: [redact, attributes], exporters: [debug] }`));
    expect(problems).toEqual(['processors.attributes.include.span_kinds: is for spans only, not valid for log records (as in the Collector); give spans their own attributes processor (service.pipelines.logs lists it)']);
  });

  it("asks an otlphttp exporter in a traces pipeline for a traces URL, in the Collector's words", () => {
    const doc = (exporter: string) => `
receivers:
  logplex: { accept_any_drain: true }
processors:
  redact: {}
exporters:
  otlphttp: ${exporter}
service:
  pipelines:
    logs: { receivers: [logplex], processors: [redact], exporters: [otlphttp] }
    traces: { receivers: [logplex], processors: [redact], exporters: [otlphttp] }
`;
    expect(validate(doc('{ logs_endpoint: "https://a.example/v1/logs", metrics_endpoint: "https://a.example/v1/metrics" }')).problems).toEqual([
      'exporters.otlphttp.traces_endpoint: either endpoint or traces_endpoint must be specified (service.pipelines.traces lists it)',
    ]);
    expect(validate(doc('{ logs_endpoint: "https://a.example/v1/logs", metrics_endpoint: "https://a.example/v1/metrics", traces_endpoint: "https://t.example/v1/traces" }')).problems).toEqual([]);
    expect(validate(doc('{ endpoint: "https://a.example" }')).problems).toEqual([]);
  });

  it('warns without redact: paths and query strings reach the exporters', () => {
    const { warnings } = validate(config('  batch: {}', `    traces: { receivers: [logplex], processors: [batch], exporters: [debug] }`));
    expect(warnings).toContain("service.pipelines.traces: no redact processor, so passwords, tokens and keys in router lines' paths and query strings (url.path, url.query on spans) reach the exporters as they are; add redact first in processors");
  });
});
