// The small world the external checks run against: the `policylens` command as child processes over a data
// directory of their own, and `policylens up` (the API and the Kafka ingest in one process) on free ports.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import { kernelPickedPort } from '../../common/processes.js';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const COMMAND = join(ROOT, 'bin/policylens.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output. */
export function runProgram(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** `policylens ARGS` under `env`; throws with its output when it fails. */
export async function policylens(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runProgram(process.execPath, [COMMAND, ...args], { env, cwd: ROOT });
  if (r.code !== 0) throw new Error(`policylens ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The datasets `policylens export` offers, as the command itself names them when asked for none. */
export async function exportDatasets(env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await runProgram(process.execPath, [COMMAND, 'export'], { env, cwd: ROOT });
  const listed = /needs exactly one DATASET \(([a-z_, ]+)\)/.exec(r.stderr)?.[1];
  if (!listed) throw new Error(`policylens export did not list its datasets:\n${r.stderr}`);
  return listed.split(', ');
}

export const freePort = (): Promise<number> => kernelPickedPort();

/** Whether something accepts TCP connections at host:port within a second. */
export function answers(hostPort: string): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((done) => {
    const socket = createConnection({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)), timeout: 1_000 });
    const end = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => end(true));
    socket.once('timeout', () => end(false));
    socket.once('error', () => end(false));
  });
}

export async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const got = await probe().catch(() => null);
    if (got !== null) return got;
    if (Date.now() > until) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Running {
  /** SIGTERM, then waits for the process to end (SIGKILL after 30 s). */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `policylens ARGS` in the background, its output into `logFile`. */
export function startPolicylens(args: string[], env: NodeJS.ProcessEnv, logFile: string): Running {
  const child = spawn(process.execPath, [COMMAND, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return {
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      return exited;
    },
  };
}
