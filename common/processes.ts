// Process plumbing shared by the local development servers (devtools/clickhouse, devtools/kafka): is a pid alive,
// signal it, wait for it to go or stop it, is a port free, and a lock file so two callers do not start one server twice.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { sleep } from './retry.js';

/** Alive and not a zombie (a stopped child of this process may linger as one until Node reaps it). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // EPERM means it exists but belongs to someone else: not ours.
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat');
  }
}

/** The pid a pid file names, or null when there is no file or it names none. */
export function readPidFile(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** kill() that tolerates the process having exited in the meantime. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export async function waitForExit(pid: number, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(everyMs);
  }
  return !pidAlive(pid);
}

/** SIGTERM (both local servers shut down cleanly on it), then SIGKILL after timeoutMs. */
export async function stopPid(pid: number, timeoutMs: number): Promise<{ killed: boolean }> {
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, timeoutMs)) return { killed: false };
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 10_000);
  return { killed: true };
}

/** Whether a port on 127.0.0.1 is free. Binding tells more than connecting: it also catches a listener on 0.0.0.0 or one that does not accept. */
/** A port nothing listens on now: the one the kernel picks for port 0. */
export function kernelPickedPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PollUntil {
  timeoutMs: number;
  everyMs: number;
  /** Why waiting is pointless (the process died), or null to go on. */
  died: () => string | null;
  /** The error when the time runs out. */
  timedOut: () => string;
}

/** Polls `ready` until it answers true; fails at once when the process died, and after timeoutMs otherwise. */
export async function pollUntil(ready: () => Promise<boolean>, o: PollUntil): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    const why = o.died();
    if (why !== null) throw new Error(why);
    if (await ready()) return;
    await sleep(o.everyMs);
  }
  throw new Error(o.timedOut());
}

/**
 * A tiny cross-process lock, so two test workers starting a server at once do not both spawn one. A lock whose
 * holder died is taken over.
 */
export async function withLock<T>(lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number.parseInt(readFileSync(lockFile, 'utf8') || '0', 10);
      } catch {
        continue; // released in between
      }
      if (!holder || !pidAlive(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with ENOENT when it is not installed. */
export function run(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The last lines of a tool's output, without ANSI colours, for an error message. */
export function tail(text: string, lines: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours some tools print anyway
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return plain.trimEnd().split('\n').slice(-lines).join('\n');
}
