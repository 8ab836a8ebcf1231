/**
 * include / exclude of the attributes processor (contrib's filterconfig.MatchProperties): a record
 * or point matches when every property given matches. Compiled once at creation.
 */
import type { Attributes, LogRecordData, MetricPointData } from '../../translate/telemetry.ts';
import type { MatchProperties } from './config.ts';

export type Matcher = (resource: Attributes, record: LogRecordData | undefined, point: MetricPointData | undefined) => boolean;

const SEVERITY_NUMBERS: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

export function compileMatcher(m: MatchProperties): Matcher {
  const test = m.match_type === 'regexp' ? (pattern: string) => { const r = new RegExp(pattern); return (v: string) => r.test(v); } : (pattern: string) => (v: string) => v === pattern;
  const anyOf = (list: string[] | undefined) => {
    if (list === undefined) return undefined;
    const tests = list.map(test);
    return (v: string) => tests.some((t) => t(v));
  };
  const attributeChecks = (list: MatchProperties['attributes']) =>
    list?.map(({ key, value }) => {
      if (value === undefined) return (a: Attributes) => Object.hasOwn(a, key);
      if (m.match_type === 'regexp' && typeof value === 'string') {
        const r = new RegExp(value);
        return (a: Attributes) => Object.hasOwn(a, key) && r.test(String(a[key]));
      }
      return (a: Attributes) => a[key] === value;
    });
  const attributes = attributeChecks(m.attributes);
  const resources = attributeChecks(m.resources);
  const bodies = anyOf(m.log_bodies);
  const severityTexts = anyOf(m.log_severity_texts);
  const names = anyOf(m.metric_names);
  const min = m.log_severity_number === undefined ? undefined : typeof m.log_severity_number.min === 'number' ? m.log_severity_number.min : (SEVERITY_NUMBERS[m.log_severity_number.min.toUpperCase()] ?? Number(m.log_severity_number.min));
  const matchUndefined = m.log_severity_number?.match_undefined ?? false;
  return (resource, record, point) => {
    if (resources !== undefined && !resources.every((c) => c(resource))) return false;
    const own = record?.attributes ?? point?.attributes ?? {};
    if (attributes !== undefined && !attributes.every((c) => c(own))) return false;
    if (bodies !== undefined && (record === undefined || !bodies(record.body))) return false;
    if (severityTexts !== undefined && (record === undefined || !severityTexts(record.severityText))) return false;
    if (min !== undefined && (record === undefined || (record.severityNumber === 0 ? !matchUndefined : record.severityNumber < min))) return false;
    if (names !== undefined && (point === undefined || !names(point.name))) return false;
    return true;
  };
}
