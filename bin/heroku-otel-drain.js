#!/usr/bin/env node
// The sources are TypeScript run by Node's built-in type stripping (Node 22.18+), so there is no
// build step. Say so plainly on an older Node instead of failing on the first `.ts` import.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `heroku-otel-drain needs Node.js 22.18 or newer (this is ${process.version}). ` +
      'Inside the repository, `npm start` and `npx heroku-otel-drain` use the Node from the node devDependency.\n',
  );
  process.exit(2);
}
// Node keeps the stripped and compiled modules on disk (NODE_COMPILE_CACHE, else the temporary
// directory) and reuses them while the sources are unchanged: a restart or a worker process starts
// in about half the CPU and ~15 MB less memory. A directory it cannot write only disables this.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
