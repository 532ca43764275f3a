// The one way rows enter the warehouse, shared by file loading and Kafka ingest.
// Exactly once: ids already accepted are filtered out, and every insert carries a token made of the
// ids it holds, so a retry of the same rows is dropped by the raw table and by every rollup alike.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { EngagementRow, EventFamily, NormalizedEvent, SendRow, SubscriptionRow } from '../events/types.js';
import type { Warehouse } from './client.js';

export interface WriteResult {
  written: number;
  duplicates: number;
}

type RowOf<F extends EventFamily> = Extract<NormalizedEvent, { family: F }>['row'];
export type Block = { [F in EventFamily]: { family: F; rows: RowOf<F>[] } }[EventFamily];
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
    columns: ['event_id', 'occurred_at', 'business_id', 'user_id', 'channel', 'category', 'frequency', 'topic', 'campaign_id', 'cost_usd', 'regime', 'regime_named'],
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

const body = (lines: string[]) => Readable.from([Buffer.from(`${lines.join('\n')}\n`)], { objectMode: false });

// The embedded session keeps SET values between statements, so every insert states all of these.
const insertSettings = (token: string) => ({
  insert_deduplicate: 1 as const,
  insert_deduplication_token: token,
  deduplicate_blocks_in_dependent_materialized_views: 1 as const,
  async_insert: 0 as const,
  input_format_parallel_parsing: 1 as const,
  // The rollup views do not depend on each other, so they may run side by side (measured: about half their cost back).
  parallel_view_processing: 1 as const,
});

export function tokenFor(family: EventFamily, ids: string[]): string {
  const h = createHash('sha256').update(family);
  for (const id of ids) h.update('\n').update(id);
  return `${family}:${ids.length}:${h.digest('hex').slice(0, 32)}`;
}

export class BatchWriter {
  constructor(
    private readonly wh: Warehouse,
    private readonly regimeOf: RegimeOf,
  ) {}

  /** Which of these ids the warehouse has already accepted. */
  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const result = await this.wh.client.query({
      // IN over a subquery builds one hash set; `IN {ids:Array(String)}` took seconds once the table had rows.
      query: 'SELECT event_id FROM event_ids WHERE event_id IN (SELECT arrayJoin({ids:Array(String)}))',
      query_params: { ids },
      format: 'JSONCompactEachRow',
    });
    const rows = await result.json<[string]>();
    return new Set(rows.map((r) => r[0]));
  }

  /** Writes rows of one family; rows whose event_id was seen before (here or earlier) are counted as duplicates. */
  async write<F extends EventFamily>(family: F, rows: RowOf<F>[]): Promise<WriteResult> {
    const [result] = await this.writeBlocks([{ family, rows } as Block]);
    return result;
  }

  /**
   * Writes several blocks with one id look-up and one id insert between them. Each block is its own raw insert
   * with its own token, so a block rebuilt identically after a crash is dropped wherever it already landed.
   * Duplicates are removed within a block and against ids already accepted, not across blocks of one call.
   */
  async writeBlocks(blocks: Block[]): Promise<WriteResult[]> {
    const uniques = blocks.map((b) => {
      const unique = new Map<string, NormalizedEvent['row']>();
      for (const row of b.rows) if (!unique.has(row.event_id)) unique.set(row.event_id, row);
      return unique;
    });
    const existing = await this.existingIds(uniques.flatMap((u) => [...u.keys()]));
    const idLines: string[] = [];
    const tokens: string[] = [];
    const results: WriteResult[] = [];
    for (let i = 0; i < blocks.length; i++) {
      const { family, rows } = blocks[i];
      const fresh = [...uniques[i].values()].filter((r) => !existing.has(r.event_id));
      results.push({ written: fresh.length, duplicates: rows.length - fresh.length });
      if (fresh.length === 0) continue;
      const ids = fresh.map((r) => r.event_id);
      const token = tokenFor(family, ids);
      const shape = TABLES[family] as TableShape<EventFamily>;
      await this.wh.client.insert({
        table: family,
        columns: shape.columns as [string, ...string[]],
        values: body(fresh.map((r) => shape.line(r as never, r.regime ?? this.regimeOf(r)))),
        format: 'TabSeparated',
        clickhouse_settings: insertSettings(token),
      });
      tokens.push(token);
      for (const id of ids) idLines.push(`${tsvField(id)}\t${family}`);
    }
    if (idLines.length > 0) {
      // Only now are the ids recorded: an id in event_ids means its row is in the raw table and every rollup.
      await this.wh.client.insert({
        table: 'event_ids',
        columns: ['event_id', 'family'],
        values: body(idLines),
        format: 'TabSeparated',
        clickhouse_settings: insertSettings(`ids:${createHash('sha256').update(tokens.join(',')).digest('hex').slice(0, 32)}`),
      });
    }
    return results;
  }
}
