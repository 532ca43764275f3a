// The local ClickHouse server (devtools/clickhouse/): real servers from libchdb.so, no mocks. Each block has its
// own temp dir and free ports; every server started here is stopped in afterAll, and is started with
// exitWithCaller so that even a killed test run leaves none behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseStatus, KEEPALIVE_QUERY_ID, startClickHouse, stopClickHouse, type ClickHouseStatus } from '../devtools/clickhouse/local-clickhouse.js';
import { portFree } from '../common/processes.js';
import { freePorts } from './helpers/local-server.js';

const roots: string[] = [];

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'policylens-ch-'));
  roots.push(dir);
  return dir;
}

interface Reply {
  status: number;
  body: string;
}

/**
 * One query over HTTP on a connection of its own. Not fetch: a pooled keep-alive connection makes
 * the server wait 5 s for it at shutdown (shutdown_wait_unfinished), as any server would.
 */
function http(url: string, sql: string, opts: { user?: string; password?: string; params?: Record<string, string> } = {}): Promise<Reply> {
  const target = new URL(url);
  for (const [k, v] of Object.entries(opts.params ?? {})) target.searchParams.set(k, v);
  const auth = Buffer.from(`${opts.user ?? 'default'}:${opts.password ?? ''}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', agent: false, headers: { authorization: `Basic ${auth}`, connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(sql);
  });
}

/** The query's result, failing the test with the server's message when it is refused. */
async function q(url: string, sql: string, opts: Parameters<typeof http>[2] = {}): Promise<string> {
  const r = await http(url, sql, opts);
  if (r.status !== 200) throw new Error(`HTTP ${r.status} for ${sql}: ${r.body}`);
  return r.body.trim();
}

async function reaped(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}`)) return true;
    await sleep(50);
  }
  return false;
}

afterAll(async () => {
  for (const dir of roots) {
    await stopClickHouse({ dir });
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('one local ClickHouse server', () => {
  let dir: string;
  let httpPort: number;
  let tcpPort: number;
  let s: ClickHouseStatus;

  beforeAll(async () => {
    dir = tempRoot();
    httpPort = await freePorts(1);
    tcpPort = await freePorts(1);
    s = await startClickHouse({ dir, httpPort, tcpPort, exitWithCaller: true });
  });

  it('answers /ping and SELECT version() as ClickHouse 26', async () => {
    expect(s).toMatchObject({ running: true, answering: true, shards: 1, cluster: null, user: 'default', password: '' });
    expect(s.url).toBe(`http://127.0.0.1:${httpPort}`);
    expect(s.servers[0]).toMatchObject({ httpPort, tcpPort, dataDir: join(dir, 'shard-1', 'data'), logFile: join(dir, 'shard-1', 'clickhouse.log') });
    const ping = await new Promise<string>((resolve, reject) =>
      request(`${s.url}/ping`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end(),
    );
    expect(ping).toBe('Ok.\n');
    expect(await q(s.url, 'SELECT version()')).toMatch(/^26\./);
    expect(s.version).toMatch(/^26\./);
  });

  it("keeps a server's default HTTP limits: a URL field over 128 KiB is refused", async () => {
    expect(await q(s.url, "SELECT getSetting('http_max_field_value_size')")).toBe('131072');
    const small = await http(s.url, 'SELECT length({p:String})', { params: { param_p: 'x'.repeat(100_000) } });
    expect(small).toMatchObject({ status: 200, body: '100000\n' });
    const big = await http(s.url, 'SELECT length({p:String})', { params: { param_p: 'x'.repeat(150_000) } });
    expect(big.status).not.toBe(200);
  });

  it('returns the running server when started again', async () => {
    const again = await startClickHouse({ dir, httpPort, tcpPort, exitWithCaller: true });
    expect(again.servers[0]!.pid).toBe(s.servers[0]!.pid);
    expect((await startClickHouse({ dir })).servers[0]!.pid).toBe(s.servers[0]!.pid);
  });

  it('keeps one copy of an insert repeated with the same insert_deduplication_token', async () => {
    await q(s.url, 'CREATE TABLE dedup (id UInt64, v String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100');
    for (let i = 0; i < 2; i++) {
      await q(s.url, "INSERT INTO dedup VALUES (1, 'a'), (2, 'b'), (3, 'c')", { params: { insert_deduplication_token: 'batch-1' } });
    }
    expect(await q(s.url, 'SELECT count() FROM dedup')).toBe('3');
    await q(s.url, "INSERT INTO dedup VALUES (1, 'a'), (2, 'b'), (3, 'c')", { params: { insert_deduplication_token: 'batch-2' } });
    expect(await q(s.url, 'SELECT count() FROM dedup')).toBe('6');
  });

  it('runs a materialized view, a dictionary over a local table, and lists its queries in system.processes', async () => {
    await q(s.url, 'CREATE DATABASE pl');
    await q(s.url, 'CREATE TABLE pl.src (k String) ENGINE = MergeTree ORDER BY k');
    await q(s.url, 'CREATE TABLE pl.agg (k String, n UInt64) ENGINE = SummingMergeTree ORDER BY k');
    await q(s.url, 'CREATE MATERIALIZED VIEW pl.mv TO pl.agg AS SELECT k, count() AS n FROM pl.src GROUP BY k');
    await q(s.url, "INSERT INTO pl.src VALUES ('a'), ('a'), ('b')");
    expect(await q(s.url, 'SELECT k, sum(n) FROM pl.agg GROUP BY k ORDER BY k')).toBe('a\t2\nb\t1');
    await q(s.url, 'CREATE TABLE pl.names (id UInt64, name String) ENGINE = MergeTree ORDER BY id');
    await q(s.url, "INSERT INTO pl.names VALUES (1, 'one'), (2, 'two')");
    await q(
      s.url,
      "CREATE DICTIONARY pl.names_dict (id UInt64, name String) PRIMARY KEY id SOURCE(CLICKHOUSE(TABLE 'names' DB 'pl')) LAYOUT(HASHED()) LIFETIME(0)",
    );
    expect(await q(s.url, "SELECT dictGet('pl.names_dict', 'name', toUInt64(2))")).toBe('two');
    // The keepalive query of the launcher runs, and so does this query. (Not an exact count of rows: the dictionary's
    // own load query may still be listed for a moment.)
    expect(await q(s.url, `SELECT countIf(query_id = '${KEEPALIVE_QUERY_ID}'), countIf(query_id = queryID()) FROM system.processes`)).toBe('1\t1');
  });

  it('keeps the data over stop and start, and reports not running in between', async () => {
    const pid = s.servers[0]!.pid as number;
    const stopped = await stopClickHouse({ dir });
    expect(stopped).toEqual({ stopped: true, servers: [{ shard: 1, pid, killed: false }] });
    // Stopped cleanly (SIGTERM ends the engine's last query) and reaped: no zombie left.
    expect(await reaped(pid)).toBe(true);
    expect(await clickhouseStatus({ dir })).toMatchObject({ running: false, answering: false, version: null, servers: [{ running: false, pid: null }] });
    expect(await portFree(httpPort)).toBe(true);
    expect(await stopClickHouse({ dir })).toEqual({ stopped: false, servers: [] });

    s = await startClickHouse({ dir, httpPort, tcpPort, exitWithCaller: true });
    expect(s.servers[0]!.pid).not.toBe(pid);
    expect(await q(s.url, 'SELECT count() FROM dedup')).toBe('6');
    expect(await q(s.url, "SELECT dictGet('pl.names_dict', 'name', toUInt64(1))")).toBe('one');
  });

  it('stops the server when its pid file names another process, and leaves that process alone', async () => {
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'shard-1', 'clickhouse.pid'), `${bystander.pid}\n`);
      const status = await clickhouseStatus({ dir });
      expect(status.servers[0]!.pid).toBe(s.servers[0]!.pid); // found through /proc
      const stopped = await stopClickHouse({ dir });
      expect(stopped.servers).toEqual([{ shard: 1, pid: s.servers[0]!.pid, killed: false }]);
      expect(await portFree(httpPort)).toBe(true);
      expect(bystander.exitCode).toBeNull();
      expect(() => process.kill(bystander.pid as number, 0)).not.toThrow();
    } finally {
      bystander.kill();
    }
  });
});

it('names the port that is already taken', async () => {
  const dir = tempRoot();
  const port = await freePorts(1);
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    await expect(startClickHouse({ dir, httpPort: await freePorts(1), tcpPort: port, exitWithCaller: true })).rejects.toThrow(
      new RegExp(`Port 127\\.0\\.0\\.1:${port} \\(TCP, shard 1\\) is already in use`),
    );
    expect((await clickhouseStatus({ dir })).running).toBe(false);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

it('stops the servers of a caller killed with SIGKILL when started with exitWithCaller', async () => {
  const dir = tempRoot();
  const [httpPort, tcpPort] = [await freePorts(1), await freePorts(1)];
  const script =
    "const { startClickHouse } = await import('./devtools/clickhouse/local-clickhouse.ts');" +
    `const s = await startClickHouse({ dir: ${JSON.stringify(dir)}, httpPort: ${httpPort}, tcpPort: ${tcpPort}, exitWithCaller: true });` +
    'console.log(s.servers[0].pid); setInterval(() => {}, 1000);';
  const caller = spawn(process.execPath, ['--import', './bin/register-ts.js', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    caller.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    caller.once('exit', (code) => reject(new Error(`the caller exited (${code}) before starting ClickHouse`)));
  });
  expect((await clickhouseStatus({ dir })).servers[0]).toMatchObject({ pid, answering: true });
  caller.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await clickhouseStatus({ dir })).servers[0]!.running) await sleep(50);
  expect((await clickhouseStatus({ dir })).servers[0]!.running).toBe(false);
  expect(await portFree(httpPort)).toBe(true);
  // It shut down cleanly (the parent-death signal is a stop request), not killed.
  expect(readFileSync(join(dir, 'shard-1', 'clickhouse.log'), 'utf8')).toMatch(/launcher: signal 15 from pid \d+, shutting down[\s\S]*Shutdown disk default/);
});

describe('two shards', () => {
  let dir: string;
  let s: ClickHouseStatus;
  let httpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    dir = tempRoot();
    httpPort = await freePorts(2);
    tcpPort = await freePorts(2);
    s = await startClickHouse({ dir, shards: 2, httpPort, tcpPort, exitWithCaller: true });
  });

  it('start two servers on consecutive ports that know the cluster', async () => {
    expect(s).toMatchObject({
      running: true,
      answering: true,
      shards: 2,
      cluster: 'policylens',
      urls: [`http://127.0.0.1:${httpPort}`, `http://127.0.0.1:${httpPort + 1}`],
    });
    for (const url of s.urls) {
      expect(await q(url, "SELECT shard_num, host_name, port FROM system.clusters WHERE cluster = 'policylens' ORDER BY shard_num")).toBe(
        `1\t127.0.0.1\t${tcpPort}\n2\t127.0.0.1\t${tcpPort + 1}`,
      );
    }
    expect(await q(s.urls[0]!, "SELECT getMacro('shard')")).toBe('1');
    expect(await q(s.urls[1]!, "SELECT getMacro('shard')")).toBe('2');
  });

  it('spread a Distributed table over both and read all of it back', async () => {
    // No Keeper, so no ON CLUSTER: the local table is created on each server.
    for (const url of s.urls) await q(url, 'CREATE TABLE events_local (id UInt64) ENGINE = MergeTree ORDER BY id');
    await q(s.urls[0]!, "CREATE TABLE events AS events_local ENGINE = Distributed('policylens', 'default', 'events_local', cityHash64(id))");
    await q(s.urls[0]!, 'INSERT INTO events SELECT number FROM numbers(1000)');
    await q(s.urls[0]!, 'SYSTEM FLUSH DISTRIBUTED events');
    const counts = await Promise.all(s.urls.map(async (url) => Number(await q(url, 'SELECT count() FROM events_local'))));
    expect(counts.every((c) => c > 300)).toBe(true);
    expect(counts[0]! + counts[1]!).toBe(1000);
    expect(await q(s.urls[0]!, 'SELECT count(), sum(id) FROM events')).toBe('1000\t499500');
    expect(await q(s.urls[1]!, `SELECT count() FROM remote('127.0.0.1:${tcpPort}', default.events_local)`)).toBe(String(counts[0]));
  });

  it('refuse to start with another shard count while running', async () => {
    await expect(startClickHouse({ dir })).rejects.toThrow(/2 shard\(s\), not 1\. Stop it first/);
    expect((await startClickHouse({ dir, shards: 2 })).servers.map((x) => x.pid)).toEqual(s.servers.map((x) => x.pid));
  });

  it('restart a shard that died, on its ports, keeping the other', async () => {
    const [first, second] = s.servers.map((x) => x.pid as number);
    process.kill(second!, 'SIGKILL');
    expect(await reaped(second!)).toBe(true);
    expect(await clickhouseStatus({ dir })).toMatchObject({ running: false, servers: [{ running: true }, { running: false }] });
    s = await startClickHouse({ dir, shards: 2, exitWithCaller: true });
    expect(s).toMatchObject({ running: true, answering: true, urls: [`http://127.0.0.1:${httpPort}`, `http://127.0.0.1:${httpPort + 1}`] });
    expect(s.servers[0]!.pid).toBe(first);
    expect(s.servers[1]!.pid).not.toBe(second);
    // Its parts were on disk before the kill.
    expect(await q(s.urls[0]!, 'SELECT count() FROM events')).toBe('1000');
  });

  it('stop both', async () => {
    const stopped = await stopClickHouse({ dir });
    expect(stopped.servers).toEqual(s.servers.map((x) => ({ shard: x.shard, pid: x.pid, killed: false })));
    for (const x of stopped.servers) expect(await reaped(x.pid)).toBe(true);
    expect((await clickhouseStatus({ dir, shards: 2 })).servers.map((x) => x.running)).toEqual([false, false]);
  });
});

describe('a user with a password', () => {
  const password = `pa ss'"<&>`;
  let s: ClickHouseStatus;

  beforeAll(async () => {
    s = await startClickHouse({
      dir: tempRoot(),
      shards: 2,
      httpPort: await freePorts(2),
      tcpPort: await freePorts(2),
      user: 'app',
      password,
      exitWithCaller: true,
    });
  });

  it('lets the user in with the password and refuses a wrong one', async () => {
    expect(s).toMatchObject({ user: 'app', password, answering: true });
    expect(await q(s.url, 'SELECT currentUser()', { user: 'app', password })).toBe('app');
    const wrong = await http(s.url, 'SELECT 1', { user: 'app', password: 'wrong' });
    expect(wrong.status).not.toBe(200);
    expect(wrong.body).toContain('AUTHENTICATION_FAILED');
  });

  it('reaches the other shard as that user', async () => {
    expect(await q(s.url, "SELECT count() FROM clusterAllReplicas('policylens', system.one)", { user: 'app', password })).toBe('2');
  });

  it('leaves default without a password but only reading; dictionaries over local tables still load', async () => {
    await q(s.url, 'CREATE TABLE names (id UInt64, name String) ENGINE = MergeTree ORDER BY id', { user: 'app', password });
    await q(s.url, "INSERT INTO names VALUES (1, 'one')", { user: 'app', password });
    const write = await http(s.url, "INSERT INTO names VALUES (2, 'two')");
    expect(write.body).toContain('ACCESS_DENIED');
    expect((await http(s.url, 'CREATE TABLE x (a UInt8) ENGINE = Memory')).body).toContain('ACCESS_DENIED');
    expect(await q(s.url, 'SELECT count() FROM names')).toBe('1');
    // A local CLICKHOUSE source without USER loads as `default` (as warehouse/migrations/04_query_rollups.sql does).
    await q(s.url, "CREATE DICTIONARY names_dict (id UInt64, name String) PRIMARY KEY id SOURCE(CLICKHOUSE(TABLE 'names')) LAYOUT(HASHED()) LIFETIME(0)", {
      user: 'app',
      password,
    });
    expect(await q(s.url, "SELECT dictGet('names_dict', 'name', toUInt64(1))", { user: 'app', password })).toBe('one');
  });

  it('refuses a password for default, which clickhouse-local itself logs in as', async () => {
    await expect(startClickHouse({ dir: tempRoot(), password: 'x' })).rejects.toThrow(/default user cannot have a password/);
  });
});
