/**
 * `heroku-otel-drain parse [FILE|-] [--resource key=value]...`: reads a capture in any shape and
 * writes OTLP/JSON lines to stdout, as the Collector's file exporter does: each line one
 * ExportLogsServiceRequest or ExportMetricsServiceRequest.
 *
 * The input streams: it is read in chunks and cut at line ends, so memory holds a chunk and a
 * batch, not the capture, and `heroku logs --tail | heroku-otel-drain parse -` prints as lines come.
 * A line is at most MAX_LINE_BYTES, as the syslog receiver's default `max_message_size`: a longer
 * one is skipped (up to its end, however far) and counted, so `parse /dev/zero` holds no more.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureReader, completeFrames, startsWithOctetFrame } from '../heroku/input.ts';
import { otlpJsonLines, type InstrumentationScope } from '../translate/otlp-json.ts';
import { drainResource, resourceFromEnv } from '../translate/resource.ts';
import { newTelemetryBatch, type Attributes } from '../translate/telemetry.ts';
import { defaultDrainContext } from '../config/translation.ts';
import { translateLineSafely } from '../translate/translate.ts';

/** Records per request, at most: big enough to amortise the envelope, small enough to stream. */
const RECORDS_PER_REQUEST = 512;
/**
 * The longest line (or octet-counted frame) parse and replay read, in bytes: the syslog
 * receiver's default `max_message_size`. Heroku's own lines stay under 10,000 bytes.
 */
export const MAX_LINE_BYTES = 64 * 1024;

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
  /** Lines longer than MAX_LINE_BYTES, skipped. */
  longLines: number;
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

/** The first byte of a capture that is no byte order mark or blank. */
function firstByte(buf: Buffer): number {
  let i = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  while (i < buf.length && (buf[i] === 32 || buf[i] === 10 || buf[i] === 13 || buf[i] === 9)) i++;
  return i;
}

/** How a capture was cut into pieces, for the caller's counters. */
export interface PieceStats {
  /** Lines (or frames) with no end within MAX_LINE_BYTES, skipped up to their end. */
  longLines: number;
}

/**
 * The capture in pieces that end at a line end (or, in an octet-counted stream with no newlines,
 * at a frame end), so that a line or frame never straddles two pieces. What waits for its end is
 * at most MAX_LINE_BYTES: a longer line is skipped up to its newline, a longer frame by its count,
 * and counted. Memory holds a chunk and that much, whatever the input. Shared by parse and replay.
 */
export async function forEachPiece(
  input: string,
  stdin: NodeJS.ReadableStream,
  warn: (message: string) => void,
  onPiece: (piece: Buffer) => Promise<void>,
  onChunk?: (bytes: number) => void,
): Promise<PieceStats> {
  const stats: PieceStats = { longLines: 0 };
  let carry: Buffer | undefined;
  /** Whether the capture starts with an octet-counted frame, decided once from its first bytes. */
  let octetStream: boolean | undefined;
  /** Skipping a line over the bound up to its newline. */
  let skipLine = false;
  /** Bytes still to skip of a frame over the bound. */
  let skipBytes = 0;
  for await (const chunk of captureChunks(input, stdin, warn)) {
    onChunk?.(chunk.length);
    let data = chunk;
    if (skipBytes > 0) {
      const n = Math.min(skipBytes, data.length);
      skipBytes -= n;
      data = data.subarray(n);
    }
    if (skipLine) {
      const lf = data.indexOf(10);
      if (lf < 0) continue;
      skipLine = false;
      data = data.subarray(lf + 1);
    }
    if (carry !== undefined) data = Buffer.concat([carry, data]);
    carry = undefined;
    if (octetStream === undefined && data.length > 0) octetStream = startsWithOctetFrame(data, firstByte(data));
    let cut = data.lastIndexOf(10) + 1;
    if (data.length - cut > MAX_LINE_BYTES) {
      if (!octetStream) {
        // A line with no end within the bound: skipped up to its newline, however far.
        stats.longLines++;
        skipLine = true;
        data = data.subarray(0, cut);
      } else {
        // An octet-counted stream need not hold a newline: cut after its last whole frame.
        const frames = completeFrames(data, cut);
        cut = frames.end;
        if (frames.nextFrameBytes > MAX_LINE_BYTES) {
          stats.longLines++;
          skipBytes = frames.nextFrameBytes - (data.length - cut);
          data = data.subarray(0, cut);
        } else if (data.length - cut > MAX_LINE_BYTES) {
          // Not at a frame header (a wrong count): handed over as it is, the reader finds the
          // next header and says so in the frame status.
          cut = data.length;
        }
      }
    }
    if (cut < data.length) carry = data.subarray(cut);
    if (cut > 0) await onPiece(data.subarray(0, cut));
  }
  if (carry !== undefined) await onPiece(carry);
  return stats;
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
  const summary: ParseSummary = { lines: 0, frameProblems: 0, rawLines: 0, longLines: 0 };

  // The capture is one drain's: its route templates are learned across it.
  const drainContext = defaultDrainContext();
  /** Translates one piece of the capture that ends at a line end, writing as batches fill. */
  const translatePiece = async (piece: Buffer): Promise<void> => {
    const reader = new CaptureReader(piece, MAX_LINE_BYTES);
    const observed = Date.now() * 1000;
    for (;;) {
      const batch = newTelemetryBatch();
      for (let line = reader.next(); line !== null; line = reader.next()) {
        if (translateLineSafely(line, observed, batch, reader.frameStatus, undefined, drainContext) || line.shape === 'raw') summary.rawLines++;
        if (batch.logs.length >= RECORDS_PER_REQUEST) break;
      }
      if (batch.logs.length === 0) break;
      await out(otlpJsonLines(resource, scope, batch.logs, batch.metrics).join(''));
    }
    summary.lines += reader.stats.lines;
    summary.frameProblems += reader.stats.frameProblems;
    summary.longLines += reader.stats.longLines;
  };

  const pieces = await forEachPiece(options.input, stdin, warn, translatePiece);
  summary.longLines += pieces.longLines;
  if (summary.longLines > 0) warn(`${summary.longLines} ${summary.longLines === 1 ? 'line' : 'lines'} longer than ${MAX_LINE_BYTES} bytes skipped (the longest line parse reads)`);
  return summary;
}
