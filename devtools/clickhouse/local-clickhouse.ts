/**
 * A real ClickHouse server (HTTP and native TCP on 127.0.0.1) for development
 * and tests, run from the engine library the project already installs
 * (libchdb.so from the optional dependency chdb), so neither Docker nor a
 * downloaded server is needed. With shards >= 2, several servers form a
 * cluster (remote_servers) for Distributed tables.
 *
 * Layout (everything under .policylens/clickhouse/, or options.dir):
 *   bin/launch-<hash>.c, bin/launch-<hash>   the native launcher (launcher.ts), compiled once
 *   shard-<k>/data/                          the server's --path: databases, parts
 *   shard-<k>/config.xml, users.xml          generated on every start (config.ts)
 *   shard-<k>/clickhouse.log                 launcher output and the engine's log
 *   shard-<k>/clickhouse.pid                 pid of the detached launcher
 *   state.json                               shards, ports, credentials, version of what runs
 *   clickhouse.lock                          held while starting
 *
 * This file is the public face (start, stop, status); the parts live beside
 * it: options.ts (options, paths, ports), launcher.ts (the C launcher),
 * config.ts (the XML files) and process.ts (the processes). See README.md.
 */
import {
  DEFAULT_CLUSTER,
  DEFAULT_HTTP_PORT,
  DEFAULT_TCP_PORT,
  DEFAULT_USER,
  portsOf,
  resolveOptions,
  resolvePaths,
  shardPaths,
  urlOf,
  type ClickHouseOptions,
  type ClickHouseStatus,
  type Resolved,
  type ShardStatus,
  type StopResult,
} from './options.js';
import { writeConfigFiles } from './config.js';
import { defaultLibPath, ensureLauncher } from './launcher.js';
import {
  answers,
  assertPortsFree,
  clearPid,
  clearState,
  findServerPids,
  httpQuery,
  readState,
  shardNumbersOnDisk,
  spawnServer,
  waitForExisting,
  waitUntilAnswering,
  writeState,
  type ClickHouseState,
} from './process.js';
import { stopPid, withLock } from '../../common/processes.js';

export type { ClickHouseOptions, ClickHouseStatus, ShardStatus, StopResult } from './options.js';
export { KEEPALIVE_QUERY_ID } from './process.js';

/**
 * Where the servers stand: per shard whether our process is alive and answers. Describes what
 * state.json says runs; when nothing runs, what the options (or defaults) would start.
 */
export async function clickhouseStatus(opts: ClickHouseOptions = {}): Promise<ClickHouseStatus> {
  const paths = resolvePaths(opts);
  const state = readState(paths);
  const shards = state?.shards ?? opts.shards ?? 1;
  // Ports and names as resolveOptions would give them, without its checks: status must work even when
  // the options would not start anything.
  const httpBase = state?.httpPort ?? opts.httpPort ?? DEFAULT_HTTP_PORT;
  const tcpBase = state?.tcpPort ?? opts.tcpPort ?? DEFAULT_TCP_PORT;
  const user = state?.user ?? opts.user ?? DEFAULT_USER;
  const password = state?.password ?? opts.password ?? '';
  const cluster = state ? state.cluster : (opts.cluster ?? (shards >= 2 ? DEFAULT_CLUSTER : null));
  const servers = await Promise.all(
    Array.from({ length: shards }, async (_, i): Promise<ShardStatus> => {
      const s = shardPaths(paths, i + 1);
      const { httpPort, tcpPort } = portsOf(httpBase, tcpBase, s.shard);
      const pid = findServerPids(paths, s)[0] ?? null;
      const url = urlOf(httpPort);
      return {
        shard: s.shard,
        running: pid !== null,
        answering: pid !== null && (await answers(url, user, password)),
        pid,
        httpPort,
        tcpPort,
        url,
        dataDir: s.dataDir,
        logFile: s.logFile,
      };
    }),
  );
  const running = servers.every((s) => s.running);
  return {
    running,
    answering: servers.every((s) => s.answering),
    shards,
    url: servers[0]!.url,
    urls: servers.map((s) => s.url),
    cluster,
    user,
    password,
    version: running ? (state?.version ?? null) : null,
    dir: paths.root,
    servers,
  };
}

/** Never hand back servers other than the ones asked for: only explicitly given options are compared, shards always. */
function assertSameServers(current: ClickHouseStatus, state: ClickHouseState | null, r: Resolved, opts: ClickHouseOptions): void {
  const differences: string[] = [];
  if (current.shards !== r.shards) differences.push(`${current.shards} shard(s), not ${r.shards}`);
  if (opts.httpPort !== undefined && current.servers[0]!.httpPort !== r.httpPort)
    differences.push(`HTTP port ${current.servers[0]!.httpPort}, not ${r.httpPort}`);
  if (opts.tcpPort !== undefined && current.servers[0]!.tcpPort !== r.tcpPort) differences.push(`TCP port ${current.servers[0]!.tcpPort}, not ${r.tcpPort}`);
  if (opts.user !== undefined && current.user !== r.user) differences.push(`user ${current.user}, not ${r.user}`);
  if (opts.password !== undefined && current.password !== r.password) differences.push('another password');
  if (opts.cluster !== undefined && current.cluster !== r.cluster) differences.push(`cluster ${current.cluster ?? '(none)'}, not ${r.cluster}`);
  if (state === null) differences.push('no state.json, so its settings are unknown');
  if (differences.length > 0) {
    const pids = current.servers.filter((s) => s.pid !== null).map((s) => `shard ${s.shard} pid ${s.pid}`);
    throw new Error(
      `A local ClickHouse is already running from ${current.dir} (${pids.join(', ')}) with ${differences.join(', ')}. ` +
        'Stop it first (npx policylens clickhouse stop, or stopClickHouse()) to start it with other settings.',
    );
  }
}

/**
 * Starts the servers in the background (they outlive this process unless exitWithCaller) and waits
 * until each answers /ping and SELECT 1. Returns at once when they already run with these settings.
 */
export async function startClickHouse(opts: ClickHouseOptions = {}): Promise<ClickHouseStatus> {
  let r = resolveOptions(opts);
  return withLock(r.paths.lockFile, r.startTimeoutMs, async () => {
    const anyAlive = shardNumbersOnDisk(r.paths).some((k) => findServerPids(r.paths, shardPaths(r.paths, k)).length > 0);
    let toStart = Array.from({ length: r.shards }, (_, i) => i + 1);
    const state = readState(r.paths);
    if (anyAlive) {
      const current = await clickhouseStatus(opts);
      assertSameServers(current, state, r, opts);
      // What runs is what was asked for; options left out take the running servers' values.
      const { shards, httpPort, tcpPort, user, password, cluster } = state as ClickHouseState;
      r = resolveOptions({ ...opts, shards, httpPort, tcpPort, user, password, cluster: cluster ?? undefined });
      if (current.answering) return current;
      const alive = current.servers.filter((s) => s.running);
      for (const s of alive) if (!s.answering) await waitForExisting(r, r.paths, shardPaths(r.paths, s.shard), s.pid as number);
      if (alive.length === r.shards) return clickhouseStatus(opts);
      // Some shards died on their own: start just those, with the settings the others run with.
      toStart = current.servers.filter((s) => !s.running).map((s) => s.shard);
    } else {
      clearState(r.paths);
    }
    await assertPortsFree(r, toStart);
    const libPath = opts.libPath ?? defaultLibPath(r.paths.project);
    const launcher = await ensureLauncher(r.paths, libPath, r.log);
    const started = Date.now();
    await Promise.all(
      toStart.map(async (shard) => {
        const s = shardPaths(r.paths, shard);
        writeConfigFiles(r, s);
        const { child, pid } = spawnServer(r, s, launcher, libPath);
        await waitUntilAnswering(r, s, child, pid);
        r.log(`ClickHouse shard ${shard} answering on ${urlOf(portsOf(r.httpPort, r.tcpPort, shard).httpPort)} (pid ${pid})`);
      }),
    );
    const version = (await httpQuery(urlOf(r.httpPort), r.user, r.password, 'SELECT version()'))?.trim() ?? null;
    writeState(r.paths, {
      shards: r.shards,
      httpPort: r.httpPort,
      tcpPort: r.tcpPort,
      user: r.user,
      password: r.password,
      cluster: r.cluster,
      version,
      launcher,
      libPath,
      startedAt: new Date().toISOString(),
    });
    r.log(`ClickHouse ${version ?? '?'}: ${toStart.length} server(s) up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return clickhouseStatus(opts);
  });
}

/**
 * Stops every server under the root: SIGTERM (a clean engine shutdown), SIGKILL after stopTimeoutMs.
 * Finds them through the pid files or, when those are missing or stale, /proc.
 */
export async function stopClickHouse(opts: ClickHouseOptions = {}): Promise<StopResult> {
  // Paths only: stopping must work whatever the other options say.
  const paths = resolvePaths(opts);
  const timeoutMs = opts.stopTimeoutMs ?? 15_000;
  const shards = new Set([...shardNumbersOnDisk(paths), ...Array.from({ length: readState(paths)?.shards ?? 0 }, (_, i) => i + 1)]);
  const results = await Promise.all(
    [...shards].map(async (shard) => {
      const s = shardPaths(paths, shard);
      const pids = findServerPids(paths, s);
      const stopped = await Promise.all(
        pids.map(async (pid) => {
          opts.log?.(`Stopping ClickHouse shard ${shard} (pid ${pid}) ...`);
          return { shard, pid, ...(await stopPid(pid, timeoutMs)) };
        }),
      );
      clearPid(s);
      return stopped;
    }),
  );
  clearState(paths);
  const servers = results.flat().sort((a, b) => a.shard - b.shard);
  return { stopped: servers.length > 0, servers };
}
