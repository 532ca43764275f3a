// Shared pieces of the analysis endpoints (frequency frontier, retention, policy impact): request
// dates, their limits, and the SQL that attributes spam-risk events to sends.
// User input never becomes SQL text here: values travel as typed query parameters, and the only text
// spliced into SQL is written in this repository (column lists, fixed filters).
import { CHANNELS, FREQUENCIES } from '../../events/types.js';
import { ApiError } from '../api/errors.js';

export const DAY_MS = 86_400_000;
/** "Date range ≤ 10 years": 10 × 365.25 days, counting both ends. */
export const MAX_RANGE_DAYS = 3653;
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

export const dateSchema = { type: 'string', pattern: DATE_PATTERN, description: 'UTC date, YYYY-MM-DD' } as const;
export const channelSchema = { type: 'string', enum: [...CHANNELS] } as const;
export { CHANNELS, FREQUENCIES };

/** Midnight UTC of a YYYY-MM-DD that names a real calendar day, else null. */
export function calendarDayMs(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  return m && !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value ? ms : null;
}

/** Midnight UTC of a YYYY-MM-DD that names a real calendar day, else INVALID_DATE_RANGE. */
export function parseDay(value: string, name: string): number {
  const ms = calendarDayMs(value);
  if (ms === null) throw new ApiError('INVALID_DATE_RANGE', `${name} is not a calendar date.`);
  return ms;
}

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface DayRange {
  /** Inclusive start, midnight UTC. */
  fromMs: number;
  /** Exclusive end: the day after `to`, midnight UTC. */
  endMs: number;
  days: number;
}

/** from..to inclusive, both dates; from ≤ to and at most `maxDays` days long. */
export function dayRange(from: string, to: string, maxDays = MAX_RANGE_DAYS): DayRange {
  const fromMs = parseDay(from, 'from');
  const toMs = parseDay(to, 'to');
  if (fromMs > toMs) throw new ApiError('INVALID_DATE_RANGE', 'from is after to.');
  const days = (toMs - fromMs) / DAY_MS + 1;
  if (days > maxDays) throw new ApiError('DATE_RANGE_TOO_LONG', `At most ${maxDays} days (10 years); got ${days}.`);
  return { fromMs, endMs: toMs + DAY_MS, days };
}

/**
 * Engagements count with their send (by send_id) when they occur from one day before the window start (clock
 * skew) to this many days after its end: a bound that lets the warehouse skip old and new partitions. Every
 * simulated engagement comes within 37 hours of its send.
 */
export const ENGAGEMENT_LOOKAHEAD_DAYS = 30;

/** The time filter on engagements for sends in [{a_from}, {a_to}); see ENGAGEMENT_LOOKAHEAD_DAYS. */
export const ENGAGEMENT_TIME_FILTER = `occurred_at >= {a_from:DateTime64(3, 'UTC')} - toIntervalDay(1) AND occurred_at < {a_to:DateTime64(3, 'UTC')} + toIntervalDay(${ENGAGEMENT_LOOKAHEAD_DAYS})`;

/** A DateTime64(3, 'UTC') query-parameter value. */
export const chTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Spam-risk events attributed to their send, one row per event: `risk_type` ('opt_out' | 'block' |
 * 'spam_report') plus the listed columns of the send it is attributed to (as `send_<column>`).
 *
 * The rule (the pipeline's metric definition, as in query/query-sql.ts): an opt_out / block / spam_report
 * counts against the latest send from the same business to the same user on the same channel at or before
 * it, when that send is at most {a_window} hours earlier; ties go to the larger event_id. Only events whose
 * send is in [{a_from}, {a_to}) are returned; the events themselves may come up to {a_window} hours after
 * {a_to}. The candidate sends are cut to the triples that have such an event, so the join stays small.
 *
 * Parameters used: a_from, a_to (DateTime64(3, 'UTC')), a_window (UInt32, hours), and whatever the
 * fixed `channelFilter` text names (e.g. "channel IN ({treated:String}, {control:String})").
 */
export function attributedRiskSql(sendColumns: readonly string[], channelFilter = '1'): string {
  for (const c of sendColumns) if (!/^[a-z_]+$/.test(c)) throw new Error(`attributedRiskSql: bad column ${c}`);
  const cols = ['occurred_at', ...sendColumns.filter((c) => c !== 'occurred_at')];
  const window = 'toIntervalHour({a_window:UInt32})';
  const events = `SELECT event_id, business_id, user_id, channel, occurred_at, type FROM subscriptions
      WHERE type IN ('opt_out', 'block', 'spam_report')
        AND occurred_at >= {a_from:DateTime64(3, 'UTC')} AND occurred_at < {a_to:DateTime64(3, 'UTC')} + ${window}
        AND (${channelFilter})`;
  return `
    SELECT risk_type, ${cols.map((c, i) => `best.${i + 1} AS send_${c}`).join(', ')}
    FROM (
      SELECT any(o.type) AS risk_type,
             argMax(tuple(${cols.map((c) => `s.${c}`).join(', ')}), tuple(s.occurred_at, s.event_id)) AS best
      FROM (${events}) AS o
      INNER JOIN (
        SELECT event_id, business_id, user_id, channel${cols.filter((c) => !['business_id', 'user_id', 'channel'].includes(c)).map((c) => `, ${c}`).join('')}
        FROM sends
        WHERE occurred_at >= {a_from:DateTime64(3, 'UTC')} AND occurred_at < {a_to:DateTime64(3, 'UTC')} + ${window} AND (${channelFilter})
          AND (business_id, user_id, channel) IN (SELECT business_id, user_id, channel FROM (${events}))
      ) AS s ON s.business_id = o.business_id AND s.user_id = o.user_id AND s.channel = o.channel
      WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - ${window}
      GROUP BY o.event_id
    )
    WHERE best.1 < {a_to:DateTime64(3, 'UTC')}`;
}

/** A number from a JSONEachRow value (UInt64 and Decimal come back as strings). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** Estimate-with-interval shape shared by the analysis responses. */
export const estimateSchema = {
  type: 'object',
  required: ['estimate', 'ci95'],
  properties: {
    estimate: { type: ['number', 'null'] },
    ci95: { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 },
  },
} as const;
