/** The sidecar as a real process for tests: started with a config or an environment, on port 0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { OtlpTestServer } from './otlp-server.ts';

export const BIN = new URL('../../bin/heroku-otel-drain.js', import.meta.url).pathname;

export interface RunningSidecar {
  proc: ChildProcess;
  /** The first port it says it listens on. */
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Its JSON log lines on stderr, parsed. */
  logLines: () => Array<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once every listening line up to `count` has been logged, with their ports. */
  ports: (count: number) => Promise<number[]>;
}

/**
 * Starts the sidecar (`heroku-otel-drain ARGS`, or `COMMAND ARGS` when a wrapper such as bash
 * sets limits first); resolves once it logs that it listens.
 */
export function startSidecar(args: string[], env: NodeJS.ProcessEnv, command?: string): Promise<RunningSidecar> {
  const proc = spawn(command ?? process.execPath, command === undefined ? [BIN, ...args] : args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const listening = () => [...err.matchAll(/listening on [^"]*?:(\d+)/g)].map((m) => Number(m[1]));
  const logLines = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ports = async (count: number) => {
    for (let i = 0; i < 1500 && listening().length < count; i++) await new Promise((r) => setTimeout(r, 10));
    return listening();
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${err}`)), 15_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      const first = listening()[0];
      if (first !== undefined) {
        clearTimeout(timer);
        resolve({ proc, port: first, stdout: () => out, stderr: () => err, logLines, exited, ports });
      }
    });
    proc.on('exit', () => reject(new Error(`exited early: ${err}`)));
  });
}

/**
 * Writes raw bytes (what fetch would not send) on a new connection, which joins `sockets` for the
 * test to close; resolves with what came back once a response head is in, the server closes, or
 * `ms` pass.
 */
export function exchange(port: number, text: string, sockets: Socket[], ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    sockets.push(s);
    let got = '';
    const timer = setTimeout(() => resolve(got), ms);
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
}

/** A fresh local OTLP backend per test, and the sidecars a test started, killed after it. */
export interface SidecarsAndSink {
  /** This test's backend (started before it, stopped after it). */
  readonly sink: OtlpTestServer;
  /** startSidecar, the process killed (SIGKILL) after the test unless it exited already. */
  start(args: string[], env: NodeJS.ProcessEnv): Promise<RunningSidecar>;
}

/** Registers the beforeEach/afterEach of a test file whose tests run the sidecar into a local backend. */
export function sidecarsWithSink(): SidecarsAndSink {
  let sink: OtlpTestServer | undefined;
  const started: ChildProcess[] = [];
  beforeEach(async () => {
    sink = new OtlpTestServer();
    await sink.start();
  });
  afterEach(async () => {
    for (const proc of started.splice(0)) proc.kill('SIGKILL');
    await sink?.stop();
  });
  return {
    get sink() {
      return sink!;
    },
    async start(args, env) {
      const sidecar = await startSidecar(args, env);
      started.push(sidecar.proc);
      return sidecar;
    },
  };
}
