/**
 * A local OTLP/HTTP sink for the end-to-end benchmark, in its own process: gunzips and counts the
 * log records of each request by walking the protobuf wire format (ResourceLogs > ScopeLogs >
 * LogRecord), and decodes every 20th request in full with opentelemetry-proto's generated code,
 * checking that the counts agree. Cheap on purpose: on a two-core machine whatever the sink
 * spends is taken from the server being measured. JSON requests are parsed.
 * Prints its port on stdout; `GET /count` answers the records received so far (and any errors).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const LogsRequest = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Length-delimited fields numbered `field` in buf[start, end), as [start, end) pairs. */
function children(buf: Buffer, start: number, end: number, field: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let pos = start;
  while (pos < end) {
    const [tag, p] = varint(buf, pos);
    pos = p;
    const wire = tag & 7;
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [length, q] = varint(buf, pos);
      if (tag >>> 3 === field) out.push([q, q + length]);
      pos = q + length;
    } else throw new Error(`wire type ${wire}`);
  }
  if (pos !== end) throw new Error('message overruns its length');
  return out;
}

function countLogRecords(buf: Buffer): number {
  let n = 0;
  for (const [a, b] of children(buf, 0, buf.length, 1)) for (const [c, d] of children(buf, a, b, 2)) n += children(buf, c, d, 2).length;
  return n;
}

let records = 0;
let requests = 0;
const errors: string[] = [];
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(JSON.stringify({ records, requests, errors }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      if (req.url === '/v1/logs') {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        else if (req.headers['content-encoding'] === 'zstd') raw = zstdDecompressSync(raw);
        if (String(req.headers['content-type']).includes('json')) {
          const request = JSON.parse(raw.toString('utf8'));
          for (const rl of request.resourceLogs) for (const sl of rl.scopeLogs) records += sl.logRecords.length;
        } else {
          const n = countLogRecords(raw);
          if (requests % 20 === 0) {
            const decoded = LogsRequest.decode(raw);
            let m = 0;
            for (const rl of decoded.resourceLogs) for (const sl of rl.scopeLogs) m += sl.logRecords.length;
            if (m !== n) throw new Error(`wire walk counted ${n} records, the generated decoder ${m}`);
          }
          records += n;
        }
        requests++;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    } catch (error) {
      errors.push(String(error));
      res.writeHead(400);
      res.end(String(error));
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
