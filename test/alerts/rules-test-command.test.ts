/** `heroku-otel-drain rules test`: the shipped tests of the built-in pack pass; a wrong expectation fails readably. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('heroku-otel-drain rules test', () => {
  it('passes the shipped tests of the built-in pack and of the example rules file', () => {
    const r = run('rules', 'test', 'examples/alerts/builtin.test.yaml', 'examples/alerts/rules.test.yaml');
    expect(r.stdout).toMatch(/^SUCCESS: 10 passed, 0 failed$/m);
    expect(r.status).toBe(0);
  });

  it('exits 1 with what was expected and what fired', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hod-rules-test-')), 'wrong.test.yaml');
    writeFileSync(
      file,
      `tests:
  - name: a single H12 is a storm (it is not)
    resource: { service.name: shop-web }
    input:
      - at: 0s
        repeat: 12
        lines: |
          2024-05-01T12:00:00+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" host=a.example.com request_id=r fwd="1.2.3.4" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https
    expect:
      - { at: 30s, alertname: RouterH12Storm, firing: [ { service_name: other-app } ] }
`,
    );
    const r = run('rules', 'test', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('test "a single H12 is a storm (it is not)" failed');
    expect(r.stdout).toContain('at 30s, RouterH12Storm:');
    expect(r.stdout).toContain('expected firing: {service_name="other-app"}');
    expect(r.stdout).toMatch(/got firing: +\{alertname="RouterH12Storm", service_name="shop-web", severity="critical"\}/);
    expect(r.stdout).toMatch(/^FAILED: 0 passed, 1 failed$/m);
  });

  it('names a bad test file or rule instead of running it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hod-rules-test-')), 'bad.test.yaml');
    writeFileSync(file, 'rules: [ { name: Broken, count: {} } ]\ntests:\n  - { name: x, expect: [ { at: soon, alertname: A, firing: [] } ] }\n');
    const r = run('rules', 'test', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('tests.0.expect.0.at: expected a duration');
    expect(run('rules', 'check').status).toBe(2);
  });
});
