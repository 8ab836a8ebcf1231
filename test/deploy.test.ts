/**
 * Deployment files: Heroku's Procfile and app.json, and the Dockerfile (which cannot be built
 * here): each is parsed, and the start command it names is run as it would run, from the
 * environment a Heroku app of its own gets (PORT, the config vars app.json asks for).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/syslog-tools.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const read = (f: string) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');

/** Runs `command` (argv) in the repository as a dyno would; POSTs a capture; stops it with SIGTERM. */
async function runLikeADyno(argv: string[]): Promise<{ status: number; exit: number | null; stderr: string }> {
  const port = await freePort();
  const [cmd, ...args] = argv;
  const proc = spawn(cmd === 'node' ? process.execPath : cmd!, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DRAIN_BASIC_AUTH: 'logplex:s3cret', OTEL_EXPORTER_OTLP_ENDPOINT: '', NODE_OPTIONS: '--max-old-space-size=256' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  try {
    const started = Date.now();
    while (!/listening on 0\.0\.0\.0:\d+/.test(stderr)) {
      if (proc.exitCode !== null || Date.now() - started > 15_000) throw new Error(`did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const body = readFileSync(new URL('../examples/captures/mixed.logplex', import.meta.url));
    const res = await fetch(`http://127.0.0.1:${port}/logs`, {
      method: 'POST',
      body,
      headers: { authorization: `Basic ${Buffer.from('logplex:s3cret').toString('base64')}`, 'content-type': 'application/logplex-1' },
    });
    proc.kill('SIGTERM');
    const exit = await new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    return { status: res.status, exit, stderr };
  } finally {
    proc.kill('SIGKILL');
  }
}

describe('deployment files', () => {
  it("the Procfile's web command starts the sidecar on $PORT, on every interface, and stops on SIGTERM", async () => {
    const web = /^web:\s*(.+)$/m.exec(read('Procfile'))![1]!;
    const r = await runLikeADyno(web.split(/\s+/));
    expect(r.status).toBe(200);
    expect(r.exit).toBe(0);
  });

  it('the Procfile, the Dockerfile and npm start run Node with the same V8 flags (a small young generation: ~130 MB less RSS under load)', () => {
    const flags = (command: string[]) => command.slice(1, command.indexOf('bin/heroku-otel-drain.js'));
    const procfile = flags(/^web:\s*(.+)$/m.exec(read('Procfile'))![1]!.split(/\s+/));
    const docker = flags(JSON.parse(/^CMD (\[.+\])$/m.exec(read('Dockerfile'))![1]!) as string[]);
    const npmStart = flags(JSON.parse(read('package.json')).scripts.start.split(/\s+/));
    expect(procfile).toContain('--max-semi-space-size=8');
    expect(docker).toEqual(procfile);
    expect(npmStart).toEqual(procfile);
  });

  it('app.json asks for the config vars the embedded default reads, and pins nothing the engine does not', () => {
    const app = JSON.parse(read('app.json'));
    const defaults = read('src/config/default.ts');
    for (const name of Object.keys(app.env)) {
      if (name === 'NODE_OPTIONS') continue;
      expect(defaults).toContain(name);
    }
    expect(app.env.DRAIN_BASIC_AUTH.required).toBe(true);
    expect(app.buildpacks).toEqual([{ url: 'heroku/nodejs' }]);
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.engines.node).toBe('24.x');
  });

  it('the Dockerfile copies what exists, uses the pinned Node major, and its CMD runs the sidecar', async () => {
    const dockerfile = read('Dockerfile');
    const from = /^FROM node:(\d+)/m.exec(dockerfile)![1]!;
    const pkg = JSON.parse(read('package.json'));
    expect(`${from}.x`).toBe(pkg.engines.node);
    for (const m of dockerfile.matchAll(/^COPY (.+) \S+$/gm)) for (const source of m[1]!.split(/\s+/)) expect(existsSync(new URL(`../${source}`, import.meta.url))).toBe(true);
    // The image installs production dependencies only: every package src imports must be one.
    const imported = new Set<string>();
    for (const file of readdirSync(new URL('../src', import.meta.url), { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      for (const m of text.matchAll(/^import (?!type )[^;]*? from '([^.'][^']*)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect([...imported].filter((p) => !(p in pkg.dependencies))).toEqual([]);
    expect(imported.size).toBeGreaterThan(2);
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)![1]!) as string[];
    const r = await runLikeADyno(cmd);
    expect(r.status).toBe(200);
    expect(r.exit).toBe(0);
  });
});
