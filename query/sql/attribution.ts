// Spam-risk attribution, the pipeline's metric definition (docs/metrics.md): an opt_out, block or spam_report
// counts against the latest send from the same business to the same user on the same channel at or before it,
// when that send is at most the attribution window earlier; of sends in the same millisecond, the one with the
// larger event id. Everything that attributes (POST /v1/query on either path, the analyses, the daily_metrics
// export) is built from this module; the spam_pairs rollup (migration 04) holds every candidate pair up to
// PAIRS_MAX_WINDOW_HOURS (events/attribution.ts) apart, for the query path to apply the same rule to.
//
// User input never becomes SQL text here: bounds and filters are fixed SQL written in this repository, and
// values travel as typed query parameters.
import { inBounds, type Bounds } from './values.js';

export const SPAM_RISK_TYPES = `('opt_out', 'block', 'spam_report')`;

/** The query parameter that carries the window (config.attributionWindowHours) into every attributing query. */
export const ATTRIBUTION_WINDOW_PARAM = 'attribution_window_hours';
export const attributionWindowParam = (hours: number): Record<string, number> => ({ [ATTRIBUTION_WINDOW_PARAM]: hours });
/** The attribution window as an SQL interval. */
export const ATTRIBUTION_WINDOW = `toIntervalHour({${ATTRIBUTION_WINDOW_PARAM}:UInt32})`;

/** A send at `sendAt` may explain an event at `eventAt`: at or before it, at most the window earlier. */
export const withinWindow = (sendAt: string, eventAt: string): string => `${sendAt} <= ${eventAt} AND ${sendAt} >= ${eventAt} - ${ATTRIBUTION_WINDOW}`;

/** The aggregate that picks an event's send among its candidates: a tuple of `columns` of the latest one. */
export const latestSend = (columns: readonly string[], sendAt: string, sendId: string): string =>
  `argMax(tuple(${columns.join(', ')}), tuple(${sendAt}, ${sendId}))`;

/**
 * FROM … WHERE of the candidate pairs: spam-risk events `o` (occurred_at within `events`) joined to the sends `s`
 * (within `sends`, with `columns`) that may explain them. The sends are cut to the (business, user, channel)
 * triples that have such an event, so the join stays small.
 */
function candidatePairs(events: Bounds, sends: Bounds, columns: readonly string[], channelFilter: string): string {
  for (const c of columns) if (!/^[a-z_]+$/.test(c)) throw new Error(`attribution: bad column ${c}`);
  const eventRows = `SELECT event_id, type, occurred_at, business_id, user_id, channel FROM subscriptions
        WHERE type IN ${SPAM_RISK_TYPES} AND ${inBounds('occurred_at', events)} AND (${channelFilter})`;
  const sendColumns = [...new Set(['event_id', 'occurred_at', 'business_id', 'user_id', 'channel', ...columns])];
  return `FROM (${eventRows}) AS o
      INNER JOIN (
        SELECT ${sendColumns.join(', ')}
        FROM sends
        WHERE ${inBounds('occurred_at', sends)} AND (${channelFilter})
          AND (business_id, user_id, channel) IN (SELECT business_id, user_id, channel FROM (${eventRows}))
      ) AS s ON s.business_id = o.business_id AND s.user_id = o.user_id AND s.channel = o.channel
      WHERE ${withinWindow('s.occurred_at', 'o.occurred_at')}`;
}

export interface AttributedRiskOptions extends Bounds {
  /** Columns of the attributed send to return, as send_<column>; send_occurred_at is always returned. */
  sendColumns: readonly string[];
  /** Fixed SQL on `channel`, e.g. "channel IN ({treated:String}, {control:String})"; default: every channel. */
  channelFilter?: string;
}

/**
 * Spam-risk events attributed to a send in [from, to), one row per event: `risk_type` ('opt_out' | 'block' |
 * 'spam_report') and the listed columns of its send. The events themselves may come up to the window after
 * `to`; a send before `from` can only be the latest candidate of an event that is then not returned, so
 * earlier sends are not read.
 */
export function attributedRiskSql({ sendColumns, from, to, channelFilter = '1' }: AttributedRiskOptions): string {
  const cols = ['occurred_at', ...sendColumns.filter((c) => c !== 'occurred_at')];
  const range = { from, to: to === null ? null : `${to} + ${ATTRIBUTION_WINDOW}` };
  return `
    SELECT risk_type, ${cols.map((c, i) => `best.${i + 1} AS send_${c}`).join(', ')}
    FROM (
      SELECT any(o.type) AS risk_type, ${latestSend(
        cols.map((c) => `s.${c}`),
        's.occurred_at',
        's.event_id',
      )} AS best
      ${candidatePairs(range, range, cols, channelFilter)}
      GROUP BY o.event_id
    )${
      to === null
        ? ''
        : `
    WHERE best.1 < ${to}`
    }`;
}

/** Ids of the spam-risk events in [from, to) that some send may explain; the others are unattributed. */
export function attributableEventIdsSql(from: string, to: string): string {
  return `SELECT o.event_id ${candidatePairs({ from, to }, { from: `${from} - ${ATTRIBUTION_WINDOW}`, to }, [], '1')}`;
}
