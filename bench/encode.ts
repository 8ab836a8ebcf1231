/**
 * `otlp encode`: the mix's log records (translated once, beforehand) encoded as OTLP protobuf
 * requests of 1024 records, as the batch processor sends them by default: our encoder, and the SDK's
 * ProtobufLogsSerializer (after the conversion to ReadableLogRecord it needs) as the baseline.
 * Records per second; gzip is not included.
 */
import { createRequire } from 'node:module';
import { SCOPE } from '../src/exporters/exporter.ts';
import { OtlpProtoEncoder } from '../src/exporters/otlphttp/proto.ts';
import { interpretLine } from '../src/heroku/classify.ts';
import { readCapture } from '../src/heroku/input.ts';
import { drainResource } from '../src/translate/resource.ts';
import { newTelemetryBatch, type LogRecordData } from '../src/translate/telemetry.ts';
import { translateEvent } from '../src/translate/translate.ts';
import { toReadableLogRecords } from '../test/support/sdk-oracle.ts';
import type { Scenario } from './harness.ts';
import type { Body } from './mix.ts';

const require = createRequire(import.meta.url);
const BATCH = 1024;

export function encodeInputs(bodies: readonly Body[]): LogRecordData[][] {
  const batch = newTelemetryBatch();
  for (const body of bodies) readCapture(body.buf, (line, status) => translateEvent(line, interpretLine(line), Date.now() * 1000, batch, status));
  const batches: LogRecordData[][] = [];
  for (let i = 0; i < batch.logs.length; i += BATCH) batches.push(batch.logs.slice(i, i + BATCH));
  return batches;
}

export function encodeScenarios(batches: readonly LogRecordData[][]): Scenario[] {
  const records = batches.reduce((n, b) => n + b.length, 0);
  const resource = drainResource({ 'service.name': 'shop-web' });
  const encoder = new OtlpProtoEncoder(SCOPE);
  // The SDK's serializer as the exporter-logs-otlp-proto package uses it (otlp-transformer).
  const sdk = require(require.resolve('@opentelemetry/otlp-transformer', { paths: [require.resolve('@opentelemetry/exporter-logs-otlp-proto')] })) as {
    ProtobufLogsSerializer: { serializeRequest(records: unknown[]): Uint8Array };
  };
  return [
    {
      name: 'otlp encode',
      what: 'log records to an OTLP protobuf request, 1024 a request (our encoder)',
      items: records,
      pass: () => {
        let bytes = 0;
        for (const b of batches) bytes += encoder.logs(resource, b).length;
        return bytes;
      },
    },
    {
      name: 'sdk otlp encode',
      what: "the same with the SDK's ReadableLogRecord and ProtobufLogsSerializer",
      items: records,
      pass: () => {
        let bytes = 0;
        for (const b of batches) bytes += sdk.ProtobufLogsSerializer.serializeRequest(toReadableLogRecords(resource, b)).length;
        return bytes;
      },
    },
  ];
}
