/**
 * The detached broker JVM as seen from Node: its pid and state files, the
 * start lock, port and kafkajs probes, spawning it, waiting for it to answer,
 * and signalling it to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { classpath, jvmArgs } from './config-files.js';
import { HOST, type Paths, type Resolved } from './options.js';
import { pidAlive, pollUntil, readPidFile, tail } from '../../common/processes.js';

interface BrokerState {
  pid: number;
  version: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  startedAt: string;
}

/** True when pid is alive and (where /proc exists) really is a Kafka JVM, so a recycled pid is not mistaken for the broker. */
export function isBrokerPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return false;
  }
}

export function readState(paths: Paths): BrokerState | null {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as BrokerState;
  } catch {
    return null;
  }
}

export const readPid = (paths: Paths): number | null => readPidFile(paths.pidFile);

export function clearState(paths: Paths): void {
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.stateFile, { force: true });
}

function logTail(paths: Paths, lines = 25): string {
  try {
    return tail(readFileSync(paths.logFile, 'utf8'), lines);
  } catch {
    return '(no log yet)';
  }
}

// ---------------------------------------------------------------- probes

function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: HOST, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One kafkajs round trip; true when the broker serves metadata. */
export async function answers(port: number): Promise<boolean> {
  if (!(await portOpen(port))) return false;
  const kafka = new Kafka({
    clientId: 'policylens-local-broker-probe',
    brokers: [`${HOST}:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Polls the port until the broker answers; `died` says why it never will (the process is gone), or null. */
function pollUntilAnswering(r: Resolved, died: () => string | null, timedOut: () => string): Promise<void> {
  return pollUntil(() => answers(r.port), { timeoutMs: r.startTimeoutMs, everyMs: 250, died, timedOut });
}

export async function waitUntilAnswering(r: Resolved, child: ChildProcess, pid: number): Promise<void> {
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  await pollUntilAnswering(
    r,
    () =>
      exitCode !== undefined || !pidAlive(pid)
        ? `The Kafka ${r.version} broker exited during start-up (exit ${exitCode ?? '?'}). See ${r.paths.logFile}; its last lines:\n${logTail(r.paths)}`
        : null,
    () =>
      `The Kafka ${r.version} broker (pid ${pid}) did not answer on ${HOST}:${r.port} within ` +
      `${(r.startTimeoutMs / 1000).toFixed(1)} s. It is left running so you can look: see ${r.paths.logFile} ` +
      `and stop it with stopBroker(). Last log lines:\n${logTail(r.paths)}`,
  );
}

export async function waitForExisting(r: Resolved, pid: number): Promise<void> {
  await pollUntilAnswering(
    r,
    () => (isBrokerPid(pid) ? null : `The Kafka broker (pid ${pid}) exited. See ${r.paths.logFile}:\n${logTail(r.paths)}`),
    () => `The Kafka broker (pid ${pid}) is running but does not answer on ${HOST}:${r.port}. See ${r.paths.logFile}.`,
  );
}

export async function assertPortsFree(r: Resolved): Promise<void> {
  for (const port of [r.port, r.controllerPort]) {
    if (await portOpen(port)) {
      throw new Error(
        `Port ${HOST}:${port} is already in use by a process this module did not start ` +
          `(another Kafka?). Stop that process, or start this broker on other ports (options port / controllerPort).`,
      );
    }
  }
}

export function spawnBroker(r: Resolved, java: string, libs: string, loggingFlag: string): { child: ChildProcess; pid: number } {
  const out = openSync(r.paths.logFile, 'w');
  // detached: own process group, so the broker survives the caller (tests,
  // CLI) and a Ctrl-C in the caller's terminal does not reach it.
  const child = spawn(java, [...jvmArgs(r, loggingFlag), '-cp', classpath(libs), 'kafka.Kafka', r.paths.serverProps], {
    cwd: r.paths.home,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  // Do not keep the caller's event loop alive for the broker's sake.
  child.unref();
  if (child.pid === undefined) throw new Error(`Could not start ${java}. See ${r.paths.logFile}.`);
  const pid = child.pid;
  writeFileSync(r.paths.pidFile, `${pid}\n`);
  const state: BrokerState = {
    pid,
    version: r.version,
    port: r.port,
    controllerPort: r.controllerPort,
    dataDir: r.paths.dataDir,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(r.paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  return { child, pid };
}
