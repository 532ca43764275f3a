/**
 * A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
 * run from the official jars on Maven Central, so development and tests need
 * neither Docker nor a downloaded tarball.
 *
 * Layout (everything stays inside the project):
 *   .policylens/kafka/m2/               Maven local repository used to resolve the jars
 *   .policylens/kafka/libs-<VERSION>/   the broker classpath (devtools/kafka/pom.xml)
 *   .policylens/kafka/data/             log.dirs + KRaft metadata log
 *   .policylens/kafka/server.properties generated on every start from the options
 *   .policylens/kafka/log4j*.properties generated logging config
 *   .policylens/kafka/broker.log        broker stdout/stderr
 *   .policylens/kafka/broker.pid        pid of the detached JVM
 *   .policylens/kafka/broker.json       version/port/pid of the running broker
 *
 * This file is the public face (start, stop, status); the parts live beside
 * it: options.ts (options and paths), toolchain.ts (java, mvn),
 * jars.ts (classpath), config-files.ts (server.properties, logging, JVM
 * flags), storage.ts (formatting the data dir) and process.ts (the JVM).
 *
 * See devtools/kafka/README.md for why the default version was chosen.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { serverProperties, writeLoggingConfig } from './config-files.js';
import { ensureJars } from './jars.js';
import { DEFAULT_PORT, HOST, resolveOptions, resolvePaths, type BrokerOptions, type BrokerStatus, type StopResult } from './options.js';
import { answers, assertPortsFree, clearState, isBrokerPid, readPid, readState, spawnBroker, waitForExisting, waitUntilAnswering } from './process.js';
import { stopPid, withLock } from '../../common/processes.js';
import { assertDataReadable, formatStorage } from './storage.js';
import { checkJava } from './toolchain.js';

export type { BrokerOptions, BrokerStatus, StopResult } from './options.js';
export { ensureJars } from './jars.js';
export { parseJavaMajor } from './toolchain.js';

/** Where the broker stands: whether our JVM is alive, and whether it answers kafkajs. */
export async function brokerStatus(opts: BrokerOptions = {}): Promise<BrokerStatus> {
  const paths = resolvePaths(opts);
  const state = readState(paths);
  const pid = readPid(paths);
  const running = pid !== null && isBrokerPid(pid);
  const port = running && state ? state.port : (opts.port ?? state?.port ?? DEFAULT_PORT);
  return {
    running,
    answering: running ? await answers(port) : false,
    pid: running ? pid : null,
    version: running ? (state?.version ?? null) : null,
    port,
    bootstrap: `${HOST}:${port}`,
    logFile: paths.logFile,
    dataDir: running && state ? state.dataDir : paths.dataDir,
  };
}

/**
 * Starts the broker in the background (it outlives this process) and waits
 * until it answers. Returns at once when it is already running and answering.
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<BrokerStatus> {
  const r = resolveOptions(opts);
  return withLock(r.paths.lockFile, r.startTimeoutMs, async () => {
    const current = await brokerStatus(opts);
    if (current.running) {
      // Never hand back a broker other than the one asked for.
      const otherData = opts.dataDir !== undefined && current.dataDir !== r.paths.dataDir;
      if (current.version !== r.version || current.port !== r.port || otherData) {
        throw new Error(
          `A local Kafka broker ${current.version ?? '?'} is already running on port ${current.port} ` +
            `with data in ${current.dataDir} (pid ${current.pid}); stop it first (stopBroker) to start ` +
            `${r.version} on port ${r.port} with data in ${r.paths.dataDir}.`,
        );
      }
      if (current.answering) return current;
      // Alive but not answering yet (e.g. still starting, or started by another process): wait for it.
      await waitForExisting(r, current.pid as number);
      return brokerStatus(opts);
    }
    clearState(r.paths);
    assertDataReadable(r);
    await assertPortsFree(r);
    const java = await checkJava();
    const libs = await ensureJars(opts);
    mkdirSync(r.paths.home, { recursive: true });
    writeFileSync(r.paths.serverProps, serverProperties(r));
    const loggingFlag = writeLoggingConfig(r);
    await formatStorage(r, java, libs, loggingFlag);
    const started = Date.now();
    const { child, pid } = spawnBroker(r, java, libs, loggingFlag);
    await waitUntilAnswering(r, child, pid);
    r.log(`Kafka ${r.version} answering on ${HOST}:${r.port} after ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
    return brokerStatus(opts);
  });
}

/** SIGTERM (Kafka shuts down cleanly on it), then SIGKILL after stopTimeoutMs. */
export async function stopBroker(opts: BrokerOptions = {}): Promise<StopResult> {
  // Paths only: stopping must work even when the version settings are broken.
  const paths = resolvePaths(opts);
  const pid = readPid(paths);
  if (pid === null || !isBrokerPid(pid)) {
    clearState(paths);
    return { stopped: false, pid: null, killed: false };
  }
  opts.log?.(`Stopping Kafka (pid ${pid}) ...`);
  const { killed } = await stopPid(pid, opts.stopTimeoutMs ?? 30_000);
  clearState(paths);
  return { stopped: true, pid, killed };
}
