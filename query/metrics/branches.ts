// The branches a metrics query is a UNION ALL of (query.ts plans which). Each yields one row per send or event
// group with the same columns:
//   day Date, channel, category, frequency, regime, business_id, campaign_id, topic (Nullable(String)),
//   then one column per base measure the metrics need (a branch without the measure yields 0).
//
//   rollup branches: send_metrics_daily or send_metrics_daily_coarse (sends, engagement);
//                    spam_pairs (spam-risk events with their candidate sends) for attributed and unattributed events
//   raw branches:    sends (+ engagements by send_id), spam-risk events attributed to sends, unattributed events
// Attribution and the per-send engagement rule come from query/sql/, so both paths and every other consumer
// count alike. The query parameters are {from:Date}, {to:Date} and the attribution window.
import { attributableEventIdsSql, attributedRiskSql, ATTRIBUTION_WINDOW, latestSend, SPAM_RISK_TYPES, withinWindow } from '../sql/attribution.js';
import { perSendEngagementSql } from '../sql/engagement.js';
import { BASE_MEASURES, type BaseMeasure } from './catalog.js';

const FROM_TS = `toDateTime64({from:Date}, 3, 'UTC')`;
const TO_TS = `toDateTime64({to:Date} + 1, 3, 'UTC')`;
const NS = (sql: string) => `CAST(${sql} AS Nullable(String))`;
const NULL_S = `CAST(NULL AS Nullable(String))`;
/**
 * The regime a row names, else the regime table's for its channel and day. The dictionary is named with its
 * database: on a cluster the shards run the query in their default database, and the initiator folds
 * currentDatabase() into a constant before sending it.
 */
const regimeOf = (named: string, regime: string, channel: string, day: string) =>
  NS(`if(${named}, ${regime}, dictGetOrDefault(currentDatabase() || '.regimes_dict', 'regime', ${channel}, ${day}, 'unknown'))`);

const ZERO: Record<BaseMeasure, string> = Object.fromEntries(
  Object.entries(BASE_MEASURES).map(([m, d]) => [m, m === 'revenue_sq' ? 'toDecimal128(0, 12)' : d.money ? 'toDecimal128(0, 6)' : 'toInt64(0)']),
) as Record<BaseMeasure, string>;

export interface Branch {
  /** What it reads, for meta.tables. */
  table: string;
  dims: string; // the eight dimension columns, aliased
  measures: Partial<Record<BaseMeasure, string>>;
  from: string; // FROM … WHERE …
}

export function branchSql(b: Branch, measures: BaseMeasure[]): string {
  const cols = measures.map((m) => `${b.measures[m] ?? ZERO[m]} AS ${m}`).join(', ');
  return `SELECT ${b.dims}, ${cols} ${b.from}`;
}

/** The eight dimension columns from the send columns of a row (`c(name)` is the SQL of the send's column). */
function sendDims(c: (column: string) => string, regime: string): string {
  return [
    `${c('day')} AS day`,
    `${NS(c('channel'))} AS channel`,
    `${NS(c('category'))} AS category`,
    `nullIf(CAST(${c('frequency')} AS String), '') AS frequency`,
    `${regime} AS regime`,
    `${NS(c('business_id'))} AS business_id`,
    `${c('campaign_id')} AS campaign_id`,
    `${c('topic')} AS topic`,
  ].join(', ');
}

// Spam-risk events counted by type, once each attributed to a send.
const ATTRIBUTED_MEASURES = {
  opt_outs: `toInt64(a.risk_type = 'opt_out')`,
  blocks: `toInt64(a.risk_type = 'block')`,
  spam_reports: `toInt64(a.risk_type = 'spam_report')`,
};

// Unattributed events are grouped by their own day, channel, regime, business and topic; send-only dimensions are null.
const unattributed = (table: string, attributable: string): Branch => ({
  table,
  dims: [
    'toDate(o.occurred_at) AS day',
    `${NS('o.channel')} AS channel`,
    `${NULL_S} AS category`,
    `${NULL_S} AS frequency`,
    `${regimeOf('o.regime_named', 'o.regime', 'o.channel', 'toDate(o.occurred_at)')} AS regime`,
    `${NS('o.business_id')} AS business_id`,
    `${NULL_S} AS campaign_id`,
    'o.topic AS topic',
  ].join(', '),
  measures: {
    unattributed_opt_outs: `toInt64(o.type = 'opt_out')`,
    unattributed_blocks: `toInt64(o.type = 'block')`,
    unattributed_spam_reports: `toInt64(o.type = 'spam_report')`,
  },
  from: `FROM subscriptions AS o
         WHERE o.type IN ${SPAM_RISK_TYPES} AND o.occurred_at >= ${FROM_TS} AND o.occurred_at < ${TO_TS}
           AND o.event_id NOT IN (${attributable})`,
});

// ---------------------------------------------------------------- rollup branches

/** Columns only the fine rollup (send_metrics_daily) has. */
export const FINE_COLUMNS: readonly string[] = ['business_id', 'campaign_id', 'topic'];

// Columns are always qualified (r.…): ClickHouse lets an alias in the SELECT list shadow a column of that name.
// The coarse rollup has no business_id, topic or campaign_id; it is read only when no dimension or filter uses them.
export function rollupSends(coarse: boolean): Branch {
  const table = coarse ? 'send_metrics_daily_coarse' : 'send_metrics_daily';
  return {
    table,
    dims: sendDims(
      (c) => (coarse && FINE_COLUMNS.includes(c) ? NULL_S : `r.${c}`),
      regimeOf(`r.regime_override != ''`, 'CAST(r.regime_override AS String)', 'r.channel', 'r.day'),
    ),
    measures: Object.fromEntries(
      (['sends', 'cost_usd', 'delivered', 'read', 'clicked', 'replied', 'converted', 'revenue_usd', 'revenue_sq'] as const).map((m) => [m, `r.${m}`]),
    ),
    from: `FROM ${table} AS r WHERE r.day >= {from:Date} AND r.day <= {to:Date}`,
  };
}

const PAIR_COLUMNS = ['day', 'channel', 'regime_override', 'category', 'frequency', 'business_id', 'topic', 'campaign_id'];

// The latest candidate send within the window, per spam-risk event, from the pairs migration 04 keeps.
const PAIRS_LATEST = `SELECT p.event_id AS event_id, any(p.type) AS risk_type,
                            ${latestSend(
                              PAIR_COLUMNS.map((c) => `p.${c}`),
                              'p.send_at',
                              'p.send_id',
                            )} AS best
                     FROM spam_pairs AS p
                     WHERE p.occurred_at >= ${FROM_TS} AND p.occurred_at < ${TO_TS} + ${ATTRIBUTION_WINDOW}
                       AND ${withinWindow('p.send_at', 'p.occurred_at')}
                     GROUP BY p.event_id`;

const pair = (c: string) => `a.best.${PAIR_COLUMNS.indexOf(c) + 1}`;

export const pairsAttributed: Branch = {
  table: 'spam_pairs',
  dims: sendDims(pair, regimeOf(`${pair('regime_override')} != ''`, `CAST(${pair('regime_override')} AS String)`, pair('channel'), pair('day'))),
  measures: ATTRIBUTED_MEASURES,
  from: `FROM (${PAIRS_LATEST}) AS a WHERE ${pair('day')} >= {from:Date} AND ${pair('day')} <= {to:Date}`,
};

export const pairsUnattributed: Branch = unattributed(
  'subscriptions+spam_pairs',
  `SELECT p.event_id FROM spam_pairs AS p
   WHERE p.occurred_at >= ${FROM_TS} AND p.occurred_at < ${TO_TS} AND ${withinWindow('p.send_at', 'p.occurred_at')}`,
);

// ---------------------------------------------------------------- raw branches

const RANGE = `s.occurred_at >= ${FROM_TS} AND s.occurred_at < ${TO_TS}`;

export function rawSends(engagement: boolean): Branch {
  const engagements = perSendEngagementSql(`send_id IN (SELECT event_id FROM sends AS s WHERE ${RANGE})`);
  return {
    table: engagement ? 'sends+engagements' : 'sends',
    dims: sendDims((c) => (c === 'day' ? 'toDate(s.occurred_at)' : `s.${c}`), regimeOf('s.regime_named', 's.regime', 's.channel', 'toDate(s.occurred_at)')),
    measures: {
      sends: 'toInt64(1)',
      cost_usd: 'toDecimal128(s.cost_usd, 6)',
      ...(engagement
        ? {
            delivered: 'toInt64(e.delivered)',
            read: 'toInt64(e.read)',
            clicked: 'toInt64(e.clicked)',
            replied: 'toInt64(e.replied)',
            converted: 'toInt64(e.converted)',
            revenue_usd: 'toDecimal128(e.revenue, 6)',
            revenue_sq: 'toDecimal128(e.revenue_sq, 12)',
          }
        : {}),
    },
    from: `FROM sends AS s${engagement ? `\n       LEFT JOIN (${engagements}) AS e ON e.send_id = s.event_id` : ''}\n       WHERE ${RANGE}`,
  };
}

// The event counts where its send is: in [from, to], whatever day the event itself falls on.
const ATTRIBUTED_SEND_COLUMNS = ['channel', 'regime', 'regime_named', 'category', 'frequency', 'business_id', 'topic', 'campaign_id'];

export const rawAttributed: Branch = {
  table: 'subscriptions+sends (attributed)',
  dims: sendDims(
    (c) => (c === 'day' ? 'toDate(a.send_occurred_at)' : `a.send_${c}`),
    regimeOf('a.send_regime_named', 'a.send_regime', 'a.send_channel', 'toDate(a.send_occurred_at)'),
  ),
  measures: ATTRIBUTED_MEASURES,
  from: `FROM (${attributedRiskSql({ sendColumns: ATTRIBUTED_SEND_COLUMNS, from: FROM_TS, to: TO_TS })}) AS a`,
};

export const rawUnattributed: Branch = unattributed('subscriptions+sends (unattributed)', attributableEventIdsSql(FROM_TS, TO_TS));
