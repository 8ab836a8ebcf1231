/**
 * Real syslog clients for tests: util-linux `logger`, and rsyslog forwarding over TLS with
 * certificates made by the `openssl` CLI. Installed by scripts/install-test-deps.sh.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** `logger` with these arguments; resolves when it has sent everything. */
export async function logger(args: readonly string[]): Promise<void> {
  await run('logger', [...args], { timeout: 60_000 });
}

export interface Certificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A CA and a server certificate for localhost / 127.0.0.1 signed by it, in a fresh directory. */
export async function makeCertificates(commonName = 'localhost'): Promise<Certificates> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-tls-'));
  const p = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => run('openssl', args, { timeout: 60_000 });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=heroku-otel-drain test CA');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${commonName}`);
  writeFileSync(p('ext.cnf'), `subjectAltName=DNS:${commonName},IP:127.0.0.1\n`);
  await openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return { dir, caFile: p('ca.pem'), certFile: p('server.pem'), keyFile: p('server.key') };
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Rsyslog {
  /** Its imtcp input, where a test writes messages (LF-framed). */
  inputPort: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * rsyslogd in the foreground with its own config: imtcp on a loopback port, every message
 * forwarded by omfwd over TLS (gtls, the peer's certificate checked against `caFile` and the
 * name `localhost`) with octet-counted framing, in RFC 5424 (RSYSLOG_SyslogProtocol23Format).
 */
export async function startRsyslog(targetPort: number, caFile: string): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'hod-rsyslog-'));
  mkdirSync(join(dir, 'work'));
  const inputPort = await freePort();
  const config = join(dir, 'rsyslog.conf');
  writeFileSync(
    config,
    [
      `global(workDirectory="${join(dir, 'work')}" DefaultNetstreamDriverCAFile="${caFile}")`,
      'module(load="imtcp")',
      `input(type="imtcp" port="${inputPort}" address="127.0.0.1" ruleset="forward")`,
      'ruleset(name="forward") {',
      `  action(type="omfwd" target="127.0.0.1" port="${targetPort}" protocol="tcp"`,
      '         StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"',
      '         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"',
      '         action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList" queue.size="100000")',
      '}',
      '',
    ].join('\n'),
  );
  const pidFile = join(dir, 'rsyslogd.pid');
  const proc = spawn('rsyslogd', ['-n', '-f', config, '-i', pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  // Ready when its input port answers.
  const started = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`rsyslogd exited: ${output}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(inputPort, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() - started > 15_000) throw new Error(`rsyslogd did not open its input: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    inputPort,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** The rsyslogd version line, for skip messages and the bench. */
export function rsyslogVersion(): string {
  try {
    return spawnSync('rsyslogd', ['-v']).stdout.toString().split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

