/** Hand-built OTLP ExportMetricsServiceRequests (OTLP/JSON shape) for the backend-rule tests. */

export const CUMULATIVE = 2;
export const DELTA = 1;

/** 2026-01-15T12:00:00Z: the tests' "now", in ms. */
export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

/** OTLP nanoseconds (a decimal string) from ms. */
export function ns(ms: number): string {
  return String(BigInt(ms) * 1_000_000n);
}

export function kv(attributes: Record<string, string | number>): Array<{ key: string; value: object }> {
  return Object.entries(attributes).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } }));
}

export interface NumberPoint {
  attrs?: Record<string, string | number>;
  /** ms */
  t: number;
  /** ms; omitted for gauges */
  st?: number;
  v: number;
}

function numberPoint(p: NumberPoint): object {
  return { attributes: kv(p.attrs ?? {}), ...(p.st !== undefined ? { startTimeUnixNano: ns(p.st) } : {}), timeUnixNano: ns(p.t), asDouble: p.v };
}

export function sum(name: string, unit: string, temporality: number, monotonic: boolean, points: NumberPoint[]): object {
  return { name, unit, sum: { aggregationTemporality: temporality, isMonotonic: monotonic, dataPoints: points.map(numberPoint) } };
}

export function gauge(name: string, unit: string, points: NumberPoint[]): object {
  return { name, unit, gauge: { dataPoints: points.map(numberPoint) } };
}

export interface HistogramPoint {
  attrs?: Record<string, string | number>;
  t: number;
  st: number;
  bounds: number[];
  counts: number[];
  sum: number;
}

export function histogram(name: string, unit: string, temporality: number, points: HistogramPoint[]): object {
  return {
    name,
    unit,
    histogram: {
      aggregationTemporality: temporality,
      dataPoints: points.map((p) => ({
        attributes: kv(p.attrs ?? {}),
        startTimeUnixNano: ns(p.st),
        timeUnixNano: ns(p.t),
        count: String(p.counts.reduce((a, b) => a + b, 0)),
        sum: p.sum,
        bucketCounts: p.counts.map(String),
        explicitBounds: p.bounds,
      })),
    },
  };
}

export function exponentialHistogram(name: string, unit: string, temporality: number, t: number, st: number, count: number): object {
  return {
    name,
    unit,
    exponentialHistogram: {
      aggregationTemporality: temporality,
      dataPoints: [{ startTimeUnixNano: ns(st), timeUnixNano: ns(t), count: String(count), sum: count, scale: 2, zeroCount: '0', positive: { offset: 0, bucketCounts: [String(count)] } }],
    },
  };
}

/** The resource the sidecar sends for one app (service.name from the drain), with extra attributes. */
export const APP = { 'service.name': 'shop-web', 'cloud.provider': 'heroku' };

export function request(resource: Record<string, string | number>, metrics: object[]): any {
  return { resourceMetrics: [{ resource: { attributes: kv(resource) }, scopeMetrics: [{ scope: { name: 'heroku-otel-drain', version: '0.1.0' }, metrics }] }] };
}
