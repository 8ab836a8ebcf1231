/**
 * Loads our semantic-conventions registry (semconv/registry and semconv/upstream YAML) into plain
 * objects. Shared by the generator and the drift test.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface EnumMember {
  id: string;
  value: string;
  brief: string;
}

export interface AttributeDef {
  id: string;
  /** `string`, `int`, `double`, `boolean`, `string[]`, `enum`, or `template[...]`. */
  type: string;
  members: EnumMember[] | undefined;
  template: boolean;
  stability: string;
  brief: string;
  examples: unknown[];
  upstream: boolean;
  group: string;
}

export interface MetricDef {
  /** The metric name, or its pattern for templates (`heroku.<service>.<key>`). */
  name: string;
  pattern: boolean;
  instrument: string;
  unit: string;
  stability: string;
  brief: string;
  attributes: string[];
}

export interface EventDef {
  name: string;
  stability: string;
  brief: string;
  note: string;
}

export interface Registry {
  attributes: AttributeDef[];
  metrics: MetricDef[];
  events: EventDef[];
}

interface RawGroup {
  id: string;
  type: string;
  brief?: string;
  note?: string;
  attributes?: Array<Record<string, unknown>>;
  metric_name?: string;
  name_pattern?: string;
  name?: string;
  instrument?: string;
  unit?: string;
  stability?: string;
}

export const SEMCONV_DIR = new URL('../semconv/', import.meta.url).pathname;

function loadGroups(dir: string): RawGroup[] {
  const out: RawGroup[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parse(readFileSync(join(dir, file), 'utf8')) as { groups?: RawGroup[] };
    out.push(...(doc.groups ?? []));
  }
  return out;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().replace(/\s+/g, ' ') : '';
}

export function loadRegistry(root = SEMCONV_DIR): Registry {
  const registry: Registry = { attributes: [], metrics: [], events: [] };
  const sources: Array<[string, boolean]> = [
    [join(root, 'upstream'), true],
    [join(root, 'registry'), false],
  ];
  for (const [dir, upstream] of sources) {
    for (const group of loadGroups(dir)) {
      if (group.type === 'attribute_group') {
        for (const a of group.attributes ?? []) {
          const rawType = a.type;
          let type: string;
          let members: EnumMember[] | undefined;
          if (rawType && typeof rawType === 'object') {
            type = 'enum';
            members = ((rawType as { members: EnumMember[] }).members ?? []).map((m) => ({
              id: String(m.id),
              value: String(m.value),
              brief: text(m.brief),
            }));
          } else {
            type = String(rawType);
          }
          registry.attributes.push({
            id: String(a.id),
            type,
            members,
            template: type.startsWith('template['),
            stability: String(a.stability ?? 'development'),
            brief: text(a.brief),
            examples: Array.isArray(a.examples) ? a.examples : [],
            upstream,
            group: group.id,
          });
        }
      } else if (group.type === 'metric') {
        registry.metrics.push({
          name: String(group.metric_name ?? group.name_pattern),
          pattern: group.name_pattern !== undefined,
          instrument: String(group.instrument),
          unit: String(group.unit),
          stability: String(group.stability ?? 'development'),
          brief: text(group.brief),
          attributes: (group.attributes ?? []).map((a) => String(a.ref)),
        });
      } else if (group.type === 'event') {
        registry.events.push({
          name: String(group.name),
          stability: String(group.stability ?? 'development'),
          brief: text(group.brief),
          note: text(group.note),
        });
      }
    }
  }
  return registry;
}
