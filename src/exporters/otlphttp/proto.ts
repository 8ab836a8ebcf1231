/**
 * OTLP protobuf encoding (ExportLogsServiceRequest, ExportMetricsServiceRequest,
 * ExportTraceServiceRequest) written straight from our LogRecordData, MetricPointData and
 * SpanData into one reused buffer.
 *
 * Why not the SDK's serializer: it first builds ReadableLogRecords, then walks them twice (a size
 * pass and a write pass) through generic writers, about 20 µs a router record in the sidecar's
 * profile, more than parsing, mapping and receiving the line together. Here each field is written
 * once, attribute keys come from a bounded cache of their encoded bytes (found by following the
 * key order of the last record, not by a lookup), and string lengths are taken on the
 * assumption that the text is ASCII (true of nearly every Heroku field), checked by the byte
 * count the write returns and redone with the exact length when it was not.
 *
 * Field numbers are opentelemetry-proto's (v1); tests decode the output with the generated code
 * of the official schema and compare it with what the SDK's serializer produces.
 */
import { bucketIndex, isMonotonic, startOf, temporalityOf } from '../../translate/otlp-json.ts';
import type { Attributes, LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';

interface InstrumentationScope {
  name: string;
  version: string;
}

/** Tag bytes: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
const TAG = {
  // ExportLogsServiceRequest, ExportMetricsServiceRequest, ResourceLogs/Metrics, ScopeLogs/Metrics
  resourceX: 0x0a,
  resource: 0x0a,
  scopeX: 0x12,
  scope: 0x0a,
  items: 0x12,
  resourceAttributes: 0x0a,
  // InstrumentationScope
  scopeName: 0x0a,
  scopeVersion: 0x12,
  // LogRecord
  time: 0x09,
  severityNumber: 0x10,
  severityText: 0x1a,
  body: 0x2a,
  logAttributes: 0x32,
  flags: 0x45,
  traceId: 0x4a,
  spanId: 0x52,
  observedTime: 0x59,
  eventName: 0x62,
  // KeyValue
  key: 0x0a,
  value: 0x12,
  // AnyValue
  stringValue: 0x0a,
  boolValue: 0x10,
  intValue: 0x18,
  doubleValue: 0x21,
  arrayValue: 0x2a,
  // ArrayValue
  arrayValues: 0x0a,
  // Metric
  metricName: 0x0a,
  metricUnit: 0x1a,
  gauge: 0x2a,
  sum: 0x3a,
  histogram: 0x4a,
  // Gauge, Sum, Histogram
  dataPoints: 0x0a,
  aggregationTemporality: 0x10,
  isMonotonic: 0x18,
  // NumberDataPoint
  startTime: 0x11,
  pointTime: 0x19,
  asDouble: 0x21,
  numberAttributes: 0x3a,
  // HistogramDataPoint
  count: 0x21,
  histogramSum: 0x29,
  bucketCounts: 0x32,
  explicitBounds: 0x3a,
  histogramAttributes: 0x4a,
  min: 0x59,
  max: 0x61,
  // Span (ScopeSpans.spans is `items`)
  spanTraceId: 0x0a,
  spanSpanId: 0x12,
  traceState: 0x1a,
  parentSpanId: 0x22,
  spanName: 0x2a,
  kind: 0x30,
  startTimeUnixNano: 0x39,
  endTimeUnixNano: 0x41,
  spanAttributes: 0x4a,
  status: 0x7a,
  // Span.flags is field 16, fixed32: a two-byte tag
  spanFlags0: 0x85,
  spanFlags1: 0x01,
  // Status
  statusMessage: 0x12,
  statusCode: 0x18,
} as const;

const TWO_32 = 4294967296;

/** Each char code's hex digit value (either case), 16 for a char that is none. */
const HEX_VALUE = new Uint8Array(128).fill(16);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Buffer's string writers (undocumented, as Buffer.write without its argument parsing): the byte count. */
interface BufferWriters {
  utf8Write(s: string, offset: number): number;
  latin1Write(s: string, offset: number): number;
}

/** Strings up to this many chars are written by a JS loop when ASCII. */
const SHORT_STRING = 48;

/** Attribute keys cached at most; the cache is emptied when full, as apps choose their keys too. */
const KEY_CACHE_MAX = 2048;

/** Keys longer than this are encoded each time, not cached: bounds the cache's bytes too. */
const KEY_CACHE_KEY_CHARS = 128;

/** The bytes of an int64 varint of a safe integer outside [0, 2^32). */
function int64Size(v: number): number {
  if (v < 0) return 10;
  let size = 5;
  for (let hi = Math.floor(v / 2 ** 35); hi > 0; hi = Math.floor(hi / 128)) size++;
  return size;
}

/** An attribute key's KeyValue.key field and the AnyValue's tag after it, as written. */
class KeyEntry {
  readonly key: string;
  readonly bytes: Uint8Array;
  /** `bytes` as little-endian 32-bit words, zero-padded: copied four bytes a write. */
  readonly words: Int32Array;
  /** The key that followed this one in the last attributes written (see ProtoWriter._keyAfter). */
  next: KeyEntry | undefined = undefined;

  constructor(key: string) {
    this.key = key;
    const utf8 = Buffer.from(key, 'utf8');
    const n = utf8.length;
    const bytes = new Uint8Array(1 + varintSize(n) + n + 1);
    bytes[0] = TAG.key;
    let i = 1;
    for (let m = n; ; m >>>= 7) {
      if (m <= 0x7f) {
        bytes[i++] = m;
        break;
      }
      bytes[i++] = (m & 0x7f) | 0x80;
    }
    bytes.set(utf8, i);
    bytes[i + n] = TAG.value;
    this.bytes = bytes;
    const words = new Int32Array(Math.ceil(bytes.length / 4));
    new Uint8Array(words.buffer).set(bytes);
    this.words = words;
  }
}

/**
 * Points grouped into one Metric per name, type, unit and temporality, groups in the order of
 * their first point, points in input order; no key built a point (points of one metric mostly
 * come together: the last point's group is tried first).
 */
function metricGroups(points: readonly MetricPointData[]): MetricPointData[][] {
  const groups: MetricPointData[][] = [];
  const byName = new Map<string, MetricPointData[][]>();
  let last: MetricPointData[] | undefined;
  for (const p of points) {
    if (last !== undefined && sameMetric(last[0]!, p)) {
      last.push(p);
      continue;
    }
    let named = byName.get(p.name);
    if (named === undefined) byName.set(p.name, (named = []));
    last = undefined;
    for (const g of named) {
      if (sameMetric(g[0]!, p)) {
        last = g;
        break;
      }
    }
    if (last === undefined) {
      last = [];
      named.push(last);
      groups.push(last);
    }
    last.push(p);
  }
  return groups;
}

function sameMetric(a: MetricPointData, b: MetricPointData): boolean {
  return a.name === b.name && a.type === b.type && a.unit === b.unit && a.temporality === b.temporality;
}

/**
 * The write position and the buffer. One writer is reused across batches (the output is copied
 * out), so steady state allocates only the result.
 */
class ProtoWriter {
  buf: Buffer;
  view: DataView;
  pos = 0;
  private readonly _keys = new Map<string, KeyEntry>();
  /** Where each attributes() starts its key predictions: `next` is the first key last time. */
  private readonly _start = new KeyEntry('');

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** One byte, with room made for it (a write past a typed array's end is silently lost). */
  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint below 2^32 (room already ensured). */
  varint(n: number): void {
    const buf = this.buf;
    while (n > 0x7f) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  /** An int64 varint of a safe integer; negatives take ten bytes, as protobuf says. */
  int64(v: number): void {
    this.ensure(10);
    if (v >= 0 && v < TWO_32) {
      this.varint(v);
      return;
    }
    let lo: number;
    let hi: number;
    if (v >= 0) {
      hi = Math.floor(v / TWO_32);
      lo = v - hi * TWO_32;
    } else {
      const big = BigInt.asUintN(64, BigInt(v));
      lo = Number(big & 0xffffffffn);
      hi = Number(big >> 32n);
    }
    const buf = this.buf;
    while (hi > 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.varint(lo);
  }

  /** A fixed64 of nanoseconds from microseconds (exact: both halves stay below 2^53). */
  nanosFromMicros(micros: number): void {
    const hi = Math.floor(micros / TWO_32);
    const loNanos = (micros - hi * TWO_32) * 1000;
    const carry = Math.floor(loNanos / TWO_32);
    this.view.setUint32(this.pos, loNanos - carry * TWO_32, true);
    this.view.setUint32(this.pos + 4, hi * 1000 + carry, true);
    this.pos += 8;
  }

  /** A fixed64 of a safe non-negative integer. */
  fixed64(v: number): void {
    const hi = Math.floor(v / TWO_32);
    this.view.setUint32(this.pos, v - hi * TWO_32, true);
    this.view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /**
   * `tag`, then an id of `bytes` bytes from its hex (room already ensured). An id that is not
   * that many hex digits is left out rather than written short, which would garble the message.
   */
  id(tag: number, hex: string, bytes: number): void {
    if (hex.length !== 2 * bytes) return;
    const buf = this.buf;
    const at = this.pos + 2;
    // By hand: three ids a span through Buffer.write('hex') cost more than the rest of the span.
    for (let i = 0; i < bytes; i++) {
      const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? 16;
      const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? 16;
      if ((hi | lo) > 15) return;
      buf[at + i] = (hi << 4) | lo;
    }
    buf[this.pos] = tag;
    buf[this.pos + 1] = bytes;
    this.pos = at + bytes;
  }

  /**
   * Writes `s` as UTF-8 at the position; the byte count. Short strings are copied by hand when
   * ASCII (cheaper than a call into C++ for a dozen bytes); the rest go through Buffer's writer.
   */
  private _utf8(s: string): number {
    const n = s.length;
    if (n <= SHORT_STRING) {
      const buf = this.buf;
      const at = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[at + i] = c;
      }
      if (i === n) return n;
    }
    // Text sliced from a line (a body) is off the fast path of Buffer's UTF-8 writer; counting its
    // bytes then copying it as Latin-1 when ASCII takes two thirds of the time.
    const buf = this.buf as unknown as BufferWriters;
    return n > SHORT_STRING && Buffer.byteLength(s) === n ? buf.latin1Write(s, this.pos) : buf.utf8Write(s, this.pos);
  }

  /** `tag`, length, text. */
  string(tag: number, s: string): void {
    let n = s.length;
    this.ensure(11 + 3 * n);
    const start = this.pos;
    for (;;) {
      this.buf[this.pos++] = tag;
      this.varint(n);
      const written = this._utf8(s);
      if (written === n) break;
      // Not ASCII: redo with the exact length.
      this.pos = start;
      n = Buffer.byteLength(s);
    }
    this.pos += n;
  }

  /** `tag`, AnyValue{string_value}: a body, or an array element. */
  anyString(tag: number, s: string): void {
    let n = s.length;
    this.ensure(16 + 3 * n);
    const start = this.pos;
    for (;;) {
      this.buf[this.pos++] = tag;
      this.varint(1 + varintSize(n) + n);
      this.buf[this.pos++] = TAG.stringValue;
      this.varint(n);
      if (this._utf8(s) === n) break;
      this.pos = start;
      n = Buffer.byteLength(s);
    }
    this.pos += n;
  }

  /**
   * The cache entry of `key`: first the one that followed `previous` last time (records of one
   * kind list their attributes in one order, so this is nearly always it, and an identity check of
   * two interned strings is cheaper than a Map lookup), then the Map.
   */
  private _keyAfter(previous: KeyEntry, key: string): KeyEntry {
    const predicted = previous.next;
    if (predicted !== undefined && predicted.key === key) return predicted;
    let entry = this._keys.get(key);
    if (entry === undefined) {
      entry = new KeyEntry(key);
      // Keys come from apps' lines too: a bounded cache, emptied when full (the few keys that
      // repeat are back after a record or two), and none for long keys.
      if (key.length > KEY_CACHE_KEY_CHARS) return entry;
      if (this._keys.size >= KEY_CACHE_MAX) this._forgetKeys();
      this._keys.set(key, entry);
    }
    previous.next = entry;
    return entry;
  }

  private _forgetKeys(): void {
    this._keys.clear();
    this._start.next = undefined;
  }

  /** Attribute keys cached (bounded by KEY_CACHE_MAX). */
  get cachedKeys(): number {
    return this._keys.size;
  }

  /**
   * KeyValue fields, one for each attribute, under `tag`. The values come from Object.values, not
   * `attributes[key]`: some records' attributes are dictionaries (many keys added by name), and
   * once one has gone through this loop every keyed load in it is a megamorphic lookup, about
   * 20 ns an attribute; the array costs one allocation a record.
   */
  attributes(tag: number, attributes: Attributes): void {
    let entry = this._start;
    const values = Object.values(attributes);
    let j = 0;
    for (const key in attributes) {
      // Same order as for-in, which would also list inherited enumerable keys: none of ours.
      if (j === values.length) break;
      entry = this._keyAfter(entry, key);
      const value = values[j++]!;
      if (typeof value === 'string') this._stringKeyValue(tag, entry, value);
      else if (typeof value === 'number') this._numberKeyValue(tag, entry, value);
      else if (typeof value === 'boolean') this._boolKeyValue(tag, entry, value);
      else this._arrayKeyValue(tag, entry, value);
    }
  }

  /** `tag`, the KeyValue's length, its key and the value's tag: the start of every KeyValue. */
  private _keyValueHead(tag: number, entry: KeyEntry, length: number): void {
    const buf = this.buf;
    buf[this.pos++] = tag;
    this.varint(length);
    const words = entry.words;
    const view = this.view;
    const p = this.pos;
    for (let i = 0; i < words.length; i++) view.setInt32(p + 4 * i, words[i]!, true);
    this.pos = p + entry.bytes.length;
  }

  private _stringKeyValue(tag: number, entry: KeyEntry, value: string): void {
    const k = entry.bytes.length;
    // Assume ASCII: as many bytes as chars, checked by the write, redone with the exact count if not.
    let n = value.length;
    this.ensure(21 + k + 3 * n);
    const start = this.pos;
    // The common case, a short ASCII value under a short key: every length fits one byte.
    if (k + n + 3 < 0x80) {
      const buf = this.buf;
      let p = start;
      buf[p++] = tag;
      buf[p++] = k + n + 3;
      const words = entry.words;
      const view = this.view;
      for (let i = 0; i < words.length; i++) view.setInt32(p + 4 * i, words[i]!, true);
      p += k;
      buf[p++] = n + 2;
      buf[p++] = TAG.stringValue;
      buf[p++] = n;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p + i] = c;
      }
      if (i === n) {
        this.pos = p + n;
        return;
      }
    }
    for (;;) {
      const anyLength = 1 + varintSize(n) + n;
      this._keyValueHead(tag, entry, k + varintSize(anyLength) + anyLength);
      this.varint(anyLength);
      this.buf[this.pos++] = TAG.stringValue;
      this.varint(n);
      if (this._utf8(value) === n) break;
      this.pos = start;
      n = Buffer.byteLength(value);
    }
    this.pos += n;
  }

  /** Numbers as the OTLP/JSON encoding says them: exact integers as int, Infinity and NaN as text. */
  private _numberKeyValue(tag: number, entry: KeyEntry, value: number): void {
    const k = entry.bytes.length;
    this.ensure(24 + k);
    if (Number.isSafeInteger(value)) {
      const size = value >= 0 && value < TWO_32 ? varintSize(value) : int64Size(value);
      this._keyValueHead(tag, entry, k + 2 + size);
      this.buf[this.pos++] = 1 + size;
      this.buf[this.pos++] = TAG.intValue;
      this.int64(value);
    } else if (Number.isFinite(value)) {
      this._keyValueHead(tag, entry, k + 10);
      this.buf[this.pos++] = 9;
      this.buf[this.pos++] = TAG.doubleValue;
      this.double(value);
    } else {
      this._stringKeyValue(tag, entry, String(value));
    }
  }

  private _boolKeyValue(tag: number, entry: KeyEntry, value: boolean): void {
    this.ensure(12 + entry.bytes.length);
    this._keyValueHead(tag, entry, entry.bytes.length + 3);
    this.buf[this.pos++] = 2;
    this.buf[this.pos++] = TAG.boolValue;
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** An array of strings: its length is known only once written, so it is fixed up after. */
  private _arrayKeyValue(tag: number, entry: KeyEntry, value: readonly string[]): void {
    const k = entry.bytes.length;
    this.ensure(8 + k);
    this.buf[this.pos++] = tag;
    const lengthAt = this.pos++;
    const bytes = entry.bytes;
    for (let i = 0; i < k; i++) this.buf[this.pos++] = bytes[i]!;
    const anyAt = this.pos++;
    this.buf[this.pos++] = TAG.arrayValue;
    const arrayAt = this.pos++;
    for (const element of value) this.anyString(TAG.arrayValues, element);
    this.closeLength(arrayAt, 1);
    this.closeLength(anyAt, 1);
    this.closeLength(lengthAt, 1);
  }

  /**
   * Writes the length of the message that starts `reserved` bytes after `at` and ends at the
   * position, moving the message when its length needs another number of bytes.
   */
  closeLength(at: number, reserved: number): void {
    const bodyStart = at + reserved;
    const length = this.pos - bodyStart;
    const size = varintSize(length);
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(at + size, bodyStart, this.pos);
      this.pos += size - reserved;
    }
    const end = this.pos;
    this.pos = at;
    this.varint(length);
    this.pos = end;
  }

  /** Reserves `reserved` bytes for a length: pass the result to closeLength. */
  openLength(reserved: number): number {
    this.ensure(reserved);
    const at = this.pos;
    this.pos += reserved;
    return at;
  }

  /** Resource, then the scope: the bytes every request of this drain starts with. */
  bytesOf(write: () => void): Buffer {
    const start = this.pos;
    write();
    const out = this.copy(start, this.pos);
    this.pos = start;
    return out;
  }

  /**
   * Wraps what was written from `itemsStart` in ScopeX{scope, items} inside ResourceX{resource,
   * ...}: the prefix goes in the headroom left before `itemsStart`. A copy of the request.
   */
  finish(itemsStart: number, resourceField: Buffer, scopeField: Buffer): Uint8Array {
    const items = this.pos - itemsStart;
    const scopeLength = scopeField.length + items;
    const resourceLength = resourceField.length + 1 + varintSize(scopeLength) + scopeLength;
    const prefix = 1 + varintSize(resourceLength) + resourceField.length + 1 + varintSize(scopeLength) + scopeField.length;
    const start = itemsStart - prefix;
    const end = this.pos;
    this.pos = start;
    this.byte(TAG.resourceX);
    this.varint(resourceLength);
    resourceField.copy(this.buf, this.pos);
    this.pos += resourceField.length;
    this.byte(TAG.scopeX);
    this.varint(scopeLength);
    scopeField.copy(this.buf, this.pos);
    this.pos = end;
    return this.buf.subarray(start, end);
  }

  /**
   * A copy of bytes [start, end) in memory of its own: it may wait in a queue for minutes, and a
   * small Buffer.allocUnsafe is a slice of an 8 KB pool slab that it would keep alive whole
   * (a one-line POST's ~300 bytes pinning 8 KB).
   */
  copy(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafeSlow(end - start);
    out.set(this.buf.subarray(start, end));
    return out;
  }
}

/**
 * Encodes batches as OTLP protobuf requests into one buffer it keeps and reuses: what a call
 * returns is a view of that buffer, valid until the encoder's next call. One encoder per request
 * in flight (the exporter keeps a few): reusing the buffer spares the allocation and the copy of
 * megabytes per batch, and the garbage collections that large allocations set off.
 */
export class OtlpProtoEncoder {
  private readonly _writer: ProtoWriter;
  private readonly _scopeField: Buffer;
  /** Per drain resource object: its encoded ResourceX.resource field. */
  private readonly _resources = new WeakMap<Attributes, Buffer>();

  /** `initialBytes`: the buffer's first size (it grows as needed); small in tests, to grow often. */
  constructor(scope: InstrumentationScope, initialBytes = 1 << 20) {
    this._writer = new ProtoWriter(initialBytes);
    const w = this._writer;
    this._scopeField = w.bytesOf(() => {
      w.byte(TAG.scope);
      const at = w.openLength(1);
      w.string(TAG.scopeName, scope.name);
      w.string(TAG.scopeVersion, scope.version);
      w.closeLength(at, 1);
    });
  }

  /** Attribute keys whose encoded bytes are cached now: at most 2048, whatever keys apps send. */
  get cachedKeys(): number {
    return this._writer.cachedKeys;
  }

  private _resourceField(resource: Attributes): Buffer {
    let field = this._resources.get(resource);
    if (field === undefined) {
      const w = this._writer;
      field = w.bytesOf(() => {
        w.byte(TAG.resource);
        const at = w.openLength(2);
        w.attributes(TAG.resourceAttributes, resource);
        w.closeLength(at, 2);
      });
      this._resources.set(resource, field);
    }
    return field;
  }

  /** Room for the ResourceX and ScopeX prefixes before the items. */
  private _begin(resourceField: Buffer): number {
    const w = this._writer;
    w.pos = 0;
    const headroom = resourceField.length + this._scopeField.length + 12;
    w.ensure(headroom);
    w.pos = headroom;
    return headroom;
  }

  logs(resource: Attributes, records: readonly LogRecordData[]): Uint8Array {
    const resourceField = this._resourceField(resource);
    const itemsStart = this._begin(resourceField);
    this._logRecords(records);
    return this._writer.finish(itemsStart, resourceField, this._scopeField);
  }

  /**
   * Records as the ScopeLogs.log_records fields of a request, one after another, in a buffer of
   * their own: what a sending queue holds (and stores) instead of the records, so that they are
   * encoded once. `logsOf` makes a request of such fragments without encoding them again.
   */
  logFragments(records: readonly LogRecordData[]): Buffer {
    const w = this._writer;
    w.pos = 0;
    this._logRecords(records);
    return w.copy(0, w.pos);
  }

  /** A request of what `logFragments` made (any number of its results, in order), as `logs` would encode their records. */
  logsOf(resource: Attributes, fragments: readonly Uint8Array[]): Uint8Array {
    return this._wrap(resource, fragments);
  }

  /** Spans as the ScopeSpans.spans fields of a request: `logFragments` for spans. */
  spanFragments(spans: readonly SpanData[]): Buffer {
    const w = this._writer;
    w.pos = 0;
    this._spans(spans);
    return w.copy(0, w.pos);
  }

  /** A request of what `spanFragments` made, as `spans` would encode their spans. */
  spansOf(resource: Attributes, fragments: readonly Uint8Array[]): Uint8Array {
    return this._wrap(resource, fragments);
  }

  private _wrap(resource: Attributes, fragments: readonly Uint8Array[]): Uint8Array {
    const w = this._writer;
    const resourceField = this._resourceField(resource);
    const itemsStart = this._begin(resourceField);
    for (const f of fragments) {
      w.ensure(f.length);
      w.buf.set(f, w.pos);
      w.pos += f.length;
    }
    return w.finish(itemsStart, resourceField, this._scopeField);
  }

  private _logRecords(records: readonly LogRecordData[]): void {
    const w = this._writer;
    for (const r of records) {
      w.byte(TAG.items);
      const at = w.openLength(2);
      w.ensure(40);
      if (r.timeUnixMicros !== 0) {
        w.byte(TAG.time);
        w.nanosFromMicros(r.timeUnixMicros);
      }
      if (r.severityNumber !== 0) {
        w.byte(TAG.severityNumber);
        w.varint(r.severityNumber);
      }
      if (r.severityText !== '') w.string(TAG.severityText, r.severityText);
      w.anyString(TAG.body, r.body);
      w.attributes(TAG.logAttributes, r.attributes);
      if (r.traceId !== undefined && r.spanId !== undefined && r.traceId.length === 32 && r.spanId.length === 16) {
        w.ensure(48);
        if (r.traceFlags !== 0) {
          w.byte(TAG.flags);
          w.view.setUint32(w.pos, r.traceFlags, true);
          w.pos += 4;
        }
        w.id(TAG.traceId, r.traceId, 16);
        w.id(TAG.spanId, r.spanId, 8);
      }
      w.ensure(9);
      w.byte(TAG.observedTime);
      w.nanosFromMicros(r.observedUnixMicros);
      if (r.eventName !== '') w.string(TAG.eventName, r.eventName);
      w.closeLength(at, 2);
    }
  }

  metrics(resource: Attributes, points: readonly MetricPointData[]): Uint8Array {
    const w = this._writer;
    const resourceField = this._resourceField(resource);
    const itemsStart = this._begin(resourceField);
    // One Metric per name, type, unit and temporality, its points in input order (as the OTLP/JSON encoding).
    for (const group of metricGroups(points)) {
      const first = group[0]!;
      w.byte(TAG.items);
      const metricAt = w.openLength(3);
      w.string(TAG.metricName, first.name);
      if (first.unit !== '') w.string(TAG.metricUnit, first.unit);
      w.ensure(1);
      w.byte(first.type === 'gauge' ? TAG.gauge : first.type === 'histogram' ? TAG.histogram : TAG.sum);
      const dataAt = w.openLength(3);
      for (const p of group) {
        w.ensure(1);
        w.byte(TAG.dataPoints);
        const pointAt = w.openLength(1);
        if (p.type === 'histogram') this._histogramPoint(p);
        else this._numberPoint(p);
        w.closeLength(pointAt, 1);
      }
      w.ensure(4);
      if (first.type !== 'gauge') {
        w.byte(TAG.aggregationTemporality);
        w.byte(temporalityOf(first));
      }
      if (first.type !== 'gauge' && first.type !== 'histogram') {
        w.byte(TAG.isMonotonic);
        w.byte(isMonotonic(group) ? 1 : 0);
      }
      w.closeLength(dataAt, 3);
      w.closeLength(metricAt, 3);
    }
    return w.finish(itemsStart, resourceField, this._scopeField);
  }

  /**
   * ResourceSpans{resource, ScopeSpans{scope, spans}}: each span with its ids, name, kind, times,
   * attributes, status and trace flags; fields at their default (no parent, no trace state, an
   * unset status without a message, flags 0) are left out, as protobuf reads them the same.
   */
  spans(resource: Attributes, spans: readonly SpanData[]): Uint8Array {
    const resourceField = this._resourceField(resource);
    const itemsStart = this._begin(resourceField);
    this._spans(spans);
    return this._writer.finish(itemsStart, resourceField, this._scopeField);
  }

  private _spans(spans: readonly SpanData[]): void {
    const w = this._writer;
    for (const s of spans) {
      w.byte(TAG.items);
      const at = w.openLength(2);
      // Three ids with their tags and lengths, kind, two times.
      w.ensure(72);
      w.id(TAG.spanTraceId, s.traceId, 16);
      w.id(TAG.spanSpanId, s.spanId, 8);
      if (s.traceState !== '') w.string(TAG.traceState, s.traceState);
      w.ensure(10);
      if (s.parentSpanId !== undefined) w.id(TAG.parentSpanId, s.parentSpanId, 8);
      if (s.name !== '') w.string(TAG.spanName, s.name);
      w.ensure(30);
      if (s.kind !== 0) {
        w.byte(TAG.kind);
        w.varint(s.kind);
      }
      w.byte(TAG.startTimeUnixNano);
      w.nanosFromMicros(s.startUnixMicros);
      w.byte(TAG.endTimeUnixNano);
      w.nanosFromMicros(s.endUnixMicros);
      w.attributes(TAG.spanAttributes, s.attributes);
      if (s.statusCode !== 0 || s.statusMessage !== '') {
        w.ensure(1);
        w.byte(TAG.status);
        const statusAt = w.openLength(1);
        if (s.statusMessage !== '') w.string(TAG.statusMessage, s.statusMessage);
        w.ensure(6);
        if (s.statusCode !== 0) {
          w.byte(TAG.statusCode);
          w.varint(s.statusCode);
        }
        w.closeLength(statusAt, 1);
      }
      if (s.traceFlags !== 0) {
        w.ensure(6);
        w.byte(TAG.spanFlags0);
        w.byte(TAG.spanFlags1);
        w.view.setUint32(w.pos, s.traceFlags >>> 0, true);
        w.pos += 4;
      }
      w.closeLength(at, 2);
    }
  }

  private _numberPoint(p: MetricPointData): void {
    const w = this._writer;
    w.attributes(TAG.numberAttributes, p.attributes);
    w.ensure(27);
    if (p.type !== 'gauge') {
      w.byte(TAG.startTime);
      w.nanosFromMicros(startOf(p));
    }
    w.byte(TAG.pointTime);
    w.nanosFromMicros(p.timeUnixMicros);
    w.byte(TAG.asDouble);
    w.double(p.value);
  }

  private _histogramPoint(p: MetricPointData): void {
    const w = this._writer;
    const bounds = p.bounds ?? [];
    const m = p.merged;
    w.attributes(TAG.histogramAttributes, p.attributes);
    // Six tagged 8-byte fields, two packed arrays with their tags and lengths.
    w.ensure(80 + 16 * bounds.length);
    w.byte(TAG.startTime);
    w.nanosFromMicros(startOf(p));
    w.byte(TAG.pointTime);
    w.nanosFromMicros(p.timeUnixMicros);
    w.byte(TAG.count);
    w.fixed64(m === undefined ? 1 : m.count);
    // The specification leaves sum out of histograms that record negative values; a delta made
    // from cumulative points has no min (NaN): its sum then says.
    const min = m === undefined ? p.value : m.min;
    if (min >= 0 || (Number.isNaN(min) && m!.sum >= 0)) {
      w.byte(TAG.histogramSum);
      w.double(m === undefined ? p.value : m.sum);
    }
    const bucket = m === undefined ? bucketIndex(bounds, p.value) : -1;
    w.byte(TAG.bucketCounts);
    w.varint(8 * (bounds.length + 1));
    for (let i = 0; i <= bounds.length; i++) w.fixed64(m === undefined ? (i === bucket ? 1 : 0) : m.bucketCounts[i]!);
    if (bounds.length > 0) {
      w.byte(TAG.explicitBounds);
      w.varint(8 * bounds.length);
      for (const b of bounds) w.double(b);
    }
    if (!Number.isNaN(min)) {
      w.byte(TAG.min);
      w.double(min);
      w.byte(TAG.max);
      w.double(m === undefined ? p.value : m.max);
    }
  }

}
