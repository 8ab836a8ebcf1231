/**
 * `heroku-otel-drain replay --config FILE CAPTURE...`: sends captures (`heroku logs` output, Logplex
 * bodies, syslog lines; gzip too) through the configured pipelines (processors and exporters; no
 * receiver listens), keeping the lines' own timestamps. This is how users backfill, and how they
 * try a config before adding a drain. The capture is streamed and each batch waits for room in
 * the pipelines, so memory stays bounded however long the capture. A line longer than
 * MAX_LINE_BYTES (64 KiB, as the receivers) is skipped and counted, as `parse` does.
 */
import { SingleBar } from 'cli-progress';
import { statSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import type { ConfigSource } from '../config/sources.ts';
import { CaptureReader } from '../heroku/input.ts';
import { jsonLogger, logThresholdFromEnv } from '../service/log.ts';
import { Service } from '../service/service.ts';
import { drainResource, resourceFromEnv } from '../translate/resource.ts';
import { newTelemetryBatch, type Attributes, type TelemetryBatch } from '../translate/telemetry.ts';
import { defaultDrainContext } from '../config/translation.ts';
import { translateLineSafely } from '../translate/translate.ts';
import { forEachPiece, MAX_LINE_BYTES } from './parse-command.ts';

const BATCH_RECORDS = 1024;

export interface ReplaySummary {
  lines: number;
  /** Lines longer than MAX_LINE_BYTES, skipped. */
  longLines: number;
  records: number;
  points: number;
  /** Spans exported, by the traces pipelines (0 without one). */
  spans: number;
  failed: number;
  dropped: number;
  seconds: number;
}

export async function runReplay(
  sources: readonly ConfigSource[],
  captures: readonly string[],
  resourceFlags: Record<string, string>,
  env: NodeJS.ProcessEnv,
  say: (message: string) => void,
  progressStream: NodeJS.WriteStream | undefined,
): Promise<{ code: number; summary?: ReplaySummary }> {
  const loaded = await loadConfig(sources, env);
  if (loaded.config === undefined) {
    loaded.problems.forEach((p, i) => say(`${loaded.problemSources[i]}: ${p}`));
    return { code: 1 };
  }
  // Quieter than start: a progress bar shares the terminal. Debug when asked.
  const { threshold } = logThresholdFromEnv(env);
  const log = jsonLogger(threshold === 'debug' || threshold === 'silent' || threshold === 'error' ? threshold : 'warn');
  const service = new Service(loaded.config, log, { selfTelemetryIntervalMs: 0 });
  // Receivers are not started: only extensions, processors' timers and exporters run.
  await service.startWithoutReceivers();
  const resource: Attributes = drainResource({ ...resourceFromEnv(env, say), ...resourceFlags });
  const total = captures.reduce((n, c) => {
    try {
      return n + (c === '-' ? 0 : statSync(c).size);
    } catch {
      return n;
    }
  }, 0);
  const bar = progressStream?.isTTY && total > 0 ? new SingleBar({ stream: progressStream, format: 'replay [{bar}] {percentage}% | {lines} lines | {rate} lines/s', hideCursor: true }) : undefined;
  bar?.start(total, 0, { lines: 0, rate: 0 });
  const started = performance.now();
  let lines = 0;
  let longLines = 0;
  // Metrics aggregate by the lines' clock: an export each interval of capture time.
  const intervalMs = service.exportIntervalMs;
  // A span per router request, when a traces pipeline takes them.
  const spans = service.pipelines.some((p) => p.signal === 'traces');
  let nextExportMs: number | undefined;
  let bytes = 0;
  /**
   * A batch's points before the current interval's end go in, the interval is exported stamped
   * at its end, then the rest: what a live drain would have sent, interval by interval.
   */
  const ingestByInterval = async (batch: TelemetryBatch): Promise<void> => {
    if (intervalMs === undefined || batch.metrics.length === 0) return service.ingest(resource, batch);
    let pending = batch;
    for (;;) {
      let earliestMs = Infinity;
      for (const p of pending.metrics) earliestMs = Math.min(earliestMs, p.timeUnixMicros / 1000);
      nextExportMs ??= Math.floor(earliestMs / intervalMs) * intervalMs + intervalMs;
      const boundary = nextExportMs;
      const later = pending.metrics.filter((p) => p.timeUnixMicros / 1000 >= boundary);
      if (later.length === 0) return service.ingest(resource, pending);
      await service.ingest(resource, { ...pending, metrics: pending.metrics.filter((p) => p.timeUnixMicros / 1000 < boundary) });
      await service.exportAggregated(boundary);
      let nextMs = Infinity;
      for (const p of later) nextMs = Math.min(nextMs, p.timeUnixMicros / 1000);
      nextExportMs = Math.floor(nextMs / intervalMs) * intervalMs + intervalMs;
      // Logs and spans went in with the first part.
      pending = pending.spans === undefined ? { logs: [], metrics: later } : { logs: [], metrics: later, spans: [] };
    }
  };
  // The capture is one drain's: its route templates are learned across it.
  const drainContext = defaultDrainContext();
  const send = async (piece: Buffer): Promise<void> => {
    const reader = new CaptureReader(piece, MAX_LINE_BYTES);
    const observed = Date.now() * 1000;
    for (;;) {
      const batch = newTelemetryBatch(spans);
      for (let line = reader.next(); line !== null; line = reader.next()) {
        translateLineSafely(line, observed, batch, reader.frameStatus, undefined, drainContext);
        if (batch.logs.length >= BATCH_RECORDS) break;
      }
      if (batch.logs.length === 0) break;
      await ingestByInterval(batch);
    }
    lines += reader.stats.lines;
    longLines += reader.stats.longLines;
  };
  try {
    for (const capture of captures) {
      const pieces = await forEachPiece(
        capture,
        process.stdin,
        say,
        async (piece) => {
          await send(piece);
          bar?.update(Math.min(bytes, total), { lines, rate: Math.round(lines / ((performance.now() - started) / 1000)) });
        },
        (n) => (bytes += n),
      );
      longLines += pieces.longLines;
    }
  } finally {
    bar?.stop();
    await service.shutdown(60_000);
  }
  const seconds = (performance.now() - started) / 1000;
  let records = 0;
  let points = 0;
  let spanCount = 0;
  let failed = 0;
  let dropped = 0;
  for (const p of service.pipelines) {
    const exported = Math.min(...Object.values(p.counters.exported));
    if (p.signal === 'logs') records += exported;
    else if (p.signal === 'traces') spanCount += exported;
    else points += exported;
    failed += Object.values(p.counters.failed).reduce((a, b) => a + b, 0);
    dropped += p.counters.droppedAtShutdown;
  }
  const summary: ReplaySummary = { lines, longLines, records, points, spans: spanCount, failed, dropped, seconds };
  say(
    `${lines} lines read, ${records} records${spans ? `, ${points} points and ${spanCount} spans` : ` and ${points} points`} exported, ${failed} failed, ${dropped} dropped, ` +
      `${seconds.toFixed(1)} s (${Math.round(lines / Math.max(seconds, 0.001))} lines/s)`,
  );
  if (longLines > 0) say(`${longLines} ${longLines === 1 ? 'line' : 'lines'} longer than ${MAX_LINE_BYTES} bytes skipped (the longest line replay reads)`);
  return { code: failed > 0 || dropped > 0 ? 1 : 0, summary };
}
