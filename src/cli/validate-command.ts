/**
 * `heroku-otel-drain validate --config URI... [--set key=value]...`: checks a config as `start`
 * would, and says every problem at once, each with the source that set its key and its key path.
 * Exit 0 when valid, 1 with the problems.
 */
import { loadConfig } from '../config/load.ts';
import type { ConfigSource } from '../config/sources.ts';
import { planWorkers } from '../service/workers/plan.ts';

export async function runValidate(sources: readonly ConfigSource[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await loadConfig(sources, env);
  let stderr = '';
  result.warnings.forEach((w, i) => (stderr += `${result.warningSources[i]}: warning: ${w}\n`));
  if (result.config === undefined) {
    result.problems.forEach((p, i) => (stderr += `${result.problemSources[i]}: ${p}\n`));
    const n = result.problems.length;
    stderr += `${result.label}: ${n} problem${n === 1 ? '' : 's'}\n`;
    return { code: 1, stdout: '', stderr };
  }
  // What start would do with WEB_CONCURRENCY here, said before it is deployed.
  const ignored = planWorkers(result.config, env).ignored;
  if (ignored !== undefined) stderr += `${result.label}: warning: ${ignored}\n`;
  const pipelines = [...result.config.pipelines]
    .map(([id, p]) => `${id} (${[p.receivers.join(', '), ...(p.processors.length ? [p.processors.join(' -> ')] : []), p.exporters.join(', ')].join(' -> ')})`)
    .join('; ');
  return { code: 0, stdout: `${result.label}: valid: ${pipelines}\n`, stderr };
}
