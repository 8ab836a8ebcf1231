/**
 * The documented rules of Datadog's OTLP metrics intake endpoint (agentless:
 * https://otlp.datadoghq.com/v1/metrics and the other sites' hosts), applied to decoded OTLP
 * ExportMetricsServiceRequests with the state Datadog keeps across requests.
 *
 * Sources:
 * - I: "Datadog OTLP Metrics Intake Endpoint",
 *   https://docs.datadoghq.com/opentelemetry/setup/otlp_ingest/metrics/ (DataDog/documentation
 *   content/en/opentelemetry/setup/otlp_ingest/metrics.md): only delta metrics ("If you attempt
 *   to send cumulative metrics ... you will receive an error"); the `dd-api-key` header; the
 *   optional `dd-otel-metric-config` header (resource_attributes_as_tags,
 *   instrumentation_scope_metadata_as_tags, histograms.mode); 403 for a wrong endpoint; 413 over
 *   500KB uncompressed or 5MB after decompression; and "multiple datapoints for a metric that
 *   have the same timestamp (in seconds) and same dimensions ... Datadog only accepts the last
 *   datapoint, and previous datapoints are dropped (last-write-wins)".
 * - R: the intake's actual answer to cumulative data, quoted in runs-on/runs-on#433 (2025-12):
 *   HTTP 200 with partial_success "Payload validation failed: OTLP metrics intake does not
 *   accept cumulative histogram metrics, cumulative monotonic sum metrics or other unspecified
 *   metrics" - a 2xx, so an exporter that ignores partial_success loses them silently.
 * - T: "OTLP Metrics Types", https://docs.datadoghq.com/metrics/open_telemetry/otlp_metric_types/
 *   (delta sums -> count, cumulative non-monotonic sums -> gauge, delta histograms ->
 *   distribution, "Histograms with a count of 0 are dropped"; datapoint attributes are tags,
 *   resource attributes only through the semantic mapping unless resource_attributes_as_tags).
 * - S: "OpenTelemetry Semantic Conventions and Datadog Conventions",
 *   https://docs.datadoghq.com/opentelemetry/mapping/semantic_mapping/ (service.name -> service,
 *   deployment.environment[.name] -> env, service.version -> version, container and cloud
 *   attributes); service.instance.id is not in it.
 * - A: "Submit metrics", https://docs.datadoghq.com/api/latest/metrics/#submit-metrics (payload
 *   limits 512000 bytes / 5242880 bytes decompressed; points more than 10 minutes ahead or 1 hour
 *   old are not kept - documented for the series API the OTLP intake feeds, assumed here).
 * Error bodies: the intake's are not documented; the double sends the OTLP specification's
 * google.rpc.Status (https://opentelemetry.io/docs/specs/otlp/#failures-1).
 * - N: metric and tag naming, https://docs.datadoghq.com/metrics/custom_metrics/#naming-custom-metrics
 *   and https://docs.datadoghq.com/getting_started/tagging/#define-tags.
 */
import { dataPointsOf, millis, num, TEMPORALITY, type MetricsRules, type MetricsVerdict, type PointVerdict, type RequestContext } from './prometheus-otlp-rules.ts';

/** Options of DatadogOtlpChecker. */
export interface DatadogOtlpOptions {
  /** API keys the intake knows. Default: any non-empty `dd-api-key`. */
  apiKeys?: string[];
  /** Wall clock in ms for the accepted time window (A). Default Date.now. */
  now?: () => number;
}

/** Datadog's metric types for OTLP data (T). */
export type DatadogType = 'count' | 'gauge' | 'distribution';

/** One Datadog timeseries (metric name + tags) as the intake holds it. */
export interface DatadogSeriesView {
  key: string;
  name: string;
  tags: string[];
  type: DatadogType;
  /** The point kept per second (last write wins), by second. */
  points: Map<number, { t: number; v: number; writer: string }>;
  writers: Set<string>;
}

/** A point the intake answered for but did not keep. */
export interface DatadogLoss {
  series: string;
  second: number;
  rule: 'last-write-wins' | 'outside-time-window';
  message: string;
  writer: string;
  /**
   * A gauge's later sample from the same writer took the place of an earlier one in the same
   * second: what a last-value gauge means anyway (the SDK's and our aggregation keep the latest
   * sample of an interval), so no count or distribution is lost. Counts and distributions never.
   */
  superseded?: boolean;
}

/** The partial success message the intake answers to cumulative and unspecified data (R). */
export const DATADOG_CUMULATIVE_MESSAGE = 'Payload validation failed: OTLP metrics intake does not accept cumulative histogram metrics, cumulative monotonic sum metrics or other unspecified metrics';

/** S: resource attributes Datadog turns into tags without resource_attributes_as_tags. */
const SEMANTIC_TAGS: Record<string, string> = {
  'deployment.environment': 'env',
  'deployment.environment.name': 'env',
  'service.name': 'service',
  'service.version': 'version',
  'container.id': 'container_id',
  'container.name': 'container_name',
  'container.image.name': 'image_name',
  'container.image.tag': 'image_tag',
  'cloud.provider': 'cloud_provider',
  'cloud.region': 'region',
  'cloud.availability_zone': 'zone',
};

/** A: payload limits. */
const MAX_UNCOMPRESSED = 512_000;
const MAX_DECOMPRESSED = 5_242_880;
const MAX_AHEAD_MS = 10 * 60_000;
const MAX_AGE_MS = 60 * 60_000;

function headerValue(headers: RequestContext['headers'], name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** N: a metric name: ASCII alphanumerics, '_' and '.', others to '_', at most 200 characters. */
export function datadogMetricName(name: string): string {
  let out = '';
  for (const c of name) out += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '.' ? c : '_';
  return out.slice(0, 200);
}

/** N: a tag `key:value`, lowercased, characters outside alphanumerics and `_-:./` to '_', at most 200 characters. */
export function datadogTag(key: string, value: string): string {
  let out = '';
  for (const c of `${key}:${value}`.toLowerCase()) out += /[\p{L}\p{N}_\-:./]/u.test(c) ? c : '_';
  return out.slice(0, 200);
}

/**
 * A stateful Datadog OTLP metrics intake: call `check` once per request in arrival order; read
 * `series()`, `losses` and `rejected` for assertions.
 */
export class DatadogOtlpChecker implements MetricsRules {
  readonly rejected: PointVerdict[] = [];
  /** Points answered for but not kept: overwritten in their second, or outside the time window. */
  readonly losses: DatadogLoss[] = [];
  private readonly _keys: Set<string> | undefined;
  private readonly _now: () => number;
  private readonly _series = new Map<string, DatadogSeriesView>();

  constructor(options: DatadogOtlpOptions = {}) {
    this._keys = options.apiKeys === undefined ? undefined : new Set(options.apiKeys);
    this._now = options.now ?? Date.now;
  }

  series(): DatadogSeriesView[] {
    return [...this._series.values()];
  }

  seriesKeysOf(writer: string): Set<string> {
    const out = new Set<string>();
    for (const s of this._series.values()) if (s.writers.has(writer)) out.add(s.key);
    return out;
  }

  /** Series both writers wrote to: with delta counts, points of the two in one second overwrite each other (I). */
  sharedSeries(a: string, b: string): string[] {
    return this.series()
      .filter((s) => s.writers.has(a) && s.writers.has(b))
      .map((s) => s.key);
  }

  check(request: any, context: RequestContext = {}): MetricsVerdict {
    const writer = context.writer ?? 'default';
    const key = headerValue(context.headers, 'dd-api-key');
    const refuse = (status: number, message: string): MetricsVerdict => ({ status, message, partial: false, rejectedDataPoints: 0, errorFormat: 'status', points: [] });
    // I: the required header; a missing or unknown key is refused like a wrong endpoint.
    if (key === undefined || key === '' || (this._keys !== undefined && !this._keys.has(key))) return refuse(403, 'Forbidden');
    // I, A: size limits.
    const compressed = headerValue(context.headers, 'content-encoding') !== undefined;
    if (!compressed && (context.wireBytes ?? 0) > MAX_UNCOMPRESSED) return refuse(413, `Request Entity Too Large: ${context.wireBytes} bytes, more than ${MAX_UNCOMPRESSED} uncompressed`);
    if (compressed && (context.decodedBytes ?? 0) > MAX_DECOMPRESSED) return refuse(413, `Request Entity Too Large: ${context.decodedBytes} bytes after decompression, more than ${MAX_DECOMPRESSED}`);

    let config: { resource_attributes_as_tags?: boolean; instrumentation_scope_metadata_as_tags?: boolean } = {};
    const configHeader = headerValue(context.headers, 'dd-otel-metric-config');
    if (configHeader !== undefined) {
      try {
        config = JSON.parse(configHeader);
      } catch {
        return refuse(400, 'invalid dd-otel-metric-config header');
      }
    }

    const { points } = dataPointsOf(request);
    const verdicts: PointVerdict[] = points.map((p) => ({ metric: p.metric.name, attributes: Object.fromEntries(p.attributes), timeNs: p.timeNs, accepted: true }));
    let rejectedCount = 0;
    const now = this._now();
    points.forEach((p, i) => {
      const cumulative = p.temporality === TEMPORALITY.CUMULATIVE;
      const unspecified = p.temporality === TEMPORALITY.UNSPECIFIED;
      // R: cumulative monotonic sums, cumulative histograms and unspecified temporality are refused;
      // a cumulative non-monotonic sum is a gauge (T).
      const refused = (p.kind === 'sum' && (unspecified || (cumulative && p.monotonic))) || ((p.kind === 'histogram' || p.kind === 'exponentialHistogram') && (cumulative || unspecified));
      if (refused) {
        verdicts[i]!.accepted = false;
        verdicts[i]!.rule = 'temporality';
        verdicts[i]!.reason = DATADOG_CUMULATIVE_MESSAGE;
        rejectedCount++;
        return;
      }
      const type: DatadogType = p.kind === 'histogram' || p.kind === 'exponentialHistogram' ? 'distribution' : p.kind === 'sum' && !cumulative ? 'count' : p.kind === 'summary' ? 'count' : 'gauge';
      // T: a delta histogram of count 0 is not reported: nothing to lose.
      if (type === 'distribution' && num(p.raw.count) === 0) return;
      const tags = [...p.attributes].map(([k, v]) => datadogTag(k, v));
      for (const [k, v] of p.resource) {
        if (config.resource_attributes_as_tags === true) tags.push(datadogTag(k, v));
        else if (SEMANTIC_TAGS[k] !== undefined) tags.push(datadogTag(SEMANTIC_TAGS[k]!, v));
      }
      if (config.instrumentation_scope_metadata_as_tags === true) tags.push(datadogTag('instrumentation_scope', p.scope.name), datadogTag('instrumentation_scope_version', p.scope.version));
      const unique = [...new Set(tags)].sort();
      const name = datadogMetricName(p.metric.name);
      const seriesKey = `${name}{${unique.join(',')}}`;
      const t = millis(p.timeNs);
      const second = Math.floor(t / 1000);
      if (t > now + MAX_AHEAD_MS || t < now - MAX_AGE_MS) {
        this.losses.push({ series: seriesKey, second, rule: 'outside-time-window', message: `point at ${new Date(t).toISOString()} is more than 10 minutes ahead or 1 hour old`, writer });
        return;
      }
      let view = this._series.get(seriesKey);
      if (view === undefined) {
        view = { key: seriesKey, name, tags: unique, type, points: new Map(), writers: new Set() };
        this._series.set(seriesKey, view);
      }
      const value = type === 'distribution' ? num(p.raw.count) : p.raw.asInt !== undefined ? num(p.raw.asInt) : num(p.raw.asDouble);
      const earlier = view.points.get(second);
      if (earlier !== undefined) {
        // I: last write wins within one second and one set of dimensions.
        this.losses.push({
          series: seriesKey,
          second,
          rule: 'last-write-wins',
          message: `${earlier.writer}'s point (${earlier.v}) at second ${second} was replaced by ${writer}'s (${value}): one point per second and series is kept`,
          writer: earlier.writer,
          superseded: type === 'gauge' && earlier.writer === writer && t >= earlier.t,
        });
      }
      view.points.set(second, { t, v: value, writer });
      view.writers.add(writer);
    });
    for (const v of verdicts) if (!v.accepted) this.rejected.push(v);
    const partial = rejectedCount > 0;
    return { status: 200, message: partial ? DATADOG_CUMULATIVE_MESSAGE : '', partial, rejectedDataPoints: rejectedCount, errorFormat: 'status', points: verdicts };
  }
}
