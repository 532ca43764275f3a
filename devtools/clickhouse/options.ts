/**
 * What the local ClickHouse server can be asked for (ClickHouseOptions), what
 * it reports (ClickHouseStatus, StopResult), and how options become concrete
 * paths, ports and credentials, so every other module works from one
 * resolved value.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ClickHouseOptions {
  /** Project root; defaults to the folder above devtools/. */
  projectDir?: string;
  /** Root of everything the servers keep (launcher, data, logs, state); default .policylens/clickhouse. */
  dir?: string;
  /** Number of servers; with 2 or more they form the cluster `cluster`. Default 1, at most 16. */
  shards?: number;
  /** HTTP port of shard 1; shard k listens on httpPort + k - 1. Default 8123. */
  httpPort?: number;
  /** Native (TCP) port of shard 1; shard k listens on tcpPort + k - 1. Default 9000. */
  tcpPort?: number;
  /**
   * A user with a password, given together with `password`. It cannot be `default`: clickhouse-local
   * logs itself in as `default` with an empty password, so that user must keep having none (README).
   */
  user?: string;
  password?: string;
  /** Name of the cluster in remote_servers; default `policylens`. Defined when shards >= 2 or when given. */
  cluster?: string;
  /** The engine library; default libchdb.so of the installed @chdb/lib-linux-<arch>-gnu package. */
  libPath?: string;
  /**
   * Stop the servers when the calling process exits, even when it is killed (Linux parent-death
   * signal). For tests: a killed test run leaves no server behind. The CLI leaves this off.
   */
  exitWithCaller?: boolean;
  /** How long startClickHouse waits for every server to answer; default 60 s. */
  startTimeoutMs?: number;
  /** How long stopClickHouse waits after SIGTERM before SIGKILL; default 15 s. */
  stopTimeoutMs?: number;
  /** Progress messages (compile, start, stop); silent by default. */
  log?: (message: string) => void;
}

export interface ShardStatus {
  /** 1-based shard number, the `shard` macro of that server. */
  shard: number;
  /** A launcher process started by this module for this shard's data is alive. */
  running: boolean;
  /** It answered /ping and `SELECT 1` over HTTP. */
  answering: boolean;
  pid: number | null;
  httpPort: number;
  tcpPort: number;
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** The server's --path (its databases and parts). */
  dataDir: string;
  /** Launcher output and the engine's own log. */
  logFile: string;
}

export interface ClickHouseStatus {
  /** Every shard's process is alive. */
  running: boolean;
  /** Every shard answers. */
  answering: boolean;
  shards: number;
  /** HTTP URL of shard 1: what POLICYLENS_CLICKHOUSE_URL should say. */
  url: string;
  urls: string[];
  /** remote_servers name, or null when there is no cluster (one shard, no `cluster` asked for). */
  cluster: string | null;
  /** Who to log in as over HTTP/TCP; `default` with an empty password unless a user was asked for. */
  user: string;
  password: string;
  /** `SELECT version()` at start, e.g. 26.7.2.1; null when not running. */
  version: string | null;
  /** The root folder (options.dir). */
  dir: string;
  servers: ShardStatus[];
}

export interface StopResult {
  /** At least one server was found and is now gone. */
  stopped: boolean;
  servers: Array<{ shard: number; pid: number /** It ignored SIGTERM for stopTimeoutMs and was SIGKILLed. */; killed: boolean }>;
}

export const HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8123;
export const DEFAULT_TCP_PORT = 9000;
export const DEFAULT_CLUSTER = 'policylens';
export const DEFAULT_USER = 'default';
const MAX_SHARDS = 16;

export interface ShardPaths {
  shard: number;
  home: string;
  dataDir: string;
  configFile: string;
  usersFile: string;
  logFile: string;
  pidFile: string;
}

export interface Paths {
  project: string;
  root: string;
  binDir: string;
  stateFile: string;
  lockFile: string;
}

export interface Resolved {
  paths: Paths;
  shards: number;
  httpPort: number;
  tcpPort: number;
  /** Who clients log in as: the asked-for user, else `default`. */
  user: string;
  password: string;
  /** True when a named user with a password was asked for (and `default` is cut down to reading). */
  named: boolean;
  cluster: string | null;
  exitWithCaller: boolean;
  startTimeoutMs: number;
  log: (message: string) => void;
}

function defaultProjectDir(): string {
  // This file is devtools/clickhouse/options.ts, two folders below the project root.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function resolvePaths(opts: Pick<ClickHouseOptions, 'projectDir' | 'dir'> = {}): Paths {
  const project = resolve(opts.projectDir ?? defaultProjectDir());
  const root = resolve(opts.dir ?? join(project, '.policylens', 'clickhouse'));
  return {
    project,
    root,
    binDir: join(root, 'bin'),
    stateFile: join(root, 'state.json'),
    lockFile: join(root, 'clickhouse.lock'),
  };
}

export function shardPaths(paths: Paths, shard: number): ShardPaths {
  const home = join(paths.root, `shard-${shard}`);
  return {
    shard,
    home,
    dataDir: join(home, 'data'),
    configFile: join(home, 'config.xml'),
    usersFile: join(home, 'users.xml'),
    logFile: join(home, 'clickhouse.log'),
    pidFile: join(home, 'clickhouse.pid'),
  };
}

/** Shard k's ports: consecutive from the bases, so two shards on the defaults use 8123/8124 and 9000/9001. */
export function portsOf(httpBase: number, tcpBase: number, shard: number): { httpPort: number; tcpPort: number } {
  return { httpPort: httpBase + shard - 1, tcpPort: tcpBase + shard - 1 };
}

export const urlOf = (httpPort: number): string => `http://${HOST}:${httpPort}`;

// Names end up as XML element names (users, remote_servers) and in SQL, so keep them plain.
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number (1-65535), got ${port}`);
}

export function resolveOptions(opts: ClickHouseOptions = {}): Resolved {
  const shards = opts.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new Error(`shards must be a whole number from 1 to ${MAX_SHARDS}, got ${shards}`);
  }
  const httpPort = opts.httpPort ?? DEFAULT_HTTP_PORT;
  const tcpPort = opts.tcpPort ?? DEFAULT_TCP_PORT;
  checkPort('httpPort', httpPort);
  checkPort('tcpPort', tcpPort);
  const all = Array.from({ length: shards }, (_, i) => portsOf(httpPort, tcpPort, i + 1)).flatMap((p) => [p.httpPort, p.tcpPort]);
  if (all.some((p) => p > 65535)) throw new Error(`${shards} shards from ports ${httpPort}/${tcpPort} run past 65535; choose lower ports`);
  if (new Set(all).size !== all.length) {
    throw new Error(
      `The HTTP ports ${httpPort}..${httpPort + shards - 1} and TCP ports ${tcpPort}..${tcpPort + shards - 1} overlap; ` +
        'shard k uses base + k - 1 of each, so keep the two ranges apart.',
    );
  }

  const user = opts.user ?? DEFAULT_USER;
  const password = opts.password ?? '';
  if (!NAME.test(user)) throw new Error(`user must be a plain name (letters, digits, _), got ${JSON.stringify(user)}`);
  if (password !== '' && user === DEFAULT_USER) {
    throw new Error(
      'The default user cannot have a password here: clickhouse-local logs itself in as "default" with an empty ' +
        'password (fixed in the engine), so the server would not start. Give a user name too (--user NAME --password P).',
    );
  }
  if (user !== DEFAULT_USER && password === '') throw new Error(`user ${user} needs a password (--password)`);

  const cluster = opts.cluster ?? (shards >= 2 ? DEFAULT_CLUSTER : null);
  if (cluster !== null && !NAME.test(cluster)) throw new Error(`cluster must be a plain name (letters, digits, _), got ${JSON.stringify(cluster)}`);

  return {
    paths: resolvePaths(opts),
    shards,
    httpPort,
    tcpPort,
    user,
    password,
    named: user !== DEFAULT_USER,
    cluster,
    exitWithCaller: opts.exitWithCaller ?? false,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    log: opts.log ?? (() => {}),
  };
}
