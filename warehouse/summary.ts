// Counts and a first look at engagement and opt-outs by frequency and regime, straight from the rollups.
import { queryRows, type Warehouse } from './client.js';

export interface WarehouseCounts {
  sends: number;
  engagements: Record<string, number>;
  subscriptions: Record<string, number>;
  cost_usd: string;
  revenue_usd: string;
}

interface CountSource {
  sends: string;
  engagements: string;
  subscriptions: string;
  /** How a row counts: 1 in a raw table, its `sends`/`events` column in a rollup. */
  sendCount: string;
  count: string;
}

async function countsFrom(wh: Warehouse, source: CountSource): Promise<WarehouseCounts> {
  const [s] = await queryRows<{ n: string; cost: string }>(wh, `SELECT ${source.sendCount} AS n, toString(sum(cost_usd)) AS cost FROM ${source.sends}`);
  const e = await queryRows<{ type: string; n: string; revenue: string }>(
    wh,
    `SELECT type, ${source.count} AS n, toString(sum(revenue_usd)) AS revenue FROM ${source.engagements} GROUP BY type`,
  );
  const sub = await queryRows<{ type: string; n: string }>(wh, `SELECT type, ${source.count} AS n FROM ${source.subscriptions} GROUP BY type`);
  const revenue = e.reduce((acc, r) => acc + Number(r.revenue), 0);
  return {
    sends: Number(s.n),
    engagements: Object.fromEntries(e.map((r) => [r.type, Number(r.n)])),
    subscriptions: Object.fromEntries(sub.map((r) => [r.type, Number(r.n)])),
    cost_usd: Number(s.cost).toFixed(6),
    revenue_usd: revenue.toFixed(6),
  };
}

export const rawCounts = (wh: Warehouse) =>
  countsFrom(wh, { sends: 'sends', engagements: 'engagements', subscriptions: 'subscriptions', sendCount: 'count()', count: 'count()' });

export const rollupCounts = (wh: Warehouse) =>
  countsFrom(wh, { sends: 'sends_daily', engagements: 'engagements_daily', subscriptions: 'subscriptions_daily', sendCount: 'sum(sends)', count: 'sum(events)' });

export interface FrequencyRegimeRow {
  regime: string;
  frequency: string;
  sends: number;
  delivered: number;
  read: number;
  clicked: number;
  opt_outs: number;
  read_rate: number;
  click_rate: number;
  opt_outs_per_1k: number;
}

/**
 * Recurring-notification sends by frequency and regime with their engagement and opt-outs, for the demo.
 * An opt-out counts against the latest send from the same business to the same user on the same channel
 * at or before it, within the attribution window, grouped by that send's frequency and regime.
 */
export async function engagementByFrequencyAndRegime(wh: Warehouse, windowHours = 72): Promise<FrequencyRegimeRow[]> {
  const rows = await queryRows<Record<string, string>>(
    wh,
    `WITH
       per_send AS (
         SELECT s.regime AS regime, s.frequency AS frequency, count() AS sends,
                countIf(has(t.types, 'delivered')) AS delivered,
                countIf(has(t.types, 'read')) AS read,
                countIf(has(t.types, 'clicked')) AS clicked
         FROM sends AS s
         LEFT JOIN (SELECT send_id, groupUniqArray(type) AS types FROM engagements GROUP BY send_id) AS t
           ON t.send_id = s.event_id
         WHERE s.frequency != ''
         GROUP BY regime, frequency),
       outs AS (
         SELECT s.regime AS regime, s.frequency AS frequency, count() AS opt_outs
         FROM (SELECT business_id, user_id, channel, occurred_at FROM subscriptions WHERE type = 'opt_out') AS o
         ASOF INNER JOIN (SELECT business_id, user_id, channel, occurred_at, regime, frequency FROM sends) AS s
           ON o.business_id = s.business_id AND o.user_id = s.user_id AND o.channel = s.channel AND o.occurred_at >= s.occurred_at
         WHERE s.frequency != '' AND dateDiff('second', s.occurred_at, o.occurred_at) <= {window:UInt32} * 3600
         GROUP BY regime, frequency)
     SELECT per_send.regime AS regime, per_send.frequency AS frequency, sends, delivered, read, clicked,
            ifNull(outs.opt_outs, 0) AS opt_outs
     FROM per_send LEFT JOIN outs ON outs.regime = per_send.regime AND outs.frequency = per_send.frequency
     ORDER BY regime, frequency`,
    { window: windowHours },
  );
  return rows.map((r) => {
    const sends = Number(r.sends);
    const delivered = Number(r.delivered);
    return {
      regime: r.regime,
      frequency: r.frequency,
      sends,
      delivered,
      read: Number(r.read),
      clicked: Number(r.clicked),
      opt_outs: Number(r.opt_outs),
      read_rate: delivered ? Number(r.read) / delivered : 0,
      click_rate: delivered ? Number(r.clicked) / delivered : 0,
      opt_outs_per_1k: sends ? (Number(r.opt_outs) / sends) * 1000 : 0,
    };
  });
}
