/**
 * Config of the `alerts` processor: the built-in pack, rules inline and in files, merged by name.
 *
 * ```yaml
 * processors:
 *   alerts:
 *     builtin_rules: true            # the pack (default); false: only the rules named here
 *     rules:                         # yours; one named like a built-in changes it (its keys win)
 *       - { name: RouterH12Storm, above: 50 }
 *       - { name: HighSeverityEvents, enabled: false }
 *     rules_files: [alerts.yaml]     # YAML: a list of rules, or { rules: [...] }
 *     evaluation_interval: 1s
 *     alertmanager: { endpoint: http://127.0.0.1:9093, resend_interval: 1m }
 *     webhooks: [ { endpoint: https://hooks.example.com/alerts } ]
 * ```
 */
import { readFileSync } from 'node:fs';
import { parseYaml } from '../../config/yaml.ts';
import { z } from 'zod';
import { duration, httpUrl } from '../../config/units.ts';
import { BUILTIN_RULES } from './builtin.ts';
import { ruleSchema, type Rule } from './rules.ts';

export const ALERTS_TYPE = 'alerts';

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const alertsConfigSchema = z
  .strictObject({
    builtin_rules: z.boolean().default(true),
    rules: z.array(z.record(z.string(), z.unknown())).default([]),
    rules_files: z.array(z.string().min(1)).default([]),
    evaluation_interval: duration.default(1000).refine((ms) => ms >= 100, { message: 'at least 100ms' }),
    /** Prometheus Alertmanager: its base URL (`/api/v2/alerts` is appended). */
    alertmanager: z
      .strictObject({
        endpoint: httpUrl,
        /** Firing alerts are posted again this often, as Prometheus does. Default 1m. */
        resend_interval: duration.default(60_000).refine((ms) => ms >= 1000, { message: 'at least 1s' }),
        timeout: duration.default(10_000),
        headers: z.record(z.string(), z.string()).default({}),
      })
      .optional(),
    /** Webhooks that take Alertmanager's webhook payload. */
    webhooks: z
      .array(z.strictObject({ endpoint: httpUrl, timeout: duration.default(10_000), headers: z.record(z.string(), z.string()).default({}) }))
      .default([]),
    /** Where an alert links to (generatorURL): a dashboard, say. */
    generator_url: httpUrl.optional(),
    /** A `redis` extension: windows added up across instances, each transition sent by one. */
    storage: z.string().min(1).optional(),
  })
  .transform((config, ctx) => {
    const sources: Array<{ path: PropertyKey[]; rule: unknown }> = config.rules.map((rule, i) => ({ path: ['rules', i], rule }));
    config.rules_files.forEach((file, i) => {
      let document: unknown;
      try {
        document = parseYaml(readFileSync(file, 'utf8'));
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['rules_files', i], message: `${file}: ${(error as Error).message.split('\n')[0]}` });
        return;
      }
      const list = Array.isArray(document) ? document : isMapping(document) ? document.rules : undefined;
      if (!Array.isArray(list)) {
        ctx.addIssue({ code: 'custom', path: ['rules_files', i], message: `${file}: expected a list of rules, or rules: [...]` });
        return;
      }
      list.forEach((rule, j) => sources.push({ path: ['rules_files', i, `(${file}) rules`, j], rule }));
    });

    const builtins = new Map(BUILTIN_RULES.map((r) => [r.name, r] as const));
    const byName = new Map<string, Rule>();
    if (config.builtin_rules) for (const r of BUILTIN_RULES) byName.set(r.name, ruleSchema.parse(r));
    const named = new Set<string>();
    for (const { path, rule } of sources) {
      if (!isMapping(rule)) {
        ctx.addIssue({ code: 'custom', path, message: 'expected a rule (a mapping with a name)' });
        continue;
      }
      const name = typeof rule.name === 'string' ? rule.name : undefined;
      if (name !== undefined && named.has(name)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `a rule named ${name} is already defined` });
        continue;
      }
      if (name !== undefined) named.add(name);
      // A built-in's name: the keys given change the built-in rule.
      const base = name !== undefined ? builtins.get(name) : undefined;
      const parsed = ruleSchema.safeParse(base !== undefined ? { ...base, ...rule } : rule);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] } as never);
        continue;
      }
      byName.set(parsed.data.name, parsed.data);
    }
    return {
      rules: [...byName.values()],
      evaluation_interval: config.evaluation_interval,
      alertmanager: config.alertmanager,
      webhooks: config.webhooks,
      generator_url: config.generator_url,
      storage: config.storage,
    };
  });

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
