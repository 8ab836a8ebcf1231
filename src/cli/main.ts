/**
 * The command line: `heroku-otel-drain <command> [options]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InputError, runParse } from './parse-command.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

const USAGE = `Usage: heroku-otel-drain <command> [options]

Commands:
  parse [FILE|-] [--resource key=value]...
      Read a capture (Logplex HTTPS bodies, syslog lines with or without octet counts,
      \`heroku logs\` output, gzip or plain) and write OTLP/JSON lines to stdout, one
      ExportLogsServiceRequest or ExportMetricsServiceRequest per line. FILE defaults to stdin.
      --resource key=value   a resource attribute (repeatable), e.g. service.name=shop-web;
                             OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are read too.

  help      Show this help.
  version   Print the version.
`;

function writeStdout(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function parseResourceFlags(values: string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) return `--resource expects key=value, got "${value}"`;
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

async function parseCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { resource: { type: 'string', multiple: true, short: 'r' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`heroku-otel-drain parse: ${(err as Error).message}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    process.stderr.write('heroku-otel-drain parse: one input at a time (FILE or - for stdin)\n');
    return 2;
  }
  const resource = parseResourceFlags(parsed.values.resource ?? []);
  if (typeof resource === 'string') {
    process.stderr.write(`heroku-otel-drain parse: ${resource}\n`);
    return 2;
  }
  try {
    const stats = await runParse({ input: parsed.positionals[0] ?? '-', resource }, { name: pkg.name, version: pkg.version }, writeStdout);
    if (stats.frameProblems > 0) {
      process.stderr.write(
        `heroku-otel-drain parse: ${stats.frameProblems} of ${stats.lines} frames had a wrong octet count or no frame header; ` +
          'all were kept (see heroku.log.frame_status)\n',
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`heroku-otel-drain parse: ${err.message}\n`);
      return 2;
    }
    // EPIPE: the reader went away (`| head`); nothing more to say.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  // `parse ... | head`: the reader going away is no error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [command, ...rest] = argv;
  switch (command) {
    case 'parse':
      return parseCommand(rest);
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`heroku-otel-drain: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
