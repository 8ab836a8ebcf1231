/**
 * A local OTLP/HTTP sink for the end-to-end benchmark, in its own process: decodes protobuf
 * (gzip or not) with opentelemetry-proto's generated code and counts log records.
 * Prints its port on stdout; `GET /count` answers the records received so far.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js') as any;
const LogsRequest = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

let records = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(JSON.stringify({ records }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/v1/logs') {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const request = String(req.headers['content-type']).includes('json') ? JSON.parse(raw.toString('utf8')) : LogsRequest.decode(raw);
      for (const rl of request.resourceLogs) for (const sl of rl.scopeLogs) records += sl.logRecords.length;
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
