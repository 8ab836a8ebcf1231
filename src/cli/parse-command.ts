/**
 * `heroku-otel-drain parse [FILE|-] [--resource key=value]...`: reads a capture in any shape and
 * writes OTLP/JSON lines to stdout, as the Collector's file exporter does: each line one
 * ExportLogsServiceRequest or ExportMetricsServiceRequest.
 *
 * The input streams: it is read in chunks and cut at line ends, so memory holds a chunk and a
 * batch, not the capture, and `heroku logs --tail | heroku-otel-drain parse -` prints as lines come.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { interpretLine } from '../heroku/classify.ts';
import { CaptureReader } from '../heroku/input.ts';
import { otlpJsonLines, type InstrumentationScope } from '../translate/otlp-json.ts';
import { drainResource, resourceFromEnv } from '../translate/resource.ts';
import { newTelemetryBatch, type Attributes } from '../translate/telemetry.ts';
import { translateEvent } from '../translate/translate.ts';

/** Records per request, at most: big enough to amortise the envelope, small enough to stream. */
const RECORDS_PER_REQUEST = 512;
/** A capture with no line end in this much is processed as it is rather than held. */
const MAX_CARRY_BYTES = 16 * 1024 * 1024;

export interface ParseOptions {
  /** A path, or `-` for standard input. */
  input: string;
  resource: Record<string, string>;
}

/** What a parse read, for the summary on stderr. */
export interface ParseSummary {
  lines: number;
  /** Frames whose octet count was wrong, truncated, or that had no header at all. */
  frameProblems: number;
  /** Lines with no syslog or `heroku logs` header, kept whole. */
  rawLines: number;
}

/** Thrown for input that cannot be read at all; the CLI prints its message and exits 2. */
export class InputError extends Error {}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

function describeReadError(input: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = (code && READ_ERRORS[code]) ?? code ?? (err instanceof Error ? err.message : String(err));
  return `cannot read ${input === '-' ? 'standard input' : input}: ${reason}`;
}

/**
 * The capture's bytes, chunk by chunk; gzip (`heroku logs ... | gzip`) is recognised by its magic
 * bytes and inflated. A gzip that ends early gives what it holds, and `warn` says so.
 */
async function* captureChunks(input: string, stdin: NodeJS.ReadableStream, warn: (message: string) => void): AsyncGenerator<Buffer> {
  const source = (input === '-' ? stdin : createReadStream(input)) as AsyncIterable<Buffer | string>;
  const iterator = source[Symbol.asyncIterator]();
  let first: IteratorResult<Buffer | string>;
  try {
    first = await iterator.next();
  } catch (err) {
    throw new InputError(describeReadError(input, err));
  }
  if (first.done) return;
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  if (!(head.length > 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    try {
      yield* all();
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(describeReadError(input, err));
    }
    return;
  }
  const gunzip = Readable.from(all()).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw new InputError(describeReadError(input, err));
    warn('the gzip input ends early (truncated?): read what it holds');
  }
}

/**
 * The capture in pieces that end at a line end (a line longer than MAX_CARRY_BYTES is cut
 * there), so that a frame or line never straddles two pieces. Shared by parse and replay.
 */
export async function forEachPiece(input: string, stdin: NodeJS.ReadableStream, warn: (message: string) => void, onPiece: (piece: Buffer) => Promise<void>, onChunk?: (bytes: number) => void): Promise<void> {
  let carry: Buffer | undefined;
  for await (const chunk of captureChunks(input, stdin, warn)) {
    onChunk?.(chunk.length);
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    const cut = data.lastIndexOf(10);
    if (cut < 0 && data.length < MAX_CARRY_BYTES) {
      carry = data;
      continue;
    }
    const end = cut < 0 ? data.length : cut + 1;
    carry = end < data.length ? data.subarray(end) : undefined;
    await onPiece(data.subarray(0, end));
  }
  if (carry !== undefined) await onPiece(carry);
}

export async function runParse(
  options: ParseOptions,
  scope: InstrumentationScope,
  out: (chunk: string) => Promise<void>,
  stdin: NodeJS.ReadableStream = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => process.stderr.write(`heroku-otel-drain parse: ${message}\n`),
): Promise<ParseSummary> {
  const resource: Attributes = drainResource({ ...resourceFromEnv(env, warn), ...options.resource });
  const summary: ParseSummary = { lines: 0, frameProblems: 0, rawLines: 0 };

  /** Translates one piece of the capture that ends at a line end, writing as batches fill. */
  const translatePiece = async (piece: Buffer): Promise<void> => {
    const reader = new CaptureReader(piece);
    const observed = Date.now() * 1000;
    for (;;) {
      const batch = newTelemetryBatch();
      for (let line = reader.next(); line !== null; line = reader.next()) {
        if (line.shape === 'raw') summary.rawLines++;
        translateEvent(line, interpretLine(line), observed, batch, reader.frameStatus);
        if (batch.logs.length >= RECORDS_PER_REQUEST) break;
      }
      if (batch.logs.length === 0) break;
      await out(otlpJsonLines(resource, scope, batch.logs, batch.metrics).join(''));
    }
    summary.lines += reader.stats.lines;
    summary.frameProblems += reader.stats.frameProblems;
  };

  await forEachPiece(options.input, stdin, warn, translatePiece);
  return summary;
}
