/**
 * The `debug` exporter: telemetry on stdout, as the Collector's debug exporter shows it.
 * `basic`: one line per batch with its counts; `normal`: one line per record, point and span;
 * `detailed`: OTLP/JSON for records and points, and for spans the Collector's text with every
 * field of each span.
 */
import { otlpJsonLines } from '../../translate/otlp-json.ts';
import type { AttributeValue, Attributes, SpanData } from '../../translate/telemetry.ts';
import { SCOPE, type ExportBatch, type ExportResult, type Exporter } from '../exporter.ts';
import type { DebugConfig } from './config.ts';

export interface TextSink {
  write(text: string): unknown;
}

function isoTime(micros: number): string {
  return micros === 0 ? '-' : new Date(Math.floor(micros / 1000)).toISOString().replace('Z', `${String(micros % 1000).padStart(3, '0')}Z`);
}

/** pdata's names of OTLP SpanKind and StatusCode, as the Collector's debug exporter prints them. */
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

/** A time as Go's time.Time prints in UTC (`2024-05-01 12:00:00.104521 +0000 UTC`): trailing zeros of the fraction dropped. */
function goTime(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(micros % 1000).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction === '' ? '' : `.${fraction}`} +0000 UTC`;
}

/** An attribute value as pcommon.Value's AsString: text as is, a list as JSON. */
function valueText(v: AttributeValue): string {
  return Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/** An attribute value with its pdata type, as the Collector's detailed output (`Str(GET)`, `Int(200)`). */
function typedValue(v: AttributeValue): string {
  const type = typeof v === 'string' ? 'Str' : typeof v === 'boolean' ? 'Bool' : Array.isArray(v) ? 'Slice' : Number.isSafeInteger(v) ? 'Int' : 'Double';
  return `${type}(${valueText(v)})`;
}

function attributeLines(header: string, attributes: Attributes): string {
  let text = '';
  for (const key in attributes) text += `     -> ${key}: ${typedValue(attributes[key]!)}\n`;
  return text === '' ? '' : `${header}:\n${text}`;
}

/** A field line of a span: the name padded to 15, as the Collector's otlptext writes it. */
function field(name: string, value: string): string {
  return `    ${name.padEnd(15)}: ${value}\n`;
}

/** The Collector's detailed text of one drain's spans (its otlptext traces marshaler). */
function spansText(resource: Attributes, spans: readonly SpanData[]): string {
  let text = `ResourceSpans #0\nResource SchemaURL: \n${attributeLines('Resource attributes', resource)}ScopeSpans #0\nScopeSpans SchemaURL: \nInstrumentationScope ${SCOPE.name} ${SCOPE.version}\n`;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    text += `Span #${i}\n`;
    text += field('Trace ID', s.traceId) + field('Parent ID', s.parentSpanId ?? '') + field('ID', s.spanId) + field('Name', s.name);
    text += field('Kind', SPAN_KINDS[s.kind] ?? String(s.kind));
    if (s.traceState !== '') text += field('TraceState', s.traceState);
    text += field('Start time', goTime(s.startUnixMicros)) + field('End time', goTime(s.endUnixMicros));
    text += field('Status code', STATUS_CODES[s.statusCode] ?? String(s.statusCode)) + field('Status message', s.statusMessage);
    text += '    DroppedAttributesCount: 0\n    DroppedEventsCount: 0\n    DroppedLinksCount: 0\n';
    text += attributeLines('Attributes', s.attributes);
  }
  return text;
}

/** What a batch holds, in words: its records and points, or its spans. */
function counts(batch: ExportBatch, spans: number): string {
  if (spans > 0 && batch.logs.length === 0 && batch.metrics.length === 0) return `${spans} spans`;
  return `${batch.logs.length} log records, ${batch.metrics.length} metric points${spans > 0 ? `, ${spans} spans` : ''}`;
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
    const spans = batch.spans ?? [];
    let text = `${this.id}: ${service}: ${counts(batch, spans.length)}\n`;
    if (this._verbosity === 'normal') {
      for (const r of batch.logs) text += `  ${isoTime(r.timeUnixMicros)} ${r.severityText || '-'} ${r.eventName} ${r.body}\n`;
      for (const p of batch.metrics) text += `  ${isoTime(p.timeUnixMicros)} ${p.name} ${p.type} ${p.value} ${p.unit} ${JSON.stringify(p.attributes)}\n`;
      // The Collector's normal line of a span: name, trace id, span id, then key=value attributes.
      for (const s of spans) {
        text += `  ${s.name} ${s.traceId} ${s.spanId}`;
        for (const key in s.attributes) text += ` ${key}=${valueText(s.attributes[key]!)}`;
        text += '\n';
      }
    } else if (this._verbosity === 'detailed') {
      text += otlpJsonLines(batch.resource, SCOPE, batch.logs, batch.metrics).join('');
      if (spans.length > 0) text += spansText(batch.resource, spans);
    }
    this._out.write(text);
    return { ok: true };
  }

  async shutdown(): Promise<void> {}
}
