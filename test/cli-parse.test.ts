import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname;
const CAPTURE = new URL('../examples/captures/mixed.logplex', import.meta.url).pathname;

async function parse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'parse', ...args], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...env } });
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
    ['rails-requests.txt', 10],
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
    // The last line may be cut in the middle and so be kept raw, with a note of its own.
    expect(cut.stderr.split('\n')[0]).toBe('heroku-otel-drain parse: the gzip input ends early (truncated?): read what it holds');
    const n = count(cut.stdout);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2000);
  });
});

function tempFile(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hod-')), name);
  writeFileSync(path, content);
  return path;
}

function records(stdout: string): any[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .flatMap((r) => r.resourceLogs?.[0].scopeLogs[0].logRecords ?? []);
}

describe('parse as a user meets it', () => {
  it('streams: prints the first lines while standard input is still open', async () => {
    const child = spawn(process.execPath, [BIN, 'parse', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write('2024-05-01T12:00:00.000001+00:00 app[web.1]: first\n');
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no output while stdin was open')), 10_000);
      child.stdout.once('data', (d) => {
        clearTimeout(timer);
        resolve(String(d));
      });
    });
    expect(records(first)[0].body).toEqual({ stringValue: 'first' });
    child.stdin.end('2024-05-01T12:00:01.000001+00:00 app[web.1]: second\n');
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
  });

  it('reads the first line of a file that starts with a byte order mark', async () => {
    const { stdout } = await parse([tempFile('bom.txt', '\ufeff2024-05-01T12:00:00.000001+00:00 app[web.1]: hello\n')]);
    expect(records(stdout)[0]).toMatchObject({ body: { stringValue: 'hello' }, timeUnixNano: '1714564800000001000' });
  });

  it('keeps every output line under 1 MiB, as the Collector reads them, losing no record', async () => {
    const path = '/' + 'p'.repeat(4000);
    const text = Array.from({ length: 700 }, (_, i) => `2024-05-01T12:00:00.000001+00:00 heroku[router]: at=info method=GET path="${path}?i=${i}" host=a.example.com fwd="1.2.3.4" dyno=web.1 connect=1ms service=2ms status=200 bytes=3 protocol=https`).join('\n');
    const { stdout, code } = await parse([tempFile('long.txt', text)]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThan(1024 * 1024);
    expect(records(stdout)).toHaveLength(700);
  });

  it('leaves out a time OTLP cannot carry (before 1970, after 2554) instead of breaking the batch', async () => {
    const { stdout } = await parse([tempFile('t.txt', '1969-12-31T23:59:59.000000+00:00 app[web.1]: old\n9999-12-31T23:59:59.999999+00:00 app[web.1]: far\n')]);
    const [old, far] = records(stdout);
    expect(old.timeUnixNano).toBeUndefined();
    expect(far.timeUnixNano).toBeUndefined();
    expect(old.body).toEqual({ stringValue: 'old' });
  });

  it('says so when a file holds no log lines, or lines of no known shape', async () => {
    const empty = await parse([tempFile('empty.txt', '\n\n')]);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect(empty.stderr).toMatch(/: no log lines in .*empty\.txt\n$/);
    const junk = await parse([tempFile('junk.txt', 'hello\nworld\n2024-05-01T12:00:00Z app[web.1]: ok\n')]);
    expect(junk.code).toBe(0);
    expect(junk.stderr).toBe('heroku-otel-drain parse: 2 of 3 lines had no syslog or `heroku logs` header; they were kept whole (heroku.log.shape=raw)\n');
  });

  it('explains unreadable input and bad flags in one line', async () => {
    expect((await parse(['/nonexistent/x.log'])).stderr).toBe('heroku-otel-drain parse: cannot read /nonexistent/x.log: no such file\n');
    expect((await parse([tmpdir()])).stderr).toBe(`heroku-otel-drain parse: cannot read ${tmpdir()}: is a directory\n`);
    const bogus = await parse(['--bogus']);
    expect(bogus).toMatchObject({ code: 2, stderr: 'heroku-otel-drain parse: unknown option --bogus (see heroku-otel-drain parse --help)\n' });
    expect(await parse(['--resource', 'service.name='])).toMatchObject({ code: 2, stderr: 'heroku-otel-drain parse: --resource service.name has an empty value\n' });
  });

  it('reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, and ignores a malformed value with a warning', async () => {
    const file = tempFile('one.txt', '2024-05-01T12:00:00Z app[web.1]: x\n');
    const resourceOf = (stdout: string) => Object.fromEntries(JSON.parse(stdout.split('\n')[0]!).resourceLogs[0].resource.attributes.map((a: any) => [a.key, a.value.stringValue]));
    const ok = await parse([file], { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=a%20b', OTEL_SERVICE_NAME: 'shop' });
    expect(resourceOf(ok.stdout)).toEqual({ 'deployment.environment.name': 'prod', team: 'a b', 'service.name': 'shop', 'cloud.provider': 'heroku' });
    const bad = await parse([file], { OTEL_RESOURCE_ATTRIBUTES: 'a=1,oops', OTEL_SERVICE_NAME: 'shop' });
    expect(resourceOf(bad.stdout)).toEqual({ 'service.name': 'shop', 'cloud.provider': 'heroku' });
    expect(bad.stderr).toContain('OTEL_RESOURCE_ATTRIBUTES is ignored: "oops" is not key=value');
  });
});

describe('a line longer than parse reads (64 KiB, as the syslog receiver)', () => {
  const line = (i: number) => `2024-05-01T12:00:00.000001+00:00 app[web.1]: line ${i}`;

  it('skips a 4 MB stream with no newline from a pipe, says so, and reads the lines around it', async () => {
    const child = spawn(process.execPath, [BIN, 'parse', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise((resolve) => child.on('close', resolve));
    child.stdin.write(line(1) + '\n');
    // 4 MB without a newline, written in pieces as a pipe delivers it.
    const piece = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 64; i++) if (!child.stdin.write(piece)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    child.stdin.end('\n' + line(2) + '\n');
    expect(await closed).toBe(0);
    expect(stderr).toContain('heroku-otel-drain parse: 1 line longer than 65536 bytes skipped');
    expect(records(stdout).map((r) => r.body.stringValue)).toEqual(['line 1', 'line 2']);
  }, 60_000);

  it('ends on a file that is one unterminated line of a few MB (parse /dev/zero holds no more)', async () => {
    const { stdout, stderr, code } = await parse([tempFile('zero.bin', Buffer.alloc(3 * 1024 * 1024))]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('1 line longer than 65536 bytes skipped');
  });

  it('skips a complete line over the bound wherever the reads cut it, and keeps one just under it', async () => {
    const prefix = '2024-05-01T12:00:00.000001+00:00 app[web.1]: ';
    const under = prefix + 'u'.repeat(64 * 1024 - prefix.length);
    const over = prefix + 'o'.repeat(64 * 1024 - prefix.length + 1);
    const { stdout, stderr } = await parse([tempFile('long.txt', [line(1), over, under, over, line(2)].join('\n') + '\n')]);
    expect(stderr).toContain('2 lines longer than 65536 bytes skipped');
    expect(records(stdout).map((r) => r.body.stringValue.slice(0, 8))).toEqual(['line 1', 'uuuuuuuu', 'line 2']);
  });

  it('reads an octet-counted stream with no newline at all, and skips a frame over the bound by its count', async () => {
    const frame = (text: string) => {
      const msg = `<190>1 2024-05-01T12:00:00.000001+00:00 host app web.1 - ${text}`;
      return `${Buffer.byteLength(msg)} ${msg}`;
    };
    const frames = Array.from({ length: 5000 }, (_, i) => frame(`frame ${i}`));
    frames.splice(2500, 0, frame('b'.repeat(200_000)));
    const { stdout, stderr, code } = await parse([tempFile('stream.syslog', frames.join(''))]);
    expect(code).toBe(0);
    expect(stderr).toContain('1 line longer than 65536 bytes skipped');
    const bodies = records(stdout).map((r) => r.body.stringValue);
    expect(bodies).toHaveLength(5000);
    expect(bodies[4999]).toBe('frame 4999');
  });
});
