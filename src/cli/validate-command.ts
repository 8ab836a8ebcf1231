/**
 * `heroku-otel-drain validate --config FILE`: checks a config as `start` would, and says every
 * problem at once, each with its key path. Exit 0 when valid, 1 with the problems.
 */
import { loadConfigFile } from '../config/load.ts';

export async function runValidate(path: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await loadConfigFile(path, env);
  let stderr = '';
  for (const warning of result.warnings) stderr += `${path}: warning: ${warning}\n`;
  if (result.config === undefined) {
    for (const problem of result.problems) stderr += `${path}: ${problem}\n`;
    const n = result.problems.length;
    stderr += `${path}: ${n} problem${n === 1 ? '' : 's'}\n`;
    return { code: 1, stdout: '', stderr };
  }
  const pipelines = [...result.config.pipelines]
    .map(([id, p]) => `${id} (${[p.receivers.join(', '), ...(p.processors.length ? [p.processors.join(' -> ')] : []), p.exporters.join(', ')].join(' -> ')})`)
    .join('; ');
  return { code: 0, stdout: `${path}: valid: ${pipelines}\n`, stderr };
}
