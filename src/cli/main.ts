/**
 * The command line: `heroku-otel-drain <command> [options]`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseSetKey, setLabel, type ConfigSource } from '../config/sources.ts';

// Each command's modules are imported when it runs: `start` then loads none of replay's
// progress bar, parse's capture reader or rules test's, and the sidecar holds less at idle.

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

const USAGE = `Usage: heroku-otel-drain <command> [options]

Commands:
  start [--config URI]... [--set key.path=value]...   (the default command)
      Run the drain endpoint. Without --config, the embedded default reads the environment:
      PORT, DRAIN_TOKENS (token[=service-name],...), DRAIN_BASIC_AUTH (user:password),
      OTEL_EXPORTER_OTLP_* (endpoint, headers, protocol... per signal too), OTEL_SERVICE_NAME,
      OTEL_RESOURCE_ATTRIBUTES; with no endpoint it prints what it receives (debug exporter).
      SIGTERM stops accepting, flushes everything accepted and exits.

  Config options (start, validate, print-config, replay):
      --config URI   a config file: a path, file:PATH, env:VAR (a variable holding YAML) or
                     yaml:TEXT (yaml:processors::batch::timeout: 2s). Repeatable: merged in
                     order, mappings key by key, a later list or value replacing an earlier one.
      --set key.path=value   one value over the merged config (after every --config), e.g.
                     --set exporters.otlphttp.timeout=30s; the value is read as YAML. Use ::
                     between keys when a key has dots (receivers::logplex::resource::service.name=x).
      Values may use \${env:VAR}, \${env:VAR:-default}, \${VAR} and \${file:PATH}; $$ is a $.

  parse [FILE|-] [--resource key=value]...
      Read a capture (Logplex HTTPS bodies, syslog lines with or without octet counts,
      \`heroku logs\` output, gzip or plain) and write OTLP/JSON lines to stdout, one
      ExportLogsServiceRequest or ExportMetricsServiceRequest per line. FILE defaults to stdin.
      A line (or frame) longer than 64 KiB, the syslog receiver's default max_message_size, is
      skipped and counted on stderr.
      --resource key=value   a resource attribute (repeatable), e.g. service.name=shop-web;
                             OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are read too.

  validate --config URI... [--set key.path=value]...
      Check a config (Collector shape: receivers, processors, exporters, service.pipelines;
      references expanded) and list every problem with its source and key path.
      Exit 0 when valid, 1 otherwise.

  print-config [--config URI]... [--set key.path=value]... [--format yaml|json]
               [--mode redacted|unredacted]
      Print the effective config (as the Collector's print-config): merged, expanded, validated,
      each component's defaults filled in; passwords, tokens, header values and URL userinfo
      shown as [REDACTED] unless --mode unredacted. Without --config: the embedded default.

  replay --config URI... [--set key.path=value]... [--resource key=value]... CAPTURE...
      Send captures (\`heroku logs\` output, Logplex bodies, syslog lines; gzip too; - for stdin)
      through the config's pipelines, keeping the lines' timestamps: backfill, or a try before
      adding a drain. A progress bar on a terminal, then a summary. Exit 1 if anything failed.
      Lines longer than 64 KiB are skipped and counted, as by parse.

  rules test FILE...
      Run alert rule unit tests (YAML: input lines at time offsets, the alerts expected to be
      firing at given times; see examples/alerts/). Exit 0 when all pass, 1 with a readable
      difference for each failure.

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
    if (eq === value.length - 1) return `--resource ${value.slice(0, eq)} has an empty value`;
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
    // Node's own wording talks about `--` and positionals; say what was wrong and where to look.
    const unknown = /'([^']+)'/.exec((err as Error).message)?.[1];
    const what = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown ? `unknown option ${unknown}` : (err as Error).message;
    process.stderr.write(`heroku-otel-drain parse: ${what} (see heroku-otel-drain parse --help)\n`);
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
  const input = parsed.positionals[0] ?? '-';
  if (input === '-' && process.stdin.isTTY) process.stderr.write('heroku-otel-drain parse: reading standard input (end with Ctrl-D)\n');
  const say = (message: string) => process.stderr.write(`heroku-otel-drain parse: ${message}\n`);
  const { InputError, runParse } = await import('./parse-command.ts');
  try {
    const summary = await runParse({ input, resource }, { name: pkg.name, version: pkg.version }, writeStdout, process.stdin, process.env, say);
    if (summary.lines === 0) say(`no log lines in ${input === '-' ? 'standard input' : input}`);
    if (summary.frameProblems > 0) {
      say(`${summary.frameProblems} octet-counted frames had a wrong count or no frame header; all were kept (see heroku.log.frame_status)`);
    }
    if (summary.rawLines > 0) {
      say(`${summary.rawLines} of ${summary.lines} lines had no syslog or \`heroku logs\` header; they were kept whole (heroku.log.shape=raw)`);
    }
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      say(err.message);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    // EPIPE: the reader went away (`| head`); nothing more to say.
    if (e.code === 'EPIPE') return 0;
    if (e.syscall === 'write') {
      say(`cannot write the output: ${e.code ?? e.message}`);
      return 1;
    }
    throw err;
  }
}

/** --config and --set, as start, validate, print-config and replay take them. */
const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c', multiple: true },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The config sources the flags name: every --config in order (or the embedded default when
 * `embeddedDefault` and there is none), then every --set. A malformed --set is a usage error.
 */
function configSources(values: { config?: string[]; set?: string[] }, embeddedDefault: boolean): ConfigSource[] | string {
  for (const assignment of values.set ?? []) {
    const keys = parseSetKey(assignment);
    if (typeof keys === 'string') return `${setLabel(assignment)}: ${keys}`;
  }
  const configs: ConfigSource[] = (values.config ?? []).map((uri) => ({ kind: 'config', uri }));
  if (configs.length === 0 && embeddedDefault) configs.push({ kind: 'default' });
  return [...configs, ...(values.set ?? []).map((assignment): ConfigSource => ({ kind: 'set', assignment }))];
}

/** Node's parseArgs wording talks about `--` and positionals; say what was wrong and where to look. */
function usageProblem(command: string, err: unknown): string {
  const unknown = /'([^']+)'/.exec((err as Error).message)?.[1];
  const what = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown ? `unknown option ${unknown}` : (err as Error).message.split('.')[0];
  return `heroku-otel-drain ${command}: ${what} (see heroku-otel-drain --help)\n`;
}

async function validateCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: CONFIG_OPTIONS });
  } catch (err) {
    process.stderr.write(usageProblem('validate', err));
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.values.config === undefined) {
    process.stderr.write('heroku-otel-drain validate: --config FILE is required\n');
    return 2;
  }
  const sources = configSources(parsed.values, false);
  if (typeof sources === 'string') {
    process.stderr.write(`heroku-otel-drain validate: ${sources}\n`);
    return 2;
  }
  const { runValidate } = await import('./validate-command.ts');
  const { code, stdout, stderr } = await runValidate(sources);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  return code;
}

async function printConfigCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...CONFIG_OPTIONS, format: { type: 'string', default: 'yaml' }, mode: { type: 'string', default: 'redacted' } } });
  } catch (err) {
    process.stderr.write(usageProblem('print-config', err));
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const format = parsed.values.format.toLowerCase();
  const mode = parsed.values.mode.toLowerCase();
  if (format !== 'yaml' && format !== 'json') {
    process.stderr.write('heroku-otel-drain print-config: --format is yaml or json\n');
    return 2;
  }
  if (mode !== 'redacted' && mode !== 'unredacted') {
    process.stderr.write('heroku-otel-drain print-config: --mode is redacted or unredacted\n');
    return 2;
  }
  const sources = configSources(parsed.values, true);
  if (typeof sources === 'string') {
    process.stderr.write(`heroku-otel-drain print-config: ${sources}\n`);
    return 2;
  }
  const { runPrintConfig } = await import('./print-config-command.ts');
  const { code, stdout, stderr } = await runPrintConfig(sources, { format, mode });
  process.stderr.write(stderr);
  if (stdout !== '') await writeStdout(stdout);
  return code;
}

async function startCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: CONFIG_OPTIONS });
  } catch (err) {
    process.stderr.write(usageProblem('start', err));
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const sources = configSources(parsed.values, true);
  if (typeof sources === 'string') {
    process.stderr.write(`heroku-otel-drain start: ${sources}\n`);
    return 2;
  }
  const { runStart } = await import('./start-command.ts');
  return runStart(sources);
}

async function replayCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...CONFIG_OPTIONS, resource: { type: 'string', multiple: true, short: 'r' } } });
  } catch (err) {
    process.stderr.write(usageProblem('replay', err));
    return 2;
  }
  if (parsed.values.config === undefined || parsed.positionals.length === 0) {
    process.stderr.write('heroku-otel-drain replay: usage: heroku-otel-drain replay --config FILE CAPTURE...\n');
    return 2;
  }
  const sources = configSources(parsed.values, false);
  if (typeof sources === 'string') {
    process.stderr.write(`heroku-otel-drain replay: ${sources}\n`);
    return 2;
  }
  const resource = parseResourceFlags(parsed.values.resource ?? []);
  if (typeof resource === 'string') {
    process.stderr.write(`heroku-otel-drain replay: ${resource}\n`);
    return 2;
  }
  const say = (message: string) => process.stderr.write(`heroku-otel-drain replay: ${message}\n`);
  const [{ runReplay }, { InputError }] = await Promise.all([import('./replay-command.ts'), import('./parse-command.ts')]);
  try {
    const { code } = await runReplay(sources, parsed.positionals, resource, process.env, say, process.stderr);
    return code;
  } catch (err) {
    if (err instanceof InputError) {
      say(err.message);
      return 2;
    }
    throw err;
  }
}

async function rulesCommand(args: string[]): Promise<number> {
  const [sub, ...files] = args;
  if (sub !== 'test' || files.length === 0 || files.some((f) => f.startsWith('-'))) {
    process.stderr.write('heroku-otel-drain rules: usage: heroku-otel-drain rules test FILE...\n');
    return 2;
  }
  const { runRulesTestFile } = await import('../processors/alerts/rules-test.ts');
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const result = runRulesTestFile(file);
    passed += result.passed;
    failed += result.failures.length;
    for (const failure of result.failures) process.stdout.write(`FAILED ${failure}\n\n`);
  }
  process.stdout.write(`${failed === 0 ? 'SUCCESS' : 'FAILED'}: ${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  // `parse ... | head`: the reader going away is no error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`heroku-otel-drain: cannot write the output: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  const [command, ...rest] = argv;
  switch (command) {
    case 'parse':
      return parseCommand(rest);
    case 'validate':
      return validateCommand(rest);
    case 'start':
      return startCommand(rest);
    case 'print-config':
    case 'print-initial-config':
      return printConfigCommand(rest);
    case 'rules':
      return rulesCommand(rest);
    case 'replay':
      return replayCommand(rest);
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    case undefined:
      return startCommand([]);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`heroku-otel-drain: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
