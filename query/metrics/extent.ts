// The warehouse's extent for relative date ranges: the first and last UTC day of a send (from the coarse rollup,
// which is ordered by day and small) or of a spam-risk event (unattributed ones count on their own day).
// Engagements are not read: they count on the day of their send.
import type { Warehouse } from '../../warehouse/client.js';
import { queryRows } from '../../warehouse/client.js';
import { SPAM_RISK_TYPES } from '../sql/attribution.js';
import type { Extent } from './date-range.js';

const EXTENT_SQL = `
SELECT toString(min(first)) AS first, toString(max(last)) AS last FROM (
  SELECT minOrNull(day) AS first, maxOrNull(day) AS last FROM send_metrics_daily_coarse WHERE sends > 0
  UNION ALL
  SELECT minOrNull(toDate(occurred_at)), maxOrNull(toDate(occurred_at)) FROM subscriptions WHERE type IN ${SPAM_RISK_TYPES}
)`;

/** null when the warehouse holds no send and no spam-risk event. */
export async function warehouseExtent(wh: Warehouse): Promise<Extent | null> {
  const [row] = await queryRows<{ first: string | null; last: string | null }>(wh, EXTENT_SQL);
  return row?.first && row.last ? { first: row.first, last: row.last } : null;
}
