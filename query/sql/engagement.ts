// What a send's engagements add up to, the one rule every query of them uses (docs/metrics.md): a send counts
// once for each type it has at least one engagement of, however many it has, and its revenue is that of its
// converted engagements. Migration 04 builds the send_metrics_daily rollups by the same rule.

/**
 * Engagements are read from one day before the sends' start (clock skew between producers) and, where the
 * sends have an end, up to this many days after it: bounds that let the warehouse skip old and new partitions.
 * Every simulated engagement comes within 37 hours of its send.
 */
export const ENGAGEMENT_LOOKAHEAD_DAYS = 30;

/**
 * The time filter on engagements for sends in [from, to): SQL DateTime64 expressions written in this
 * repository, or null for an open end (then engagements count however early or late they are).
 */
export function engagementTimeFilter(from: string | null, to: string | null): string {
  const parts: string[] = [];
  if (from !== null) parts.push(`occurred_at >= ${from} - toIntervalDay(1)`);
  if (to !== null) parts.push(`occurred_at < ${to} + toIntervalDay(${ENGAGEMENT_LOOKAHEAD_DAYS})`);
  return parts.length ? parts.join(' AND ') : '1';
}

/**
 * One row per send that has engagements matching `where` (fixed SQL written in this repository): send_id;
 * delivered, read, clicked, replied, converted (1 when the send has at least one of the type, else 0); revenue
 * (USD, Decimal128(6)) and revenue_sq (sum of squared conversion revenue, Decimal128(12), for the revenue
 * interval) of its converted engagements. Columns a query does not read are dropped by the warehouse.
 */
export function perSendEngagementSql(where: string): string {
  return `SELECT send_id,
         max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
         max(type = 'replied') AS replied, max(type = 'converted') AS converted,
         toDecimal128(sumIf(revenue_usd, type = 'converted'), 6) AS revenue,
         sumIf(toDecimal128(revenue_usd, 6) * toDecimal128(revenue_usd, 6), type = 'converted') AS revenue_sq
  FROM engagements
  WHERE ${where}
  GROUP BY send_id`;
}
