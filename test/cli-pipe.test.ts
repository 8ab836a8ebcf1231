import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/heroku-otel-drain.js', import.meta.url).pathname;

describe('heroku-otel-drain parse | head', () => {
  it('stops quietly when the reader goes away', async () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `2024-05-01T12:00:00.000001+00:00 app[web.1]: line ${i} ${'x'.repeat(200)}`).join('\n');
    const child = spawn(process.execPath, [BIN, 'parse', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // The child may quit before it has read all of its input: that is the point.
    child.stdin.on('error', () => {});
    child.stdin.end(lines);
    // Read one chunk, then close our end of the pipe, as `head -c` would.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
