/**
 * The `debug` exporter: telemetry on stdout, as the Collector's debug exporter shows it.
 * `basic`: one line per batch; `normal`: one line per record and point; `detailed`: OTLP/JSON.
 */
import { otlpJsonLines } from '../../translate/otlp-json.ts';
import { SCOPE, type ExportBatch, type ExportResult, type Exporter } from '../exporter.ts';
import type { DebugConfig } from './config.ts';

export interface TextSink {
  write(text: string): unknown;
}

function isoTime(micros: number): string {
  return micros === 0 ? '-' : new Date(Math.floor(micros / 1000)).toISOString().replace('Z', `${String(micros % 1000).padStart(3, '0')}Z`);
}

export class DebugExporter implements Exporter {
  readonly id: string;
  private readonly _verbosity: DebugConfig['verbosity'];
  private readonly _out: TextSink;

  constructor(id: string, config: DebugConfig, out: TextSink = process.stdout) {
    this.id = id;
    this._verbosity = config.verbosity;
    this._out = out;
  }

  async export(batch: ExportBatch): Promise<ExportResult> {
    const service = batch.resource['service.name'] ?? 'unknown_service';
    let text = `${this.id}: ${service}: ${batch.logs.length} log records, ${batch.metrics.length} metric points\n`;
    if (this._verbosity === 'normal') {
      for (const r of batch.logs) text += `  ${isoTime(r.timeUnixMicros)} ${r.severityText || '-'} ${r.eventName} ${r.body}\n`;
      for (const p of batch.metrics) text += `  ${isoTime(p.timeUnixMicros)} ${p.name} ${p.type} ${p.value} ${p.unit} ${JSON.stringify(p.attributes)}\n`;
    } else if (this._verbosity === 'detailed') {
      text += otlpJsonLines(batch.resource, SCOPE, batch.logs, batch.metrics).join('');
    }
    this._out.write(text);
    return { ok: true };
  }

  async shutdown(): Promise<void> {}
}
