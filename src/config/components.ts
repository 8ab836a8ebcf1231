/**
 * The component types a config may name, by kind, each with its config schema. A component id is
 * `type` or `type/name` (`otlphttp/grafana`), as in the Collector.
 */
import type { z } from 'zod';
import { FACTORIES } from '../components.ts';
import type { ComponentKind, ExporterFactory, ExtensionFactory, MetricsPlacement, ProcessorFactory, Signal } from '../service/component.ts';

export type { ComponentKind };

/** Config schemas by kind and type, from the factories. */
export const COMPONENT_SCHEMAS: Readonly<Record<ComponentKind, Readonly<Record<string, z.ZodType>>>> = {
  receivers: schemasOf('receivers'),
  processors: schemasOf('processors'),
  exporters: schemasOf('exporters'),
  extensions: schemasOf('extensions'),
};

function schemasOf(kind: ComponentKind): Record<string, z.ZodType> {
  return Object.fromEntries(FACTORIES.filter((f) => f.kind === kind).map((f) => [f.type, f.configSchema]));
}

/** Where a processor type goes in a metrics pipeline (see MetricsPlacement); undefined: anywhere. */
export function metricsPlacement(type: string): MetricsPlacement | undefined {
  const f = FACTORIES.find((x) => x.kind === 'processors' && x.type === type) as ProcessorFactory | undefined;
  return f?.metricsPlacement;
}

/** The signals a receiver, processor or exporter type works on; undefined for an unknown type. */
export function componentSignals(kind: 'receivers' | 'processors' | 'exporters', type: string): readonly Signal[] | undefined {
  const f = FACTORIES.find((x) => x.kind === kind && x.type === type) as { signals: readonly Signal[] } | undefined;
  return f?.signals;
}

/** What a processor's config cannot do in a pipeline of `signal` (see ProcessorFactory.signalProblems). */
export function processorSignalProblems(type: string, config: unknown, signal: Signal): string[] {
  const f = FACTORIES.find((x) => x.kind === 'processors' && x.type === type) as ProcessorFactory | undefined;
  return f?.signalProblems?.(config, signal) ?? [];
}

/** What an exporter's config cannot do in a pipeline of `signal` (see ExporterFactory.signalProblems). */
export function exporterSignalProblems(type: string, config: unknown, signal: Signal): string[] {
  const f = FACTORIES.find((x) => x.kind === 'exporters' && x.type === type) as ExporterFactory | undefined;
  return f?.signalProblems?.(config, signal) ?? [];
}

/** Which requests an extension of this type and config authenticates (see ExtensionFactory.authenticates). */
export function authenticates(type: string, config: unknown): { client: boolean; server: boolean } {
  const f = FACTORIES.find((x) => x.kind === 'extensions' && x.type === type) as ExtensionFactory | undefined;
  return f?.authenticates?.(config) ?? { client: false, server: false };
}

/** `otlphttp/grafana` to its type `otlphttp`; undefined when the id is malformed. */
export function componentType(id: string): string | undefined {
  const m = /^([a-z][a-z0-9_]*)(?:\/([A-Za-z0-9_.-]+))?$/.exec(id);
  return m ? m[1] : undefined;
}
