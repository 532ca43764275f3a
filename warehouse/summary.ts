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
