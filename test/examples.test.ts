/** Every backend example validates with `heroku-otel-drain validate`, from the variables it names. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname;
const DIR = new URL('../examples/backends/', import.meta.url).pathname;
const examples = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe('backend examples', () => {
  it('covers Grafana Cloud, Datadog, Honeycomb, New Relic and a local Collector', () => {
    expect(examples.sort()).toEqual(['datadog.yaml', 'grafana-cloud.yaml', 'honeycomb.yaml', 'newrelic.yaml', 'otel-collector.yaml']);
  });

  it.each(examples)('%s validates, every ${env:...} it uses set', (file) => {
    const text = readFileSync(DIR + file, 'utf8');
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const m of text.matchAll(/\$\{env:([A-Z0-9_]+)(?::-[^}]*)?\}/g)) env[m[1]!] = m[1] === 'PORT' ? '5000' : m[1]!.includes('ENDPOINT') ? 'https://otlp.example.com' : `value-of-${m[1]}`;
    const r = spawnSync(process.execPath, [BIN, 'validate', '--config', DIR + file], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(examples)('%s says which temporality its backend takes, and its metrics pipeline sends that', (file) => {
    const text = readFileSync(DIR + file, 'utf8');
    const said = /^# Metrics: (cumulative|Datadog's intake takes delta)/m.exec(text);
    expect(said, `${file}: a "# Metrics:" comment naming the temporality`).not.toBeNull();
    const pipeline = /^\s+metrics: \{.*processors: \[([^\]]*)\]/m.exec(text)![1]!.split(',').map((x) => x.trim());
    expect(pipeline).toContain('interval');
    expect(pipeline.includes('cumulativetodelta'), `${file}: cumulativetodelta in its metrics pipeline`).toBe(said![1] !== 'cumulative');
  });

  it('gives Honeycomb metrics their dataset header, and Datadog its API key header', () => {
    expect(readFileSync(DIR + 'honeycomb.yaml', 'utf8')).toMatch(/x-honeycomb-dataset/);
    expect(readFileSync(DIR + 'datadog.yaml', 'utf8')).toMatch(/dd-api-key: "\$\{env:DD_API_KEY\}"/);
  });
});
