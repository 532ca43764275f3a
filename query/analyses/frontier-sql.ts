// Per (frequency, business) sums for the frequency frontier, aggregated in the warehouse.
// Recurring sends are the sends with a frequency (the contract allows one only on recurring_notification).
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import type { FrontierSums } from './frontier.js';
import { attributedRiskSql, attributionWindowParam } from '../sql/attribution.js';
import { DAY_MS } from '../sql/days.js';
import { engagementTimeFilter, perSendEngagementSql } from '../sql/engagement.js';
import { chTime, num, timeParam } from '../sql/values.js';

/** A gap longer than this many nominal periods (1, 7, 30 days) is a lapse, not a send interval. */
export const LAPSE_PERIODS = 3;

const FROM = timeParam('a_from');
const TO = timeParam('a_to');
const CHANNEL = `{channel:String} = '' OR channel = {channel:String}`;

const FRONTIER_SQL = `
WITH
  rec AS (
    SELECT event_id, occurred_at, business_id, user_id, channel, frequency, cost_usd
    FROM sends
    WHERE frequency IN ('daily', 'weekly', 'monthly')
      AND occurred_at >= ${FROM} AND occurred_at < ${TO}
      AND (${CHANNEL})
  ),
  base AS (
    SELECT frequency, business_id, sum(n) AS sends, count() AS subscribers, sum(cost) AS cost,
           sum(gap_n) AS gap_n, sum(gap_ms) AS gap_ms
    FROM (
      SELECT frequency, business_id, user_id, channel, count() AS n, sum(cost_usd) AS cost,
             arrayPopFront(arrayDifference(arraySort(groupArray(toUnixTimestamp64Milli(occurred_at))))) AS gaps,
             multiIf(frequency = 'daily', 1, frequency = 'weekly', 7, 30) * {lapse:UInt32} * ${DAY_MS} AS cap,
             arrayCount(g -> g <= cap, gaps) AS gap_n,
             arraySum(g -> if(g <= cap, g, 0), gaps) AS gap_ms
      FROM rec
      GROUP BY frequency, business_id, user_id, channel
    )
    GROUP BY frequency, business_id
  ),
  rev AS (
    SELECT r.frequency AS frequency, r.business_id AS business_id, sum(e.revenue) AS revenue
    FROM rec AS r
    INNER JOIN (${perSendEngagementSql(`type = 'converted' AND ${engagementTimeFilter(FROM, TO)} AND (${CHANNEL})`)}) AS e
      ON e.send_id = r.event_id
    GROUP BY frequency, business_id
  ),
  risk AS (
    SELECT send_frequency AS frequency, send_business_id AS business_id,
           countIf(risk_type = 'opt_out') AS opt_outs, countIf(risk_type = 'block') AS blocks,
           countIf(risk_type = 'spam_report') AS spam_reports
    FROM (${attributedRiskSql({ sendColumns: ['business_id', 'frequency'], from: FROM, to: TO, channelFilter: CHANNEL })})
    WHERE send_frequency IN ('daily', 'weekly', 'monthly')
    GROUP BY frequency, business_id
  )
SELECT base.frequency AS frequency, base.business_id AS business_id, sends, subscribers,
       toFloat64(cost) AS cost_usd, toFloat64(ifNull(rev.revenue, 0)) AS revenue_usd,
       ifNull(risk.opt_outs, 0) AS opt_outs, ifNull(risk.blocks, 0) AS blocks, ifNull(risk.spam_reports, 0) AS spam_reports,
       gap_n, gap_ms / ${DAY_MS} AS gap_days
FROM base
LEFT JOIN rev ON rev.frequency = base.frequency AND rev.business_id = base.business_id
LEFT JOIN risk ON risk.frequency = base.frequency AND risk.business_id = base.business_id
ORDER BY frequency, business_id
SETTINGS join_use_nulls = 1`;

export interface FrontierRow extends FrontierSums {
  frequency: string;
  business_id: string;
}

export async function frontierRows(
  wh: Warehouse,
  q: { fromMs: number; endMs: number; channel: string | null; attributionWindowHours: number },
): Promise<FrontierRow[]> {
  const rows = await queryRows<Record<string, unknown>>(wh, FRONTIER_SQL, {
    a_from: chTime(q.fromMs),
    a_to: chTime(q.endMs),
    ...attributionWindowParam(q.attributionWindowHours),
    channel: q.channel ?? '',
    lapse: LAPSE_PERIODS,
  });
  return rows.map((r) => ({
    frequency: String(r.frequency),
    business_id: String(r.business_id),
    sends: num(r.sends),
    subscribers: num(r.subscribers),
    opt_outs: num(r.opt_outs),
    blocks: num(r.blocks),
    spam_reports: num(r.spam_reports),
    revenue_usd: num(r.revenue_usd),
    cost_usd: num(r.cost_usd),
    gap_n: num(r.gap_n),
    gap_days: num(r.gap_days),
  }));
}
