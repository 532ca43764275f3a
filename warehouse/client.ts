// Opens the warehouse: embedded chdb by default, a ClickHouse server when a URL is configured.
// Both go through @clickhouse/client so the rest of the code never knows which it has.
import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Config } from '../common/config.js';

/** The raw escape hatch of the embedded engine: correct bytes for binary formats. */
export interface EmbeddedEngine {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ bytes(): Uint8Array; text(): string }>;
  rawInsert(params: { table: string; columns: string[]; values: Buffer; format: string; settings: Record<string, string | number> }): Promise<unknown>;
}

/** A query that reads `name`, a table of the given structure whose TabSeparated rows are `body`. */
export interface TableQuery {
  query: string;
  name: string;
  structure: string;
  body: string;
}

/** Rows already serialised, for one INSERT statement whose settings apply to it alone. */
export interface TextInsert {
  table: string;
  columns: string[];
  format: 'TabSeparated';
  /** The rows, newline-terminated; several buffers are one body. */
  body: Buffer[];
  settings: Record<string, string | number>;
}

export interface Warehouse {
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  database: string;
  /** Present in embedded mode only. */
  embedded: EmbeddedEngine | null;
  /**
   * Server mode only: a read query given a table of rows that travel in the request body (ClickHouse's external
   * data). Query parameters travel in the URL, where a server at its default settings refuses a field over
   * 128 KiB; the body has no such limit. The embedded engine takes parameters of any size, so it has none.
   */
  selectWithTable: ((q: TableQuery) => Promise<string>) | null;
  /** A sharded warehouse's cluster and a client for each of its servers; null on one server or embedded. */
  cluster: { name: string; servers: ClickHouseClient[]; replicated: boolean } | null;
  /** The writer's insert: the engine parses the bytes as they are (in embedded mode without copying them). */
  insertText(insert: TextInsert): Promise<void>;
  /**
   * Embedded only: the warehouse version (warehouse/version.ts) as this process counts it. The data directory is
   * this process's alone, so every write is one of its own: `command`, `insert`, `exec` and `insertText` count as
   * writes (`query` is for reads), except an export's INSERT INTO FUNCTION file(…), which writes outside the
   * warehouse. While a write runs, every call answers a text of its own, equal to no other. Null on a server,
   * where other processes write: there the engine is asked.
   */
  localVersion: (() => string) | null;
  close(): Promise<void>;
}

export class WarehouseUnavailableError extends Error {
  readonly retriable = false;
}

async function openEmbedded(config: Config): Promise<Warehouse> {
  let mod: typeof import('chdb/connection');
  try {
    mod = await import('chdb/connection');
  } catch (err) {
    throw new WarehouseUnavailableError(
      'The embedded engine (the optional "chdb" package) is not installed. ' +
        'Run `npm install` with optional dependencies, or set POLICYLENS_CLICKHOUSE_URL to use a ClickHouse server. ' +
        `Cause: ${(err as Error).message}`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true });
  const connection = mod.createChdbConnection({ path: config.dataDir });
  const client = createClient({ connection } as Parameters<typeof createClient>[0]);
  const database = config.clickhouse.database;
  // The embedded session keeps USE (and SET) across statements, so unqualified names resolve like on a server.
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: `USE ${database}` });
  // The embedded session keeps every SET, so a deduplication token from one insert would silently apply to the
  // next insert that names none. Every insert therefore states one, empty (no token) unless the caller gives it.
  const insert = client.insert.bind(client);
  client.insert = ((params: Parameters<typeof insert>[0]) =>
    insert({ ...params, clickhouse_settings: { insert_deduplication_token: '', ...params.clickhouse_settings } })) as typeof client.insert;
  const embedded = connection.chdb as unknown as EmbeddedEngine;
  const writes = countWrites(client);
  return {
    client,
    mode: 'embedded',
    database,
    embedded,
    selectWithTable: null,
    cluster: null,
    // Straight to the engine: the client's path turns the body into a string and prepends SET statements,
    // which took 40% longer for a 50k-row insert (measured, docs/performance.md).
    insertText: ({ table, columns, format, body, settings }) =>
      writes.during(async () => {
        await embedded.rawInsert({ table, columns, format, settings, values: body.length === 1 ? body[0] : Buffer.concat(body) });
      }),
    localVersion: writes.version,
    close: () => client.close(),
  };
}

/** An export's statement: it writes a file, not the warehouse. */
const WRITES_A_FILE = /^\s*INSERT\s+INTO\s+FUNCTION\s+file\s*\(/i;

/** Counts the writes made through the client (see Warehouse.localVersion). */
function countWrites(client: ClickHouseClient): { during<T>(write: () => Promise<T>): Promise<T>; version: () => string } {
  let running = 0;
  let ended = 0;
  let unique = 0;
  const during = async <T>(write: () => Promise<T>): Promise<T> => {
    running++;
    try {
      return await write();
    } finally {
      running--;
      ended++;
    }
  };
  for (const method of ['command', 'insert', 'exec'] as const) {
    const original = (client[method] as (params: { query?: string }) => Promise<unknown>).bind(client);
    (client as unknown as Record<string, unknown>)[method] = (params: { query?: string }) =>
      typeof params.query === 'string' && WRITES_A_FILE.test(params.query) ? original(params) : during(() => original(params));
  }
  return { during, version: () => (running > 0 ? `writing:${++unique}` : `writes:${ended}`) };
}

/** A server error in one line: what the server said, or why it could not be reached. */
export function describeServerError(err: unknown): string {
  const e = err as { code?: string; message?: string; type?: string };
  const message = (e.message ?? String(err)).split('\n')[0].trim();
  if (e.code === 'ECONNREFUSED') return `nothing answers there (connection refused; is the server running?)`;
  if (e.type === 'AUTHENTICATION_FAILED' || e.code === '516') return `the user or password was refused (POLICYLENS_CLICKHOUSE_USER / _PASSWORD): ${message}`;
  return e.code ? `${message} (code ${e.code})` : message;
}

async function openServer(config: Config): Promise<Warehouse> {
  const { url, user, password, database } = config.clickhouse;
  // The client's own log would print each failed request with a stack trace; the errors reach the caller anyway,
  // which reports them once, in its own words.
  const log = { level: ClickHouseLogLevel.OFF };
  const bootstrap = createClient({ url: url!, username: user, password, log });
  let serverUrls = [url!];
  try {
    if (config.clickhouse.cluster) serverUrls = await clusterServers(bootstrap, config);
    for (const serverUrl of serverUrls) {
      const c = serverUrl === url ? bootstrap : createClient({ url: serverUrl, username: user, password, log });
      try {
        await c.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      } catch (err) {
        const which = serverUrl === url ? `${url} (POLICYLENS_CLICKHOUSE_URL)` : `${serverUrl} (POLICYLENS_CLICKHOUSE_NODES)`;
        throw new WarehouseUnavailableError(`The ClickHouse server at ${which} could not be used: ${describeServerError(err)}`);
      } finally {
        if (c !== bootstrap) await c.close();
      }
    }
  } catch (err) {
    if (err instanceof WarehouseUnavailableError) throw err;
    throw new WarehouseUnavailableError(`The ClickHouse server at ${url} (POLICYLENS_CLICKHOUSE_URL) could not be used: ${describeServerError(err)}`);
  } finally {
    await bootstrap.close();
  }
  // Queries run side by side up to the connection count (the client's default is 10); beyond it they wait for a free
  // connection. Running exports hold one each to their end, which is why their number is capped below it.
  // On a cluster, inserts through a Distributed table reach every shard before they return (so a flush is written
  // when it says so, and its deduplication token is checked on each shard), and a subquery over a Distributed table
  // inside a distributed query reads the shard's own rows: the rows it pairs with share the user, hence the shard.
  const clickhouse_settings = config.clickhouse.cluster ? { distributed_foreground_insert: 1 as const, distributed_product_mode: 'local' as const } : {};
  const client = createClient({
    url: url!,
    username: user,
    password,
    database,
    request_timeout: 300_000,
    max_open_connections: config.clickhouse.maxConnections,
    log,
    clickhouse_settings,
  });
  const servers = config.clickhouse.cluster
    ? serverUrls.map((u) => createClient({ url: u, username: user, password, database, request_timeout: 300_000, log }))
    : [];
  const insertText = async ({ table, columns, format, body, settings }: TextInsert) => {
    await client.insert({
      table,
      columns: columns as [string, ...string[]],
      format,
      values: Readable.from(body, { objectMode: false }),
      clickhouse_settings: settings,
    });
  };
  const selectWithTable = (q: TableQuery) => externalDataQuery(config, q);
  return {
    client,
    mode: 'server',
    database,
    embedded: null,
    selectWithTable,
    cluster: config.clickhouse.cluster ? { name: config.clickhouse.cluster, servers, replicated: config.clickhouse.replicated } : null,
    insertText,
    localVersion: null,
    close: async () => {
      await Promise.all([client, ...servers].map((c) => c.close()));
    },
  };
}

/**
 * Every server of the configured cluster, as HTTP URLs: POLICYLENS_CLICKHOUSE_NODES, or each host of
 * system.clusters at the port of POLICYLENS_CLICKHOUSE_URL (servers of a real cluster listen on the same port).
 */
async function clusterServers(client: ClickHouseClient, config: Config): Promise<string[]> {
  const { cluster, nodes, url } = config.clickhouse;
  const rows = await (
    await client.query({
      query: 'SELECT host_name, port FROM system.clusters WHERE cluster = {cluster:String}',
      query_params: { cluster },
      format: 'JSONEachRow',
    })
  ).json<{ host_name: string; port: number }>();
  if (rows.length === 0) {
    throw new WarehouseUnavailableError(
      `The ClickHouse server at ${url} has no cluster named ${cluster} (POLICYLENS_CLICKHOUSE_CLUSTER): define it in remote_servers, or check the name in system.clusters`,
    );
  }
  if (nodes.length > 0) {
    if (nodes.length !== rows.length) {
      throw new WarehouseUnavailableError(
        `POLICYLENS_CLICKHOUSE_NODES lists ${nodes.length} server(s), but cluster ${cluster} has ${rows.length} (${rows.map((r) => `${r.host_name}:${r.port}`).join(', ')} in system.clusters)`,
      );
    }
    return nodes;
  }
  const hosts = [...new Set(rows.map((r) => r.host_name))];
  if (hosts.length < rows.length) {
    throw new WarehouseUnavailableError(
      `Cluster ${cluster} has ${rows.length} servers on ${hosts.length} host(s), so their HTTP ports cannot be guessed: list them in POLICYLENS_CLICKHOUSE_NODES`,
    );
  }
  const entry = new URL(url!);
  return hosts.map((host) => {
    const u = new URL(entry.href);
    u.hostname = host;
    return u.origin;
  });
}

/**
 * One HTTP request with the table as a multipart file (the client library has no external data). Measured for
 * 150k ids against 1M stored: 60-90 ms, where the same look-up as 120 KiB URL parameters took 20 queries and 400 ms.
 */
async function externalDataQuery(config: Config, { query, name, structure, body }: TableQuery): Promise<string> {
  const { url, user, password, database } = config.clickhouse;
  const target = new URL(url!);
  target.searchParams.set('database', database);
  target.searchParams.set('query', query);
  target.searchParams.set(`${name}_structure`, structure);
  target.searchParams.set(`${name}_format`, 'TabSeparated');
  const form = new FormData();
  form.append(name, new Blob([body]), name);
  const res = await fetch(target, { method: 'POST', body: form, headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password } });
  const text = await res.text();
  if (!res.ok) {
    const code = res.headers.get('x-clickhouse-exception-code') ?? String(res.status);
    throw Object.assign(new Error(text.trim().split('\n')[0] || `HTTP ${res.status}`), { code });
  }
  return text;
}

export async function openWarehouse(config: Config): Promise<Warehouse> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(config.clickhouse.database)) {
    throw new Error(`POLICYLENS_CLICKHOUSE_DATABASE must be a plain identifier, got ${JSON.stringify(config.clickhouse.database)}`);
  }
  return config.clickhouse.url ? openServer(config) : openEmbedded(config);
}

/** Runs `work` with a client of each server of a cluster in turn (for what every server must hold), or of the one server. */
export async function onEveryServer(wh: Warehouse, work: (client: ClickHouseClient) => Promise<void>): Promise<void> {
  for (const client of wh.cluster?.servers ?? [wh.client]) await work(client);
}

/** Runs a read query with typed parameters and returns its rows. */
export async function queryRows<T>(wh: Warehouse, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await wh.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
