/**
 * A CommonJS package loaded on its first use rather than at start, so that a sidecar whose config
 * does not use it (YAML files, undici without an OTLP exporter, ioredis without a redis extension)
 * holds none of its code. Synchronous, for a component's `create`. A CommonJS package's `import`
 * and `require` are one instance (Node's require cache); a package with ES and CommonJS builds
 * would be loaded twice if src also imported it: such a package is taken this way only.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazy<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
