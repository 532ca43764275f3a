// Compares what the warehouse holds with what the simulator says it wrote.
import { expect } from 'vitest';
import type { Truth } from '../../simulator/index.js';
import type { Warehouse } from '../../warehouse/client.js';
import { queryRows } from '../../warehouse/client.js';
import { rawCounts, rollupCounts } from '../../warehouse/summary.js';

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
  expect(await rollupCounts(wh)).toEqual(raw);
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
