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
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
