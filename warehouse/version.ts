// The warehouse version: a short text that changes whenever what a query can read changes, whoever wrote it (this
// process, another API process, any number of ingest processes on a server). Answers kept for reuse are keyed by it.
//
// On the embedded engine the process that opened the data directory is the only writer, so it counts its own writes
// (Warehouse.localVersion) and never asks the engine, which would queue the question behind running queries. On a
// server it is read from the engine itself, so it needs nothing from writers:
// - every INSERT (raw tables, and the rollups their views fill in the same statement), TRUNCATE, mutation or DROP
//   changes the set of active parts of a table. The version hashes that set: each part by table, name (its block
//   numbers, merge level and mutation) and modification time, so a part name that comes back after a truncate and a
//   server restart is still a different part;
// - PUT /v1/regimes changes the regimes table (parts) and then reloads regimes_dict, which queries read. Between the
//   two the table is new and the dictionary old, so the dictionary's loaded content is hashed as well: an answer
//   computed in between is kept under a version that no longer exists once the dictionary has reloaded.
// A merge changes parts but not data: the version moves and the next answer is computed again, never wrong.
// On a sharded cluster the parts of every server count (a write may land on any shard but the one asked).
import type { Warehouse } from './client.js';

const versionSql = (cluster: string | null) => `SELECT
  (SELECT concat(toString(count()), ':', toString(sum(cityHash64(hostName(), table, name, modification_time))))
     FROM ${cluster ? `clusterAllReplicas('${cluster}', system.parts)` : 'system.parts'}
     WHERE database = {database:String} AND active) AS parts,
  (SELECT concat(toString(count()), ':', toString(sum(cityHash64(channel, start, last, regime))))
     FROM dictionary('regimes_dict')) AS regimes`;

/**
 * Reads the version from the engine (about 7 ms embedded on 10M events: a few hundred parts and a small dictionary).
 * The embedded engine has a version of its own, counted in the process (Warehouse.localVersion); this is the one
 * for a server, where other processes write.
 */
export async function readEngineVersion(wh: Warehouse): Promise<string> {
  const result = await wh.client.query({ query: versionSql(wh.cluster?.name ?? null), query_params: { database: wh.database }, format: 'JSONEachRow' });
  const [row] = await result.json<{ parts: string; regimes: string }>();
  return `${row.parts}/${row.regimes}`;
}

/**
 * Reads the version for many callers with at most one read running at a time. A caller is never handed a read that
 * began before it asked: one already running may have missed a write that ended just before the call, so a caller
 * that arrives during a read waits for the next one, which every caller arriving meanwhile shares. Thus whatever a
 * caller is answered from reflects every write that had finished when it asked.
 */
export class VersionReader {
  private running: Promise<string> | null = null;
  private queued: Promise<string> | null = null;
  private readonly read: () => Promise<string>;

  private readonly local: (() => string) | null;

  /** `read` replaces the engine's version (tests); by default, the process's own count when it has one. */
  constructor(wh: Warehouse, read?: (wh: Warehouse) => Promise<string>) {
    this.read = () => (read ?? readEngineVersion)(wh);
    this.local = read ? null : wh.localVersion;
  }

  current(): Promise<string> {
    // Counted in the process, it is current when asked: no read to share or wait for, and no engine to queue behind.
    if (this.local) return Promise.resolve(this.local());
    if (!this.running) return this.begin();
    this.queued ??= this.running.then(settled, settled).then(() => {
      this.queued = null;
      // A read begun after the previous one ended began after every caller of this queue asked.
      return this.running ?? this.begin();
    });
    return this.queued;
  }

  private begin(): Promise<string> {
    const read = this.read();
    this.running = read;
    const clear = () => {
      if (this.running === read) this.running = null;
    };
    read.then(clear, clear);
    return read;
  }
}

const settled = (): void => undefined;
