/**
 * The `file` exporter: OTLP/JSON lines appended to a file, the format of the Collector's file
 * exporter and of `heroku-otel-drain parse`, so what one writes the other tools read: a line of
 * `resourceLogs`, `resourceMetrics` or `resourceSpans` per batch of each signal.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { otlpJsonLines } from '../../translate/otlp-json.ts';
import { SCOPE, type ExportBatch, type ExportResult, type ExportSignal, type Exporter } from '../exporter.ts';
import type { FileConfig } from './config.ts';

export class FileExporter implements Exporter {
  readonly id: string;
  readonly endpoints: Readonly<Record<ExportSignal, string>>;
  private readonly _path: string;
  private _file: Promise<FileHandle> | undefined;
  // Writes are chained so lines never interleave, whatever the callers' concurrency.
  private _last: Promise<unknown> = Promise.resolve();

  constructor(id: string, config: FileConfig) {
    this.id = id;
    this._path = config.path;
    this.endpoints = { logs: config.path, metrics: config.path, traces: config.path };
  }

  export(batch: ExportBatch): Promise<ExportResult> {
    const text = otlpJsonLines(batch.resource, SCOPE, batch.logs, batch.metrics, batch.spans).join('');
    const write = this._last.then(async (): Promise<ExportResult> => {
      try {
        this._file ??= open(this._path, 'a');
        await (await this._file).appendFile(text);
        return { ok: true };
      } catch (err) {
        this._file = undefined;
        // A full disk or a removed directory may come back; a path that is a directory will not.
        const code = (err as NodeJS.ErrnoException).code;
        return { ok: false, retryable: code !== 'EISDIR' && code !== 'EACCES', error: `${this._path}: ${code ?? String(err)}` };
      }
    });
    this._last = write;
    return write;
  }

  async shutdown(): Promise<void> {
    await this._last;
    const file = this._file;
    this._file = undefined;
    if (file) await (await file).close();
  }
}
