// Many recurring-notification sends generated inside the engine, for export volume tests and benchmarks.
import type { Warehouse } from '../../warehouse/client.js';

export interface SyntheticSends {
  rows: number;
  /** Rows per INSERT. */
  chunk: number;
  /** event_id is `<prefix>-<n>`; also names each insert's deduplication token. */
  prefix: string;
  /** Milliseconds between consecutive sends, from 2022-06-01. */
  stepMs: number;
  businesses: number;
  users: number;
  campaigns: number;
}

export async function insertSyntheticSends(wh: Warehouse, s: SyntheticSends): Promise<void> {
  for (let start = 0; start < s.rows; start += s.chunk) {
    await wh.client.command({
      query: `INSERT INTO sends (event_id, occurred_at, business_id, user_id, channel, category, frequency, topic, campaign_id, cost_usd, regime)
              SELECT concat({prefix:String}, '-', toString(number)), toDateTime64('2022-06-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * {step:UInt64}),
                     concat('b', toString(number % {businesses:UInt64})), concat('u', toString(number % {users:UInt64})),
                     ['messenger', 'instagram', 'whatsapp'][1 + number % 3], 'recurring_notification', ['daily', 'weekly', 'monthly'][1 + number % 3],
                     if(number % 4 = 0, NULL, 'deals'), if(number % 2 = 0, NULL, concat('c', toString(number % {campaigns:UInt64}))),
                     toDecimal64(0.0125, 6), 'recurring_all_frequencies'
              FROM numbers({start:UInt64}, {n:UInt64})`,
      query_params: {
        prefix: s.prefix,
        step: s.stepMs,
        businesses: s.businesses,
        users: s.users,
        campaigns: s.campaigns,
        start,
        n: Math.min(s.chunk, s.rows - start),
      },
      clickhouse_settings: { insert_deduplication_token: `${s.prefix}-${start}-${Date.now()}` },
    });
  }
}
