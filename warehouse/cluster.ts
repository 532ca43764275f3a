// How the single-server schema becomes a sharded cluster's. The migrations stay written for one server; on a
// cluster each statement is rewritten here: every table becomes `<name>_local` on each shard, with a Distributed
// table of the old name over them, so everything that reads or writes `sends` (the writer, the API, exports)
// works unchanged. Views and dictionaries live on every server and read the shard-local tables.
//
// Why one sharding key: the rollups' views pair a send with its engagements (by send id) and spam-risk events
// with the sends before them (by business, user and channel) inside one insert on one server. Both pairs share
// a user, so rows spread by user_id meet on the same shard. event_ids is looked up by id alone; the other tables
// are written by views on each shard and only read through their Distributed tables.

/** Tables every server holds whole: the regime table that views and the dictionary read, and the migrations log. */
const WHOLE_ON_EVERY_SERVER = new Set(['regimes', 'schema_migrations']);

/** How the rows of a table written through its Distributed table are spread over the shards. */
export const SHARDING_KEYS: Readonly<Record<string, string>> = {
  sends: 'cityHash64(user_id)',
  engagements: 'cityHash64(user_id)',
  subscriptions: 'cityHash64(user_id)',
  event_ids: 'cityHash64(event_id)',
};

export const LOCAL_SUFFIX = '_local';

export interface ClusterLayout {
  cluster: string;
  database: string;
  /** ReplicatedMergeTree engines under Keeper (paths from the {shard} and {replica} macros). */
  replicated: boolean;
}

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS (\w+)\s*\(/i;
const ALTER_TABLE = /^ALTER TABLE (\w+)\s/i;
const DROP_TABLE = /^DROP TABLE IF EXISTS (\w+)\s*$/i;
// A table name stands after one of these words; a column of the same name (send_metrics_daily has a `sends`
// column) never does.
const TABLE_REFERENCE = /\b(FROM|JOIN|INTO|TO|TABLE|EXISTS)(\s+)(\w+)\b/gi;

/**
 * Rewrites migration statements for a cluster, in order: it remembers which tables earlier statements made, so
 * a later view, insert or drop names their shard-local versions. One instance walks all migrations of a run.
 */
export class ClusterSchema {
  private readonly sharded = new Set<string>();
  private readonly layout: ClusterLayout;

  constructor(layout: ClusterLayout) {
    this.layout = layout;
  }

  /** The statements one single-server statement becomes on each server of the cluster. */
  statements(sql: string): string[] {
    const create = CREATE_TABLE.exec(sql);
    if (create) {
      const name = create[1];
      if (WHOLE_ON_EVERY_SERVER.has(name)) return [sql];
      this.sharded.add(name);
      return [this.replicatedEngine(this.local(sql), name), this.distributed(name)];
    }
    const alter = ALTER_TABLE.exec(sql);
    if (alter && this.sharded.has(alter[1])) {
      // A Distributed table has the columns of its local tables but no parts to materialise.
      return /\bMATERIALIZE\b/i.test(sql) ? [this.local(sql)] : [this.local(sql), sql];
    }
    const drop = DROP_TABLE.exec(sql);
    if (drop && this.sharded.has(drop[1])) return [sql, this.local(sql)];
    return [this.local(sql)];
  }

  /** The Distributed table over a shard-local one; only tables with a sharding key take inserts. */
  distributed(name: string): string {
    const { cluster, database } = this.layout;
    const key = SHARDING_KEYS[name];
    return `CREATE TABLE IF NOT EXISTS ${name} AS ${name}${LOCAL_SUFFIX} ENGINE = Distributed(${cluster}, ${database}, ${name}${LOCAL_SUFFIX}${key ? `, ${key}` : ''})`;
  }

  private local(sql: string): string {
    return sql.replace(TABLE_REFERENCE, (whole, word: string, space: string, name: string) =>
      this.sharded.has(name) ? `${word}${space}${name}${LOCAL_SUFFIX}` : whole,
    );
  }

  private replicatedEngine(sql: string, name: string): string {
    if (!this.layout.replicated) return sql;
    // One Keeper path per shard and table; each replica of the shard registers under it with its own name.
    const args = `('/clickhouse/tables/{shard}/${this.layout.database}/${name}${LOCAL_SUFFIX}', '{replica}')`;
    return sql
      .replace(
        /\bENGINE = (Summing|Replacing|Aggregating)?MergeTree\b(\(\))?/,
        (_m, kind: string | undefined) => `ENGINE = Replicated${kind ?? ''}MergeTree${args}`,
      )
      .replace(/\bnon_replicated_deduplication_window\b/, 'replicated_deduplication_window');
  }
}
