/** The JS heap a piece of work keeps, measured in a process of its own that can collect garbage when asked. */
import { spawn } from 'node:child_process';

/**
 * Runs `setup` then `work` (ES module code; `work` may use what `setup` declared) in a child with
 * --expose-gc and resolves with the heap used after a full GC past the work, less the heap used
 * after a full GC before it: what the work left alive.
 */
export async function heapKeptBy(setup: string, work: string): Promise<number> {
  const script = `${setup}
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    ${work}
    globalThis.gc();
    process.stdout.write(String(process.memoryUsage().heapUsed - before));`;
  const proc = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`the heap script exited with ${String(code)}`);
  return Number(out);
}
