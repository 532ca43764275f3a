// Numbered SQL migrations, applied once each, in order, and recorded; safe to run any number of times.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClusterSchema } from './cluster.js';
import { onEveryServer, queryRows, type Warehouse } from './client.js';
import { checkRegimes, loadDefaultRegimes, type Regime } from './regimes.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE_NAME = /^(\d{2,})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  /** The file name without .sql, e.g. 01_regimes. */
  id: string;
  name: string;
  checksum: string;
  statements: string[];
}

/** Splits a migration into statements on semicolons that end a line; comments are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function listMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE_NAME.exec(file);
      if (!m) throw new Error(`Migration file ${file} must be named NN_name.sql (lower case, digits, underscores)`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(m[1]),
        id: file.slice(0, -'.sql'.length),
        name: m[2],
        checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16),
        statements: splitStatements(sql),
      };
    })
    .sort((a, b) => a.version - b.version);
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies what is not applied yet. On a cluster, on each server in turn, with the statements rewritten for shards
 * (warehouse/cluster.ts) and recorded in that server's own schema_migrations: a server that missed a run (it was
 * down, or was added later) catches up on the next. The result is the first server's.
 */
export async function migrate(wh: Warehouse, dir?: string): Promise<MigrateResult> {
  const migrations = listMigrations(dir);
  const results: MigrateResult[] = [];
  await onEveryServer(wh, async (client) => {
    const schema = wh.cluster ? new ClusterSchema({ cluster: wh.cluster.name, database: wh.database, replicated: wh.cluster.replicated }) : null;
    const statementsOf = (m: Migration) => (schema ? m.statements.flatMap((st) => schema.statements(st)) : m.statements);
    results.push(await migrateServer(client, migrations, statementsOf));
  });
  await seedRegimes(wh);
  return results[0];
}

async function migrateServer(client: ClickHouseClient, migrations: Migration[], statementsOf: (m: Migration) => string[]): Promise<MigrateResult> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations
            (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now())
            ENGINE = MergeTree ORDER BY version`,
  });
  const recorded = await (await client.query({ query: 'SELECT version, checksum FROM schema_migrations', format: 'JSONEachRow' })).json<{
    version: number;
    checksum: string;
  }>();
  const done = new Map(recorded.map((r) => [Number(r.version), r.checksum]));
  const result: MigrateResult = { applied: [], alreadyApplied: 0 };
  for (const m of migrations) {
    // Rewritten for every migration, applied or not: a cluster's later statements name tables earlier ones made.
    const statements = statementsOf(m);
    const seen = done.get(m.version);
    if (seen !== undefined) {
      if (seen !== m.checksum) {
        throw new Error(`Migration ${m.id} was changed after it was applied; add a new migration instead of editing it.`);
      }
      result.alreadyApplied++;
      continue;
    }
    // Statements are idempotent (IF NOT EXISTS), so a migration cut short is simply run again.
    for (const statement of statements) await client.command({ query: statement });
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `migration-${m.version}-${m.checksum}` },
    });
    result.applied.push(m.id);
  }
  return result;
}

/**
 * Loads the default regime table when the warehouse has none. On a cluster a server without one (added later, or
 * down when the table was replaced) gets a copy of the first server's, so every server resolves regimes alike.
 */
async function seedRegimes(wh: Warehouse): Promise<void> {
  const empty: ClickHouseClient[] = [];
  let holder: ClickHouseClient | null = null;
  await onEveryServer(wh, async (client) => {
    const [{ n }] = await (await client.query({ query: 'SELECT count() AS n FROM regimes', format: 'JSONEachRow' })).json<{ n: string }>();
    if (Number(n) === 0) empty.push(client);
    else holder ??= client;
  });
  if (empty.length === 0) return;
  const regimes = holder ? await readRegimes({ ...wh, client: holder }) : loadDefaultRegimes();
  const token = `regimes-${Date.now()}`;
  for (const client of empty) await writeRegimes(client, regimes, token);
}

/** Replaces the regime table; on a cluster on every server, since each server's views and dictionary read its own copy. */
export async function replaceRegimes(wh: Warehouse, regimes: Regime[]): Promise<void> {
  const problems = checkRegimes(regimes);
  if (problems.length) throw new Error(`Invalid regime table:\n- ${problems.join('\n- ')}`);
  const token = `regimes-${Date.now()}`;
  await onEveryServer(wh, (client) => writeRegimes(client, regimes, token));
}

async function writeRegimes(client: ClickHouseClient, regimes: Regime[], token: string): Promise<void> {
  await client.command({ query: 'TRUNCATE TABLE regimes' });
  await client.insert({
    table: 'regimes',
    values: regimes.map(({ channel, regime, start, end, label }) => ({ channel, regime, start, end, label })),
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: token },
  });
}

/** Makes queries see a replaced regime table (the dictionary loads only when told to). */
export async function reloadRegimes(wh: Warehouse): Promise<void> {
  await onEveryServer(wh, (client) => client.command({ query: 'SYSTEM RELOAD DICTIONARY regimes_dict' }).then(() => undefined));
}

export async function readRegimes(wh: Warehouse): Promise<Regime[]> {
  const rows = await queryRows<Regime>(
    wh,
    'SELECT channel, regime, toString(start) AS start, if(isNull(end), NULL, toString(end)) AS end, label FROM regimes ORDER BY channel, start',
  );
  return rows;
}
