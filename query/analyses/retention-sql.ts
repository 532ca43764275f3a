// Survival data for Kaplan–Meier, aggregated in the warehouse to (group, day, events, censored).
// A subject is one (business, user, channel) with an opt_in; time starts at its first opt_in; the event
// is the first opt_out or block on the same triple at or after that; otherwise it is censored.
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import { ATTRIBUTION_WINDOW, attributionWindowParam } from '../sql/attribution.js';
import { DAY_MS } from '../sql/days.js';
import { chTime, num, timeParam } from '../sql/values.js';

/** Grouping dimensions: fixed SQL expressions over the subject's first opt_in (an allow-list). */
export const RETENTION_GROUPS = {
  frequency: 'frequency',
  channel: 'channel',
  regime: 'regime',
} as const;
export type RetentionGroup = keyof typeof RETENTION_GROUPS;

/**
 * end_of_data: censored at the latest event in the warehouse (sends or subscriptions).
 * last_send: censored at the subscriber's last send after the opt_in plus the attribution window (capped at
 * the end of the data), so subscribers whose subscription lapsed quietly stop counting as at risk.
 */
export const CENSORING = ['end_of_data', 'last_send'] as const;
export type Censoring = (typeof CENSORING)[number];

export interface RetentionCount {
  group: string;
  day: number;
  events: number;
  censored: number;
}

function retentionSql(group: RetentionGroup, censoring: Censoring): string {
  const censorAt = censoring === 'end_of_data' ? 'end_of_data' : `least(end_of_data, greatest(t0, ifNull(last_send, t0)) + ${ATTRIBUTION_WINDOW})`;
  const lastSend =
    censoring === 'end_of_data'
      ? ''
      : `,
  last_sends AS (
    SELECT business_id, user_id, channel, max(occurred_at) AS last_send FROM sends
    WHERE ({channel:String} = '' OR channel = {channel:String})
      AND (business_id, user_id, channel) IN (SELECT business_id, user_id, channel FROM starts)
    GROUP BY business_id, user_id, channel
  )`;
  const lastSendJoin =
    censoring === 'end_of_data' ? '' : `LEFT JOIN last_sends AS ls ON ls.business_id = sj.business_id AND ls.user_id = sj.user_id AND ls.channel = sj.channel`;
  return `
WITH
  greatest((SELECT max(occurred_at) FROM sends), (SELECT max(occurred_at) FROM subscriptions)) AS end_of_data,
  starts AS (
    SELECT business_id, user_id, channel, min(occurred_at) AS t0,
           argMin(frequency, occurred_at) AS frequency, argMin(regime, occurred_at) AS regime
    FROM subscriptions
    WHERE type = 'opt_in' AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY business_id, user_id, channel
    HAVING t0 >= ${timeParam('c_from')} AND t0 < ${timeParam('c_to')}
  ),
  ends AS (
    SELECT business_id, user_id, channel, occurred_at FROM subscriptions
    WHERE type IN ('opt_out', 'block') AND ({channel:String} = '' OR channel = {channel:String})
      AND (business_id, user_id, channel) IN (SELECT business_id, user_id, channel FROM starts)
  )${lastSend},
  subjects AS (
    SELECT st.business_id AS business_id, st.user_id AS user_id, st.channel AS channel,
           any(st.t0) AS t0, any(st.frequency) AS frequency, any(st.regime) AS regime,
           countIf(e.occurred_at >= st.t0) > 0 AS has_event,
           minIf(e.occurred_at, e.occurred_at >= st.t0) AS t_event
    FROM starts AS st
    LEFT JOIN ends AS e ON e.business_id = st.business_id AND e.user_id = st.user_id AND e.channel = st.channel
    GROUP BY st.business_id, st.user_id, st.channel
  ),
  timed AS (
    SELECT ${RETENTION_GROUPS[group]} AS grp, t0, ${censorAt} AS censor_at,
           has_event AND t_event <= censor_at AS ev,
           if(ev, t_event, censor_at) AS t_end
    FROM subjects AS sj ${lastSendJoin}
  )
SELECT grp AS group, intDiv(toUnixTimestamp64Milli(t_end) - toUnixTimestamp64Milli(t0), ${DAY_MS}) AS day,
       countIf(ev) AS events, countIf(NOT ev) AS censored
FROM timed
GROUP BY group, day
ORDER BY group, day
SETTINGS join_use_nulls = 0`;
}

export async function retentionCounts(
  wh: Warehouse,
  q: { group: RetentionGroup; censoring: Censoring; channel: string | null; fromMs: number; endMs: number; attributionWindowHours: number },
): Promise<{ counts: RetentionCount[]; endOfData: string | null }> {
  const [rows, [eod]] = await Promise.all([
    queryRows<Record<string, unknown>>(wh, retentionSql(q.group, q.censoring), {
      channel: q.channel ?? '',
      c_from: chTime(q.fromMs),
      c_to: chTime(q.endMs),
      ...attributionWindowParam(q.attributionWindowHours),
    }),
    queryRows<{ eod: string }>(wh, `SELECT toString(greatest((SELECT max(occurred_at) FROM sends), (SELECT max(occurred_at) FROM subscriptions))) AS eod`),
  ]);
  return {
    counts: rows.map((r) => ({ group: String(r.group), day: Math.max(0, num(r.day)), events: num(r.events), censored: num(r.censored) })),
    endOfData: eod && !eod.eod.startsWith('1970-') ? `${eod.eod.replace(' ', 'T')}Z` : null,
  };
}
