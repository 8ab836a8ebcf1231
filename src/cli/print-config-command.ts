/**
 * `heroku-otel-drain print-config [--config URI]... [--set key=value]... [--format yaml|json]
 * [--mode redacted|unredacted]`: the effective config, as the Collector's print-config prints it:
 * merged, expanded, validated, each component's defaults filled in, secrets `[REDACTED]` unless
 * `--mode unredacted`. Without --config, the embedded default the environment makes. An invalid
 * config prints its problems (as validate) and nothing on stdout: exit 1.
 */
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.ts';
import { effectiveConfig } from '../config/print.ts';
import type { ConfigSource } from '../config/sources.ts';

export interface PrintConfigOptions {
  /** `yaml` (default) or `json`. */
  format: 'yaml' | 'json';
  /** `redacted` (default) masks secrets; `unredacted` shows them. */
  mode: 'redacted' | 'unredacted';
}

export async function runPrintConfig(sources: readonly ConfigSource[], options: PrintConfigOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await loadConfig(sources, env);
  let stderr = '';
  result.warnings.forEach((w, i) => (stderr += `${result.warningSources[i]}: warning: ${w}\n`));
  if (result.config === undefined || result.document === undefined) {
    result.problems.forEach((p, i) => (stderr += `${result.problemSources[i]}: ${p}\n`));
    const n = result.problems.length;
    stderr += `${result.label}: ${n} problem${n === 1 ? '' : 's'}\n`;
    return { code: 1, stdout: '', stderr };
  }
  const effective = effectiveConfig({ document: result.document, expansions: result.expansions ?? [] }, { unredacted: options.mode === 'unredacted' });
  const stdout = options.format === 'json' ? `${JSON.stringify(effective, null, 2)}\n` : stringify(effective, { lineWidth: 0 });
  return { code: 0, stdout, stderr };
}
