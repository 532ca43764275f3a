// Compares what the warehouse holds with what the simulator says it wrote.
import { expect } from 'vitest';
import type { Truth } from '../../simulator/index.js';
import type { Warehouse } from '../../warehouse/client.js';
import { queryRows } from '../../warehouse/client.js';
import { LOCAL_SUFFIX } from '../../warehouse/cluster.js';
import { rawCounts } from '../../warehouse/summary.js';

const ENGAGEMENTS = ['delivered', 'read', 'clicked', 'replied', 'converted'] as const;
const SUBSCRIPTIONS = ['opt_in', 'opt_out', 'block', 'spam_report'] as const;

export async function expectWarehouseToMatchTruth(wh: Warehouse, truth: Truth): Promise<void> {
  const raw = await rawCounts(wh);
  const byType = truth.counts.validByType as Record<string, number>;
  expect(raw.sends).toBe(byType.send);
  for (const t of ENGAGEMENTS) expect(raw.engagements[t] ?? 0, t).toBe(byType[t] ?? 0);
  for (const t of SUBSCRIPTIONS) expect(raw.subscriptions[t] ?? 0, t).toBe(byType[t] ?? 0);
  expect(raw.cost_usd).toBe((truth.counts.costMicros / 1e6).toFixed(6));
  expect(raw.revenue_usd).toBe((truth.counts.revenueMicros / 1e6).toFixed(6));
  await expectRollupsToMatchRaw(wh);
}

/** Rows in the three raw tables, and how many distinct event ids among them: equal when nothing was doubled. */
export async function distinctAndTotal(wh: Warehouse): Promise<{ total: number; distinct: number }> {
  const [r] = await queryRows<{ total: string; distinct: string }>(
    wh,
    `SELECT count() AS total, uniqExact(event_id) AS distinct FROM
       (SELECT event_id FROM sends UNION ALL SELECT event_id FROM engagements UNION ALL SELECT event_id FROM subscriptions)`,
  );
  return { total: Number(r.total), distinct: Number(r.distinct) };
}

interface SendTotals {
  sends: number;
  cost_usd: string;
  engagements: Record<string, number>;
  revenue_usd: string;
}

const DECIMAL = (expr: string) => `toString(toDecimal128(${expr}, 6))`;

/** What the query rollups hold, summed over everything; the coarse table is fed from the fine one. */
async function rollupTotals(wh: Warehouse, table: string): Promise<SendTotals> {
  const [r] = await queryRows<Record<string, string>>(
    wh,
    `SELECT sum(sends) AS sends, ${DECIMAL('sum(cost_usd)')} AS cost, ${ENGAGEMENTS.map((t) => `sum(${t}) AS ${t}`).join(', ')},
            ${DECIMAL('sum(revenue_usd)')} AS revenue FROM ${table}`,
  );
  return {
    sends: Number(r.sends),
    cost_usd: r.cost,
    engagements: Object.fromEntries(ENGAGEMENTS.map((t) => [t, Number(r[t])])),
    revenue_usd: r.revenue,
  };
}

/**
 * The same totals straight from the raw tables, written independently of migration 04's views: a type counts once
 * per stored send however many engagements of it arrived; revenue is every conversion of a stored send.
 */
async function rawTotals(wh: Warehouse, suffix = ''): Promise<SendTotals> {
  const [sends, engagements] = [`sends${suffix}`, `engagements${suffix}`];
  const [s] = await queryRows<{ n: string; cost: string }>(wh, `SELECT count() AS n, ${DECIMAL('sum(cost_usd)')} AS cost FROM ${sends}`);
  const stored = `send_id IN (SELECT event_id FROM ${sends})`;
  const e = await queryRows<{ type: string; n: string }>(wh, `SELECT type, uniqExact(send_id) AS n FROM ${engagements} WHERE ${stored} GROUP BY type`);
  const [rev] = await queryRows<{ revenue: string }>(
    wh,
    `SELECT ${DECIMAL('sum(revenue_usd)')} AS revenue FROM ${engagements} WHERE type = 'converted' AND ${stored}`,
  );
  const byType = new Map(e.map((r) => [r.type, Number(r.n)]));
  return {
    sends: Number(s.n),
    cost_usd: s.cost,
    engagements: Object.fromEntries(ENGAGEMENTS.map((t) => [t, byType.get(t) ?? 0])),
    revenue_usd: rev.revenue,
  };
}

/**
 * Nothing doubled or lost on the way into the rollups that queries read: they agree with the raw tables. On a
 * cluster also on every shard by itself, from its shard-local tables, and every shard holds some of the sends.
 */
export async function expectRollupsToMatchRaw(wh: Warehouse): Promise<void> {
  const raw = await rawTotals(wh);
  expect(await rollupTotals(wh, 'send_metrics_daily')).toEqual(raw);
  expect(await rollupTotals(wh, 'send_metrics_daily_coarse')).toEqual(raw);
  for (const [i, server] of (wh.cluster?.servers ?? []).entries()) {
    const shard = { ...wh, client: server };
    const local = await rawTotals(shard, LOCAL_SUFFIX);
    if (raw.sends > 0) expect(local.sends, `sends on server ${i + 1}`).toBeGreaterThan(0);
    expect(await rollupTotals(shard, `send_metrics_daily${LOCAL_SUFFIX}`), `server ${i + 1}`).toEqual(local);
    expect(await rollupTotals(shard, `send_metrics_daily_coarse${LOCAL_SUFFIX}`), `server ${i + 1}`).toEqual(local);
  }
}
