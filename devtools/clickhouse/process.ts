/**
 * The detached server processes as seen from Node: pid and state files, the
 * start lock, finding our launchers in /proc, port and HTTP probes, spawning,
 * waiting until a server answers, and signalling it to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { HOST, portsOf, urlOf, type Paths, type Resolved, type ShardPaths } from './options.js';
import { pidAlive, pollUntil, portFree, readPidFile, tail } from '../../common/processes.js';

/** What state.json remembers about the running servers, so status and stop need no options. */
export interface ClickHouseState {
  shards: number;
  httpPort: number;
  tcpPort: number;
  user: string;
  password: string;
  cluster: string | null;
  version: string | null;
  launcher: string;
  libPath: string;
  startedAt: string;
}

/** The keepalive query's id, so it can be told apart in system.processes. */
export const KEEPALIVE_QUERY_ID = 'policylens-keepalive';

/**
 * What the engine runs: start the listeners (clickhouse-local only opens them on request), then read
 * stdin until the launcher closes it on SIGTERM. Reading a pipe costs nothing while idle, unlike a
 * sleepEachRow loop.
 */
const KEEPALIVE = "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; SELECT * FROM file(stdin, 'LineAsString') FORMAT Null";

// ---------------------------------------------------------------- pids

function cmdline(pid: number | string): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** Our launcher (from this root's bin/) serving this shard's data dir: a recycled pid, or another engineer's server, is not it. */
function isOurs(args: string[], paths: Paths, s: ShardPaths): boolean {
  return (args[0] ?? '').startsWith(`${paths.binDir}/launch-`) && args.includes(`--path=${s.dataDir}/`);
}

function isServerPid(pid: number, paths: Paths, s: ShardPaths): boolean {
  if (!pidAlive(pid)) return false;
  const args = cmdline(pid);
  return args !== null && isOurs(args, paths, s);
}

/**
 * The pids of this shard's server: the pid file's when it is right, else whatever /proc shows running
 * our launcher on this data dir (pid file lost, stale or overwritten).
 */
export function findServerPids(paths: Paths, s: ShardPaths): number[] {
  const fromFile = readPidFile(s.pidFile);
  if (fromFile !== null && isServerPid(fromFile, paths, s)) return [fromFile];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isServerPid(pid, paths, s));
}

export function clearPid(s: ShardPaths): void {
  rmSync(s.pidFile, { force: true });
}

export function readState(paths: Paths): ClickHouseState | null {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as ClickHouseState;
  } catch {
    return null;
  }
}

export function writeState(paths: Paths, state: ClickHouseState): void {
  // 0600: it holds the password, which status hands back to callers in other processes.
  writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function clearState(paths: Paths): void {
  rmSync(paths.stateFile, { force: true });
}

/** The shard-N folders under the root, so stop finds servers even without state.json. */
export function shardNumbersOnDisk(paths: Paths): number[] {
  try {
    return readdirSync(paths.root)
      .map((name) => /^shard-(\d+)$/.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- probes

export async function assertPortsFree(r: Resolved, shards: number[]): Promise<void> {
  for (const shard of shards) {
    const { httpPort, tcpPort } = portsOf(r.httpPort, r.tcpPort, shard);
    for (const [kind, port, flag] of [
      ['HTTP', httpPort, '--http-port'],
      ['TCP', tcpPort, '--tcp-port'],
    ] as const) {
      if (!(await portFree(port))) {
        throw new Error(
          `Port ${HOST}:${port} (${kind}, shard ${shard}) is already in use by another process. Stop that process, ` +
            `or start ClickHouse on other ports (${flag}; options httpPort / tcpPort; shard k uses base + k - 1).`,
        );
      }
    }
  }
}

interface HttpReply {
  status: number;
  body: string;
}

/**
 * One HTTP request on a connection of its own, closed after the reply. Not fetch: its pooled keep-alive
 * sockets would stay open, and at shutdown ClickHouse waits up to shutdown_wait_unfinished (5 s) for
 * open connections ("Closed connections. But 1 remain."), so every stop after a probe took 5 s.
 */
function request(url: string, path: string, body: string | null, headers: Record<string, string>, timeoutMs: number): Promise<HttpReply | null> {
  return new Promise((resolvePromise) => {
    const req = httpRequest(
      `${url}${path}`,
      { method: body === null ? 'GET' : 'POST', agent: false, headers: { ...headers, connection: 'close' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolvePromise(null));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePromise(null));
    req.end(body ?? undefined);
  });
}

/** One query over HTTP; the body on success, or null when unreachable or refused. */
export async function httpQuery(url: string, user: string, password: string, sql: string, timeoutMs = 2000): Promise<string | null> {
  const auth = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  const reply = await request(url, '/', sql, auth, timeoutMs);
  return reply?.status === 200 ? reply.body : null;
}

/** /ping says Ok. and `SELECT 1` as the configured user says 1: the server is up and lets us in. */
export async function answers(url: string, user: string, password: string): Promise<boolean> {
  const ping = await request(url, '/ping', null, {}, 1000);
  if (ping?.status !== 200 || ping.body.trim() !== 'Ok.') return false;
  return (await httpQuery(url, user, password, 'SELECT 1'))?.trim() === '1';
}

function logTail(s: ShardPaths, lines = 20): string {
  try {
    // Stack frames ("12. ? @ 0x...") say nothing here and would crowd out the message.
    const text = readFileSync(s.logFile, 'utf8')
      .split('\n')
      .filter((l) => !/^\d+\. /.test(l))
      .join('\n');
    return tail(text, lines);
  } catch {
    return '(no log yet)';
  }
}

// ---------------------------------------------------------------- start, wait, stop

export function spawnServer(r: Resolved, s: ShardPaths, launcher: string, libPath: string): { child: ChildProcess; pid: number } {
  const { httpPort, tcpPort } = portsOf(r.httpPort, r.tcpPort, s.shard);
  // A fresh log per start; opened for appending because the engine appends to the same file.
  writeFileSync(s.logFile, '');
  const out = openSync(s.logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (r.exitWithCaller) env.POLICYLENS_CLICKHOUSE_PARENT = String(process.pid);
  else delete env.POLICYLENS_CLICKHOUSE_PARENT;
  // detached: own process group, so the server survives the caller (CLI) and a Ctrl-C in the
  // caller's terminal does not reach it.
  const child = spawn(
    launcher,
    [
      libPath,
      `--config-file=${s.configFile}`,
      '--log-level=information',
      `--listen_host=${HOST}`,
      `--http_port=${httpPort}`,
      `--tcp_port=${tcpPort}`,
      `--path=${s.dataDir}/`,
      `--query_id=${KEEPALIVE_QUERY_ID}`,
      '--multiquery',
      `--query=${KEEPALIVE}`,
    ],
    { cwd: s.home, detached: true, stdio: ['ignore', out, out], env },
  );
  closeSync(out);
  // Do not keep the caller's event loop alive for the server's sake.
  child.unref();
  if (child.pid === undefined) throw new Error(`Could not start ${launcher}. See ${s.logFile}.`);
  writeFileSync(s.pidFile, `${child.pid}\n`);
  return { child, pid: child.pid };
}

function pollUntilAnswering(r: Resolved, s: ShardPaths, died: () => string | null, timedOut: () => string): Promise<void> {
  const url = urlOf(portsOf(r.httpPort, r.tcpPort, s.shard).httpPort);
  return pollUntil(() => answers(url, r.user, r.password), { timeoutMs: r.startTimeoutMs, everyMs: 100, died, timedOut });
}

export async function waitUntilAnswering(r: Resolved, s: ShardPaths, child: ChildProcess, pid: number): Promise<void> {
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
  const { httpPort } = portsOf(r.httpPort, r.tcpPort, s.shard);
  await pollUntilAnswering(
    r,
    s,
    () =>
      exitCode !== undefined || !pidAlive(pid)
        ? `ClickHouse shard ${s.shard} exited during start-up (exit ${exitCode ?? '?'}). See ${s.logFile}; its last lines:\n${logTail(s)}`
        : null,
    () =>
      `ClickHouse shard ${s.shard} (pid ${pid}) did not answer on ${urlOf(httpPort)} within ${(r.startTimeoutMs / 1000).toFixed(1)} s. ` +
      `It is left running so you can look: see ${s.logFile} and stop it with stopClickHouse(). Last log lines:\n${logTail(s)}`,
  );
}

/** Alive but not answering yet (still starting, or started by another process): wait for it. */
export async function waitForExisting(r: Resolved, paths: Paths, s: ShardPaths, pid: number): Promise<void> {
  const { httpPort } = portsOf(r.httpPort, r.tcpPort, s.shard);
  await pollUntilAnswering(
    r,
    s,
    () => (isServerPid(pid, paths, s) ? null : `ClickHouse shard ${s.shard} (pid ${pid}) exited. See ${s.logFile}:\n${logTail(s)}`),
    () => `ClickHouse shard ${s.shard} (pid ${pid}) is running but does not answer on ${urlOf(httpPort)}. See ${s.logFile}.`,
  );
}
