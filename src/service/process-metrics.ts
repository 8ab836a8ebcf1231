/**
 * The process metrics the Collector reports about itself (service/internal/proctelemetry), with
 * its names, read from Node at collection time, and Node's event loop, which is what slows first
 * when the sidecar has more to do than one core allows.
 *
 * Not reported: the Collector's `otelcol_process_runtime_total_alloc_bytes` (V8 keeps no running
 * total of bytes allocated) and `_total_sys_memory_bytes` (Go's memory obtained from the OS; in
 * Node the resident set, `otelcol_process_memory_rss`, is that measure).
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import * as M from '../semconv/metrics.ts';
import { otelApi } from './otel-sdk.ts';

/** The event loop figures cover this much time: a scrape every 15 s or an export every 60 s reads the last window. */
export const EVENT_LOOP_WINDOW_MS = 10_000;

/** Nanoseconds (perf_hooks) to seconds. */
const NS = 1e9;

/**
 * The event loop's delay (how late a 20 ms timer fires: a busy or blocked loop) and utilization
 * (the share of time it ran code), over the last window. Read at collection time, never reset by a
 * reader: several readers (a scrape and an OTLP export) see the same window.
 */
class EventLoopWindow {
  private readonly _delay: ReturnType<typeof monitorEventLoopDelay> = monitorEventLoopDelay({ resolution: 20 });
  private _startedMs = performance.now();
  private _utilizationSince: EventLoopUtilization = performance.eventLoopUtilization();
  private _closed: { p99: number; max: number; utilization: number } | undefined;

  constructor() {
    this._delay.enable();
  }

  /** The last full window, or the one under way before the first is full. */
  read(): { p99: number; max: number; utilization: number } {
    const now = performance.now();
    if (this._closed !== undefined && now - this._startedMs < EVENT_LOOP_WINDOW_MS) return this._closed;
    const current = {
      p99: this._delay.count > 0 ? this._delay.percentile(99) / NS : 0,
      max: this._delay.count > 0 ? this._delay.max / NS : 0,
      utilization: performance.eventLoopUtilization(this._utilizationSince).utilization,
    };
    if (now - this._startedMs < EVENT_LOOP_WINDOW_MS) return current;
    this._closed = current;
    this._startedMs = now;
    this._delay.reset();
    this._utilizationSince = performance.eventLoopUtilization();
    return current;
  }

  stop(): void {
    this._delay.disable();
  }
}

/**
 * Registers the process metrics on `meter`; `withRuntime` adds the event loop's (ours, not the
 * Collector's). Returns what stops the event loop monitor.
 */
export function registerProcessMetrics(meter: Meter, withRuntime: boolean): () => void {
  const { ValueType } = otelApi();
  const uptime = meter.createObservableCounter(M.METRIC_OTELCOL_PROCESS_UPTIME, { unit: 's', description: 'Uptime of the process.', valueType: ValueType.DOUBLE });
  const cpu = meter.createObservableCounter(M.METRIC_OTELCOL_PROCESS_CPU_SECONDS, { unit: 's', description: 'Total CPU user and system time in seconds.', valueType: ValueType.DOUBLE });
  const rss = meter.createObservableGauge(M.METRIC_OTELCOL_PROCESS_MEMORY_RSS, { unit: 'By', description: 'Total physical memory (resident set size).', valueType: ValueType.INT });
  const heap = meter.createObservableGauge(M.METRIC_OTELCOL_PROCESS_RUNTIME_HEAP_ALLOC_BYTES, { unit: 'By', description: "Bytes of allocated heap objects (V8's used heap size).", valueType: ValueType.INT });
  const observables: Observable[] = [uptime, cpu, rss, heap];
  let loop: EventLoopWindow | undefined;
  let delayP99: Observable | undefined;
  let delayMax: Observable | undefined;
  let utilization: Observable | undefined;
  if (withRuntime) {
    loop = new EventLoopWindow();
    delayP99 = meter.createObservableGauge(M.METRIC_OTELCOL_PROCESS_RUNTIME_EVENT_LOOP_DELAY_P99_SECONDS, { unit: 's', description: `99th percentile of the event loop's delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s.` });
    delayMax = meter.createObservableGauge(M.METRIC_OTELCOL_PROCESS_RUNTIME_EVENT_LOOP_DELAY_MAX_SECONDS, { unit: 's', description: `Longest event loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s.` });
    utilization = meter.createObservableGauge(M.METRIC_OTELCOL_PROCESS_RUNTIME_EVENT_LOOP_UTILIZATION, { unit: '1', description: `Share of the last ${EVENT_LOOP_WINDOW_MS / 1000} s the event loop spent running code (0-1).` });
    observables.push(delayP99, delayMax, utilization);
  }
  meter.addBatchObservableCallback((result: BatchObservableResult) => {
    result.observe(uptime, process.uptime());
    const { user, system } = process.cpuUsage();
    result.observe(cpu, (user + system) / 1e6);
    result.observe(rss, process.memoryUsage.rss());
    result.observe(heap, getHeapStatistics().used_heap_size);
    if (loop !== undefined) {
      const l = loop.read();
      result.observe(delayP99!, l.p99);
      result.observe(delayMax!, l.max);
      result.observe(utilization!, l.utilization);
    }
  }, observables);
  return () => loop?.stop();
}
