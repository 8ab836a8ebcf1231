/**
 * What an OTLP/HTTP backend says back: the partial success of a 2xx (ExportLogsServiceResponse,
 * ExportMetricsServiceResponse, ExportTraceServiceResponse) and the message of an error (google.rpc.Status), in protobuf or
 * JSON, or the first words of whatever else a proxy answered. Never throws: a body we cannot
 * read is only a message we cannot show.
 */

/** How much of an unreadable error body goes into the log line. */
const MAX_MESSAGE_CHARS = 300;

interface Field {
  number: number;
  /** Varint value, or the bytes of a length-delimited field. */
  varint: number;
  bytes: Buffer | undefined;
}

/** The top-level fields of a protobuf message; stops at the first malformed byte. */
function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new RangeError('truncated');
      const b = buf[pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return value;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (pos < buf.length) {
      const tag = varint();
      const number = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) yield { number, varint: varint(), bytes: undefined };
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const length = varint();
        if (pos + length > buf.length) return;
        yield { number, varint: 0, bytes: buf.subarray(pos, pos + length) };
        pos += length;
      } else return;
    }
  } catch {
    return;
  }
}

function parseJson(text: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Each signal's count of rejected items in an OTLP/JSON partial success. */
const REJECTED_JSON_KEY = { logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints', traces: 'rejectedSpans' } as const;

/**
 * The partial success of a 2xx response: records, points or spans the backend rejected, and its
 * message (a message with nothing rejected is a warning). undefined when it accepted everything.
 * The three responses put the count and the message at the same field numbers (1 and 2).
 */
export function partialSuccess(body: Buffer, proto: boolean, signal: 'logs' | 'metrics' | 'traces'): { rejected: number; message: string } | undefined {
  if (body.length === 0) return undefined;
  let rejected = 0;
  let message = '';
  if (proto) {
    for (const f of fields(body)) {
      if (f.number !== 1 || f.bytes === undefined) continue;
      for (const g of fields(f.bytes)) {
        if (g.number === 1 && g.bytes === undefined) rejected = g.varint;
        else if (g.number === 2 && g.bytes !== undefined) message = g.bytes.toString('utf8');
      }
    }
  } else {
    const partial = parseJson(body)?.partialSuccess as Record<string, unknown> | undefined;
    if (partial !== undefined && partial !== null) {
      rejected = Number(partial[REJECTED_JSON_KEY[signal]] ?? 0) || 0;
      message = typeof partial.errorMessage === 'string' ? partial.errorMessage : '';
    }
  }
  return rejected === 0 && message === '' ? undefined : { rejected, message };
}

/** The message of an error response: google.rpc.Status's, or the body's first words. */
export function statusMessage(body: Buffer, proto: boolean): string {
  if (body.length === 0) return '';
  if (proto) {
    for (const f of fields(body)) if (f.number === 2 && f.bytes !== undefined) return oneLine(f.bytes.toString('utf8'));
  }
  const json = parseJson(body);
  if (json !== undefined && typeof json.message === 'string') return oneLine(json.message);
  if (proto) return '';
  return oneLine(body.toString('utf8'));
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS)}…` : flat;
}
