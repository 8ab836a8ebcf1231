/**
 * The `yaml` package, loaded when a YAML text is first read: the embedded default is built from
 * the environment and needs none, so a sidecar started without --config does not hold it.
 */
import { lazy } from '../lazy.ts';

export const yaml = lazy<typeof import('yaml')>('yaml');

export function parseYaml(text: string): unknown {
  return yaml().parse(text) as unknown;
}
