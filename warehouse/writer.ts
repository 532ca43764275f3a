// The one way rows enter the warehouse, shared by file loading and Kafka ingest.
// Exactly once: ids already accepted are filtered out, and every insert carries a token made of the ids of the
// block as it was held, so a retry of the same block is dropped by the raw table and by every rollup alike.
import { createHash } from 'node:crypto';
import type { EngagementRow, EventFamily, NormalizedEvent, SendRow, SubscriptionRow } from '../events/types.js';
import type { TextInsert, Warehouse } from './client.js';
import { LineArena } from './line-arena.js';

export interface WriteResult {
  written: number;
  duplicates: number;
}

type RowOf<F extends EventFamily> = Extract<NormalizedEvent, { family: F }>['row'];
export type RegimeOf = (row: NormalizedEvent['row']) => string;

// Rows go as TabSeparated: the engine parses it about three times faster than JSONEachRow (docs/performance.md).
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const NEEDS_ESCAPE_ALL = /[\\\t\n\r]/g;

export function tsvField(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(NEEDS_ESCAPE_ALL, (c) => ESCAPES[c]) : value;
}

// Whether the event named its own regime: such rows keep it; the others follow the regime table at query time.
const named = (r: { regime: string | null }): 0 | 1 => (r.regime !== null ? 1 : 0);

// Money goes as fixed-point text so Decimal columns never see binary float noise.
const money = (v: number): string => v.toFixed(6);

interface TableShape<F extends EventFamily> {
  columns: string[];
  /** One TabSeparated line; occurred_at as integer milliseconds, which DateTime64(3) reads as such. */
  line(row: RowOf<F>, regime: string): string;
}

const TABLES: { [F in EventFamily]: TableShape<F> } = {
  sends: {
    columns: [
      'event_id',
      'occurred_at',
      'business_id',
      'user_id',
      'channel',
      'category',
      'frequency',
      'topic',
      'campaign_id',
      'cost_usd',
      'regime',
      'regime_named',
    ],
    line: (r: SendRow, regime) =>
      `${tsvField(r.event_id)}\t${r.occurred_at}\t${tsvField(r.business_id)}\t${tsvField(r.user_id)}\t${r.channel}\t${r.category}\t${r.frequency ?? ''}\t${tsvField(r.topic)}\t${tsvField(r.campaign_id)}\t${money(r.cost_usd)}\t${tsvField(regime)}\t${named(r)}`,
  },
  engagements: {
    columns: ['event_id', 'occurred_at', 'business_id', 'user_id', 'channel', 'type', 'send_id', 'revenue_usd', 'regime'],
    line: (r: EngagementRow, regime) =>
      `${tsvField(r.event_id)}\t${r.occurred_at}\t${tsvField(r.business_id)}\t${tsvField(r.user_id)}\t${r.channel}\t${r.type}\t${tsvField(r.send_id)}\t${money(r.revenue_usd)}\t${tsvField(regime)}`,
  },
  subscriptions: {
    columns: ['event_id', 'occurred_at', 'business_id', 'user_id', 'channel', 'type', 'topic', 'frequency', 'reason', 'regime', 'regime_named'],
    line: (r: SubscriptionRow, regime) =>
      `${tsvField(r.event_id)}\t${r.occurred_at}\t${tsvField(r.business_id)}\t${tsvField(r.user_id)}\t${r.channel}\t${r.type}\t${tsvField(r.topic)}\t${r.frequency ?? ''}\t${tsvField(r.reason)}\t${tsvField(regime)}\t${named(r)}`,
  },
};

// Every insert states all of these in its own SETTINGS, whatever the session or server defaults are.
const insertSettings = (token: string) => ({
  insert_deduplicate: 1 as const,
  insert_deduplication_token: token,
  deduplicate_blocks_in_dependent_materialized_views: 1 as const,
  async_insert: 0 as const,
  input_format_parallel_parsing: 1 as const,
  // The rollup views do not depend on each other, so they may run side by side (measured: about half their cost back).
  parallel_view_processing: 1 as const,
});

/** The family, the count and a hash of the family and the ids, each on its own line. */
/** The insert of one block of a family's rows under its token: what a flush writes, and writes again identically after a crash. */
export function rawInsert(family: EventFamily, body: Buffer[], token: string): TextInsert {
  return { table: family, columns: TABLES[family].columns, body, format: 'TabSeparated', settings: insertSettings(token) };
}

/** A row as the TabSeparated line its family's insert takes. */
export function rowLine<F extends EventFamily>(family: F, row: RowOf<F>, regime: string): string {
  return (TABLES[family] as TableShape<F>).line(row, regime);
}

export function tokenFor(family: EventFamily, ids: string[]): string {
  // One update of the whole text: an update per id crossed into native code 200k times a flush.
  const digest = createHash('sha256')
    .update(ids.length ? `${family}\n${ids.join('\n')}` : family)
    .digest('hex');
  return `${family}:${ids.length}:${digest.slice(0, 32)}`;
}

/**
 * Rows of one family ready for their insert: each row's event id (for deduplication and the token) and its
 * TabSeparated line. Holding these instead of row objects takes a fraction of the memory, and the lines are
 * built while the previous insert is in the engine rather than during it.
 */
export interface PreparedBlock {
  family: EventFamily;
  ids: string[];
  lines: LineArena;
}

export class BatchWriter {
  private readonly wh: Warehouse;
  private readonly regimeOf: RegimeOf;
  constructor(wh: Warehouse, regimeOf: RegimeOf) {
    this.wh = wh;
    this.regimeOf = regimeOf;
  }

  /** The TabSeparated line a row is inserted as; its regime is the one it named or the regime table's. */
  line<F extends EventFamily>(family: F, row: RowOf<F>): string {
    return (TABLES[family] as TableShape<F>).line(row, row.regime ?? this.regimeOf(row));
  }

  /** Which of these ids the warehouse has already accepted. */
  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    if (this.wh.selectWithTable) {
      // A server: the ids go in the request body as a table, whatever their number (a URL parameter may not).
      const text = await this.wh.selectWithTable({
        query: 'SELECT event_id FROM event_ids WHERE event_id IN (SELECT event_id FROM ids) FORMAT JSONCompactEachRow',
        name: 'ids',
        structure: 'event_id String',
        body: `${ids.map(tsvField).join('\n')}\n`,
      });
      return new Set(
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as [string])[0]),
      );
    }
    const result = await this.wh.client.query({
      // IN over a subquery builds one hash set; `IN {ids:Array(String)}` took seconds once the table had rows.
      // The ids travel as one JSON string: an Array(String) parameter is escaped and parsed id by id, which took
      // twice as long for 200k ids (measured).
      query: "SELECT event_id FROM event_ids WHERE event_id IN (SELECT arrayJoin(JSONExtract({ids:String}, 'Array(String)')))",
      query_params: { ids: JSON.stringify(ids) },
      format: 'JSONCompactEachRow',
    });
    const rows = await result.json<[string]>();
    return new Set(rows.map((r) => r[0]));
  }

  /** Writes rows of one family; rows whose event_id was seen before (here or earlier) are counted as duplicates. */
  async write<F extends EventFamily>(family: F, rows: RowOf<F>[]): Promise<WriteResult> {
    const block = this.emptyBlock(family);
    for (const row of rows) this.add(block, row);
    const [result] = await this.writePrepared([block]);
    return result;
  }

  emptyBlock(family: EventFamily): PreparedBlock {
    return { family, ids: [], lines: new LineArena() };
  }

  /** Adds a row of the block's family. */
  add(block: PreparedBlock, row: NormalizedEvent['row']): void {
    block.ids.push(row.event_id);
    block.lines.push(this.line(block.family, row as never));
  }

  /**
   * Writes several blocks with one id look-up and one id insert between them. Each block is its own raw insert
   * with its own token, so a block rebuilt identically after a crash is dropped wherever it already landed.
   * Duplicates are removed within a block and against ids already accepted, not across blocks of one call.
   */
  async writePrepared(blocks: PreparedBlock[]): Promise<WriteResult[]> {
    const firsts = blocks.map(firstOccurrences);
    const existing = await this.existingIds(firsts.flatMap((keep, i) => keep.map((j) => blocks[i].ids[j])));
    const idLines: string[] = [];
    const tokens: string[] = [];
    const results: WriteResult[] = [];
    for (let i = 0; i < blocks.length; i++) {
      const { family, ids, lines } = blocks[i];
      // The token names the block as held, not what the look-up left of it: a rebuild whose look-up finds some of
      // the interrupted attempt's own ids (its id log landed on one shard and not another, or it is still being
      // written) must send the attempt's token, so that every block it sends is dropped where the first landed.
      const token = tokenFor(
        family,
        firsts[i].map((j) => ids[j]),
      );
      tokens.push(token);
      const fresh = firsts[i].filter((j) => !existing.has(ids[j]));
      results.push({ written: fresh.length, duplicates: ids.length - fresh.length });
      if (fresh.length === 0) continue;
      const freshIds = fresh.map((j) => ids[j]);
      await this.wh.insertText(rawInsert(family, fresh.length === lines.length ? lines.all() : [lines.pick(fresh)], token));
      idLines.push(`${freshIds.map(tsvField).join(`\t${family}\n`)}\t${family}\n`);
    }
    if (idLines.length > 0) {
      // Only now are the ids recorded: an id in event_ids means its row is in the raw table and every rollup.
      await this.wh.insertText({
        table: 'event_ids',
        columns: ['event_id', 'family'],
        body: idLines.map((text) => Buffer.from(text)),
        format: 'TabSeparated',
        settings: insertSettings(`ids:${createHash('sha256').update(tokens.join(',')).digest('hex').slice(0, 32)}`),
      });
    }
    return results;
  }
}

/** Positions of each id's first occurrence, in order. */
function firstOccurrences(block: PreparedBlock): number[] {
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let j = 0; j < block.ids.length; j++) {
    const id = block.ids[j];
    if (seen.has(id)) continue;
    seen.add(id);
    keep.push(j);
  }
  return keep;
}
