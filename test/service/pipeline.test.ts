import { describe, expect, it } from 'vitest';
import type { ExportBatch, ExportResult, Exporter } from '../../src/exporters/exporter.ts';
import { Pipeline, type PipelineSettings } from '../../src/service/pipeline.ts';
import { NO_RETRY } from '../../src/service/retry.ts';
import type { LogRecordData } from '../../src/translate/telemetry.ts';

function record(n: number): LogRecordData {
  return { timeUnixMicros: n, observedUnixMicros: n, severityNumber: 9, severityText: 'INFO', body: `line ${n}`, eventName: 'heroku.app.log', attributes: {}, traceId: undefined, spanId: undefined, traceFlags: 0 };
}
const records = (from: number, n: number) => Array.from({ length: n }, (_, i) => record(from + i));

/** An exporter that answers from a script of results, then ok; it keeps what it was sent. */
class ScriptedExporter implements Exporter {
  readonly batches: ExportBatch[] = [];
  calls = 0;
  readonly id: string;
  private readonly script: ExportResult[];
  private readonly hold: Promise<void> | undefined;
  constructor(id: string, script: ExportResult[] = [], hold?: Promise<void>) {
    this.id = id;
    this.script = script;
    this.hold = hold;
  }
  async export(batch: ExportBatch): Promise<ExportResult> {
    this.calls++;
    if (this.hold) await this.hold;
    const result = this.script.shift() ?? { ok: true };
    if (result.ok) this.batches.push(batch);
    return result;
  }
  async shutdown(): Promise<void> {}
}

function pipeline(exporter: Exporter, overrides: Partial<PipelineSettings> = {}, log?: (l: string, m: string) => void) {
  return new Pipeline(
    { id: 'logs', signal: 'logs', exporters: [{ exporter, retry: { enabled: true, initialIntervalMs: 5, maxIntervalMs: 20, maxElapsedMs: 5000 } }], capacity: 1000, batch: { timeoutMs: 20, sendBatchSize: 100, sendBatchMaxSize: 0 }, ...overrides },
    log,
  );
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline', () => {
  it('batches per drain resource by size and by timeout, keeping each drain apart', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter);
    expect(p.offer({ 'service.name': 'a' }, 'a', records(0, 150))).toBe(true);
    expect(p.offer({ 'service.name': 'b' }, 'b', records(1000, 10))).toBe(true);
    await settle(60);
    expect(exporter.batches.map((b) => [b.resource['service.name'], b.logs.length])).toEqual([
      ['a', 150],
      ['b', 10],
    ]);
    expect(p.counters).toMatchObject({ accepted: 160, exported: { file: 160 }, failed: { file: 0 } });
    expect(p.held).toBe(0);
  });

  it('refuses what does not fit, and takes it again once the exporter has caught up', async () => {
    let release!: () => void;
    const exporter = new ScriptedExporter('slow', [], new Promise<void>((r) => (release = r)));
    const p = pipeline(exporter, { capacity: 100, batch: undefined });
    expect(p.offer({}, 'a', records(0, 80))).toBe(true);
    expect(p.offer({}, 'a', records(80, 30))).toBe(false);
    expect(p.counters.refused).toBe(30);
    release();
    await settle(10);
    expect(p.offer({}, 'a', records(80, 30))).toBe(true);
    await settle(10);
    expect(exporter.batches.flatMap((b) => b.logs.map((r) => r.body))).toEqual(records(0, 110).map((r) => r.body));
  });

  it('loses nothing while the backend is down for a while: retries until it answers', async () => {
    const down: ExportResult = { ok: false, retryable: true, error: '503 Service Unavailable' };
    const exporter = new ScriptedExporter('otlphttp', [down, down, down, { ok: false, retryable: true, retryAfterMs: 10, error: '429' }]);
    const p = pipeline(exporter, { batch: undefined });
    p.offer({}, 'a', records(0, 5));
    await settle(200);
    expect(exporter.calls).toBe(5);
    expect(p.counters).toMatchObject({ exported: { otlphttp: 5 }, failed: { otlphttp: 0 } });
  });

  it('counts and logs a permanent refusal, which is not retried', async () => {
    const logs: string[] = [];
    const exporter = new ScriptedExporter('otlphttp', [{ ok: false, retryable: false, error: '400 Bad Request: invalid' }]);
    const p = pipeline(exporter, { batch: undefined }, (_l, m) => logs.push(m));
    p.offer({}, 'a', records(0, 7));
    await settle(20);
    expect(exporter.calls).toBe(1);
    expect(p.counters.failed.otlphttp).toBe(7);
    expect(logs).toEqual(['otlphttp: export failed, 7 records lost']);
  });

  it('survives an exporter that throws: counted failed, its items released, shutdown still clean', async () => {
    const logs: string[] = [];
    const throwing: Exporter = {
      id: 'broken',
      export: async () => {
        throw new RangeError('Offset is outside the bounds of the DataView');
      },
      shutdown: async () => {},
    };
    const p = pipeline(throwing, { batch: undefined, capacity: 10 }, (_l, m) => logs.push(m));
    expect(p.offer({}, 'a', records(0, 7))).toBe(true);
    await settle(20);
    expect(p.counters.failed.broken).toBe(7);
    expect(p.held).toBe(0);
    expect(p.fits(10)).toBe(true);
    expect(logs).toEqual(['broken: export failed, 7 records lost']);
    await p.shutdown(1000);
    expect(p.counters.droppedAtShutdown).toBe(0);
  });

  it('on shutdown sends what is batching, waits for it, and refuses more', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter, { batch: { timeoutMs: 60_000, sendBatchSize: 1000, sendBatchMaxSize: 0 } });
    p.offer({}, 'a', records(0, 42));
    await p.shutdown(1000);
    expect(exporter.batches[0]!.logs).toHaveLength(42);
    expect(p.offer({}, 'a', records(42, 1))).toBe(false);
    await p.shutdown(1000);
  });

  it('counts what a hung exporter still holds when the shutdown deadline passes', async () => {
    const exporter = new ScriptedExporter('hung', [], new Promise<void>(() => {}));
    const p = pipeline(exporter, { batch: undefined });
    p.offer({}, 'a', records(0, 3));
    await p.shutdown(30);
    expect(p.counters.droppedAtShutdown).toBe(3);
  });

  it('splits batches larger than send_batch_max_size', async () => {
    const exporter = new ScriptedExporter('file');
    const p = pipeline(exporter, { batch: { timeoutMs: 10, sendBatchSize: 500, sendBatchMaxSize: 200 } });
    p.offer({}, 'a', records(0, 500));
    await settle(20);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([200, 200, 100]);
  });

  it('sends each batch as it comes without a batch processor', async () => {
    const exporter = new ScriptedExporter('file');
    const p = new Pipeline({ id: 'logs', signal: 'logs', exporters: [{ exporter, retry: NO_RETRY }], capacity: 10, batch: undefined });
    p.offer({}, 'a', records(0, 2));
    p.offer({}, 'a', records(2, 3));
    await settle(5);
    expect(exporter.batches.map((b) => b.logs.length)).toEqual([2, 3]);
  });
});
