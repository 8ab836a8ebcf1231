/**
 * The service's fan-out of spans (src/service/service.ts): a receiver makes spans only when a
 * traces pipeline reads it; spans are offered all or none with the other pipelines' items; a
 * pipeline whose processors change spans works on copies; each dyno's spans go under the drain's
 * resource with service.instance.id = the dyno, one resource object per drain and dyno. Real
 * Logplex POSTs into the logplex receiver; what each pipeline offers its queues is recorded at
 * Pipeline.offer (the export of spans is tested end to end in test/e2e-traces.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { factoryOf } from '../../src/components.ts';
import { validateConfig, type SidecarConfig } from '../../src/config/load.ts';
import type { Pipeline } from '../../src/service/pipeline.ts';
import { Service } from '../../src/service/service.ts';
import type { Attributes, LogRecordData, SpanData } from '../../src/translate/telemetry.ts';

/** Whether the file exporter takes traces in this build (branch traces-export adds it). */
const FILE_TAKES_TRACES = factoryOf('exporters', 'file')!.signals.includes('traces');

let service: Service | undefined;
afterEach(async () => {
  await service?.shutdown(5000);
  service = undefined;
});

const frame = (msg: string) => `${Buffer.byteLength(msg) + 1} ${msg}\n`;
const TS = '2024-05-01T12:00:00.000001+00:00';
const router = (rid: string, dyno: string, query = 'page=1') =>
  `<158>1 ${TS} host heroku router - at=info method=GET path="/orders?${query}" host=shop.example.com request_id=${rid} fwd="81.2.69.142" dyno=${dyno} connect=1ms service=41ms status=200 bytes=10 protocol=https`;
const APP = `<190>1 ${TS} host app web.1 - started`;

/**
 * A config as written once the file exporter takes traces. Until then validate refuses it in a
 * traces pipeline, naming it, and nothing else: the config is validated without its traces
 * pipelines, which are then added as written.
 */
function configOf(yaml: string): SidecarConfig {
  const doc = parseYaml(yaml);
  const asWritten = validateConfig(doc, {});
  if (FILE_TAKES_TRACES) {
    expect(asWritten.problems).toEqual([]);
    return asWritten.config!;
  }
  expect(asWritten.problems.filter((p) => !/exporter "file" does not work on traces/.test(p))).toEqual([]);
  const traces = Object.entries(doc.service.pipelines as Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>).filter(([id]) => id.startsWith('traces'));
  for (const [id] of traces) delete doc.service.pipelines[id];
  const { config, problems } = validateConfig(doc, {});
  expect(problems).toEqual([]);
  for (const [id, p] of traces) config!.pipelines.set(id, { signal: 'traces', receivers: p.receivers, processors: p.processors ?? [], exporters: p.exporters });
  return config!;
}

interface Offer {
  pipeline: string;
  resource: Attributes;
  spans: SpanData[];
}

/**
 * Records what each traces pipeline offers its queues (and takes it, while the queue cannot hold
 * spans); `records` gets the logs pipelines' records.
 */
function recordOffers(pipelines: readonly Pipeline[], records: LogRecordData[] = []): Offer[] {
  const offers: Offer[] = [];
  for (const p of pipelines) {
    const original = p.offer.bind(p);
    if (p.signal === 'logs') {
      p.offer = (resource, key, items) => {
        records.push(...(items as LogRecordData[]));
        return original(resource, key, items);
      };
    }
    if (p.signal !== 'traces') continue;
    p.offer = (resource, key, items) => {
      offers.push({ pipeline: p.id, resource, spans: structuredClone(items) as SpanData[] });
      return FILE_TAKES_TRACES ? original(resource, key, items) : true;
    };
  }
  return offers;
}

async function start(pipelines: string, processors = '  redact: {}'): Promise<{ port: number; offers: Offer[]; records: LogRecordData[] }> {
  const yaml = `
receivers:
  logplex: { endpoint: "127.0.0.1:0", drains: [ { token: d.shop, resource: { service.name: shop } } ] }
  logplex/logs: { endpoint: "127.0.0.1:0", accept_any_drain: true }
processors:
${processors}
exporters:
  file: { path: /dev/null }
service:
  pipelines:
${pipelines}
`;
  service = new Service(configOf(yaml), () => {}, { selfTelemetryIntervalMs: 0 });
  const records: LogRecordData[] = [];
  const offers = recordOffers(service.pipelines, records);
  await service.start();
  return { port: service.receivers[0]!.receiver.address.port, offers, records };
}

async function post(port: number, lines: string[], token = 'd.shop'): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body: lines.map(frame).join(''), headers: { 'logplex-drain-token': token } });
  return res.status;
}

describe('spans through the service', () => {
  it("puts each dyno's spans under the drain's resource with service.instance.id, one object per drain and dyno", async () => {
    const { port, offers } = await start(`    logs: { receivers: [logplex, logplex/logs], processors: [redact], exporters: [file] }\n    traces: { receivers: [logplex], processors: [redact], exporters: [file] }`);
    expect(await post(port, [router('a', 'web.1'), APP, router('b', 'web.2'), router('c', 'web.1'), router('d', '')])).toBe(200);
    expect(await post(port, [router('e', 'web.2')])).toBe(200);
    const byDyno = offers.map((o) => [o.resource['service.instance.id'], o.spans.map((s) => s.attributes['heroku.router.request_id'])]);
    expect(byDyno).toEqual([
      ['web.1', ['a', 'c']],
      ['web.2', ['b']],
      [undefined, ['d']],
      ['web.2', ['e']],
    ]);
    expect(offers[0]!.resource).toMatchObject({ 'service.name': 'shop', 'cloud.provider': 'heroku', 'service.instance.id': 'web.1' });
    // The same resource object for a dyno batch after batch: batches go together by it.
    expect(offers[3]!.resource).toBe(offers[1]!.resource);
    // The receiver in no traces pipeline makes no spans; the one in both counts its spans.
    const intake = Object.fromEntries(service!.receivers.map((r) => [r.id, r.intake]));
    expect(intake['logplex']).toMatchObject({ acceptedRecords: 6, acceptedSpans: 5 });
    expect(await post(service!.receivers[1]!.receiver.address.port, [router('f', 'web.1')], 'd.other')).toBe(200);
    expect(service!.receivers[1]!.intake).toMatchObject({ acceptedRecords: 1, acceptedSpans: 0 });
  });

  it("masks secrets in a redacting pipeline's copies only; a pipeline without processors exports them as made", async () => {
    const { port, offers } = await start(
      `    logs: { receivers: [logplex], processors: [redact], exporters: [file] }\n    traces: { receivers: [logplex], processors: [redact], exporters: [file] }\n    traces/raw: { receivers: [logplex], exporters: [file] }`,
    );
    expect(await post(port, [router('a', 'web.1', 'token=s3cr3tvalue&page=2')])).toBe(200);
    const query = (pipeline: string) => offers.find((o) => o.pipeline === pipeline)!.spans[0]!.attributes['url.query'];
    expect(query('traces')).toBe('token=***&page=2');
    expect(query('traces/raw')).toBe('token=s3cr3tvalue&page=2');
  });

  it('refuses a batch all or none: a full traces pipeline makes the POST a 503, and no pipeline takes it', async () => {
    const { port, offers } = await start(`    logs: { receivers: [logplex], processors: [redact], exporters: [file] }\n    traces: { receivers: [logplex], processors: [redact], exporters: [file] }`);
    const traces = service!.pipelines.find((p) => p.signal === 'traces')!;
    const logs = service!.pipelines.find((p) => p.signal === 'logs')!;
    // Room when the request's headers ask (before its body is read), none once its spans are made.
    let asked = 0;
    traces.fits = () => asked++ === 0;
    expect(await post(port, [router('a', 'web.1'), APP])).toBe(503);
    expect(offers).toEqual([]);
    expect(logs.counters.accepted).toBe(0);
    expect(service!.receivers[0]!.intake).toMatchObject({ refusedRecords: 2, refusedSpans: 1, acceptedSpans: 0 });
  });

  it("runs a traces pipeline's processors on its spans, counted per signal, and hands on what they return", async () => {
    const { port, offers } = await start(
      `    logs: { receivers: [logplex], processors: [redact], exporters: [file] }\n    traces: { receivers: [logplex], processors: [redact, resource, attributes], exporters: [file] }`,
      `  redact: {}\n  resource: { attributes: [ { key: deployment.environment.name, value: production, action: upsert } ] }\n  attributes: { actions: [ { key: url.query, action: delete } ], include: { match_type: strict, span_kinds: [SPAN_KIND_SERVER] } }`,
    );
    expect(await post(port, [router('a', 'web.1'), router('b', 'web.2')])).toBe(200);
    expect(offers.map((o) => [o.resource['service.instance.id'], o.resource['deployment.environment.name']])).toEqual([
      ['web.1', 'production'],
      ['web.2', 'production'],
    ]);
    for (const o of offers) expect(o.spans[0]!.attributes).not.toHaveProperty(['url.query']);
    const counts = (service as unknown as { _itemCounts: Map<string, { id: string; signal: string; counts: { incoming: number } }> })._itemCounts;
    const incoming = Object.fromEntries([...counts.values()].map((c) => [`${c.id} ${c.signal}`, c.counts.incoming]));
    expect(incoming).toEqual({ 'redact logs': 2, 'redact traces': 2, 'resource traces': 2, 'attributes traces': 2 });
  });

  it("tail_sampling keeps a request's span and its router record together", async () => {
    const { port, offers, records } = await start(
      `    logs: { receivers: [logplex], processors: [redact, tail_sampling], exporters: [file] }\n    traces: { receivers: [logplex], processors: [redact, tail_sampling], exporters: [file] }`,
      `  redact: {}\n  tail_sampling: { policies: [ { name: errors, type: status_code, status_code: { status_codes: [ERROR] } } ] }`,
    );
    const h12 = router('slow', 'web.1').replace('at=info', 'at=error code=H12 desc="Request timeout"').replace('status=200', 'status=503');
    expect(await post(port, [router('ok', 'web.1'), h12])).toBe(200);
    const spanIds = offers.flatMap((o) => o.spans.map((s) => [s.attributes['heroku.router.request_id'], s.spanId]));
    const recordIds = records.filter((r) => r.eventName === 'heroku.router.request').map((r) => [r.attributes['heroku.router.request_id'], r.spanId]);
    expect(spanIds).toEqual([['slow', expect.any(String)]]);
    expect(recordIds).toEqual(spanIds);
  });
});
