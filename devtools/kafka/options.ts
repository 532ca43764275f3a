/**
 * What the local broker can be asked for (BrokerOptions), what it reports
 * (BrokerStatus, StopResult), and how options become concrete paths and
 * settings, so every other broker module works from one resolved value.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export const HOST = '127.0.0.1';
export const DEFAULT_PORT = 9092;

export interface Paths {
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

export interface Resolved {
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

function defaultProjectDir(): string {
  // This file is devtools/kafka/options.ts, two folders below the project root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function pomDefaultVersion(pom: string): string {
  // Read the version from the pom so it is changed in one place only.
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'));
  if (!match?.[1]) throw new Error(`No <kafka.version> property in ${pom}`);
  return match[1].trim();
}

export function resolvePaths(opts: BrokerOptions): Paths {
  const project = resolve(opts.projectDir ?? defaultProjectDir());
  const home = join(project, '.policylens', 'kafka');
  return {
    project,
    home,
    pom: join(project, 'devtools', 'kafka', 'pom.xml'),
    repo: join(home, 'm2'),
    dataDir: resolve(opts.dataDir ?? join(home, 'data')),
    serverProps: join(home, 'server.properties'),
    logFile: join(home, 'broker.log'),
    pidFile: join(home, 'broker.pid'),
    stateFile: join(home, 'broker.json'),
    lockFile: join(home, 'broker.lock'),
  };
}

export function resolveOptions(opts: BrokerOptions = {}): Resolved {
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

export function libsDir(r: Resolved): string {
  return join(r.paths.home, `libs-${r.version}`);
}

export function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}
