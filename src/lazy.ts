/**
 * A CommonJS package loaded on its first use rather than at start, so that a sidecar whose config
 * does not use it (YAML files, undici without an OTLP exporter, ioredis without a redis extension)
 * holds none of its code. Synchronous, for a component's `create`; CommonJS only, since a
 * package's `import` and `require` are then one instance (Node's require cache), whereas a package
 * with ESM and CommonJS builds would be loaded twice.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazy<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
