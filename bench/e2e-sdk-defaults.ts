/**
 * The SDK-defaults pipeline of the end-to-end benchmark, an external reference: a Logplex endpoint
 * that feeds each parsed line to the OpenTelemetry SDK with its defaults (LoggerProvider +
 * BatchLogRecordProcessor + the OTLP protobuf exporter, gzip). It answers 200 at once, as such a server would; the SDK's bounded
 * queue then drops what it cannot send, which is what the benchmark shows.
 * Usage: node bench/e2e-sdk-defaults.ts SINK_URL; prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { bodyToTelemetry } from '../src/receivers/logplex/body.ts';

const exporter = new OTLPLogExporter({ url: `${process.argv[2]}/v1/logs`, compression: 'gzip' as never });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench', 'cloud.provider': 'heroku' }),
  processors: [new BatchLogRecordProcessor({ exporter })],
});
const logger = provider.getLogger('sdk-defaults');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const { telemetry } = bodyToTelemetry(Buffer.concat(chunks), Date.now() * 1000);
    for (const r of telemetry.logs) {
      logger.emit({ timestamp: r.timeUnixMicros / 1000, severityNumber: r.severityNumber, severityText: r.severityText, body: r.body, attributes: r.attributes, eventName: r.eventName });
    }
    res.writeHead(200).end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => {
  provider.shutdown().finally(() => process.exit(0));
});
