/**
 * A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
 * run from the official jars on Maven Central, so development and tests need
 * neither Docker nor a downloaded tarball.
 *
 * Layout (everything stays inside the project):
 *   .policylens/kafka/m2/               Maven local repository used to resolve the jars
 *   .policylens/kafka/libs-<VERSION>/   the broker classpath (ingest/broker/pom.xml)
 *   .policylens/kafka/data/             log.dirs + KRaft metadata log
 *   .policylens/kafka/server.properties generated on every start from the options
 *   .policylens/kafka/log4j*.properties generated logging config
 *   .policylens/kafka/broker.log        broker stdout/stderr
 *   .policylens/kafka/broker.pid        pid of the detached JVM
 *   .policylens/kafka/broker.json       version/port/pid of the running broker
 *
 * See ingest/broker/README.md for why the default version was chosen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export interface BrokerOptions {
  /** Project root; defaults to the folder above ingest/. */
  projectDir?: string;
  /** Kafka version; defaults to env POLICYLENS_KAFKA_VERSION, then the pom's kafka.version. */
  version?: string;
  /** Client (PLAINTEXT) port on 127.0.0.1; default 9092. */
  port?: number;
  /** KRaft controller port on 127.0.0.1; default port + 1. */
  controllerPort?: number;
  /** Where the broker keeps its logs and metadata; default .policylens/kafka/data. */
  dataDir?: string;
  /** JVM max heap, e.g. '512m'. The machines have 2 cores and other services to run. */
  heap?: string;
  /** Let produce/metadata requests create missing topics; default false. */
  autoCreateTopics?: boolean;
  /** Extra or overriding server.properties entries (experiments, special tests). */
  extraProperties?: Record<string, string | number | boolean>;
  /** How long startBroker waits for the broker to answer; default 120 s. */
  startTimeoutMs?: number;
  /** How long stopBroker waits after SIGTERM before SIGKILL; default 30 s. */
  stopTimeoutMs?: number;
  /** Progress messages (download, format, start); silent by default. */
  log?: (message: string) => void;
}

export interface BrokerStatus {
  /** A broker JVM started by this module is alive. */
  running: boolean;
  /** It answered a kafkajs describeCluster on the port. */
  answering: boolean;
  pid: number | null;
  version: string | null;
  port: number;
  /** host:port for kafkajs `brokers`. */
  bootstrap: string;
  logFile: string;
  dataDir: string;
}

export interface StopResult {
  /** A running broker was found and is now gone. */
  stopped: boolean;
  pid: number | null;
  /** It had to be SIGKILLed because it ignored SIGTERM for stopTimeoutMs. */
  killed: boolean;
}

const HOST = '127.0.0.1';
const DEFAULT_PORT = 9092;
const MIN_JAVA = 17;
const LARGE_MESSAGE_BYTES = 10 * 1024 * 1024;

interface Paths {
  project: string;
  home: string;
  pom: string;
  repo: string;
  dataDir: string;
  serverProps: string;
  logFile: string;
  pidFile: string;
  stateFile: string;
  lockFile: string;
}

interface Resolved {
  paths: Paths;
  version: string;
  port: number;
  controllerPort: number;
  heap: string;
  autoCreateTopics: boolean;
  extraProperties: Record<string, string | number | boolean>;
  startTimeoutMs: number;
  log: (message: string) => void;
}

interface BrokerState {
  pid: number;
  version: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  startedAt: string;
}

// ---------------------------------------------------------------- options

function defaultProjectDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

function pomDefaultVersion(pom: string): string {
  // Read the version from the pom so it is changed in one place only.
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'));
  if (!match?.[1]) throw new Error(`No <kafka.version> property in ${pom}`);
  return match[1].trim();
}

function resolvePaths(opts: BrokerOptions): Paths {
  const project = resolve(opts.projectDir ?? defaultProjectDir());
  const home = join(project, '.policylens', 'kafka');
  return {
    project,
    home,
    pom: join(project, 'ingest', 'broker', 'pom.xml'),
    repo: join(home, 'm2'),
    dataDir: resolve(opts.dataDir ?? join(home, 'data')),
    serverProps: join(home, 'server.properties'),
    logFile: join(home, 'broker.log'),
    pidFile: join(home, 'broker.pid'),
    stateFile: join(home, 'broker.json'),
    lockFile: join(home, 'broker.lock'),
  };
}

function resolveOptions(opts: BrokerOptions = {}): Resolved {
  const paths = resolvePaths(opts);
  const version = opts.version ?? process.env.POLICYLENS_KAFKA_VERSION ?? pomDefaultVersion(paths.pom);
  if (!/^\d+\.\d+\.\d+([.-][\w.-]+)?$/.test(version)) {
    throw new Error(`Kafka version "${version}" does not look like x.y.z (check POLICYLENS_KAFKA_VERSION)`);
  }
  const port = opts.port ?? DEFAULT_PORT;
  return {
    paths,
    version,
    port,
    controllerPort: opts.controllerPort ?? port + 1,
    heap: opts.heap ?? '512m',
    autoCreateTopics: opts.autoCreateTopics ?? false,
    extraProperties: opts.extraProperties ?? {},
    startTimeoutMs: opts.startTimeoutMs ?? 120_000,
    log: opts.log ?? (() => {}),
  };
}

function libsDir(r: Resolved): string {
  return join(r.paths.home, `libs-${r.version}`);
}

function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}

// ---------------------------------------------------------------- processes

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with ENOENT when it is not installed. */
function run(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function javaBin(): string {
  // Prefer JAVA_HOME like Kafka's own scripts do, so a user can pick a JDK.
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Parses `java -version` output: "17.0.15", "21", or the old "1.8.0_392". */
export function parseJavaMajor(versionOutput: string): number | null {
  const match = /version "([^"]+)"/.exec(versionOutput);
  if (!match?.[1]) return null;
  const parts = match[1].split(/[._-]/);
  const first = Number.parseInt(parts[0] ?? '', 10);
  if (first === 1) return Number.parseInt(parts[1] ?? '', 10);
  return Number.isNaN(first) ? null : first;
}

async function checkJava(): Promise<string> {
  const java = javaBin();
  let result: RunResult;
  try {
    result = await run(java, ['-version']);
  } catch (err) {
    if (!isEnoent(err)) throw err;
    throw new Error(
      `Java was not found (${java}). The local Kafka broker needs Java ${MIN_JAVA} or newer: ` +
        `install one (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.`,
    );
  }
  const major = parseJavaMajor(result.stderr + result.stdout);
  if (major === null) throw new Error(`Could not read the Java version from "${java} -version":\n${result.stderr}`);
  if (major < MIN_JAVA) {
    throw new Error(
      `Java ${major} found (${java}), but the local Kafka broker needs Java ${MIN_JAVA} or newer: ` +
        `install a newer JDK (apt-get install openjdk-17-jre-headless) or point JAVA_HOME at one.`,
    );
  }
  return java;
}

async function checkMaven(): Promise<void> {
  try {
    const result = await run('mvn', ['-v']);
    if (result.code !== 0) throw new Error(`"mvn -v" exited with ${result.code}:\n${result.stderr}`);
  } catch (err) {
    if (!isEnoent(err)) throw err;
    throw new Error(
      'Maven (mvn) was not found. It is needed once to download the Kafka jars from Maven Central: ' +
        'install it (Debian/Ubuntu: apt-get install maven) and try again.',
    );
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // EPERM means it exists but belongs to someone else: not ours.
    return false;
  }
}

/** True when pid is alive and (where /proc exists) really is a Kafka JVM, so a recycled pid is not mistaken for the broker. */
function isBrokerPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- jars

const COMPLETE_MARKER = '.complete';

/**
 * Makes sure .policylens/kafka/libs-<VERSION> holds the broker classpath,
 * resolving it with Maven on first use. Returns the libs folder.
 */
export async function ensureJars(opts: BrokerOptions = {}): Promise<string> {
  const r = resolveOptions(opts);
  const libs = libsDir(r);
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs;
  await checkMaven();
  mkdirSync(r.paths.home, { recursive: true });
  // Copy into a private folder first and rename, so an interrupted or
  // concurrent download never leaves a half-filled classpath behind.
  const staging = `${libs}.tmp-${process.pid}-${Date.now()}`;
  r.log(`Resolving Apache Kafka ${r.version} jars from Maven Central into ${libs} ...`);
  const started = Date.now();
  const result = await run(
    'mvn',
    [
      '-q',
      '-B',
      // -U: do not let a transient download failure be cached in m2 for a day.
      '-U',
      '-Dstyle.color=never',
      '-f',
      r.paths.pom,
      `-Dmaven.repo.local=${r.paths.repo}`,
      `-Dkafka.version=${r.version}`,
      `-Dkafka.logging=${majorOf(r.version) >= 4 ? 'log4j2' : 'reload4j'}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    r.paths.project,
  );
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `Could not download Apache Kafka ${r.version} with Maven (exit ${result.code}). ` +
        `Is the version published as org.apache.kafka:kafka_2.13:${r.version}?\n${tail(result.stdout + result.stderr, 40)}`,
    );
  }
  writeFileSync(join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  if (existsSync(join(libs, COMPLETE_MARKER))) {
    rmSync(staging, { recursive: true, force: true }); // someone else finished first
  } else {
    rmSync(libs, { recursive: true, force: true });
    renameSync(staging, libs);
  }
  r.log(`Kafka ${r.version} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libs;
}

// ---------------------------------------------------------------- config

function serverProperties(r: Resolved): string {
  const lines = [
    '# Generated by ingest/local-broker.ts on every start: edit the code, not this file.',
    'process.roles=broker,controller',
    'node.id=1',
    // Static voters: works the same on 3.x and 4.x and needs no --standalone format.
    `controller.quorum.voters=1@${HOST}:${r.controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${r.port},CONTROLLER://${HOST}:${r.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${r.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${r.paths.dataDir}`,
    // One broker: every internal topic must be satisfiable with one replica,
    // otherwise __consumer_offsets is never created and kafkajs consumers loop
    // on "The group coordinator is not available" (the defaults are 3).
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // Tests start consumers right after the broker: no 3 s join delay.
    'group.initial.rebalance.delay.ms=0',
    `auto.create.topics.enable=${r.autoCreateTopics}`,
    // The pipeline must be able to produce (and dead-letter) multi-MB messages.
    `message.max.bytes=${LARGE_MESSAGE_BYTES}`,
    `replica.fetch.max.bytes=${LARGE_MESSAGE_BYTES}`,
    // Small machine: fewer threads than the defaults sized for servers.
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    // Local data should not grow without bound.
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
  ];
  // Later keys win in java.util.Properties, so extras override the above.
  for (const [key, value] of Object.entries(r.extraProperties)) lines.push(`${key}=${value}`);
  return `${lines.join('\n')}\n`;
}

function log4j2Properties(): string {
  // Kafka 4.x logs through log4j2 (properties format needs no extra jars).
  return [
    'status = warn',
    'appender.out.type = Console',
    'appender.out.name = STDOUT',
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.out.ref = STDOUT',
    // These are chatty at INFO and drown the useful lines on every start.
    'logger.state.name = state.change.logger',
    'logger.state.level = warn',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    'logger.kafkaApis.name = org.apache.kafka.common.config.AbstractConfig',
    'logger.kafkaApis.level = warn',
    '',
  ].join('\n');
}

function log4jProperties(): string {
  // Kafka 3.x logs through reload4j (log4j 1.x syntax).
  return [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN',
    '',
  ].join('\n');
}

/** Writes the logging config for the version and returns the JVM flag that selects it. */
function writeLoggingConfig(r: Resolved): string {
  if (majorOf(r.version) >= 4) {
    const file = join(r.paths.home, 'log4j2.properties');
    writeFileSync(file, log4j2Properties());
    return `-Dlog4j2.configurationFile=${file}`;
  }
  const file = join(r.paths.home, 'log4j.properties');
  writeFileSync(file, log4jProperties());
  return `-Dlog4j.configuration=file:${file}`;
}

function jvmArgs(r: Resolved, loggingFlag: string): string[] {
  return [
    `-Xmx${r.heap}`,
    '-Xms128m',
    // Kafka's own defaults (kafka-run-class.sh), minus the GC log.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    loggingFlag,
  ];
}

function classpath(libs: string): string {
  // The JVM expands "dir/*" itself; no shell is involved.
  return join(libs, '*');
}

/** Kafka's Uuid.toString: URL-safe base64 of 16 random bytes, never starting with "-". */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function isFormatted(dataDir: string): boolean {
  return existsSync(join(dataDir, 'meta.properties'));
}

/** Kafka ignores plain files in a log dir, so the formatting version can live beside meta.properties. */
const FORMAT_NOTE = 'policylens-format.json';

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * An older Kafka cannot read metadata written by a newer one (3.9 dies with
 * "Can't read version 4 of BrokerEndpoint" on 4.x data), so say so plainly
 * instead of letting the broker crash on it.
 */
function assertDataReadable(r: Resolved): void {
  let formattedBy: string | undefined;
  try {
    formattedBy = (JSON.parse(readFileSync(join(r.paths.dataDir, FORMAT_NOTE), 'utf8')) as { version?: string }).version;
  } catch {
    return; // not formatted yet, or formatted by hand
  }
  if (formattedBy && compareVersions(r.version, formattedBy) < 0) {
    throw new Error(
      `${r.paths.dataDir} was formatted by Kafka ${formattedBy}; Kafka ${r.version} cannot read its newer metadata. ` +
        `Use ${formattedBy} or newer, pass another dataDir, or delete ${r.paths.dataDir} (its topics are lost).`,
    );
  }
}

async function formatStorage(r: Resolved, java: string, libs: string, loggingFlag: string): Promise<void> {
  if (isFormatted(r.paths.dataDir)) return;
  mkdirSync(r.paths.dataDir, { recursive: true });
  const clusterId = newClusterId();
  r.log(`Formatting ${r.paths.dataDir} (cluster id ${clusterId}) ...`);
  const result = await run(java, [
    ...jvmArgs(r, loggingFlag),
    '-cp',
    classpath(libs),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    clusterId,
    '--config',
    r.paths.serverProps,
    '--ignore-formatted',
  ]);
  if (result.code !== 0) {
    throw new Error(
      `Formatting the Kafka storage in ${r.paths.dataDir} failed (exit ${result.code}):\n` +
        tail(result.stdout + result.stderr, 30),
    );
  }
  const note = { version: r.version, clusterId, formattedAt: new Date().toISOString() };
  writeFileSync(join(r.paths.dataDir, FORMAT_NOTE), `${JSON.stringify(note, null, 2)}\n`);
}

// ---------------------------------------------------------------- state

function readState(paths: Paths): BrokerState | null {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as BrokerState;
  } catch {
    return null;
  }
}

function readPid(paths: Paths): number | null {
  try {
    const pid = Number.parseInt(readFileSync(paths.pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function clearState(paths: Paths): void {
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.stateFile, { force: true });
}

function tail(text: string, lines: number): string {
  // eslint-disable-next-line no-control-regex -- strip ANSI colours some tools print anyway
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return plain.trimEnd().split('\n').slice(-lines).join('\n');
}

function logTail(paths: Paths, lines = 25): string {
  try {
    return tail(readFileSync(paths.logFile, 'utf8'), lines);
  } catch {
    return '(no log yet)';
  }
}

/**
 * A tiny cross-process lock so two test workers calling startBroker at once
 * do not both format and spawn. Stale locks (holder died) are taken over.
 */
async function withLock<T>(paths: Paths, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(paths.home, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(paths.lockFile, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(paths.lockFile, 'utf8') || '0', 10);
      if (!holder || !pidAlive(holder)) {
        rmSync(paths.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${paths.lockFile} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(paths.lockFile, { force: true });
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
async function answers(port: number): Promise<boolean> {
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

async function waitUntilAnswering(r: Resolved, child: ChildProcess, pid: number): Promise<void> {
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  const deadline = Date.now() + r.startTimeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined || !pidAlive(pid)) {
      throw new Error(
        `The Kafka ${r.version} broker exited during start-up (exit ${exitCode ?? '?'}). ` +
          `See ${r.paths.logFile}; its last lines:\n${logTail(r.paths)}`,
      );
    }
    if (await answers(r.port)) return;
    await sleep(250);
  }
  throw new Error(
    `The Kafka ${r.version} broker (pid ${pid}) did not answer on ${HOST}:${r.port} within ` +
      `${(r.startTimeoutMs / 1000).toFixed(1)} s. It is left running so you can look: see ${r.paths.logFile} ` +
      `and stop it with stopBroker(). Last log lines:\n${logTail(r.paths)}`,
  );
}

// ---------------------------------------------------------------- API

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
  return withLock(r.paths, r.startTimeoutMs, async () => {
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

async function waitForExisting(r: Resolved, pid: number): Promise<void> {
  const deadline = Date.now() + r.startTimeoutMs;
  while (Date.now() < deadline) {
    if (!isBrokerPid(pid)) throw new Error(`The Kafka broker (pid ${pid}) exited. See ${r.paths.logFile}:\n${logTail(r.paths)}`);
    if (await answers(r.port)) return;
    await sleep(250);
  }
  throw new Error(`The Kafka broker (pid ${pid}) is running but does not answer on ${HOST}:${r.port}. See ${r.paths.logFile}.`);
}

async function assertPortsFree(r: Resolved): Promise<void> {
  for (const port of [r.port, r.controllerPort]) {
    if (await portOpen(port)) {
      throw new Error(
        `Port ${HOST}:${port} is already in use by a process this module did not start ` +
          `(another Kafka?). Stop that process, or start this broker on other ports (options port / controllerPort).`,
      );
    }
  }
}

function spawnBroker(r: Resolved, java: string, libs: string, loggingFlag: string): { child: ChildProcess; pid: number } {
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
  signal(pid, 'SIGTERM');
  let killed = false;
  if (!(await waitForExit(pid, opts.stopTimeoutMs ?? 30_000))) {
    signal(pid, 'SIGKILL');
    killed = true;
    await waitForExit(pid, 10_000);
  }
  clearState(paths);
  return { stopped: true, pid, killed };
}

/** kill() that tolerates the process having exited in the meantime. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(100);
  }
  return !pidAlive(pid);
}
