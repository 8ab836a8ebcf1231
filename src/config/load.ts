/**
 * The sidecar's config, in the OpenTelemetry Collector's shape: `receivers`, `processors`,
 * `exporters` and `service.pipelines`, with `${env:...}` expansion. Validation collects every
 * problem, each naming its key path, so one run of `validate` shows them all.
 */
import { authenticates, COMPONENT_SCHEMAS, componentSignals, componentType, metricsPlacement, processorSignalProblems, exporterSignalProblems, type ComponentKind } from './components.ts';
import { expandReferences, maskExpansions, type ExpandProblem, type Expansion } from './expand.ts';
import { mergeDocuments, readSource, sourceOfLine, type ConfigSource } from './sources.ts';
import { isLoopback } from '../receivers/logplex/config.ts';
import { DEFAULT_INTERVAL_MS, envIntervalMs } from '../processors/interval/config.ts';
import type { Signal } from '../service/component.ts';
import { telemetrySchema, type TelemetryConfig } from '../service/telemetry-config.ts';
import { z } from 'zod';
import { MAX_WORKERS, workerProblems, type WorkersSetting } from '../service/workers/plan.ts';

/** service.telemetry, as the Collector's: the sidecar's own metrics and log (see the schema's file). */
export type { TelemetryConfig };

export interface ComponentConfig {
  id: string;
  type: string;
  /** The component's config, defaults applied. */
  config: unknown;
}

export interface PipelineConfig {
  /** What it carries, from its id: `logs/raw` carries logs. */
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface SidecarConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  /** Declared extensions; only those listed in service.extensions run. */
  extensions: Map<string, ComponentConfig>;
  /** service.extensions: the extensions that run. */
  serviceExtensions: string[];
  /** service.telemetry: the sidecar's own metrics endpoint. */
  telemetry: TelemetryConfig;
  /** By pipeline id: `logs`, `metrics`, `logs/backup`... */
  pipelines: Map<string, PipelineConfig>;
  /** service.workers: processes serving the pipelines; unset: WEB_CONCURRENCY when the config allows, else 1 (see service/workers/plan.ts). */
  workers?: WorkersSetting;
}

export interface ConfigResult {
  config: SidecarConfig | undefined;
  /** Each one `path: message`; the config is usable only when there are none. */
  problems: string[];
  /** Things that work but are probably not meant (an unset variable, an unused component). */
  warnings: string[];
  /** The document after `${...}` expansion (what print-config shows, masked). */
  document?: Record<string, unknown>;
  /** Every value that came from the environment or a file, with its key path. */
  expansions?: Expansion[];
}

/** The component kinds a pipeline lists. */
const KINDS = ['receivers', 'processors', 'exporters'] as const;
const KIND_SINGULAR: Readonly<Record<ComponentKind, string>> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension' };

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function joinPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

/** A zod issue as a line a user reads: the key path, then what is wrong. */
function describeIssue(base: string, issue: z.core.$ZodIssue): string {
  const path = joinPath(base, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${joinPath(path, [key])}: unknown key`).join('\n');
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return `${path}: is required`;
      return `${path}: expected ${issue.expected}, got ${/received (\w+)/.exec(issue.message)?.[1] ?? 'something else'}`;
    case 'invalid_value':
      return `${path}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

function validateComponents(kind: ComponentKind, raw: unknown, problems: string[], declared: Set<string>): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  if (raw === undefined || raw === null) return out;
  if (isMapping(raw)) for (const id of Object.keys(raw)) declared.add(id);
  if (!isMapping(raw)) {
    problems.push(`${kind}: expected a mapping of ${KIND_SINGULAR[kind]} ids to their settings`);
    return out;
  }
  const schemas = COMPONENT_SCHEMAS[kind];
  for (const [id, settings] of Object.entries(raw)) {
    const type = componentType(id);
    if (type === undefined) {
      problems.push(`${kind}.${id}: not a component id (type or type/name, such as otlphttp/grafana)`);
      continue;
    }
    const schema = schemas[type];
    if (schema === undefined) {
      problems.push(`${kind}.${id}: unknown ${KIND_SINGULAR[kind]} type "${type}" (known: ${Object.keys(schemas).join(', ')})`);
      continue;
    }
    const parsed = schema.safeParse(settings ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(...describeIssue(`${kind}.${id}`, issue).split('\n'));
      continue;
    }
    out.set(id, { id, type, config: parsed.data });
  }
  return out;
}

function stringList(value: unknown, path: string, problems: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    problems.push(`${path}: expected a list of component ids`);
    return [];
  }
  return value;
}

function validatePipelines(
  raw: unknown,
  declared: Record<(typeof KINDS)[number], Set<string>>,
  problems: string[],
): Map<string, PipelineConfig> {
  const pipelines = new Map<string, PipelineConfig>();
  if (!isMapping(raw)) {
    problems.push('service: is required, with pipelines (logs, metrics and/or traces)');
    return pipelines;
  }
  for (const key of Object.keys(raw)) if (key !== 'pipelines' && key !== 'extensions' && key !== 'telemetry' && key !== 'workers') problems.push(`service.${key}: unknown key`);
  const rawPipelines = raw.pipelines;
  if (!isMapping(rawPipelines) || Object.keys(rawPipelines).length === 0) {
    problems.push('service.pipelines: is required, with a logs, a metrics and/or a traces pipeline');
    return pipelines;
  }
  for (const [id, rawPipeline] of Object.entries(rawPipelines)) {
    const path = `service.pipelines.${id}`;
    if (!/^(logs|metrics|traces)(\/[A-Za-z0-9_.-]+)?$/.test(id)) {
      problems.push(`${path}: a pipeline id is logs, metrics or traces, optionally /name (logs/backup)`);
      continue;
    }
    if (!isMapping(rawPipeline)) {
      problems.push(`${path}: expected receivers, processors and exporters`);
      continue;
    }
    for (const key of Object.keys(rawPipeline)) {
      if (!(KINDS as readonly string[]).includes(key)) problems.push(`${path}.${key}: unknown key`);
    }
    const signal: Signal = id.startsWith('logs') ? 'logs' : id.startsWith('metrics') ? 'metrics' : 'traces';
    const pipeline: PipelineConfig = { signal, receivers: [], processors: [], exporters: [] };
    for (const kind of KINDS) {
      const ids = stringList(rawPipeline[kind], `${path}.${kind}`, problems);
      ids.forEach((ref, i) => {
        // A component that is declared but invalid has its own problem already.
        if (!declared[kind].has(ref)) problems.push(`${path}.${kind}[${i}]: ${KIND_SINGULAR[kind]} "${ref}" is not defined under ${kind}`);
      });
      if (new Set(ids).size !== ids.length) problems.push(`${path}.${kind}: lists a component twice`);
      pipeline[kind] = ids;
    }
    if (pipeline.receivers.length === 0) problems.push(`${path}.receivers: at least one receiver is required`);
    if (pipeline.exporters.length === 0) problems.push(`${path}.exporters: at least one exporter is required`);
    pipelines.set(id, pipeline);
  }
  return pipelines;
}

const PLACEMENT_RANK = { 'before-aggregation': 0, aggregation: 1, 'after-aggregation': 2 } as const;

/**
 * A metrics pipeline aggregates once, at `interval`'s place (or, with none listed, before the
 * first processor of aggregated points): what reads points as lines made them must come before
 * it, what reads aggregated series after it.
 */
function aggregationOrder(id: string, p: PipelineConfig, processors: ReadonlyMap<string, ComponentConfig>): string[] {
  const problems: string[] = [];
  let highest: { pid: string; rank: number } | undefined;
  p.processors.forEach((pid, i) => {
    const placement = metricsPlacement(processors.get(pid)!.type);
    if (placement === undefined) return;
    const rank = PLACEMENT_RANK[placement];
    if (placement === 'aggregation' && highest?.rank === 1) {
      problems.push(`service.pipelines.${id}.processors[${i}]: "${pid}" aggregates a second time after "${highest.pid}"; a metrics pipeline aggregates once`);
    } else if (highest !== undefined && rank < highest.rank) {
      const what = placement === 'before-aggregation' ? 'works on the points as lines made them' : 'is where the pipeline aggregates';
      problems.push(`service.pipelines.${id}.processors[${i}]: "${pid}" ${what}, so it goes before "${highest.pid}" (${highest.rank === 1 ? 'the aggregation' : 'which works on aggregated series'})`);
    }
    if (highest === undefined || rank > highest.rank) highest = { pid, rank };
  });
  return problems;
}

/**
 * Components a pipeline lists that do not work on its signal. Receivers and exporters are refused
 * for any signal; a processor only in a traces pipeline (in a logs or metrics pipeline one of the
 * other signal is left out, as it always was: `alerts` and `redact` are listed in both by the
 * embedded default), so that a traces pipeline never runs without a processor it lists.
 */
function signalMismatches(id: string, p: PipelineConfig, components: Record<(typeof KINDS)[number], Map<string, ComponentConfig>>): string[] {
  const problems: string[] = [];
  for (const kind of KINDS) {
    if (kind === 'processors' && p.signal !== 'traces') continue;
    p[kind].forEach((ref, i) => {
      const type = components[kind].get(ref)?.type;
      if (type === undefined) return;
      const signals = componentSignals(kind, type) ?? [];
      if (signals.includes(p.signal)) return;
      problems.push(`service.pipelines.${id}.${kind}[${i}]: ${KIND_SINGULAR[kind]} "${ref}" does not work on ${p.signal} (a ${type} ${KIND_SINGULAR[kind]} takes ${signals.join(' and ')}); take it out of this pipeline`);
    });
  }
  return problems;
}

/** service.workers: a whole number from 1 to MAX_WORKERS, or `auto`; undefined when unset. */
function workersSetting(raw: unknown, problems: string[]): WorkersSetting | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto') return 'auto';
  const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_WORKERS) return n;
  problems.push(`service.workers: expected a whole number from 1 to ${MAX_WORKERS}, or auto`);
  return undefined;
}

/** Validates a parsed config document (before `${env:...}` expansion). */
export function validateConfig(document: unknown, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!isMapping(document)) {
    return { config: undefined, problems: ['(root): expected a mapping with receivers, exporters and service'], warnings };
  }
  const expandProblems: ExpandProblem[] = [];
  const expansions: Expansion[] = [];
  const expanded = expandReferences(document, { env }, expandProblems, warnings, expansions) as Record<string, unknown>;
  for (const p of expandProblems) problems.push(`${p.path}: ${p.message}`);
  for (const key of Object.keys(expanded)) {
    if (!(KINDS as readonly string[]).includes(key) && key !== 'service' && key !== 'extensions') problems.push(`${key}: unknown key`);
  }
  const declared = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
  const components = {
    receivers: validateComponents('receivers', expanded.receivers, problems, declared.receivers),
    processors: validateComponents('processors', expanded.processors, problems, declared.processors),
    exporters: validateComponents('exporters', expanded.exporters, problems, declared.exporters),
  };
  const declaredExtensions = new Set<string>();
  const extensions = validateComponents('extensions', expanded.extensions, problems, declaredExtensions);
  const pipelines = validatePipelines(expanded.service, declared, problems);
  const service = isMapping(expanded.service) ? expanded.service : {};
  const serviceExtensions = stringList(service.extensions, 'service.extensions', problems);
  const workers = workersSetting(service.workers, problems);
  let telemetry: TelemetryConfig = telemetrySchema.parse({});
  if (service.telemetry !== undefined) {
    const parsed = telemetrySchema.safeParse(service.telemetry);
    if (parsed.success) telemetry = parsed.data;
    else for (const issue of parsed.error.issues) problems.push(...describeIssue('service.telemetry', issue).split('\n'));
  }
  if (telemetry.logs.encoding === 'console') warnings.push('service.telemetry.logs.encoding: the log is JSON lines (one object per line on stderr); console is not written');
  if (telemetry.metrics.level === 'none' && (telemetry.metrics.address !== undefined || telemetry.metrics.readers.length > 0)) {
    warnings.push('service.telemetry.metrics.level: none, so its readers serve and export nothing');
  }
  // Told after the checks below, which a component of the wrong signal does not stop.
  const mismatches = problems.length > 0 ? [] : [...pipelines].flatMap(([id, p]) => signalMismatches(id, p, components));
  for (const [id, p] of problems.length > 0 ? [] : pipelines) {
    if (p.signal === 'metrics') problems.push(...aggregationOrder(id, p, components.processors));
    for (const pid of p.processors) {
      const c = components.processors.get(pid)!;
      for (const m of processorSignalProblems(c.type, c.config, p.signal)) problems.push(`processors.${pid}.${m} (service.pipelines.${id} lists it)`);
    }
    for (const eid of p.exporters) {
      const c = components.exporters.get(eid)!;
      for (const m of exporterSignalProblems(c.type, c.config, p.signal)) problems.push(`exporters.${eid}.${m} (service.pipelines.${id} lists it)`);
    }
  }
  for (const [id, p] of problems.length > 0 ? [] : pipelines) {
    // Count, then sample: alerts must see every line, not the sample.
    const types = p.processors.map((pid) => components.processors.get(pid)?.type);
    const sampling = types.indexOf('tail_sampling');
    const alerts = types.lastIndexOf('alerts');
    if (sampling >= 0 && alerts > sampling) {
      warnings.push(`service.pipelines.${id}.processors: "${p.processors[sampling]}" comes before "${p.processors[alerts]}", so alerts see only the sampled lines; list tail_sampling after alerts (count, then sample)`);
    }
  }
  for (const [id, p] of problems.length > 0 ? [] : pipelines) {
    // The embedded default and every shipped example mask secrets; a config that does not should say so.
    if (p.signal !== 'metrics' && !p.processors.some((pid) => components.processors.get(pid)?.type === 'redact')) {
      const where = p.signal === 'logs' ? 'inside log lines' : "in router lines' paths and query strings (url.path, url.query on spans)";
      warnings.push(`service.pipelines.${id}: no redact processor, so passwords, tokens and keys ${where} reach the exporters as they are; add redact first in processors`);
    }
  }
  problems.push(...mismatches);
  // In a logs or metrics pipeline, a processor of the other signal only is left out (shared
  // processor lists stay valid, as they always were here): said, so that nobody counts on it.
  for (const [id, p] of problems.length > 0 ? [] : pipelines) {
    if (p.signal === 'traces') continue;
    p.processors.forEach((ref, i) => {
      const type = components.processors.get(ref)?.type;
      const signals = type === undefined ? undefined : componentSignals('processors', type);
      if (signals === undefined || signals.includes(p.signal)) return;
      warnings.push(`service.pipelines.${id}.processors[${i}]: processor "${ref}" works on ${signals.join(' and ')} only: left out of this ${p.signal} pipeline`);
    });
  }
  if (telemetry.status.enabled) {
    // The page shows drains' last lines: on an address others reach, only behind a password.
    for (const [id, component] of components.receivers) {
      if (component.type !== 'logplex') continue;
      const c = component.config as { endpoint: { host: string; port: number }; basic_auth?: unknown; auth?: unknown };
      if (c.basic_auth === undefined && c.auth === undefined && !isLoopback(c.endpoint.host)) {
        problems.push(`service.telemetry.status: would be served without a password on receivers.${id} (${c.endpoint.host}:${c.endpoint.port}); set basic_auth or auth on that receiver, or turn the page off`);
      }
    }
  }
  serviceExtensions.forEach((ref, i) => {
    if (!declaredExtensions.has(ref)) problems.push(`service.extensions[${i}]: extension "${ref}" is not defined under extensions`);
  });
  // A component's `storage` names a running extension, as the Collector's storage settings do.
  for (const kind of ['receivers', 'processors', 'exporters'] as const) {
    for (const [id, component] of components[kind]) {
      const c = component.config as { storage?: string; sending_queue?: { storage?: string } };
      const [key, storage] = kind === 'exporters' ? ['sending_queue.storage', c.sending_queue?.storage] : ['storage', c.storage];
      if (storage === undefined) continue;
      if (!serviceExtensions.includes(storage)) {
        problems.push(`${kind}.${id}.${key}: extension "${storage}" is not ${declaredExtensions.has(storage) ? 'listed in service.extensions' : 'defined under extensions'}`);
      } else if (kind === 'exporters' && extensions.get(storage)?.type !== 'file_storage') {
        problems.push(`${kind}.${id}.${key}: extension "${storage}" is a ${extensions.get(storage)?.type} extension; a queue is kept by a file_storage extension`);
      }
    }
  }
  // An `auth.authenticator` names a running extension that authenticates that side, as the
  // Collector's configauth: a client authenticator for an exporter (and for headers_setter's
  // additional_auth), a server one for a receiver. A declared but invalid extension has its own problem.
  const references: Array<[string, string | undefined, 'client' | 'server']> = [
    ...[...components.exporters].map(([id, c]): [string, string | undefined, 'client'] => [`exporters.${id}.auth.authenticator`, (c.config as { auth?: { authenticator: string } }).auth?.authenticator, 'client']),
    ...[...components.receivers].map(([id, c]): [string, string | undefined, 'server'] => [`receivers.${id}.auth.authenticator`, (c.config as { auth?: { authenticator: string } }).auth?.authenticator, 'server']),
    ...[...extensions].map(([id, c]): [string, string | undefined, 'client'] => [`extensions.${id}.additional_auth`, (c.config as { additional_auth?: string }).additional_auth, 'client']),
  ];
  for (const [key, ref, side] of references) {
    if (ref === undefined) continue;
    if (!serviceExtensions.includes(ref)) {
      problems.push(`${key}: extension "${ref}" is not ${declaredExtensions.has(ref) ? 'listed in service.extensions' : 'defined under extensions'}`);
      continue;
    }
    const extension = extensions.get(ref);
    if (extension === undefined || authenticates(extension.type, extension.config)[side]) continue;
    const what = side === 'client' ? "an exporter's requests (basicauth with client_auth, bearertokenauth, headers_setter)" : "a receiver's requests (basicauth with htpasswd, bearertokenauth)";
    problems.push(`${key}: extension "${ref}" (${extension.type}) does not authenticate ${what}`);
  }
  const exportInterval = env.OTEL_METRIC_EXPORT_INTERVAL;
  if (exportInterval !== undefined && exportInterval.trim() !== '' && envIntervalMs(env) === undefined && [...pipelines.values()].some((p) => p.signal === 'metrics')) {
    warnings.push(`OTEL_METRIC_EXPORT_INTERVAL: not a number of milliseconds above 0, so left aside: metrics go out every ${DEFAULT_INTERVAL_MS / 1000}s unless an interval processor says otherwise`);
  }
  for (const id of extensions.keys()) if (!serviceExtensions.includes(id)) warnings.push(`extensions.${id}: defined but not listed in service.extensions`);
  for (const kind of KINDS) {
    for (const id of components[kind].keys()) {
      const used = [...pipelines.values()].some((p) => p[kind].includes(id));
      if (!used) warnings.push(`${kind}.${id}: defined but used in no pipeline`);
    }
  }
  // A message may quote a value (a duration, a host); one that came from the environment, a
  // secret maybe, is shown as the file wrote it. The key path before the first ': ' stays as it is.
  const masked = (line: string) => {
    const colon = line.indexOf(': ');
    return colon < 0 ? maskExpansions(line, expansions) : line.slice(0, colon + 2) + maskExpansions(line.slice(colon + 2), expansions);
  };
  const config: SidecarConfig = { ...components, extensions, serviceExtensions, telemetry, pipelines, ...(workers !== undefined ? { workers } : {}) };
  if (problems.length === 0 && workers !== undefined && workers !== 1) {
    // Several processes serve it: what would be wrong across them is refused, naming its key.
    for (const p of workerProblems(config)) problems.push(`${p} (service.workers is ${workers})`);
  }
  if (problems.length > 0) return { config: undefined, problems: problems.map(masked), warnings: warnings.map(masked), document: expanded, expansions };
  return { config, problems, warnings: warnings.map(masked), document: expanded, expansions };
}

/** A config from its sources, with the source of each problem and warning. */
export interface LoadedConfig extends ConfigResult {
  /** Every source in one label, for a summary line: `a.yaml`, `a.yaml + b.yaml + --set x`. */
  label: string;
  /** The source each problem is about (the `--config` or `--set` that set its key), by index. */
  problemSources: string[];
  /** The same for each warning. */
  warningSources: string[];
}

/**
 * Reads every source (`--config` files and URIs, `--set`, the embedded default), merges them in
 * order, then expands and validates the result as one config. A source that cannot be read or
 * parsed is a problem of its own, and nothing is validated then.
 */
export async function loadConfig(sources: readonly ConfigSource[], env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const read = await Promise.all(sources.map((s) => readSource(s, env)));
  const label = read.map((r) => r.label).join(' + ');
  const own = { problems: read.flatMap((r) => r.problems), problemSources: read.flatMap((r) => r.problems.map(() => r.label)) };
  const ownWarnings = { warnings: read.flatMap((r) => r.warnings), warningSources: read.flatMap((r) => r.warnings.map(() => r.label)) };
  if (read.some((r) => r.document === undefined)) return { config: undefined, label, ...own, ...ownWarnings };
  const provenance = new Map<string, string>();
  let merged: Record<string, unknown> = {};
  for (const r of read) merged = mergeDocuments(merged, r.document!, r.label, provenance);
  const result = validateConfig(merged, env);
  const sourceOf = (line: string) => sourceOfLine(line, provenance) ?? label;
  return {
    ...result,
    config: own.problems.length > 0 ? undefined : result.config,
    label,
    problems: [...own.problems, ...result.problems],
    problemSources: [...own.problemSources, ...result.problems.map(sourceOf)],
    warnings: [...ownWarnings.warnings, ...result.warnings],
    warningSources: [...ownWarnings.warningSources, ...result.warnings.map(sourceOf)],
  };
}

/** Reads, parses and validates one config file. Read and YAML errors are problems too. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigResult> {
  return loadConfig([{ kind: 'config', uri: path }], env);
}
