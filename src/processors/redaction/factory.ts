/**
 * The `redaction` processor (contrib's): removes attributes not allowed, masks blocked values and
 * keys, in record and data point attributes and in log bodies, with contrib's summary attributes.
 */
import { createHash } from 'node:crypto';
import type { Processor, ProcessorFactory } from '../../service/component.ts';
import type { AttributeValue, Attributes } from '../../translate/telemetry.ts';
import { redactionConfigSchema, REDACTION_TYPE, type RedactionConfig } from './config.ts';

const MASK = '****';

export const redactionFactory: ProcessorFactory = {
  kind: 'processors',
  type: REDACTION_TYPE,
  configSchema: redactionConfigSchema,
  signals: ['logs', 'metrics'],
  create(_id, config): Processor {
    const c = config as RedactionConfig;
    const allowed = new Set(c.allowed_keys);
    const ignored = new Set(c.ignored_keys);
    const blocked = c.blocked_values.map((r) => new RegExp(r.source, 'g'));
    const hash = c.hash_function === 'none' ? undefined : c.hash_function === 'sha3' ? 'sha3-256' : c.hash_function;
    const mask = (s: string) => (hash === undefined ? MASK : createHash(hash).update(s).digest('hex'));
    const maskBlocked = (text: string): string | undefined => {
      if (blocked.length === 0 || c.allowed_values.some((r) => r.test(text))) return undefined;
      let out = text;
      for (const r of blocked) out = out.replace(r, (m) => mask(m));
      return out === text ? undefined : out;
    };
    const redact = (attributes: Attributes): void => {
      const removed: string[] = [];
      const masked: string[] = [];
      let ignoredCount = 0;
      for (const key of Object.keys(attributes)) {
        if (ignored.has(key)) {
          ignoredCount++;
          continue;
        }
        if (!c.allow_all_keys && !allowed.has(key)) {
          delete attributes[key];
          removed.push(key);
          continue;
        }
        const value: AttributeValue = attributes[key]!;
        if (c.blocked_key_patterns.some((r) => r.test(key))) {
          attributes[key] = mask(String(value));
          masked.push(key);
          continue;
        }
        if (typeof value !== 'string') continue;
        const out = maskBlocked(value);
        if (out !== undefined) {
          attributes[key] = out;
          masked.push(key);
        }
      }
      if (c.summary === 'silent') return;
      if (c.summary === 'debug') {
        if (removed.length > 0) attributes['redaction.redacted.keys'] = removed.sort().join(',');
        if (masked.length > 0) attributes['redaction.masked.keys'] = masked.sort().join(',');
        if (ignoredCount > 0) attributes['redaction.ignored.keys'] = [...ignored].filter((k) => Object.hasOwn(attributes, k)).sort().join(',');
      }
      if (removed.length > 0) attributes['redaction.redacted.count'] = removed.length;
      if (masked.length > 0) attributes['redaction.masked.count'] = masked.length;
      if (ignoredCount > 0) attributes['redaction.ignored.count'] = ignoredCount;
    };
    return {
      mutates: true,
      process(_resource, logs, metrics) {
        for (const r of logs) {
          redact(r.attributes);
          const body = maskBlocked(r.body);
          if (body !== undefined) r.body = body;
        }
        for (const p of metrics) redact(p.attributes);
      },
    };
  },
};
