import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname;
const CAPTURE = new URL('../examples/captures/mixed.logplex', import.meta.url).pathname;

async function parse(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'parse', ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('heroku-otel-drain parse', () => {
  it('writes one log record per frame of the shipped capture, with the resource given', async () => {
    const { stdout, code } = await parse([CAPTURE, '--resource', 'service.name=shop-web']);
    expect(code).toBe(0);
    const requests = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const records = requests.flatMap((r) => r.resourceLogs ?? []).flatMap((rl: any) => rl.scopeLogs[0].logRecords);
    expect(records).toHaveLength(19);
    const resource = requests[0].resourceLogs[0].resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    expect(resource).toContainEqual({ key: 'cloud.provider', value: { stringValue: 'heroku' } });
  });

  it('answers a missing file with a one-line error and exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-'));
    const { stdout, stderr, code } = await parse([join(dir, 'nope.log')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('nope.log');
  });

  it('reads standard input when given -', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hod-'));
    const file = join(dir, 'in.log');
    writeFileSync(file, '2024-05-01T12:00:00.123456+00:00 app[web.1]: hello\n');
    const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
      const child = execFile(process.execPath, [BIN, 'parse', '-'], (err, out) => resolve({ stdout: out, code: err ? 1 : 0 }));
      child.stdin!.end('2024-05-01T12:00:00.123456+00:00 app[web.1]: hello\n');
    });
    expect(code).toBe(0);
    const record = JSON.parse(stdout).resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(record.body).toEqual({ stringValue: 'hello' });
    expect(record.timeUnixNano).toBe('1714564800123456000');
  });
});

describe('the shipped example captures', () => {
  it.each([
    ['mixed.logplex', 19],
    ['heroku-logs.txt', 24],
    ['syslog-drain.log', 12],
  ])('%s parses to valid OTLP, one record per line, tokens never in clear', async (name, lines) => {
    const { decodeLogsRequest, decodeMetricsRequest, withoutEmptyArrays } = await import('./support/otlp.ts');
    const { stdout, stderr, code } = await parse([new URL(`../examples/captures/${name}`, import.meta.url).pathname]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    let records = 0;
    for (const line of stdout.trim().split('\n')) {
      const request = JSON.parse(line);
      if (request.resourceLogs) {
        expect(decodeLogsRequest(request)).toEqual(withoutEmptyArrays(request));
        records += request.resourceLogs[0].scopeLogs[0].logRecords.length;
      } else {
        expect(decodeMetricsRequest(request)).toEqual(withoutEmptyArrays(request));
      }
    }
    expect(records).toBe(lines);
    expect(stdout).not.toContain('d.9a1c2b3d-1111-4222-8333-444455556666');
  });
});

describe('gzip captures', () => {
  it('reads a gzip capture, and what a truncated one holds', async () => {
    const { gzipSync } = await import('node:zlib');
    const dir = mkdtempSync(join(tmpdir(), 'hod-'));
    const text = Array.from({ length: 2000 }, (_, i) => `2024-05-01T12:00:00.000001+00:00 app[web.1]: line ${i}`).join('\n') + '\n';
    const gz = gzipSync(Buffer.from(text));
    writeFileSync(join(dir, 'full.gz'), gz);
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    const count = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .reduce((n, r) => n + (r.resourceLogs?.[0].scopeLogs[0].logRecords.length ?? 0), 0);
    const full = await parse([join(dir, 'full.gz')]);
    expect(full.code).toBe(0);
    expect(count(full.stdout)).toBe(2000);
    const cut = await parse([join(dir, 'cut.gz')]);
    expect(cut.code).toBe(0);
    expect(cut.stderr).toMatch(/^heroku-otel-drain parse: the gzip input ends early \(truncated\?\): read the \d+ bytes it holds\n$/);
    const n = count(cut.stdout);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2000);
  });
});
