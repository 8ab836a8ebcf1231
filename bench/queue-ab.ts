/**
 * Profiling helper: an otlphttp exporter's sending queue on disk (file_storage, as the embedded
 * default has it), here against another checkout's, runs interleaved in one process (a fair
 * before/after on a shared machine). Each side translates the mix with its own code (one batch
 * per ~100-line Logplex body, outside the timing), then, timed: every batch offered to its queue
 * (8 offers in flight, as the e2e load), batched as the default's `batch` (8192, 200ms), sent
 * protobuf+gzip to bench/e2e-sink.ts (its own process, not counted) until the queue counts every
 * record sent. Prints the process's CPU (every thread: zlib, fs) and wall time per side, medians.
 *
 *   BENCH_AB_ROOT=/work/main node bench/queue-ab.ts     (BENCH_LINES, BENCH_RUNS)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { child } from './e2e.ts';
import { generateMix, toLogplexBodies } from './mix.ts';

const root = process.env.BENCH_AB_ROOT;
if (!root) {
  console.error('BENCH_AB_ROOT: the other checkout');
  process.exit(2);
}
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const bodies = toLogplexBodies(generateMix(LINES, 42));
const resource = { 'service.name': 'shop-web', 'heroku.app.name': 'shop-web', 'cloud.provider': 'heroku', 'heroku.drain.id': 'd.01234567-89ab-cdef-0123-456789abcdef' };

async function side(dir: string, sinkPort: number) {
  const at = (path: string) => import(pathToFileURL(resolve(dir, path)).href);
  const { bodyToTelemetry } = await at('src/receivers/logplex/body.ts');
  const { defaultDrainContext } = await at('src/config/translation.ts');
  const { SendingQueue } = await at('src/exporters/exporterhelper/queue.ts');
  const { retrySettings } = await at('src/exporters/exporterhelper/settings.ts');
  const { otlphttpConfigSchema } = await at('src/exporters/otlphttp/config.ts');
  const { OtlphttpExporter } = await at('src/exporters/otlphttp/exporter.ts');
  const { FileStorage } = await at('src/extensions/file_storage/storage.ts');
  const { fileStorageConfigSchema } = await at('src/extensions/file_storage/config.ts');
  const context = defaultDrainContext();
  return async (): Promise<{ cpu_s: number; wall_s: number }> => {
    const batches = bodies.map((b) => bodyToTelemetry(b.buf, Date.now() * 1000, context).telemetry.logs);
    const total = batches.reduce((n: number, b: unknown[]) => n + b.length, 0);
    const directory = mkdtempSync(join(tmpdir(), 'queue-ab-'));
    const storage = new FileStorage('file_storage', fileStorageConfigSchema.parse({ directory, max_size_mib: 512 }), () => {});
    await storage.start();
    const config = otlphttpConfigSchema.parse({ endpoint: `http://127.0.0.1:${sinkPort}`, sending_queue: { storage: 'file_storage' }, retry_on_failure: { max_elapsed_time: 0 } });
    const exporter = new OtlphttpExporter('otlphttp', config);
    const queue = new SendingQueue({ exporter, signal: 'logs', queue: config.sending_queue, retry: retrySettings(config.retry_on_failure), storage: storage.queueLog('exporter_otlphttp_logs'), log: () => {} });
    queue.start(new Map());
    const source = { id: 'logs', batch: { timeoutMs: 200, sendBatchSize: 8192, sendBatchMaxSize: 0 }, counters: { exported: {}, failed: {}, queueFull: {}, droppedAtShutdown: 0 } };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    for (const logs of batches) {
      while (inFlight.size >= 8) await Promise.race(inFlight);
      const taken = Promise.resolve(queue.enqueue(source, resource, 'drain', logs));
      inFlight.add(taken);
      void taken.then(() => inFlight.delete(taken));
    }
    await Promise.all(inFlight);
    batches.length = 0;
    while (queue.counters.sent < total) await new Promise((r) => setTimeout(r, 5));
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await queue.shutdown(1000);
    await exporter.shutdown();
    await storage.shutdown();
    rmSync(directory, { recursive: true, force: true });
    return { cpu_s: (cpu.user + cpu.system) / 1e6, wall_s: wall };
  };
}

const sink = await child(['bench/e2e-sink.ts']);
try {
  const sides = { before: await side(root, sink.port), after: await side('.', sink.port) };
  const results: Record<string, Array<{ cpu_s: number; wall_s: number }>> = { before: [], after: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const name of i % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
      const r = await sides[name]();
      results[name]!.push(r);
      console.log(JSON.stringify({ side: name, run: i, ...r }));
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const name of ['before', 'after'] as const) {
    const cpu = median(results[name]!.map((r) => r.cpu_s));
    console.log(JSON.stringify({ bench: 'queue-ab', side: name, root: name === 'before' ? root : '.', lines: LINES, cpu_s: cpu, lines_per_cpu_s: Math.round(LINES / cpu), wall_s: median(results[name]!.map((r) => r.wall_s)) }));
  }
} finally {
  sink.proc.kill('SIGKILL');
}
