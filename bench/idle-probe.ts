/**
 * Loaded into the sidecar by bench/idle.ts (`--import`, with `--expose-gc`): on SIGUSR2 it forces
 * a full GC and writes the heap's figures to IDLE_PROBE_OUT as one JSON object. With
 * IDLE_PROBE_MODULES=1 it also counts the modules loaded and their source bytes per package (a
 * module-load hook: it costs a little itself, so it is off when measuring).
 */
import { statSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const out = process.env.IDLE_PROBE_OUT;
const perPackage = new Map<string, { modules: number; bytes: number }>();

function packageOf(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm < 0) return url.startsWith('file:') ? (/\/(src|bin)\/.*$/.exec(url)?.[1] ?? 'other') : url.split(':')[0]!;
  const rest = url.slice(nm + 14).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

if (process.env.IDLE_PROBE_MODULES === '1') {
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      let bytes = result.source === undefined || result.source === null ? 0 : typeof result.source === 'string' ? Buffer.byteLength(result.source) : result.source.byteLength;
      if (bytes === 0 && url.startsWith('file:')) {
        try {
          bytes = statSync(fileURLToPath(url)).size;
        } catch {
          // not a file
        }
      }
      const p = perPackage.get(packageOf(url)) ?? { modules: 0, bytes: 0 };
      p.modules++;
      p.bytes += bytes;
      perPackage.set(packageOf(url), p);
      return result;
    },
  });
}

process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const h = getHeapStatistics();
  const packages = [...perPackage].sort((a, b) => b[1].bytes - a[1].bytes).map(([name, p]) => ({ name, ...p }));
  const report = {
    heap_used_mb: m.heapUsed / 2 ** 20,
    heap_total_mb: m.heapTotal / 2 ** 20,
    external_mb: m.external / 2 ** 20,
    array_buffers_mb: m.arrayBuffers / 2 ** 20,
    malloced_mb: h.malloced_memory / 2 ** 20,
    // Node's own copy of undici, which an ES import of node:http loads through its getters.
    builtin_undici: ((process as unknown as { moduleLoadList: string[] }).moduleLoadList ?? []).some((name) => name.includes('internal/deps/undici')),
    ...(packages.length > 0 ? { modules: packages.reduce((n, p) => n + p.modules, 0), packages } : {}),
  };
  if (out) writeFileSync(out, JSON.stringify(report));
});
