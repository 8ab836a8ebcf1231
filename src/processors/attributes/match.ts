/**
 * include / exclude of the attributes processor, as contrib's filterlog and filtermetric match
 * (internal/filter): a log record matches when every property given matches; a metric matches by
 * its name alone (contrib's metric matcher reads metric_names and nothing else). Patterns are
 * compiled once, here, when the processor is made.
 */
import { SCOPE } from '../../exporters/exporter.ts';
import type { AttributeValue, Attributes, LogRecordData, MetricPointData, SpanData } from '../../translate/telemetry.ts';
import { asString } from './actions.ts';
import type { MatchProperties } from './config.ts';
import { compileGoRegexp } from './regexp.ts';

export type LogMatcher = (resource: Attributes, record: LogRecordData) => boolean;
export type MetricMatcher = (point: MetricPointData) => boolean;
export type SpanMatcher = (resource: Attributes, span: SpanData) => boolean;

type StringTest = (value: string) => boolean;

/** filterset: strict is equality, regexp a search; any one of the list matches. */
function stringSet(matchType: MatchProperties['match_type'], list: readonly string[]): StringTest {
  if (matchType === 'strict') {
    const set = new Set(list);
    return (v) => set.has(v);
  }
  const regexps = [...new Set(list)].map(compile);
  return (v) => regexps.some((r) => r.test(v));
}

function compile(pattern: string): RegExp {
  const compiled = compileGoRegexp(pattern);
  // The schema has refused a pattern that does not compile.
  if (!compiled.ok) throw new Error(compiled.problem);
  return compiled.regexp;
}

function sameValue(want: AttributeValue, got: AttributeValue): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && want.length === got.length && want.every((w, i) => w === got[i]);
  return want === got;
}

/** filtermatcher's AttributesMatcher: every entry's key present, with its value when given; no attributes at all never matches. */
function attributesMatcher(matchType: MatchProperties['match_type'], list: MatchProperties['attributes']): ((a: Attributes) => boolean) | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const checks = list.map(({ key, value }): ((a: Attributes) => boolean) => {
    if (value === undefined || value === null) return (a) => Object.hasOwn(a, key);
    if (matchType === 'regexp') {
      const r = compile(value as string);
      // A list has no string form there: it does not match.
      return (a) => {
        const v = a[key];
        return v !== undefined && !Array.isArray(v) && r.test(typeof v === 'string' ? v : asString(v));
      };
    }
    return (a) => {
      const v = a[key];
      return v !== undefined && sameValue(value, v);
    };
  });
  return (a) => {
    let any = false;
    for (const _ in a) {
      any = true;
      break;
    }
    return any && checks.every((c) => c(a));
  };
}

/** A log record matcher (contrib's filterlog propertiesMatcher). */
export function compileLogMatcher(m: MatchProperties): LogMatcher {
  const bodies = m.log_bodies?.length ? stringSet(m.match_type, m.log_bodies) : undefined;
  const severityTexts = m.log_severity_texts?.length ? stringSet(m.match_type, m.log_severity_texts) : undefined;
  const severity = m.log_severity_number;
  const attributes = attributesMatcher(m.match_type, m.attributes);
  const resources = attributesMatcher(m.match_type, m.resources);
  const libraries = (m.libraries ?? []).map((l) => ({ name: stringSet(m.match_type, [l.name]), version: typeof l.version === 'string' ? stringSet(m.match_type, [l.version]) : undefined }));
  // The scope is always this sidecar's: whether the libraries match is known now.
  const librariesMatch = libraries.every((l) => l.name(SCOPE.name) && (l.version === undefined || l.version(SCOPE.version)));
  return (resource, record) => {
    if (!librariesMatch) return false;
    if (bodies !== undefined && !bodies(record.body)) return false;
    if (severityTexts !== undefined && !severityTexts(record.severityText)) return false;
    if (severity !== undefined && (record.severityNumber === 0 ? !severity.match_undefined : record.severityNumber < severity.min)) return false;
    if (resources !== undefined && !resources(resource)) return false;
    return attributes === undefined || attributes(record.attributes);
  };
}

/** OTLP's SpanKind as contrib's filterspan names it (traceutil.SpanKindStr). */
const SPAN_KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];

/** A span matcher (contrib's filterspan propertiesMatcher): services (the resource's service.name), span_names, span_kinds, attributes, resources, libraries. */
export function compileSpanMatcher(m: MatchProperties): SpanMatcher {
  const services = m.services?.length ? stringSet(m.match_type, m.services) : undefined;
  const names = m.span_names?.length ? stringSet(m.match_type, m.span_names) : undefined;
  const kinds = m.span_kinds?.length ? stringSet(m.match_type, m.span_kinds) : undefined;
  const attributes = attributesMatcher(m.match_type, m.attributes);
  const resources = attributesMatcher(m.match_type, m.resources);
  const libraries = (m.libraries ?? []).map((l) => ({ name: stringSet(m.match_type, [l.name]), version: typeof l.version === 'string' ? stringSet(m.match_type, [l.version]) : undefined }));
  const librariesMatch = libraries.every((l) => l.name(SCOPE.name) && (l.version === undefined || l.version(SCOPE.version)));
  return (resource, span) => {
    if (!librariesMatch) return false;
    if (services !== undefined) {
      const service = resource['service.name'];
      if (service === undefined || !services(typeof service === 'string' ? service : asString(service))) return false;
    }
    if (names !== undefined && !names(span.name)) return false;
    if (kinds !== undefined && !kinds(SPAN_KIND_NAMES[span.kind] ?? 'SPAN_KIND_UNSPECIFIED')) return false;
    if (resources !== undefined && !resources(resource)) return false;
    return attributes === undefined || attributes(span.attributes);
  };
}

/** A metric matcher (contrib's filtermetric name matcher): by metric_names; without any, none. */
export function compileMetricMatcher(m: MatchProperties): MetricMatcher | undefined {
  if (!m.metric_names?.length) return undefined;
  const names = stringSet(m.match_type, m.metric_names);
  return (point) => names(point.name);
}
