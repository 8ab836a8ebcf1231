/**
 * Keys of a metric point's series parts: its attributes and its histogram bounds. The metrics
 * aggregation stage (src/processors/interval/stage.ts) keys its series with them.
 */
import type { AttributeValue } from './telemetry.ts';

/** The attributes as a key: every part length-prefixed, so no value can pass for two. */
export function attributeKey(attributes: Readonly<Record<string, AttributeValue>>): string {
  let key = '';
  for (const name in attributes) {
    const value = attributes[name]!;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    key += `${name.length}:${name}${typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : typeof value === 'boolean' ? 'b' : 'a'}${text.length}:${text}`;
  }
  return key;
}

/** Bucket bounds are shared constant arrays: numbered once, not joined per point. */
const boundsIds = new WeakMap<readonly number[], string>();

export function boundsId(bounds: readonly number[]): string {
  let id = boundsIds.get(bounds);
  if (id === undefined) {
    id = bounds.join(',');
    boundsIds.set(bounds, id);
  }
  return id;
}
