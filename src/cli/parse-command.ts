/**
 * `heroku-otel-drain parse [FILE|-] [--resource key=value]...`: reads a capture in any shape and
 * writes OTLP/JSON lines to stdout, as the Collector's file exporter does: each line one
 * ExportLogsServiceRequest or ExportMetricsServiceRequest.
 */
import { readFile } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';
import { interpretLine } from '../heroku/classify.ts';
import { CaptureReader, type CaptureStats } from '../heroku/input.ts';
import { logsRequest, metricsRequest, type InstrumentationScope } from '../translate/otlp-json.ts';
import { drainResource, resourceFromEnv } from '../translate/resource.ts';
import { newTelemetryBatch, type Attributes } from '../translate/telemetry.ts';
import { translateEvent } from '../translate/translate.ts';

/** Records per output line: big enough to amortise the envelope, small enough to stream. */
const RECORDS_PER_REQUEST = 1000;

export interface ParseOptions {
  /** A path, or `-` for standard input. */
  input: string;
  resource: Record<string, string>;
}

export interface Output {
  write(chunk: string): boolean | Promise<void>;
}

/** Ungzips a capture; a truncated one (a copy cut short) gives what it holds, and says so. */
function gunzipCapture(buf: Buffer, warn: (message: string) => void): Buffer {
  try {
    return gunzipSync(buf);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw err;
    const partial = gunzipSync(buf, { finishFlush: constants.Z_SYNC_FLUSH });
    warn(`the gzip input ends early (truncated?): read the ${partial.length} bytes it holds`);
    return partial;
  }
}

async function readInput(input: string, stdin: NodeJS.ReadableStream, warn: (message: string) => void): Promise<Buffer> {
  let buf: Buffer;
  if (input === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    buf = Buffer.concat(chunks);
  } else {
    buf = await readFile(input);
  }
  // gzip captures (`heroku logs ... | gzip`) are read as they are.
  if (buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipCapture(buf, warn);
  return buf;
}

/** Thrown for input that cannot be read at all; the CLI prints its message and exits 2. */
export class InputError extends Error {}

export async function runParse(
  options: ParseOptions,
  scope: InstrumentationScope,
  out: (chunk: string) => Promise<void>,
  stdin: NodeJS.ReadableStream = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => process.stderr.write(`heroku-otel-drain parse: ${message}\n`),
): Promise<CaptureStats> {
  let buf: Buffer;
  try {
    buf = await readInput(options.input, stdin, warn);
  } catch (err) {
    const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw new InputError(`cannot read ${options.input === '-' ? 'standard input' : options.input}: ${reason}`);
  }
  const resource: Attributes = drainResource({ ...resourceFromEnv(env), ...options.resource });
  const observed = Date.now() * 1000;
  const reader = new CaptureReader(buf);
  // Output goes out every RECORDS_PER_REQUEST lines, so memory holds one batch, not the whole
  // translation.
  for (;;) {
    const batch = newTelemetryBatch();
    for (let line = reader.next(); line !== null; line = reader.next()) {
      translateEvent(line, interpretLine(line), observed, batch, reader.frameStatus);
      if (batch.logs.length >= RECORDS_PER_REQUEST) break;
    }
    if (batch.logs.length === 0) break;
    await out(JSON.stringify(logsRequest(resource, scope, batch.logs)) + '\n');
    if (batch.metrics.length > 0) await out(JSON.stringify(metricsRequest(resource, scope, batch.metrics)) + '\n');
  }
  const stats = reader.stats;
  return stats;
}
