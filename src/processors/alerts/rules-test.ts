/**
 * Rule unit tests, as `promtool test rules` does for Prometheus: Heroku lines fed at time offsets
 * to an engine on a fake clock, and the alerts expected to be firing at given times.
 *
 * ```yaml
 * rules_files: [../alerts.yaml]    # relative to this file; optional
 * builtin_rules: true              # default
 * rules: [ { name: RouterH12Storm, above: 5 } ]
 * evaluation_interval: 10s         # default
 * tests:
 *   - name: an H12 storm fires, then resolves
 *     resource: { service.name: shop-web }
 *     input:
 *       - at: 0s
 *         repeat: 12               # the lines, this many times
 *         lines: |
 *           2024-05-01T12:00:00+00:00 heroku[router]: at=error code=H12 desc="Request timeout" ...
 *     expect:
 *       - at: 1m
 *         alertname: RouterH12Storm
 *         firing: [ { service_name: shop-web } ]   # each: labels the alert has (a subset)
 *       - at: 10m
 *         alertname: RouterH12Storm
 *         firing: []
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { duration } from '../../config/units.ts';
import { interpretLine } from '../../heroku/classify.ts';
import { readCapture } from '../../heroku/input.ts';
import { drainResource } from '../../translate/resource.ts';
import { newTelemetryBatch } from '../../translate/telemetry.ts';
import { translateEvent } from '../../translate/translate.ts';
import { alertsConfigSchema } from './config.ts';
import { AlertEngine } from './engine.ts';

/** A time offset: `90s`, `1m30s`, or milliseconds; the config's duration syntax. */
const offset = duration;

const testFileSchema = z.strictObject({
  rules_files: z.array(z.string()).default([]),
  builtin_rules: z.boolean().default(true),
  rules: z.array(z.record(z.string(), z.unknown())).default([]),
  evaluation_interval: offset.default(10_000),
  tests: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        resource: z.record(z.string(), z.string()).default({ 'service.name': 'app' }),
        input: z.array(z.strictObject({ at: offset, repeat: z.number().int().positive().default(1), lines: z.string() })).default([]),
        expect: z
          .array(z.strictObject({ at: offset, alertname: z.string().min(1), firing: z.array(z.record(z.string(), z.string())) }))
          .min(1, 'a test expects something'),
      }),
    )
    .min(1, 'no tests'),
});

export interface RulesTestResult {
  file: string;
  passed: number;
  /** Readable failures, one block each. */
  failures: string[];
}

function sortLabels(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(', ')}}`;
}

/** Runs the tests of one file; problems with the file itself come back as failures. */
export function runRulesTestFile(file: string): RulesTestResult {
  const result: RulesTestResult = { file, passed: 0, failures: [] };
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    result.failures.push(`${file}: ${(error as Error).message.split('\n')[0]}`);
    return result;
  }
  const parsed = testFileSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) result.failures.push(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return result;
  }
  const spec = parsed.data;
  const rulesConfig = alertsConfigSchema.safeParse({
    builtin_rules: spec.builtin_rules,
    rules: spec.rules,
    rules_files: spec.rules_files.map((f) => resolve(dirname(file), f)),
  });
  if (!rulesConfig.success) {
    for (const issue of rulesConfig.error.issues) result.failures.push(`${file}: ${issue.path.join('.')}: ${issue.message}`);
    return result;
  }
  for (const test of spec.tests) {
    const engine = new AlertEngine(rulesConfig.data.rules);
    const resource = drainResource(test.resource);
    const start = Date.UTC(2024, 0, 1);
    const inputs = [...test.input].sort((a, b) => a.at - b.at);
    const expects = [...test.expect].sort((a, b) => a.at - b.at);
    const end = Math.max(...expects.map((e) => e.at), ...inputs.map((i) => i.at));
    const problems: string[] = [];
    // Evaluations every evaluation_interval, and at each input's and expectation's own time: an
    // expectation is checked against the evaluation at its time, with the input up to then.
    const times = new Set<number>([...inputs.map((i) => i.at), ...expects.map((e) => e.at)]);
    for (let t = 0; t <= end; t += spec.evaluation_interval) times.add(t);
    let nextInput = 0;
    let nextExpect = 0;
    for (const t of [...times].sort((a, b) => a - b)) {
      while (nextInput < inputs.length && inputs[nextInput]!.at <= t) {
        const input = inputs[nextInput++]!;
        const batch = newTelemetryBatch();
        const text = Array.from({ length: input.repeat }, () => input.lines.trimEnd()).join('\n') + '\n';
        readCapture(Buffer.from(text), (line, status) => translateEvent(line, interpretLine(line), (start + input.at) * 1000, batch, status));
        engine.observeRecords(resource, batch.logs, start + input.at);
        engine.observePoints(resource, batch.metrics, start + input.at);
      }
      engine.evaluate(start + t);
      while (nextExpect < expects.length && expects[nextExpect]!.at <= t) {
        const e = expects[nextExpect++]!;
        const firing = engine.firing(start + t).filter((a) => a.labels.alertname === e.alertname);
        const unmatched = [...firing];
        const missing: Record<string, string>[] = [];
        for (const want of e.firing) {
          const i = unmatched.findIndex((a) => Object.entries(want).every(([k, v]) => a.labels[k] === v));
          if (i < 0) missing.push(want);
          else unmatched.splice(i, 1);
        }
        if (missing.length > 0 || unmatched.length > 0) {
          problems.push(
            [
              `  at ${e.at / 1000}s, ${e.alertname}:`,
              `    expected firing: ${e.firing.length === 0 ? 'none' : e.firing.map(sortLabels).join(' ')}`,
              `    got firing:      ${firing.length === 0 ? 'none' : firing.map((a) => sortLabels(a.labels)).join(' ')}`,
            ].join('\n'),
          );
        }
      }
    }
    if (problems.length === 0) result.passed++;
    else result.failures.push(`${file}: test "${test.name}" failed\n${problems.join('\n')}`);
  }
  return result;
}
