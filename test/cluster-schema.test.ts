// How single-server migration statements are rewritten for a sharded cluster (warehouse/cluster.ts). The cluster
// project runs them on real servers; these pin the rewriting itself, including the replicated engines that need
// Keeper and so cannot run here.
import { describe, expect, it } from 'vitest';
import { ClusterSchema } from '../warehouse/cluster.js';
import { listMigrations } from '../warehouse/migrate.js';

const layout = { cluster: 'pl', database: 'db', replicated: false };

describe('the cluster schema', () => {
  it('makes a table shard-local with a Distributed table of its name, spread by the sharding key', () => {
    const schema = new ClusterSchema(layout);
    const [local, distributed] = schema.statements('CREATE TABLE IF NOT EXISTS sends (event_id String, user_id String) ENGINE = MergeTree ORDER BY event_id');
    expect(local).toBe('CREATE TABLE IF NOT EXISTS sends_local (event_id String, user_id String) ENGINE = MergeTree ORDER BY event_id');
    expect(distributed).toBe('CREATE TABLE IF NOT EXISTS sends AS sends_local ENGINE = Distributed(pl, db, sends_local, cityHash64(user_id))');
  });

  it('points views, inserts, truncates and alters at the local tables, and leaves columns of a table name alone', () => {
    const schema = new ClusterSchema(layout);
    schema.statements('CREATE TABLE IF NOT EXISTS sends (x Int64) ENGINE = MergeTree ORDER BY x');
    schema.statements('CREATE TABLE IF NOT EXISTS totals (sends Int64) ENGINE = SummingMergeTree ORDER BY sends');
    expect(
      schema.statements('CREATE MATERIALIZED VIEW IF NOT EXISTS v TO totals AS SELECT count() AS sends FROM sends WHERE x IN (SELECT x FROM sends)'),
    ).toEqual(['CREATE MATERIALIZED VIEW IF NOT EXISTS v TO totals_local AS SELECT count() AS sends FROM sends_local WHERE x IN (SELECT x FROM sends_local)']);
    expect(schema.statements('TRUNCATE TABLE totals')).toEqual(['TRUNCATE TABLE totals_local']);
    expect(schema.statements('INSERT INTO totals SELECT count() AS sends FROM sends AS s')).toEqual([
      'INSERT INTO totals_local SELECT count() AS sends FROM sends_local AS s',
    ]);
    // The Distributed table must learn a new column too; it has no parts to materialise.
    expect(schema.statements('ALTER TABLE sends ADD COLUMN IF NOT EXISTS y UInt8 DEFAULT 1')).toEqual([
      'ALTER TABLE sends_local ADD COLUMN IF NOT EXISTS y UInt8 DEFAULT 1',
      'ALTER TABLE sends ADD COLUMN IF NOT EXISTS y UInt8 DEFAULT 1',
    ]);
    expect(schema.statements('ALTER TABLE sends MATERIALIZE COLUMN y')).toEqual(['ALTER TABLE sends_local MATERIALIZE COLUMN y']);
    expect(schema.statements('DROP TABLE IF EXISTS totals')).toEqual(['DROP TABLE IF EXISTS totals', 'DROP TABLE IF EXISTS totals_local']);
    // Tables it has not seen made (views, dictionaries, the regime table) keep their names.
    expect(schema.statements('DROP VIEW IF EXISTS v')).toEqual(['DROP VIEW IF EXISTS v']);
  });

  it('keeps the regime table whole on every server, for the views and the dictionary that read it', () => {
    const schema = new ClusterSchema(layout);
    const create = 'CREATE TABLE IF NOT EXISTS regimes (channel String) ENGINE = MergeTree ORDER BY channel';
    expect(schema.statements(create)).toEqual([create]);
    expect(schema.statements('CREATE VIEW IF NOT EXISTS r AS SELECT channel FROM regimes')).toEqual([
      'CREATE VIEW IF NOT EXISTS r AS SELECT channel FROM regimes',
    ]);
  });

  it('writes replicated engines with Keeper paths from the macros when asked', () => {
    const schema = new ClusterSchema({ ...layout, replicated: true });
    const [plain] = schema.statements(
      'CREATE TABLE IF NOT EXISTS sends (x Int64) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 1000',
    );
    expect(plain).toBe(
      "CREATE TABLE IF NOT EXISTS sends_local (x Int64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/sends_local', '{replica}') ORDER BY x SETTINGS replicated_deduplication_window = 1000",
    );
    const [summing] = schema.statements('CREATE TABLE IF NOT EXISTS t (x Int64) ENGINE = SummingMergeTree ORDER BY x');
    expect(summing).toContain("ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/t_local', '{replica}') ORDER BY x");
  });

  it('gives every table the migrations make a Distributed table, and only the raw tables and the id log a sharding key', () => {
    const schema = new ClusterSchema(layout);
    const statements = listMigrations().flatMap((m) => m.statements.flatMap((s) => schema.statements(s)));
    const distributed = statements.filter((s) => s.includes('ENGINE = Distributed('));
    const keyed = distributed.filter((s) => /, cityHash64\(\w+\)\)$/.test(s)).map((s) => s.split(' ')[5]);
    expect(keyed.sort()).toEqual(['engagements', 'event_ids', 'sends', 'subscriptions']);
    // No statement on a cluster names a sharded table where its local table is meant (a view reading the
    // Distributed table would see other shards' rows, or none of the inserted block).
    for (const s of statements.filter((x) => /MATERIALIZED VIEW/.test(x))) expect(s).not.toMatch(/\b(FROM|JOIN|TO)\s+(sends|engagements|subscriptions)\b/);
  });
});
