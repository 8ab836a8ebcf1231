/**
 * The previous release as a reference: `BENCH_PREVIOUS` names another checkout (a directory) or
 * a git ref of this repository (`v0.4.0`, `main~20`, a commit). A ref is checked out into a
 * temporary `git worktree` with a `node_modules` symlink to this checkout's, and removed when
 * `close()` is called or the process exits. Scenarios run the same load against it and print
 * this checkout over it (`vs_previous`): a regression ratio measured in one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;

export interface Checkout {
  /** Where its bin/ and src/ are. */
  root: string;
  /** What BENCH_PREVIOUS said, and the commit when a ref. */
  label: string;
  close(): void;
}

function git(args: string[]): string {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** The checkout BENCH_PREVIOUS names, or undefined when it is unset. */
export function openPrevious(spec = process.env.BENCH_PREVIOUS): Checkout | undefined {
  if (spec === undefined || spec === '') return undefined;
  if (existsSync(spec) && statSync(spec).isDirectory()) return { root: resolve(spec), label: resolve(spec), close: () => {} };
  const commit = git(['rev-parse', '--verify', `${spec}^{commit}`]);
  const dir = join(mkdtempSync(join(tmpdir(), 'hod-previous-')), 'checkout');
  git(['worktree', 'add', '--detach', dir, commit]);
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'));
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    git(['worktree', 'remove', '--force', dir]);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  };
  process.once('exit', close);
  return { root: dir, label: `${spec} (${commit.slice(0, 12)})`, close };
}

/** This checkout over the previous one, two decimals. */
export function ratio(ours: number, previous: number): number {
  return Number((ours / previous).toFixed(2));
}
