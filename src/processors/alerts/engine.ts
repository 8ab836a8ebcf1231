/**
 * The alert engine: rules observe records and metric points as they pass, keep per-group sliding
 * windows, and `evaluate(now)` turns them into alert transitions (firing, repeated while firing,
 * resolved). Pure apart from the clock it is given, so tests drive it on a fake one.
 *
 * Windows are kept in time buckets (1/60 of the window, at least a second), not one entry per
 * record: a rule over all router lines of a busy app holds a few hundred numbers, not millions.
 * Quantiles sample at most QUANTILE_SAMPLES values per bucket.
 */
import type { Attributes, AttributeValue, LogRecordData, MetricPointData } from '../../translate/telemetry.ts';
import { measureOf, type AlertSeverity, type AttributeCondition, type Match, type Measure, type Rule } from './rules.ts';

export interface AlertEvent {
  rule: string;
  state: 'firing' | 'resolved';
  severity: AlertSeverity;
  /** alertname, severity, the rule's labels, and the group's values (dots as underscores). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  startsAtMs: number;
  /** When it resolved; undefined while firing. */
  endsAtMs: number | undefined;
  /** The evaluation that made this event (a repeat's own time, not the alert's start). */
  atMs: number;
  /** A few of the lines that made it fire, latest last. */
  samples: string[];
  /** The group's attribute values, under their own names. */
  group: Record<string, string>;
}

/** One window bucket's counts for one rule and group: what instances share through Redis. */
export interface SharedBucket {
  start: number;
  count: number;
  hits: number;
  sum: number;
  max: number;
}

/** This instance's own totals for one bucket of one rule and group. */
export interface OwnBucket extends SharedBucket {
  rule: string;
  groupKey: string;
  labels: Record<string, string>;
}

/** Measures whose buckets add up across instances (a quantile's sample does not). */
function shareable(measure: Measure): boolean {
  return measure === 'count' || measure === 'rate' || measure === 'ratio' || measure === 'avg' || measure === 'max';
}

const QUANTILE_SAMPLES = 256;
const SAMPLE_LINES = 3;
/** Groups per rule at most: a group_by on a high-cardinality attribute must not grow without end. */
const MAX_GROUPS = 10_000;

const SEVERITY_FLOOR: Record<NonNullable<Match['min_severity']>, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

interface Bucket {
  start: number;
  count: number;
  /** Records that also matched the ratio's match. */
  hits: number;
  sum: number;
  max: number;
  values: number[];
  seen: number;
}

interface Group {
  labels: Record<string, string>;
  /** When the group last saw an item: one silent for two windows is forgotten. */
  lastSeen: number;
  buckets: Bucket[];
  /** gauge / gauge_ratio: the latest value per metric and when it came. */
  latest: Map<string, { value: number; at: number }>;
  samples: string[];
  pendingSince: number | undefined;
  firingSince: number | undefined;
  lastSentAt: number;
  lastValue: number;
}

interface RuleState {
  rule: Rule;
  measure: Measure;
  bucketMs: number;
  groups: Map<string, Group>;
  /** rule.match and rule.ratio.match, read once (see compileMatch). */
  match: CompiledMatch;
  ratio: CompiledMatch | undefined;
  /**
   * The group the last item went to, and the group_by values it had: the next item with the
   * same values goes there without its key being built (a string per item) and looked up.
   * Forgotten whenever evaluate may drop groups.
   */
  lastGroup: Group | undefined;
  lastValues: Array<AttributeValue | undefined>;
}

/** A Match as recordMatches reads it, its attribute conditions as a list (no for-in per item). */
interface CompiledMatch {
  kind: Match['kind'];
  event: Match['event'];
  severityFloor: number | undefined;
  names: string[];
  conditions: AttributeCondition[];
  body: RegExp | undefined;
}

function compileMatch(m: Match): CompiledMatch {
  const names = m.attributes === undefined ? [] : Object.keys(m.attributes);
  return {
    kind: m.kind,
    event: m.event,
    severityFloor: m.min_severity === undefined ? undefined : SEVERITY_FLOOR[m.min_severity],
    names,
    conditions: names.map((name) => m.attributes![name]!),
    body: m.body,
  };
}

/** recordMatches on a compiled match, the record's kind text given (read once per record). */
function matches(m: CompiledMatch, r: LogRecordData, kind: string): boolean {
  if (m.kind !== undefined && !oneOf(m.kind, kind)) return false;
  if (m.event !== undefined && !oneOf(m.event, r.eventName)) return false;
  if (m.severityFloor !== undefined && !(r.severityNumber >= m.severityFloor)) return false;
  const names = m.names;
  if (names.length > 0) {
    const attributes = r.attributes;
    for (let i = 0; i < names.length; i++) if (!conditionHolds(m.conditions[i]!, attributes[names[i]!])) return false;
  }
  if (m.body !== undefined && !m.body.test(r.body)) return false;
  return true;
}

function scalarText(v: AttributeValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

function conditionHolds(c: AttributeCondition, v: AttributeValue | undefined): boolean {
  if (c.exists !== undefined && c.exists !== (v !== undefined)) return false;
  if (v === undefined) return c.exists === false;
  // The value's text only for the tests that read it: a number compared as a number makes no string.
  if (c.equals !== undefined || c.in !== undefined || c.regex !== undefined) {
    const text = scalarText(v)!;
    if (c.equals !== undefined && text !== String(c.equals)) return false;
    if (c.in !== undefined && !oneText(c.in, text)) return false;
    if (c.regex !== undefined && !c.regex.test(text)) return false;
  }
  if (c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) {
    const n = typeof v === 'number' ? v : Number(scalarText(v));
    if (!Number.isFinite(n)) return false;
    if (c.gt !== undefined && !(n > c.gt)) return false;
    if (c.gte !== undefined && !(n >= c.gte)) return false;
    if (c.lt !== undefined && !(n < c.lt)) return false;
    if (c.lte !== undefined && !(n <= c.lte)) return false;
  }
  return true;
}

function oneText(list: readonly (string | number | boolean)[], text: string): boolean {
  for (let i = 0; i < list.length; i++) if (String(list[i]) === text) return true;
  return false;
}

function oneOf(want: string | readonly string[] | undefined, have: string): boolean {
  if (want === undefined) return true;
  return typeof want === 'string' ? want === have : want.includes(have);
}

/** Whether a record matches: every part given must hold. */
export function recordMatches(m: Match, r: LogRecordData): boolean {
  if (m.kind !== undefined && !oneOf(m.kind, String(r.attributes['heroku.log.kind'] ?? ''))) return false;
  if (m.event !== undefined && !oneOf(m.event, r.eventName)) return false;
  if (m.min_severity !== undefined && !(r.severityNumber >= SEVERITY_FLOOR[m.min_severity])) return false;
  if (m.attributes !== undefined) {
    for (const name in m.attributes) if (!conditionHolds(m.attributes[name]!, r.attributes[name])) return false;
  }
  if (m.body !== undefined && !m.body.test(r.body)) return false;
  return true;
}

/** A group's key, as _group builds it: the same on every instance. */
function groupKeyOf(s: RuleState, group: Group): string {
  let key = '';
  for (const name of s.rule.group_by) {
    const v = group.labels[name] ?? '';
    key += `${v.length}:${v}`;
  }
  return key;
}

/** Prometheus label names: letters, digits and _. */
function labelName(attribute: string): string {
  return attribute.replace(/[^A-Za-z0-9_]/g, '_');
}

function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** `{{ value }}`, `{{ rule }}`, `{{ severity }}` and `{{ some.attribute }}` (or its label name). */
export function fillTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? vars[labelName(name)] ?? '');
}

export class AlertEngine {
  /** Items not tracked because a rule had MAX_GROUPS groups already. */
  droppedGroups = 0;
  /**
   * Shared mode: this instance's own totals per bucket (not the shared ones), written to the
   * store as absolute values: writing them again after a failure counts nothing twice.
   */
  private _own: Map<string, OwnBucket> | undefined;
  private readonly _rules: RuleState[];
  private readonly _recordRules: RuleState[];
  private readonly _pointRules: RuleState[];
  /** Per heroku.log.kind, the record rules that may match it (in rule order): most name one kind. */
  private readonly _byKind = new Map<string, RuleState[]>();

  constructor(rules: readonly Rule[]) {
    this._rules = rules
      .filter((r) => r.enabled)
      .map((rule): RuleState => {
        const measure = measureOf(rule);
        return {
          rule,
          measure,
          bucketMs: Math.max(1000, Math.floor(rule.window / 60)),
          groups: new Map(),
          match: compileMatch(rule.match),
          ratio: measure === 'ratio' ? compileMatch(rule.ratio!.match) : undefined,
          lastGroup: undefined,
          lastValues: rule.group_by.map(() => undefined),
        };
      });
    this._recordRules = this._rules.filter((s) => s.measure !== 'gauge' && s.measure !== 'gauge_ratio');
    this._pointRules = this._rules.filter((s) => s.measure === 'gauge' || s.measure === 'gauge_ratio');
  }

  get ruleCount(): number {
    return this._rules.length;
  }

  /** Starts keeping this instance's own bucket totals (windows shared by several instances). */
  shareWindows(): void {
    this._own ??= new Map();
  }

  /** This instance's own bucket totals still inside their windows; older ones are forgotten. */
  ownBuckets(now: number): OwnBucket[] {
    if (this._own === undefined) return [];
    const windows = new Map(this._rules.map((s) => [s.rule.name, s.rule.window + s.bucketMs] as const));
    const out: OwnBucket[] = [];
    for (const [key, b] of this._own) {
      if (b.start < now - windows.get(b.rule)!) this._own.delete(key);
      else out.push(b);
    }
    return out;
  }

  /** The rules whose windows are shared, with their window and bucket width. */
  sharedRules(): Array<{ name: string; windowMs: number; bucketMs: number }> {
    return this._rules.filter((s) => shareable(s.measure)).map((s) => ({ name: s.rule.name, windowMs: s.rule.window, bucketMs: s.bucketMs }));
  }

  /** Replaces a group's window with the buckets every instance added up (from the shared store). */
  mergeShared(ruleName: string, groupKey: string, labels: Record<string, string>, buckets: readonly SharedBucket[], now: number): void {
    const s = this._rules.find((r) => r.rule.name === ruleName);
    if (s === undefined || !shareable(s.measure)) return;
    let group = s.groups.get(groupKey);
    if (group === undefined) {
      if (buckets.length === 0 || s.groups.size >= MAX_GROUPS) return;
      group = { labels, lastSeen: now, buckets: [], latest: new Map(), samples: [], pendingSince: undefined, firingSince: undefined, lastSentAt: 0, lastValue: 0 };
      s.groups.set(groupKey, group);
    }
    if (buckets.length > 0) group.lastSeen = now;
    group.buckets = [...buckets].sort((a, b) => a.start - b.start).map((b) => ({ ...b, values: [], seen: 0 }));
  }

  observeRecords(resource: Attributes, records: readonly LogRecordData[], now: number): void {
    if (this._recordRules.length === 0) return;
    for (const r of records) {
      const kind = String(r.attributes['heroku.log.kind'] ?? '');
      const rules = this._rulesOfKind(kind);
      for (let k = 0; k < rules.length; k++) {
        const s = rules[k]!;
        if (!matches(s.match, r, kind)) continue;
        const group = this._group(s, r.attributes, resource, now);
        if (group === undefined) continue;
        const bucket = this._bucket(s, group, now);
        let value = NaN;
        if (s.measure === 'avg' || s.measure === 'max' || s.measure === 'quantile') {
          const attribute = (s.rule.avg ?? s.rule.max ?? s.rule.quantile)!.attribute;
          const raw = r.attributes[attribute];
          value = typeof raw === 'number' ? raw : Number(raw);
          if (!Number.isFinite(value)) continue;
        }
        bucket.count++;
        const hit = s.ratio !== undefined && matches(s.ratio, r, kind);
        if (hit) bucket.hits++;
        if (!Number.isNaN(value)) {
          bucket.sum += value;
          if (value > bucket.max) bucket.max = value;
          if (s.measure === 'quantile') {
            // Reservoir sampling keeps the bucket's values a fair sample of what it saw.
            bucket.seen++;
            if (bucket.values.length < QUANTILE_SAMPLES) bucket.values.push(value);
            else {
              const j = Math.floor(Math.random() * bucket.seen);
              if (j < QUANTILE_SAMPLES) bucket.values[j] = value;
            }
          }
        }
        // The latest SAMPLE_LINES bodies, latest last, moved along in place.
        const samples = group.samples;
        if (samples.length < SAMPLE_LINES) samples.push(r.body);
        else {
          for (let i = 1; i < samples.length; i++) samples[i - 1] = samples[i]!;
          samples[samples.length - 1] = r.body;
        }
        if (this._own !== undefined && shareable(s.measure)) {
          const groupKey = groupKeyOf(s, group);
          const ok = `${s.rule.name}\u0000${groupKey}\u0000${bucket.start}`;
          let own = this._own.get(ok);
          if (own === undefined) {
            own = { rule: s.rule.name, groupKey, labels: group.labels, start: bucket.start, count: 0, hits: 0, sum: 0, max: -Infinity };
            this._own.set(ok, own);
          }
          own.count++;
          if (hit) own.hits++;
          if (!Number.isNaN(value)) {
            own.sum += value;
            if (value > own.max) own.max = value;
          }
        }
      }
    }
  }

  private _rulesOfKind(kind: string): readonly RuleState[] {
    let rules = this._byKind.get(kind);
    if (rules === undefined) {
      rules = this._recordRules.filter((s) => s.rule.match.kind === undefined || oneOf(s.rule.match.kind, kind));
      // Translation sets a handful of kinds; a bound all the same.
      if (this._byKind.size < 64) this._byKind.set(kind, rules);
    }
    return rules;
  }

  observePoints(resource: Attributes, points: readonly MetricPointData[], now: number): void {
    if (this._pointRules.length === 0) return;
    for (const p of points) {
      for (const s of this._pointRules) {
        const wanted = s.rule.gauge?.metric ?? s.rule.gauge_ratio!.metric;
        const divisor = s.rule.gauge_ratio?.divide_by;
        if (p.name !== wanted && p.name !== divisor) continue;
        const group = this._group(s, p.attributes, resource, now);
        if (group === undefined) continue;
        group.latest.set(p.name, { value: p.value, at: now });
      }
    }
  }

  /** Alert transitions at `now`: what started firing, what fires again (repeat), what resolved. */
  evaluate(now: number): AlertEvent[] {
    const events: AlertEvent[] = [];
    for (const s of this._rules) {
      const { rule } = s;
      // It may drop the group the memo holds.
      s.lastGroup = undefined;
      for (const [key, group] of s.groups) {
        const value = this._value(s, group, now);
        const holds = value !== undefined && (rule.above !== undefined ? value > rule.above : value < rule.below!);
        if (holds) {
          group.lastValue = value;
          group.pendingSince ??= now;
          if (group.firingSince === undefined && now - group.pendingSince >= rule.for) {
            group.firingSince = now;
            group.lastSentAt = now;
            events.push(this._event(s, group, 'firing', value, undefined, now));
          } else if (group.firingSince !== undefined && now - group.lastSentAt >= rule.repeat_interval) {
            group.lastSentAt = now;
            events.push(this._event(s, group, 'firing', value, undefined, now));
          }
        } else {
          group.pendingSince = undefined;
          if (group.firingSince !== undefined) {
            events.push(this._event(s, group, 'resolved', value ?? group.lastValue, now, now));
            group.firingSince = undefined;
          }
          // A quiet group with nothing left in its window is forgotten.
          if (group.buckets.length === 0 && (s.measure !== 'gauge' && s.measure !== 'gauge_ratio' ? true : this._stale(s, group, now))) s.groups.delete(key);
        }
        // A group silent for two windows is gone (a one-off dyno, a retired app): an alert that
        // holds on its silence (`below`) resolves rather than firing forever.
        if (now - group.lastSeen > 2 * rule.window && s.groups.has(key)) {
          if (group.firingSince !== undefined) events.push(this._event(s, group, 'resolved', group.lastValue, now, now));
          s.groups.delete(key);
        }
      }
    }
    return events;
  }

  /** Alerts firing now, for re-posting to Alertmanager. */
  firing(now = Date.now()): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const s of this._rules) for (const g of s.groups.values()) if (g.firingSince !== undefined) out.push(this._event(s, g, 'firing', g.lastValue, undefined, now));
    return out;
  }

  private _group(s: RuleState, attributes: Attributes, resource: Attributes, now: number): Group | undefined {
    const by = s.rule.group_by;
    const last = s.lastGroup;
    if (last !== undefined) {
      // The same values make the same key: the same group. Lists are not compared (their text could change in place).
      const values = s.lastValues;
      let same = true;
      for (let i = 0; i < by.length; i++) {
        const name = by[i]!;
        const v = resource[name] ?? attributes[name];
        if (v !== values[i] || typeof v === 'object') {
          same = false;
          break;
        }
      }
      if (same) {
        last.lastSeen = now;
        return last;
      }
    }
    let key = '';
    for (const name of by) {
      // The drain's resource first: an app's own fields must not pass for another service.
      const v = scalarText(resource[name] ?? attributes[name]) ?? '';
      key += `${v.length}:${v}`;
    }
    let group = s.groups.get(key);
    if (group === undefined) {
      if (s.groups.size >= MAX_GROUPS) {
        this.droppedGroups++;
        return undefined;
      }
      // Its labels only for a new group: an item of a known one allocates none.
      const labels: Record<string, string> = {};
      for (const name of by) labels[name] = scalarText(resource[name] ?? attributes[name]) ?? '';
      group = { labels, lastSeen: now, buckets: [], latest: new Map(), samples: [], pendingSince: undefined, firingSince: undefined, lastSentAt: 0, lastValue: 0 };
      s.groups.set(key, group);
    }
    group.lastSeen = now;
    s.lastGroup = group;
    for (let i = 0; i < by.length; i++) s.lastValues[i] = resource[by[i]!] ?? attributes[by[i]!];
    return group;
  }

  private _bucket(s: RuleState, group: Group, now: number): Bucket {
    const start = now - (now % s.bucketMs);
    const last = group.buckets.at(-1);
    if (last !== undefined && last.start === start) return last;
    const bucket: Bucket = { start, count: 0, hits: 0, sum: 0, max: -Infinity, values: [], seen: 0 };
    group.buckets.push(bucket);
    return bucket;
  }

  private _stale(s: RuleState, group: Group, now: number): boolean {
    for (const { at } of group.latest.values()) if (now - at <= s.rule.window) return false;
    return true;
  }

  /** The rule's value for a group at `now`, or undefined when there is nothing to judge. */
  private _value(s: RuleState, group: Group, now: number): number | undefined {
    const { rule } = s;
    if (s.measure === 'gauge' || s.measure === 'gauge_ratio') {
      const fresh = (metric: string) => {
        const l = group.latest.get(metric);
        return l !== undefined && now - l.at <= rule.window ? l.value : undefined;
      };
      if (s.measure === 'gauge') return fresh(rule.gauge!.metric);
      const a = fresh(rule.gauge_ratio!.metric);
      const b = fresh(rule.gauge_ratio!.divide_by);
      return a === undefined || b === undefined || b <= 0 ? undefined : a / b;
    }
    // Drop buckets that have left the window.
    const from = now - rule.window;
    let drop = 0;
    while (drop < group.buckets.length && group.buckets[drop]!.start + s.bucketMs <= from) drop++;
    if (drop > 0) group.buckets.splice(0, drop);
    let count = 0;
    let hits = 0;
    let sum = 0;
    let max = -Infinity;
    for (const b of group.buckets) {
      count += b.count;
      hits += b.hits;
      sum += b.sum;
      if (b.max > max) max = b.max;
    }
    switch (s.measure) {
      case 'count':
        return count;
      case 'rate':
        return count / (rule.window / 1000);
      case 'ratio':
        return count === 0 || count < rule.ratio!.min_count ? undefined : hits / count;
      case 'avg':
        return count === 0 ? undefined : sum / count;
      case 'max':
        return count === 0 ? undefined : max;
      case 'quantile': {
        if (count === 0 || count < rule.quantile!.min_count) return undefined;
        // Each bucket kept a sample of what it saw: a kept value stands for seen/kept values.
        const weighted: Array<[number, number]> = [];
        for (const b of group.buckets) {
          const weight = b.values.length === 0 ? 0 : b.count / b.values.length;
          for (const v of b.values) weighted.push([v, weight]);
        }
        weighted.sort((x, y) => x[0] - y[0]);
        const target = rule.quantile!.q * count;
        let seen = 0;
        for (const [v, w] of weighted) {
          seen += w;
          if (seen >= target) return v;
        }
        return weighted.at(-1)?.[0];
      }
    }
  }

  private _event(s: RuleState, group: Group, state: 'firing' | 'resolved', value: number, endsAtMs: number | undefined, atMs: number): AlertEvent {
    const { rule } = s;
    const labels: Record<string, string> = { ...rule.labels, alertname: rule.name, severity: rule.severity };
    for (const [name, v] of Object.entries(group.labels)) if (v !== '') labels[labelName(name)] = v;
    const vars: Record<string, string> = { ...group.labels, ...labels, value: formatValue(value), rule: rule.name };
    const annotations: Record<string, string> = {};
    for (const [k, t] of Object.entries(rule.annotations)) annotations[k] = fillTemplate(t, vars);
    return {
      rule: rule.name,
      state,
      severity: rule.severity,
      labels,
      annotations,
      value,
      startsAtMs: group.firingSince ?? endsAtMs ?? 0,
      endsAtMs,
      atMs,
      samples: group.samples.slice(),
      group: { ...group.labels },
    };
  }
}
