// Counts straight from the raw tables: what the CLI's summary and the tests' truth checks start from.
import { queryRows, type Warehouse } from './client.js';

export interface WarehouseCounts {
  sends: number;
  engagements: Record<string, number>;
  subscriptions: Record<string, number>;
  cost_usd: string;
  revenue_usd: string;
}

export async function rawCounts(wh: Warehouse): Promise<WarehouseCounts> {
  const [s] = await queryRows<{ n: string; cost: string }>(wh, 'SELECT count() AS n, toString(sum(cost_usd)) AS cost FROM sends');
  const e = await queryRows<{ type: string; n: string; revenue: string }>(
    wh,
    'SELECT type, count() AS n, toString(sum(revenue_usd)) AS revenue FROM engagements GROUP BY type',
  );
  const sub = await queryRows<{ type: string; n: string }>(wh, 'SELECT type, count() AS n FROM subscriptions GROUP BY type');
  const revenue = e.reduce((acc, r) => acc + Number(r.revenue), 0);
  return {
    sends: Number(s.n),
    engagements: Object.fromEntries(e.map((r) => [r.type, Number(r.n)])),
    subscriptions: Object.fromEntries(sub.map((r) => [r.type, Number(r.n)])),
    cost_usd: Number(s.cost).toFixed(6),
    revenue_usd: revenue.toFixed(6),
  };
}
