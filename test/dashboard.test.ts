/**
 * The Grafana dashboard (examples/grafana/heroku-dashboard.json): a panel for each of the seeds'
 * seven dashboards, a table for each of their three reports, a row on the sidecar itself (its own
 * `otelcol_*` metrics, as its periodic OTLP reader sends them), and every query naming only
 * attributes and metrics our semconv registry declares, translated as Grafana Cloud stores OTLP:
 * Loki keeps attributes as structured metadata with dots as underscores (service.name is the
 * service_name label), Prometheus names metrics with the unit's suffix (`_bytes`, `_seconds`, not
 * repeated when the name has the word already)
 * and `_bucket`/`_count`/`_sum` for histograms, and service.name becomes the job label.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../scripts/semconv-registry.ts';

const dashboard = JSON.parse(readFileSync(new URL('../examples/grafana/heroku-dashboard.json', import.meta.url), 'utf8'));
const registry = loadRegistry();
const underscore = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * Names a Loki query may use: our attributes (templates as prefixes), and what Loki adds itself
 * from the record's fields (`event_name` is the EventName field, grafana/loki#21229).
 */
const lokiNames = new Set(['service_name', 'severity_text', 'event_name', ...registry.attributes.filter((a) => !a.template).map((a) => underscore(a.id))]);
const lokiPrefixes = registry.attributes.filter((a) => a.template).map((a) => `${underscore(a.id)}_`);
const knownLoki = (name: string) => lokiNames.has(name) || lokiPrefixes.some((p) => name.startsWith(p));

const UNIT_SUFFIX: Record<string, string> = { By: '_bytes', s: '_seconds', ms: '_milliseconds' };
/** Prometheus metric names, each with the labels its series carry (the registry's attributes). */
const promMetrics = new Map<string, Set<string>>();
/** A unit's suffix, unless the name has that word already (`otelcol_process_cpu_seconds`), as the OTLP translator does. */
const withUnit = (name: string, suffix: string) => (suffix === '' || name.split('_').includes(suffix.slice(1)) ? name : name + suffix);
for (const m of registry.metrics.filter((x) => !x.pattern)) {
  const base = withUnit(underscore(m.name), UNIT_SUFFIX[m.unit] ?? (m.unit === '1' && m.instrument === 'gauge' ? '_ratio' : ''));
  const labels = new Set(['job', 'instance', ...m.attributes.map(underscore)]);
  if (m.instrument === 'histogram') {
    for (const s of ['_bucket', '_count', '_sum']) promMetrics.set(base + s, labels);
    promMetrics.get(`${base}_bucket`)!.add('le');
  } else if (m.instrument === 'counter') promMetrics.set(`${base}_total`, labels);
  else promMetrics.set(base, labels);
}

function lokiNamesIn(expr: string): string[] {
  const names: string[] = [];
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) names.push(l[1]!);
  for (const m of expr.matchAll(/\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=|>|<)/g)) names.push(m[1]!);
  for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) names.push(...m[1]!.split(',').map((s) => s.trim()));
  for (const m of expr.matchAll(/\|\s*keep\s+([^|]+)/g)) names.push(...m[1]!.split(',').map((s) => s.trim()));
  return names.filter(Boolean);
}

function promNamesIn(expr: string): { metrics: string[]; labels: string[] } {
  const metrics = [...expr.matchAll(/([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1]!);
  const labels: string[] = [];
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) labels.push(l[1]!);
  for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) labels.push(...m[1]!.split(',').map((s) => s.trim()));
  return { metrics, labels: labels.filter(Boolean) };
}

describe('Grafana dashboard', () => {
  it("has a panel for each of the seeds' seven dashboards and a table for each of the three reports", () => {
    const titles = dashboard.panels.map((p: any) => p.title);
    expect(titles).toEqual([
      'Application visited by geolocation',
      'HTTP codes by volume',
      'Error codes received',
      'Log type by application',
      'Request method by IP',
      'Visits on the application per day',
      'Log severity',
      'Latency by route (p95)',
      'Report: router logs',
      'Report: resource utilization',
      'Report: commands executed',
      'The sidecar itself',
      'Sidecar: lines in, refused, failed requests',
      'Sidecar: exports',
      'Sidecar: sending queues and disk',
      'Sidecar: memory',
      'Sidecar: CPU and event loop',
      'Sidecar: alerts firing and aggregation',
    ]);
    for (const p of dashboard.panels.filter((x: any) => x.title.startsWith('Report'))) expect(p.type).toBe('table');
  });

  it('queries only attributes and metrics the registry declares', () => {
    const unknown: string[] = [];
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const kind = (target.datasource ?? panel.datasource).type;
        if (kind === 'loki') {
          for (const name of lokiNamesIn(target.expr)) {
            checked++;
            if (!knownLoki(name)) unknown.push(`${panel.title}: ${name}`);
          }
        } else {
          const { metrics, labels } = promNamesIn(target.expr);
          // A label must be one that a metric of the query carries, not any attribute we have.
          const carried = new Set<string>();
          for (const m of metrics) {
            checked++;
            if (!promMetrics.has(m)) unknown.push(`${panel.title}: metric ${m}`);
            for (const l of promMetrics.get(m) ?? []) carried.add(l);
          }
          for (const l of labels) {
            checked++;
            if (!carried.has(l)) unknown.push(`${panel.title}: label ${l}`);
          }
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  it('would catch a name the registry does not declare', () => {
    expect(knownLoki('http_response_status_code')).toBe(true);
    expect(knownLoki('heroku_sample_memory_rss')).toBe(true);
    expect(knownLoki('http_status')).toBe(false);
    expect(promMetrics.has('http_server_request_duration_seconds_count')).toBe(true);
    expect(promMetrics.has('heroku_dyno_memory_rss_bytes')).toBe(true);
    expect(promMetrics.has('heroku_dyno_memory_rss')).toBe(false);
    // Running totals are counters (`_total`), durations in seconds, no per-dyno request histogram.
    expect(promMetrics.has('heroku_dyno_memory_pgpgin_total')).toBe(true);
    expect(promMetrics.has('heroku_redis_evicted_keys_total')).toBe(true);
    expect(promMetrics.has('heroku_pgbouncer_avg_query_duration_seconds')).toBe(true);
    expect(promMetrics.get('http_server_request_duration_seconds_count')!.has('heroku_dyno_name')).toBe(false);
    expect(promMetrics.get('heroku_dyno_memory_rss_bytes')!.has('heroku_dyno_name')).toBe(true);
    // The sidecar's own metrics, as Mimir stores what its periodic OTLP reader sends.
    expect(promMetrics.has('otelcol_process_memory_rss_bytes')).toBe(true);
    expect(promMetrics.has('otelcol_process_cpu_seconds_total')).toBe(true);
    expect(promMetrics.has('otelcol_process_uptime_seconds_total')).toBe(true);
    expect(promMetrics.has('otelcol_exporter_sent_log_records_total')).toBe(true);
    expect(promMetrics.get('otelcol_receiver_accepted_log_records_total')!.has('receiver')).toBe(true);
  });
});
