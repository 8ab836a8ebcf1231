/**
 * The acceptance rules of the Prometheus OTLP translator and of the TSDB behind it, applied to
 * decoded OTLP ExportMetricsServiceRequests (the plain objects test/support/otlp-server.ts
 * `decodeOtlpBody` returns, from protobuf or OTLP/JSON), with the state a real store keeps
 * across requests. It answers what the real backend would (status and message) and records,
 * per resulting Prometheus series, every sample it stored, so tests can assert what a user of
 * Grafana Cloud, Mimir or Prometheus would see.
 *
 * Sources (read at the commits named; cite these when a rule changes):
 * - T: prometheus/prometheus d15adb9 storage/remote/otlptranslator/prometheusremotewrite/
 *   metrics_to_prw.go (FromMetrics, setResourceContext), helper.go (createAttributes,
 *   addHistogramDataPoints, addResourceTargetInfo, aggregationTemporality),
 *   number_data_points.go, histograms.go, otlp_to_openmetrics_metadata.go.
 * - N: prometheus/otlptranslator 51da773 metric_namer.go, unit_namer.go, label_namer.go,
 *   strconv.go (names; UnderscoreEscapingWithSuffixes is Prometheus's default,
 *   prometheus config/config.go DefaultOTLPConfig).
 * - H: prometheus/prometheus storage/remote/write_otlp_handler.go (rwExporter.ConsumeMetrics,
 *   otlpWriteHandler.ServeHTTP) and write_handler.go (remoteWriteAppenderV2, maxAheadTime);
 *   tsdb/head_append.go (memSeries.appendable, minValidTime); storage/interface.go and
 *   storage/errors.go (error texts).
 * - M: grafana/mimir pkg/distributor/otel.go (OTLPHandler, otlpMimirConverter.Err,
 *   handlePartialOTLPPush), pkg/distributor/errors.go (soft errors), pkg/ingester/errors.go
 *   (sample error texts), docs/sources/mimir/manage/mimir-runbooks/_index.md
 *   (err-mimir-sample-out-of-order, err-mimir-sample-duplicate-timestamp,
 *   err-mimir-sample-timestamp-too-old, err-mimir-too-far-in-future), grafana/mimir#6696,
 *   #12579 and #14789 (partial success with rejected_data_points).
 * - G: https://grafana.com/docs/grafana-cloud/send-data/otlp/otlp-format-considerations/
 *   (job/instance, target_info, name conversion, exponential histograms accepted).
 * - D: https://opentelemetry.io/docs/specs/otel/metrics/data-model/ (#single-writer,
 *   #resets-and-gaps, #sums) and opentelemetry-proto metrics.proto (start_time_unix_nano).
 *
 * How the real thing answers a request the rules refuse (the `flavor` option):
 * - 'mimir' (Grafana Cloud, Mimir; the default): a metric with delta (or unspecified)
 *   temporality is left out by the translator; the rest is pushed, then the answer is 400
 *   `otlp parse error: invalid temporality and type combination for metric "x"` (M:
 *   OTLPHandler: "Push was successful, but OTLP converter left out some samples"), so the
 *   request is partly stored yet the client sees a permanent failure. Samples the store refuses
 *   (out of order, duplicate, too old, too far ahead) are refused one by one and the request is
 *   answered 200 with partial_success {rejected_data_points, error_message} (M: #12579, #14789);
 *   when both happen the partial success wins and the translator's message is not reported.
 * - 'prometheus' (Prometheus 3.7+ `--web.enable-otlp-receiver`): any error rolls the whole
 *   request back (H: ConsumeMetrics defers app.Rollback()); out-of-order, duplicate and
 *   out-of-bounds samples answer 400, anything else (a delta sum) 500 with the joined messages
 *   (H: ServeHTTP), so an OTLP client retries a delta request it can never deliver. Before 3.7
 *   the translator's errors were only logged and the rest stored with a 200.
 */
// ---------------------------------------------------------------------------------------------
// Reading a decoded request

/** OTLP AggregationTemporality (metrics.proto). */
export const TEMPORALITY = { UNSPECIFIED: 0, DELTA: 1, CUMULATIVE: 2 } as const;

/** The OTLP metric data kinds (the oneof of metrics.proto's Metric). */
export type OtlpMetricKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary' | 'empty';

/** One OTLP data point with what surrounds it in the request. */
export interface OtlpDataPoint {
  /** Index of its ResourceMetrics in the request. */
  resourceIndex: number;
  /** Resource attributes, values as strings (pcommon's AsString). */
  resource: Map<string, string>;
  scope: { name: string; version: string };
  metric: { name: string; unit: string; description: string };
  kind: OtlpMetricKind;
  /** Sum and histograms only: 0 unspecified, 1 delta, 2 cumulative. */
  temporality: number | undefined;
  /** Sums only. */
  monotonic: boolean;
  /** Point attributes, values as strings, in request order. */
  attributes: Map<string, string>;
  timeNs: bigint;
  startNs: bigint;
  /** The data point as decoded. */
  raw: any;
}

/** 64-bit nanoseconds from a decoded field (a decimal string, a number, or absent). */
export function nanos(v: unknown): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(String(v));
}

/** Prometheus milliseconds from OTLP nanoseconds (T: helper.go convertTimeStamp truncates). */
export function millis(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/** A decoded int64/uint64/double field as a number. */
export function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(v);
}

function temporalityNumber(v: unknown): number {
  if (v === undefined || v === null) return TEMPORALITY.UNSPECIFIED;
  if (typeof v === 'number') return v;
  if (v === 'AGGREGATION_TEMPORALITY_DELTA') return TEMPORALITY.DELTA;
  if (v === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return TEMPORALITY.CUMULATIVE;
  return Number(v) || TEMPORALITY.UNSPECIFIED;
}

function rawAnyValue(v: any): unknown {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return String(v.stringValue ?? '');
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return num(v.doubleValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(rawAnyValue);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue?.values ?? []).map((kv: any) => [kv.key, rawAnyValue(kv.value)]));
  if ('bytesValue' in v) return String(v.bytesValue);
  return null;
}

/** An attribute value as a label value (pcommon.Value.AsString: scalars as text, the rest as JSON). */
export function attributeString(v: any): string {
  if (v === undefined || v === null) return '';
  if ('stringValue' in v) return String(v.stringValue ?? '');
  if ('intValue' in v) return String(v.intValue);
  if ('doubleValue' in v) return String(num(v.doubleValue));
  if ('boolValue' in v) return v.boolValue ? 'true' : 'false';
  if ('bytesValue' in v) return String(v.bytesValue);
  if ('arrayValue' in v || 'kvlistValue' in v) return JSON.stringify(rawAnyValue(v));
  return '';
}

function attributeMap(list: any[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of list ?? []) out.set(String(kv.key), attributeString(kv.value));
  return out;
}

const KINDS: OtlpMetricKind[] = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

/**
 * Every data point of a decoded ExportMetricsServiceRequest, in request order, and every metric
 * (with its points; a metric with no data field is kind 'empty', one with no points has none).
 */
export function dataPointsOf(request: any): { points: OtlpDataPoint[]; metrics: Array<{ resourceIndex: number; name: string; kind: OtlpMetricKind; points: OtlpDataPoint[]; temporality: number | undefined; monotonic: boolean; unit: string }> } {
  const points: OtlpDataPoint[] = [];
  const metrics: Array<{ resourceIndex: number; name: string; kind: OtlpMetricKind; points: OtlpDataPoint[]; temporality: number | undefined; monotonic: boolean; unit: string }> = [];
  (request?.resourceMetrics ?? []).forEach((rm: any, resourceIndex: number) => {
    const resource = attributeMap(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = { name: String(sm.scope?.name ?? ''), version: String(sm.scope?.version ?? '') };
      for (const m of sm.metrics ?? []) {
        const kind = KINDS.find((k) => m[k] !== undefined && m[k] !== null) ?? 'empty';
        const data = kind === 'empty' ? undefined : m[kind];
        const temporality = kind === 'sum' || kind === 'histogram' || kind === 'exponentialHistogram' ? temporalityNumber(data.aggregationTemporality) : undefined;
        const monotonic = kind === 'sum' && Boolean(data.isMonotonic);
        const metric = { name: String(m.name ?? ''), unit: String(m.unit ?? ''), description: String(m.description ?? '') };
        const mine: OtlpDataPoint[] = [];
        for (const raw of data?.dataPoints ?? []) {
          const p: OtlpDataPoint = {
            resourceIndex,
            resource,
            scope,
            metric,
            kind,
            temporality,
            monotonic,
            attributes: attributeMap(raw.attributes),
            timeNs: nanos(raw.timeUnixNano),
            startNs: nanos(raw.startTimeUnixNano),
            raw,
          };
          mine.push(p);
          points.push(p);
        }
        metrics.push({ resourceIndex, name: metric.name, kind, points: mine, temporality, monotonic, unit: metric.unit });
      }
    }
  });
  return { points, metrics };
}

// ---------------------------------------------------------------------------------------------
// Names (N)

/** How metric and label names are translated (N: strategy.go; Prometheus's default is the first). */
export type TranslationStrategy = 'UnderscoreEscapingWithSuffixes' | 'UnderscoreEscapingWithoutSuffixes' | 'NoUTF8EscapingWithSuffixes' | 'NoTranslation';

/** The translator's metric types (N: metric_type.go; T: TranslatorMetricFromOtelMetric). */
export type TranslatorMetricType = 'gauge' | 'monotonic_counter' | 'non_monotonic_counter' | 'histogram' | 'exponential_histogram' | 'summary' | 'unknown';

/** N: metric_namer.go unitMap. */
const UNIT_MAP: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};
/** N: metric_namer.go perUnitMap. */
const PER_UNIT_MAP: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** a-z, A-Z, 0-9 and ':' (N: isValidCompliantMetricChar; note '_' is not in it, so runs of '_' collapse). */
function isMetricChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === ':';
}
function isLabelChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Go's strings.FieldsFunc: the runs of characters that are not separators. */
function fields(s: string, keep: (c: string) => boolean): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of s) {
    if (keep(c)) cur += c;
    else if (cur !== '') {
      out.push(cur);
      cur = '';
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

function collapseUnderscores(s: string): string {
  let out = '';
  for (const c of s) if (!(c === '_' && out.endsWith('_'))) out += c;
  return out;
}

/** N: unit_namer.go buildUnitSuffixes: "s" -> ["seconds", ""], "By/s" -> ["bytes", "per_second"], "{page}" -> ["", ""]. */
export function unitSuffixes(unit: string): [string, string] {
  const slash = unit.indexOf('/');
  const mainOtel = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  let main = '';
  if (mainOtel !== '' && !/[{}]/.test(mainOtel)) main = UNIT_MAP[mainOtel] ?? mainOtel;
  let per = '';
  if (slash >= 0 && unit.slice(slash + 1) !== '') {
    const perOtel = unit.slice(slash + 1).trim();
    if (perOtel !== '' && !/[{}]/.test(perOtel)) per = PER_UNIT_MAP[perOtel] ?? perOtel;
    if (per !== '') per = `per_${per}`;
  }
  return [main, per];
}

function cleanUpUnit(unit: string): string {
  let mapped = '';
  for (const c of unit) mapped += isMetricChar(c) ? c : '_';
  const collapsed = collapseUnderscores(mapped);
  return collapsed.startsWith('_') ? collapsed.slice(1) : collapsed;
}

function withoutToken(tokens: string[], token: string): string[] {
  return tokens.filter((t) => t !== token);
}

function trimSuffixAndDelimiter(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1 ? name.slice(0, name.length - suffix.length - 1) : name;
}

/** The translator's type for a metric (T: TranslatorMetricFromOtelMetric). */
export function translatorType(kind: OtlpMetricKind, monotonic: boolean): TranslatorMetricType {
  if (kind === 'gauge') return 'gauge';
  if (kind === 'sum') return monotonic ? 'monotonic_counter' : 'non_monotonic_counter';
  if (kind === 'histogram') return 'histogram';
  if (kind === 'exponentialHistogram') return 'exponential_histogram';
  if (kind === 'summary') return 'summary';
  return 'unknown';
}

/**
 * The Prometheus metric family name of an OTLP metric (N: MetricNamer.Build), or an Error with
 * the translator's message. With UnderscoreEscapingWithSuffixes: dots and other characters
 * outside [a-zA-Z0-9:] become '_' (runs collapse), the unit is appended ("s" -> _seconds,
 * "By" -> _bytes, "{page}" and "1" -> nothing) unless already a word of the name, monotonic
 * sums end in _total, gauges of unit "1" in _ratio, a leading digit gets '_'.
 */
export function prometheusMetricName(name: string, unit: string, type: TranslatorMetricType, strategy: TranslationStrategy = 'UnderscoreEscapingWithSuffixes'): string | Error {
  if (strategy === 'NoTranslation') return name;
  if (strategy === 'NoUTF8EscapingWithSuffixes') {
    let out = name;
    let tail = '';
    if (unit === '1' && type === 'gauge') {
      out = trimSuffixAndDelimiter(out, 'ratio');
      tail = '_ratio' + tail;
    }
    if (type === 'monotonic_counter') {
      out = trimSuffixAndDelimiter(out, 'total');
      tail = '_total' + tail;
    }
    const [main, per] = unitSuffixes(unit);
    if (per !== '') {
      out = trimSuffixAndDelimiter(out, per);
      tail = `_${per}` + tail;
    }
    if (main !== '' && !out.endsWith(main)) out = `${out}_${main}`;
    return out + tail;
  }
  let normalized: string;
  if (strategy === 'UnderscoreEscapingWithSuffixes') {
    let tokens = fields(name, isMetricChar);
    const [mainRaw, perRaw] = unitSuffixes(unit);
    let main = cleanUpUnit(mainRaw);
    let per = cleanUpUnit(perRaw);
    // N: addUnitTokens.
    if (tokens.includes(main)) main = '';
    if (per === 'per_') per = '';
    else {
      if (per.endsWith('_')) per = per.slice(0, -1);
      if (tokens.includes(per)) per = '';
    }
    if (per !== '' && main.endsWith('_')) main = main.slice(0, -1);
    if (main !== '') tokens.push(main);
    if (per !== '') tokens.push(per);
    if (type === 'monotonic_counter') tokens = [...withoutToken(tokens, 'total'), 'total'];
    if (unit === '1' && type === 'gauge') tokens = [...withoutToken(tokens, 'ratio'), 'ratio'];
    normalized = tokens.join('_');
    if (isDigit(normalized[0])) normalized = `_${normalized}`;
  } else {
    normalized = fields(name, (c) => isMetricChar(c) || c === '_').join('_');
    if (isDigit(normalized[0])) normalized = `_${normalized}`;
  }
  // N: buildCompliantMetricName's deferred checks.
  if (normalized === '') return new Error(`normalization for metric ${JSON.stringify(name)} resulted in empty name`);
  if (normalized !== name && [...normalized].every((c) => c === '_')) return new Error(`normalization for metric ${JSON.stringify(name)} resulted in invalid name ${JSON.stringify(normalized)}`);
  return normalized;
}

/**
 * A Prometheus label name from an OTLP attribute key (N: LabelNamer.Build, UTF-8 not allowed):
 * characters outside [a-zA-Z0-9] become '_' with runs collapsed ("http.response.status_code"
 * -> "http_response_status_code", "a__b" -> "a_b"), `__reserved__` names keep their
 * underscores, a leading digit gets "key_"; all underscores is an error.
 */
export function prometheusLabelName(key: string, strategy: TranslationStrategy = 'UnderscoreEscapingWithSuffixes'): string | Error {
  if (key.length === 0) return new Error('label name is empty');
  const utf8 = strategy === 'NoUTF8EscapingWithSuffixes' || strategy === 'NoTranslation';
  if (utf8) return [...key].every((c) => c === '_') ? new Error(`label name ${JSON.stringify(key)} contains only underscores`) : key;
  const reserved = key.length >= 4 && key.startsWith('__') && key.endsWith('__');
  const inner = reserved ? key.slice(2, -2) : key;
  let out = reserved ? '__' : '';
  let prevUnderscore = false;
  for (const c of inner) {
    if (isLabelChar(c)) {
      out += c;
      prevUnderscore = false;
    } else if (!prevUnderscore) {
      out += '_';
      prevUnderscore = true;
    }
  }
  if (reserved) out += '__';
  if (isDigit(out[0])) out = `key_${out}`;
  if (out === '' || [...out].every((c) => c === '_')) return new Error(`normalization for label name ${JSON.stringify(key)} resulted in invalid name ${JSON.stringify(out)}`);
  return out;
}

/** A bucket bound as the `le` label (Go's strconv.FormatFloat(b, 'f', -1, 64): no exponent). */
export function formatBound(b: number): string {
  if (b === Number.POSITIVE_INFINITY) return '+Inf';
  if (b === Number.NEGATIVE_INFINITY) return '-Inf';
  const s = String(b);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e).replace('.', '');
  const dot = s.slice(negative ? 1 : 0, e).indexOf('.');
  const intDigits = (dot < 0 ? s.slice(negative ? 1 : 0, e).length : dot) + Number(s.slice(e + 1));
  let digits: string;
  if (intDigits <= 0) digits = `0.${'0'.repeat(-intDigits)}${mantissa}`;
  else if (intDigits >= mantissa.length) digits = mantissa + '0'.repeat(intDigits - mantissa.length);
  else digits = `${mantissa.slice(0, intDigits)}.${mantissa.slice(intDigits)}`;
  return (negative ? '-' : '') + digits;
}

/** Labels as Prometheus prints them (labels.Labels.String): `{__name__="x", job="y"}`, sorted by name. */
export function seriesKey(labels: Record<string, string>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// The checker

/** Options of PrometheusOtlpChecker. */
export interface PrometheusOtlpOptions {
  /** Whose HTTP behaviour to mimic (see the file comment). Default 'mimir'. */
  flavor?: 'mimir' | 'prometheus';
  /** Name translation. Default 'UnderscoreEscapingWithSuffixes' (Prometheus's default; Grafana Cloud adds suffixes, G). */
  translationStrategy?: TranslationStrategy;
  /** Resource attributes copied onto every series (`otlp.promote_resource_attributes`). Default none. */
  promoteResourceAttributes?: string[];
  /**
   * Accept delta sums and histograms (Prometheus `--enable-feature=otlp-native-delta-ingestion`,
   * Mimir `-distributor.otel-native-delta-ingestion`). Default false, as every hosted default.
   */
  allowDeltaTemporality?: boolean;
  /** Wall clock in ms, for "too far in the future". Default Date.now. */
  now?: () => number;
  /**
   * Mimir's per-series label limit (`-validation.max-label-names-per-series`, default 30;
   * runbook err-mimir-max-label-names-per-series); 'mimir' flavor only. Default 30.
   */
  maxLabelNamesPerSeries?: number;
}

/** What Prometheus types a series (T: otelMetricTypeToPromMetricType); 'info' for target_info. */
export type PrometheusSeriesType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown' | 'info';

/** One sample the store kept. */
export interface StoredSample {
  /** Sample time, ms. */
  t: number;
  /** Start time, ms (0 when the point had none). */
  st: number;
  v: number;
  /** Who sent it (the request's writer). */
  writer: string;
}

/** Something the backend stored but that is wrong for whoever reads it. */
export interface SeriesViolation {
  series: string;
  rule: 'decrease-under-same-start-time' | 'start-time-went-back' | 'start-after-time';
  message: string;
  t: number;
  writer: string;
}

/** A Prometheus series as the store holds it after every request so far. */
export interface SeriesView {
  key: string;
  name: string;
  labels: Record<string, string>;
  type: PrometheusSeriesType;
  /** A counter, a histogram's _bucket/_count/_sum or a native histogram: must never decrease while its start time stays. */
  monotonic: boolean;
  /** From an OTLP metric with cumulative temporality (or target_info, a gauge: false). */
  cumulative: boolean;
  samples: StoredSample[];
  /** Distinct start times, in the order they first appeared. */
  startTimes: number[];
  writers: Set<string>;
  /** Drops that came with a new start time: a reset the data model allows (D: #resets-and-gaps). */
  resets: Array<{ t: number; from: number; to: number; st: number }>;
  violations: SeriesViolation[];
}

/** The verdict on one OTLP data point. */
export interface PointVerdict {
  metric: string;
  attributes: Record<string, string>;
  timeNs: bigint;
  accepted: boolean;
  /** Why not, as the backend says it. */
  reason?: string;
  /** The rule's short id (e.g. 'temporality', 'out-of-order'). */
  rule?: string;
}

/** What the backend answers to one request, and why. */
export interface MetricsVerdict {
  /** HTTP status. */
  status: number;
  /** The error message (non-2xx) or the partial success's error_message (2xx). */
  message: string;
  /** 2xx with a partial_success in the body. */
  partial: boolean;
  /** partial_success.rejected_data_points. */
  rejectedDataPoints: number;
  /** 'text': Prometheus's http.Error (text/plain); 'status': google.rpc.Status in the request's encoding (Mimir, the OTLP spec). */
  errorFormat: 'text' | 'status';
  /** One per data point of the request, in order. */
  points: PointVerdict[];
}

/** Who sent a request and how, as the HTTP double saw it. */
export interface RequestContext {
  /** Which writer (sidecar instance) sent it. Default 'default'. */
  writer?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** Bytes on the wire. */
  wireBytes?: number;
  /** Bytes after decompression. */
  decodedBytes?: number;
}

/** The interface every rule set here offers the HTTP double and the tests. */
export interface MetricsRules {
  /** Applies one decoded ExportMetricsServiceRequest; state changes as the real store's would. */
  check(request: any, context?: RequestContext): MetricsVerdict;
  /** Keys of the series a writer's accepted points went to. */
  seriesKeysOf(writer: string): Set<string>;
  /** Every rejection so far, with the point it concerned. */
  readonly rejected: PointVerdict[];
}

interface PendingSample {
  key: string;
  name: string;
  labels: Record<string, string>;
  type: PrometheusSeriesType;
  monotonic: boolean;
  cumulative: boolean;
  sample: StoredSample;
  /** Index of the OTLP point in the request, -1 for target_info. */
  point: number;
}

const STORAGE_400 = new Set(['out-of-order', 'duplicate-timestamp', 'out-of-bounds', 'too-far-in-future']);
/** H: maxAheadTime; Mimir's -validation.create-grace-period default is the same 10m (runbook err-mimir-too-far-in-future). */
const MAX_AHEAD_MS = 10 * 60_000;
/** H: tsdb appendableMinValidTime: head max time minus half the 2h block range. */
const HALF_BLOCK_MS = 60 * 60_000;
/** T: helper.go defaultLookbackDelta / 2. */
const TARGET_INFO_INTERVAL_MS = (5 * 60_000) / 2;
const IDENTIFYING = ['service.namespace', 'service.name', 'service.instance.id'];

function goTime(ms: number): string {
  // Go's RFC3339Nano drops trailing zeros of the fraction.
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * A stateful Prometheus-family store: call `check` once per request, in the order they arrive;
 * read `series()`, `violations()` and `rejected` for assertions.
 */
export class PrometheusOtlpChecker implements MetricsRules {
  readonly rejected: PointVerdict[] = [];
  private readonly _flavor: 'mimir' | 'prometheus';
  private readonly _strategy: TranslationStrategy;
  private readonly _promote: Set<string>;
  private readonly _allowDelta: boolean;
  private readonly _now: () => number;
  private readonly _maxLabels: number;
  private readonly _series = new Map<string, SeriesView>();
  /** Newest sample time stored, for the out-of-bounds window (H: minValidTime). */
  private _headMaxT = Number.NEGATIVE_INFINITY;

  constructor(options: PrometheusOtlpOptions = {}) {
    this._flavor = options.flavor ?? 'mimir';
    this._strategy = options.translationStrategy ?? 'UnderscoreEscapingWithSuffixes';
    this._promote = new Set(options.promoteResourceAttributes ?? []);
    this._allowDelta = options.allowDeltaTemporality ?? false;
    this._now = options.now ?? Date.now;
    this._maxLabels = options.maxLabelNamesPerSeries ?? 30;
  }

  /** Every series stored so far. */
  series(): SeriesView[] {
    return [...this._series.values()];
  }

  /** Series that must only grow while their start time stays: counters and histograms from cumulative OTLP metrics. */
  cumulativeSeries(): SeriesView[] {
    return this.series().filter((s) => s.cumulative && s.monotonic);
  }

  /** Every violation of the single-writer and start-time rules in what was stored. */
  violations(): SeriesViolation[] {
    return this.series().flatMap((s) => s.violations);
  }

  seriesKeysOf(writer: string): Set<string> {
    const out = new Set<string>();
    for (const s of this._series.values()) if (s.writers.has(writer)) out.add(s.key);
    return out;
  }

  /** Series keys both writers wrote to: empty when two instances keep to their own series. */
  sharedSeries(a: string, b: string): string[] {
    return this.series()
      .filter((s) => s.writers.has(a) && s.writers.has(b))
      .map((s) => s.key);
  }

  /** The Prometheus labels of one OTLP data point's series (without __name__ suffixes), or an Error. */
  labelsOf(p: OtlpDataPoint): Record<string, string> | Error {
    return this._labels(p.attributes, p.resource, ['__name__']);
  }

  check(request: any, context: RequestContext = {}): MetricsVerdict {
    const writer = context.writer ?? 'default';
    const { metrics, points } = dataPointsOf(request);
    const verdicts: PointVerdict[] = points.map((p) => ({ metric: p.metric.name, attributes: Object.fromEntries(p.attributes), timeNs: p.timeNs, accepted: true }));
    const index = new Map(points.map((p, i) => [p, i]));
    const translationErrors: string[] = [];
    const pending: PendingSample[] = [];
    const reject = (i: number, rule: string, reason: string) => {
      const v = verdicts[i]!;
      if (!v.accepted) return;
      v.accepted = false;
      v.rule = rule;
      v.reason = reason;
    };

    // Per ResourceMetrics: earliest and latest point time (for target_info), every metric's
    // time counted, even one the temporality check then drops (T: FromMetrics calls
    // findMinAndMaxTimestamps before aggregationTemporality).
    const span = new Map<number, { earliest: bigint; latest: bigint; resource: Map<string, string> }>();
    for (const p of points) {
      const s = span.get(p.resourceIndex);
      if (s === undefined) span.set(p.resourceIndex, { earliest: p.timeNs, latest: p.timeNs, resource: p.resource });
      else {
        if (p.timeNs < s.earliest) s.earliest = p.timeNs;
        if (p.timeNs > s.latest) s.latest = p.timeNs;
      }
    }

    for (const m of metrics) {
      const refuse = (reason: string, rule: string) => {
        translationErrors.push(reason);
        for (const p of m.points) reject(index.get(p)!, rule, reason);
      };
      if (m.kind === 'empty') {
        refuse(`could not get aggregation temporality for ${m.name} as it has unsupported metric type Empty`, 'unsupported-type');
        continue;
      }
      // T: metrics_to_prw.go FromMetrics: cumulative is always valid, delta only with
      // AllowDeltaTemporality, anything else (unspecified) never.
      if (m.temporality !== undefined && !(m.temporality === TEMPORALITY.CUMULATIVE || (this._allowDelta && m.temporality === TEMPORALITY.DELTA))) {
        refuse(`invalid temporality and type combination for metric ${JSON.stringify(m.name)}`, 'temporality');
        continue;
      }
      const type = translatorType(m.kind, m.monotonic);
      const family = prometheusMetricName(m.name, m.unit, type, this._strategy);
      if (family instanceof Error) {
        refuse(family.message, 'metric-name');
        continue;
      }
      // T: an empty dataPoints list is a warning ("empty data points. %s is dropped"), not an error.
      const cumulative = m.temporality === TEMPORALITY.CUMULATIVE;
      const promType: PrometheusSeriesType = m.temporality === TEMPORALITY.DELTA ? 'unknown' : m.kind === 'gauge' ? 'gauge' : m.kind === 'sum' ? (m.monotonic ? 'counter' : 'gauge') : m.kind === 'summary' ? 'summary' : 'histogram';
      for (const p of m.points) {
        const i = index.get(p)!;
        const base = this._labels(p.attributes, p.resource, ['__name__']);
        if (base instanceof Error) {
          reject(i, 'label-name', base.message);
          translationErrors.push(base.message);
          continue;
        }
        const t = millis(p.timeNs);
        const st = millis(p.startNs);
        const add = (name: string, v: number, monotonic: boolean, extra: Record<string, string> = {}) => {
          const labels = { ...base, ...extra, __name__: name };
          pending.push({ key: seriesKey(labels), name, labels, type: promType, monotonic, cumulative, sample: { t, st, v, writer }, point: i });
        };
        const raw = p.raw;
        if (m.kind === 'gauge' || m.kind === 'sum') {
          const v = raw.asInt !== undefined ? num(raw.asInt) : num(raw.asDouble);
          add(family, v, m.kind === 'sum' && m.monotonic);
        } else if (m.kind === 'histogram') {
          // T: addHistogramDataPoints: _sum (when set), _count, one _bucket per bound with
          // cumulative counts, and le="+Inf" = count.
          if (raw.sum !== undefined && raw.sum !== null) add(`${family}_sum`, num(raw.sum), true);
          const count = num(raw.count);
          add(`${family}_count`, count, true);
          const bounds: number[] = (raw.explicitBounds ?? []).map(num);
          const counts: number[] = (raw.bucketCounts ?? []).map(num);
          let running = 0;
          for (let b = 0; b < bounds.length && b < counts.length; b++) {
            running += counts[b]!;
            add(`${family}_bucket`, running, true, { le: formatBound(bounds[b]!) });
          }
          add(`${family}_bucket`, count, true, { le: '+Inf' });
        } else if (m.kind === 'exponentialHistogram') {
          // T: histograms.go exponentialToNativeHistogram refuses scales below -4.
          const scale = num(raw.scale);
          if (scale < -4) {
            const reason = `cannot convert exponential to native histogram. Scale must be >= -4, was ${scale}`;
            reject(i, 'histogram-scale', reason);
            translationErrors.push(reason);
            continue;
          }
          // A native histogram is one series; its count stands for the whole here.
          add(family, num(raw.count), true);
        } else if (m.kind === 'summary') {
          add(`${family}_sum`, num(raw.sum), false);
          add(`${family}_count`, num(raw.count), true);
          for (const q of raw.quantileValues ?? []) add(family, num(q.value), false, { quantile: formatBound(num(q.quantile)) });
        }
      }
    }

    // target_info, one per ResourceMetrics with a job or instance and other attributes
    // (T: helper.go addResourceTargetInfo).
    const seenInfo = new Set<string>();
    for (const [, s] of span) {
      const nonIdentifying = [...s.resource.keys()].filter((k) => !IDENTIFYING.includes(k));
      if (nonIdentifying.length === 0) continue;
      const labels = this._labels(s.resource, s.resource, IDENTIFYING, false);
      if (labels instanceof Error) {
        translationErrors.push(labels.message);
        continue;
      }
      if (labels.job === undefined && labels.instance === undefined) continue;
      const info = { ...labels, __name__: 'target_info' };
      const key = seriesKey(info);
      const earliest = millis(s.earliest);
      const latest = millis(s.latest);
      const times: number[] = [];
      for (let ts = earliest; ts < latest; ts += TARGET_INFO_INTERVAL_MS) times.push(ts);
      times.push(latest);
      for (const ts of times) {
        if (seenInfo.has(`${key}@${ts}`)) continue;
        seenInfo.add(`${key}@${ts}`);
        pending.push({ key, name: 'target_info', labels: info, type: 'info', monotonic: false, cumulative: false, sample: { t: ts, st: 0, v: 1, writer }, point: -1 });
      }
    }

    // The store, sample by sample, against what it holds plus what this request already added.
    const last = new Map<string, { t: number; v: number }>();
    const minValid = this._headMaxT - HALF_BLOCK_MS;
    const maxTime = this._now() + MAX_AHEAD_MS;
    const storageErrors: Array<{ rule: string; message: string; point: number }> = [];
    const kept: PendingSample[] = [];
    for (const s of pending) {
      const error = this._appendable(s, last, minValid, maxTime);
      if (error !== undefined) {
        storageErrors.push({ ...error, point: s.point });
        if (s.point >= 0) reject(s.point, error.rule, error.message);
        continue;
      }
      const prev = last.get(s.key) ?? this._lastOf(s.key);
      // H: an exact duplicate (same time, same value) is accepted and stored once.
      if (prev !== undefined && prev.t === s.sample.t) continue;
      last.set(s.key, { t: s.sample.t, v: s.sample.v });
      kept.push(s);
    }

    // Mimir: too many labels is refused per series by the distributor (soft, partial success).
    if (this._flavor === 'mimir') {
      for (let k = kept.length - 1; k >= 0; k--) {
        const s = kept[k]!;
        const count = Object.keys(s.labels).length;
        if (count <= this._maxLabels) continue;
        const message = `received a series whose number of labels exceeds the limit (actual: ${count}, limit: ${this._maxLabels}) series: '${s.key}' (err-mimir-max-label-names-per-series)`;
        storageErrors.push({ rule: 'max-label-names-per-series', message, point: s.point });
        if (s.point >= 0) reject(s.point, 'max-label-names-per-series', message);
        kept.splice(k, 1);
      }
    }

    let status = 200;
    let message = '';
    let partial = false;
    let rejectedDataPoints = 0;
    let errorFormat: MetricsVerdict['errorFormat'] = 'status';
    if (this._flavor === 'prometheus') {
      errorFormat = 'text';
      const errors = [...translationErrors, ...storageErrors.map((e) => e.message)];
      if (errors.length > 0) {
        // H: rwExporter.ConsumeMetrics rolls the appender back on any error: nothing is kept.
        for (let i = 0; i < verdicts.length; i++) reject(i, 'rolled-back', `request rolled back: ${errors.join('\n')}`);
        status = storageErrors.some((e) => STORAGE_400.has(e.rule)) ? 400 : 500;
        message = errors.join('\n');
        kept.length = 0;
      }
    } else {
      if (storageErrors.length > 0) {
        // M: ingester sample errors are soft: 200 with partial_success, counted in samples (#14789).
        partial = true;
        rejectedDataPoints = storageErrors.length;
        message = storageErrors[0]!.message;
      } else if (translationErrors.length > 0) {
        // M: otlpMimirConverter.Err, after the rest was pushed: the joined errors (errors.Join since
        // prometheus 1a0c569, January 2026; "; " with multierr before) cut at 1024 characters.
        status = 400;
        message = `otlp parse error: ${translationErrors.join('\n').slice(0, 1024)}`;
      }
    }

    this._commit(kept);
    for (const v of verdicts) if (!v.accepted) this.rejected.push(v);
    return { status, message, partial, rejectedDataPoints, errorFormat, points: verdicts };
  }

  /** Why the store refuses a sample (H: memSeries.appendable with no out-of-order window; M: runbooks), or undefined. */
  private _appendable(s: PendingSample, last: Map<string, { t: number; v: number }>, minValid: number, maxTime: number): { rule: string; message: string } | undefined {
    const mimir = this._flavor === 'mimir';
    const { t, v } = s.sample;
    const where = `The affected sample has timestamp ${goTime(t)} and is from series ${s.key}`;
    if (t > maxTime) {
      return { rule: 'too-far-in-future', message: mimir ? `received a sample whose timestamp is too far in the future (err-mimir-too-far-in-future). ${where}` : 'out of bounds: timestamp is too far in the future' };
    }
    if (t < minValid) {
      return { rule: 'out-of-bounds', message: mimir ? `the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old). ${where}` : 'out of bounds' };
    }
    const prev = last.get(s.key) ?? this._lastOf(s.key);
    if (prev === undefined || t > prev.t) return undefined;
    if (t === prev.t) {
      if (Object.is(prev.v, v) || prev.v === v) return undefined;
      return {
        rule: 'duplicate-timestamp',
        message: mimir
          ? `the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested (err-mimir-sample-duplicate-timestamp). ${where}`
          : `duplicate sample for timestamp ${t}; overrides not allowed: existing ${prev.v}, new value ${v}`,
      };
    }
    return {
      rule: 'out-of-order',
      message: mimir
        ? `the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order). ${where}`
        : 'out of order sample',
    };
  }

  private _lastOf(key: string): { t: number; v: number } | undefined {
    const s = this._series.get(key)?.samples;
    if (s === undefined || s.length === 0) return undefined;
    const l = s[s.length - 1]!;
    return { t: l.t, v: l.v };
  }

  /** Stores accepted samples and records what the data model says about them (D). */
  private _commit(kept: PendingSample[]): void {
    for (const s of kept) {
      let view = this._series.get(s.key);
      if (view === undefined) {
        view = { key: s.key, name: s.name, labels: s.labels, type: s.type, monotonic: s.monotonic, cumulative: s.cumulative, samples: [], startTimes: [], writers: new Set(), resets: [], violations: [] };
        this._series.set(s.key, view);
      }
      const { t, st, v, writer } = s.sample;
      const prev = view.samples[view.samples.length - 1];
      if (view.cumulative) {
        // D / metrics.proto: a cumulative point's start is the start of its accumulation, not after it.
        if (st > t) view.violations.push({ series: s.key, rule: 'start-after-time', message: `start time ${st} after sample time ${t}`, t, writer });
        if (prev !== undefined && st < prev.st) {
          view.violations.push({ series: s.key, rule: 'start-time-went-back', message: `start time went back from ${prev.st} to ${st} at ${t} (${prev.writer} then ${writer}): two writers on one series?`, t, writer });
        } else if (prev !== undefined && view.monotonic && v < prev.v) {
          if (st === prev.st) {
            // D #single-writer: one writer's cumulative series never drops under one start time;
            // two writers interleaving on one series produce exactly this, and PromQL reads it as a reset.
            view.violations.push({ series: s.key, rule: 'decrease-under-same-start-time', message: `dropped from ${prev.v} to ${v} at ${t} under start time ${st} (${prev.writer} then ${writer})`, t, writer });
          } else view.resets.push({ t, from: prev.v, to: v, st });
        }
        if (!view.startTimes.includes(st)) view.startTimes.push(st);
      }
      view.samples.push(s.sample);
      view.writers.add(writer);
      if (t > this._headMaxT) this._headMaxT = t;
    }
  }

  /**
   * Labels for attributes (T: createAttributes): sanitized names, values of names that collide
   * joined with ';' in key order, empty values dropped, promoted resource attributes, then
   * job = service.namespace/service.name and instance = service.instance.id over anything else.
   */
  private _labels(attributes: Map<string, string>, resource: Map<string, string>, ignore: string[], promote = true): Record<string, string> | Error {
    const out: Record<string, string> = {};
    const keys = [...attributes.keys()].filter((k) => !ignore.includes(k)).sort();
    for (const key of keys) {
      const value = attributes.get(key)!;
      if (value === '') continue;
      const name = prometheusLabelName(key, this._strategy);
      if (name instanceof Error) return name;
      out[name] = out[name] !== undefined && out[name] !== '' ? `${out[name]};${value}` : value;
    }
    if (promote) {
      for (const [key, value] of resource) {
        if (!this._promote.has(key) || value === '') continue;
        const name = prometheusLabelName(key, this._strategy);
        if (name instanceof Error) return name;
        if (out[name] === undefined) out[name] = value;
      }
    }
    // T: setResourceContext.
    const service = resource.get('service.name');
    if (service !== undefined && service !== '') {
      const namespace = resource.get('service.namespace');
      out.job = namespace !== undefined ? `${namespace}/${service}` : service;
    }
    const instance = resource.get('service.instance.id');
    if (instance !== undefined && instance !== '') out.instance = instance;
    return out;
  }
}
