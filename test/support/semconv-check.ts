/**
 * Checks telemetry against our semconv registry: every attribute, metric and event name must be
 * declared there, with the declared type and unit.
 */
import { loadRegistry, type AttributeDef, type MetricDef } from '../../scripts/semconv-registry.ts';
import type { AttributeValue, LogRecordData, MetricPointData } from '../../src/translate/telemetry.ts';

const registry = loadRegistry();
const exact = new Map<string, AttributeDef>();
const templates: AttributeDef[] = [];
for (const a of registry.attributes) {
  if (a.template) templates.push(a);
  else exact.set(a.id, a);
}
const namedMetrics = new Map<string, MetricDef>(registry.metrics.filter((m) => !m.pattern).map((m) => [m.name, m]));
const eventNames = new Set(registry.events.map((e) => e.name));

function attributeDef(key: string): AttributeDef | undefined {
  return exact.get(key) ?? templates.find((t) => key.startsWith(t.id + '.') && key.length > t.id.length + 1);
}

function typeProblem(def: AttributeDef, value: AttributeValue): string | undefined {
  const type = def.type.startsWith('template[') ? def.type.slice(9, -1) : def.type;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'int':
      return Number.isInteger(value) ? undefined : 'an int';
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a double';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : 'a string[]';
    case 'enum':
      return typeof value === 'string' && def.members!.some((m) => m.value === value) ? undefined : `one of ${def.members!.map((m) => m.value).join('|')}`;
    default:
      return `of unknown registry type ${def.type}`;
  }
}

const INSTRUMENT_FOR_TYPE: Record<MetricPointData['type'], string> = { gauge: 'gauge', sum: 'counter', total: 'counter', histogram: 'histogram' };

/**
 * Problems with a batch, as readable strings. `appDefined` holds attribute keys and metric names
 * that the input itself defined (JSON/logfmt fields, l2met names): those are the app's, not ours.
 */
export function registryProblems(logs: LogRecordData[], metrics: MetricPointData[], appDefined: Set<string>): string[] {
  const problems = new Set<string>();
  const checkAttributes = (where: string, attributes: Record<string, AttributeValue>) => {
    for (const [key, value] of Object.entries(attributes)) {
      const def = attributeDef(key);
      if (!def) {
        if (!appDefined.has(key)) problems.add(`${where}: attribute ${key} is not in semconv/`);
        continue;
      }
      const expected = typeProblem(def, value);
      if (expected) problems.add(`${where}: attribute ${key}=${JSON.stringify(value)} should be ${expected}`);
    }
  };
  for (const r of logs) {
    if (!eventNames.has(r.eventName)) problems.add(`log: event name ${r.eventName} is not in semconv/`);
    checkAttributes(`log ${r.eventName}`, r.attributes);
  }
  for (const p of metrics) {
    const def = namedMetrics.get(p.name);
    if (def) {
      if (def.unit !== p.unit) problems.add(`metric ${p.name}: unit ${p.unit}, registry says ${def.unit}`);
      if (def.instrument !== INSTRUMENT_FOR_TYPE[p.type]) problems.add(`metric ${p.name}: ${p.type}, registry says ${def.instrument}`);
      for (const key of Object.keys(p.attributes)) {
        if (!def.attributes.includes(key)) problems.add(`metric ${p.name}: attribute ${key} not declared for it`);
      }
    } else if (/^heroku\.[a-z0-9_]+\.[a-z0-9_]+$/.test(p.name)) {
      // heroku.dyno.<key> and heroku.<service>.<key>: templates, gauges only.
      if (p.type !== 'gauge') problems.add(`metric ${p.name}: sample templates are gauges, got ${p.type}`);
    } else if (!appDefined.has(p.name)) {
      problems.add(`metric ${p.name} is not in semconv/`);
    }
    checkAttributes(`metric ${p.name}`, p.attributes);
  }
  return [...problems];
}
