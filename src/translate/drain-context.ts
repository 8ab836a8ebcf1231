/**
 * What translation keeps per drain: the drain's route-template table (learned from its router
 * paths, so per app) and what marks a request id in its app lines. A receiver makes one per drain
 * it knows (a configured token) and one for the drains it takes without knowing them, and passes
 * it with every line; translation without one writes no `url.template` and reads request ids
 * with the default keys.
 */
import { DEFAULT_REQUEST_ID_KEYS_CONFIG, requestIdKeys, type RequestIdKeys } from '../heroku/request-id.ts';
import { UrlTemplateTable } from './url-template.ts';
import type { TraceCorrelationConfig, UrlTemplatesConfig } from '../config/translation.ts';

export interface DrainContext {
  /** The drain's table, or undefined when url_templates is off. */
  readonly urlTemplates: UrlTemplateTable | undefined;
  /** What marks a request id in app lines, or undefined when trace_correlation is off. */
  readonly requestIds: RequestIdKeys | undefined;
}

/** The receiver's settings, read once: each drain's context is made from them. */
export interface DrainContextSettings {
  trace_correlation: TraceCorrelationConfig;
  url_templates: UrlTemplatesConfig;
}

export function newDrainContext(settings: DrainContextSettings): DrainContext {
  const t = settings.url_templates;
  const c = settings.trace_correlation;
  return {
    urlTemplates: t.enabled
      ? new UrlTemplateTable({ patterns: t.patterns, maxTemplates: t.max_templates, maxSegmentValues: t.max_segment_values })
      : undefined,
    requestIds: c.enabled ? requestIdKeys(c.request_id_keys, c.tagged_lines) : undefined,
  };
}

/** Default correlation, no templates: what translation does for a caller that keeps no drain state. */
export const STATELESS_CONTEXT: DrainContext = { urlTemplates: undefined, requestIds: DEFAULT_REQUEST_ID_KEYS_CONFIG };

/** Paths given the catch-all template because a table was full, over `contexts`. */
export function urlTemplateOverflows(contexts: Iterable<DrainContext>): number {
  let n = 0;
  for (const c of contexts) n += c.urlTemplates?.overflows ?? 0;
  return n;
}
