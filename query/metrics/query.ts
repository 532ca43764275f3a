// Runs a metrics query (POST /v1/query, dashboards, exports): builds SQL from catalog fragments only, with every
// user value as a typed parameter, reads rollups where they can answer and raw tables for the rest.
//
// The query is a UNION ALL of branches, each yielding one row per (send or event) group with the same columns:
//   day Date, channel, category, frequency, regime, business_id, campaign_id, topic (Nullable(String)),
//   then one column per base measure the metrics need;
// the outer query filters, groups by the requested dimensions, sums, orders and limits.
//
//   rollup branches: send_metrics_daily or send_metrics_daily_coarse (sends, engagement);
//                    spam_pairs (spam-risk events with their candidate sends) for attributed and unattributed events
//   raw branches:    sends (+ engagements by send_id), spam-risk events attributed to sends, unattributed events
// spam_pairs holds candidates up to 168 hours back (migration 04), so any configured attribution window up to
// that is applied at query time; a longer one sends the spam-risk measures to raw tables (meta.source "mixed").
// docs/metrics.md has the details.
import type { Warehouse } from '../../warehouse/client.js';
import { queryRows } from '../../warehouse/client.js';
import {
  BASE_MEASURES,
  computeMetrics,
  DIMENSIONS,
  measuresFor,
  METRICS,
  type BaseMeasure,
  type BaseValues,
  type MeasureGroup,
  type MetricValue,
} from './catalog.js';
import type { NormalizedQuery } from './request.js';

/** spam_pairs (migration 04) pairs events with sends up to this long before them. */
export const PAIRS_MAX_WINDOW_HOURS = 168;

export type SourceChoice = 'auto' | 'rollup' | 'raw';
export type Source = 'rollup' | 'raw';

export interface RunOptions {
  /** 'auto' (default): rollups wherever they can answer. 'rollup' / 'raw' force a path (tests, checks). */
  source?: SourceChoice;
  /** config.ingest.attributionWindowHours */
  attributionWindowHours: number;
}

export interface QueryRow {
  dimensions: Record<string, string | null>;
  metrics: Record<string, MetricValue>;
}

export interface QueryMeta {
  source: 'rollup' | 'raw' | 'mixed';
  sources: Partial<Record<MeasureGroup, Source>>;
  tables: string[];
  date_range: [string, string];
  metrics: string[];
  dimensions: string[];
  rows: number;
  total_rows: number;
  truncated: boolean;
  attribution_window_hours: number;
  confidence: number;
  intervals: Record<string, string>;
  took_ms: number;
}

export interface QueryResult {
  results: QueryRow[];
  meta: QueryMeta;
}

export class QueryPlanError extends Error {}

const SPAM = `('opt_out', 'block', 'spam_report')`;
const FROM_TS = `toDateTime64({from:Date}, 3, 'UTC')`;
const TO_TS = `toDateTime64({to:Date} + 1, 3, 'UTC')`;
const WINDOW = `toIntervalHour({window:UInt32})`;
const NS = (sql: string) => `CAST(${sql} AS Nullable(String))`;
const NULL_S = `CAST(NULL AS Nullable(String))`;
const regimeOf = (regime: string, named: string, channel: string, day: string) =>
  `if(${named}, ${regime}, dictGetOrDefault('regimes_dict', 'regime', ${channel}, ${day}, 'unknown'))`;

const ZERO: Record<BaseMeasure, string> = Object.fromEntries(
  Object.entries(BASE_MEASURES).map(([m, d]) => [m, m === 'revenue_sq' ? 'toDecimal128(0, 12)' : d.money ? 'toDecimal128(0, 6)' : 'toInt64(0)']),
) as Record<BaseMeasure, string>;

interface Branch {
  /** What it reads, for meta.tables. */
  table: string;
  dims: string; // the eight dimension columns, aliased
  measures: Partial<Record<BaseMeasure, string>>;
  from: string; // FROM … WHERE …
}

function branchSql(b: Branch, measures: BaseMeasure[]): string {
  const cols = measures.map((m) => `${b.measures[m] ?? ZERO[m]} AS ${m}`).join(', ');
  return `SELECT ${b.dims}, ${cols} ${b.from}`;
}

// ---------------------------------------------------------------- rollup branches

const rollupRegime = NS(`if(r.regime_override != '', CAST(r.regime_override AS String), dictGetOrDefault('regimes_dict', 'regime', r.channel, r.day, 'unknown'))`);

// Columns are always qualified (r.…): ClickHouse lets an alias in the SELECT list shadow a column of that name.
// The coarse rollup has no business_id, topic or campaign_id; it is read only when no dimension or filter uses them.
const rollupSends = (coarse: boolean): Branch => ({
  table: coarse ? 'send_metrics_daily_coarse' : 'send_metrics_daily',
  dims: [
    'r.day AS day',
    `${NS('r.channel')} AS channel`,
    `${NS('r.category')} AS category`,
    `nullIf(CAST(r.frequency AS String), '') AS frequency`,
    `${rollupRegime} AS regime`,
    coarse ? `${NULL_S} AS business_id` : `${NS('r.business_id')} AS business_id`,
    coarse ? `${NULL_S} AS campaign_id` : 'r.campaign_id AS campaign_id',
    coarse ? `${NULL_S} AS topic` : 'r.topic AS topic',
  ].join(', '),
  measures: {
    sends: 'r.sends',
    cost_usd: 'r.cost_usd',
    delivered: 'r.delivered',
    read: 'r.read',
    clicked: 'r.clicked',
    replied: 'r.replied',
    converted: 'r.converted',
    revenue_usd: 'r.revenue_usd',
    revenue_sq: 'r.revenue_sq',
  },
  from: `FROM ${coarse ? 'send_metrics_daily_coarse' : 'send_metrics_daily'} AS r WHERE r.day >= {from:Date} AND r.day <= {to:Date}`,
});

// Unattributed events are grouped by their own day, channel, regime, business and topic; send-only dimensions are null.
const unattributedDims: Pick<Branch, 'dims' | 'measures'> = {
  dims: [
    'toDate(o.occurred_at) AS day',
    `${NS('o.channel')} AS channel`,
    `${NULL_S} AS category`,
    `${NULL_S} AS frequency`,
    `${NS(regimeOf('o.regime', 'o.regime_named', 'o.channel', 'toDate(o.occurred_at)'))} AS regime`,
    `${NS('o.business_id')} AS business_id`,
    `${NULL_S} AS campaign_id`,
    'o.topic AS topic',
  ].join(', '),
  measures: {
    unattributed_opt_outs: `toInt64(o.type = 'opt_out')`,
    unattributed_blocks: `toInt64(o.type = 'block')`,
    unattributed_spam_reports: `toInt64(o.type = 'spam_report')`,
  },
};

// The latest candidate send within the window, per spam-risk event (ties: the larger send id).
const PAIRS_LATEST = `SELECT p.event_id AS event_id, any(p.type) AS type,
                            argMax(tuple(p.day, p.channel, p.regime_override, p.category, p.frequency, p.business_id, p.topic,
                                         p.campaign_id), tuple(p.send_at, p.send_id)) AS best
                     FROM spam_pairs AS p
                     WHERE p.occurred_at >= ${FROM_TS} AND p.occurred_at < ${TO_TS} + ${WINDOW}
                       AND p.send_at >= p.occurred_at - ${WINDOW}
                     GROUP BY p.event_id`;

// Spam-risk events counted by type, once each attributed to a send.
const ATTRIBUTED_MEASURES = {
  opt_outs: `toInt64(a.type = 'opt_out')`,
  blocks: `toInt64(a.type = 'block')`,
  spam_reports: `toInt64(a.type = 'spam_report')`,
};

const pairsAttributed: Branch = {
  table: 'spam_pairs',
  dims: [
    'a.best.1 AS day',
    `${NS('a.best.2')} AS channel`,
    `${NS('a.best.4')} AS category`,
    `nullIf(CAST(a.best.5 AS String), '') AS frequency`,
    `${NS(`if(a.best.3 != '', CAST(a.best.3 AS String), dictGetOrDefault('regimes_dict', 'regime', a.best.2, a.best.1, 'unknown'))`)} AS regime`,
    `${NS('a.best.6')} AS business_id`,
    'a.best.8 AS campaign_id',
    'a.best.7 AS topic',
  ].join(', '),
  measures: ATTRIBUTED_MEASURES,
  from: `FROM (${PAIRS_LATEST}) AS a WHERE a.best.1 >= {from:Date} AND a.best.1 <= {to:Date}`,
};

const pairsUnattributed = (): Branch => ({
  ...unattributedDims,
  table: 'subscriptions+spam_pairs',
  from: `FROM subscriptions AS o
         WHERE o.type IN ${SPAM} AND o.occurred_at >= ${FROM_TS} AND o.occurred_at < ${TO_TS}
           AND o.event_id NOT IN (SELECT p.event_id FROM spam_pairs AS p
                                  WHERE p.occurred_at >= ${FROM_TS} AND p.occurred_at < ${TO_TS}
                                    AND p.send_at >= p.occurred_at - ${WINDOW})`,
});

// ---------------------------------------------------------------- raw branches

const rawSends = (engagement: boolean): Branch => ({
  table: engagement ? 'sends+engagements' : 'sends',
  dims: [
    'toDate(s.occurred_at) AS day',
    `${NS('s.channel')} AS channel`,
    `${NS('s.category')} AS category`,
    `nullIf(CAST(s.frequency AS String), '') AS frequency`,
    `${NS(regimeOf('s.regime', 's.regime_named', 's.channel', 'toDate(s.occurred_at)'))} AS regime`,
    `${NS('s.business_id')} AS business_id`,
    's.campaign_id AS campaign_id',
    's.topic AS topic',
  ].join(', '),
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
          revenue_usd: 'toDecimal128(e.rev, 6)',
          revenue_sq: 'toDecimal128(e.rev_sq, 12)',
        }
      : {}),
  },
  from: engagement
    ? `FROM sends AS s
       LEFT JOIN (
         SELECT send_id,
                max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
                max(type = 'replied') AS replied, max(type = 'converted') AS converted,
                toDecimal128(sumIf(revenue_usd, type = 'converted'), 6) AS rev,
                sumIf(toDecimal128(revenue_usd, 6) * toDecimal128(revenue_usd, 6), type = 'converted') AS rev_sq
         FROM engagements
         WHERE send_id IN (SELECT event_id FROM sends WHERE occurred_at >= ${FROM_TS} AND occurred_at < ${TO_TS})
         GROUP BY send_id
       ) AS e ON e.send_id = s.event_id
       WHERE s.occurred_at >= ${FROM_TS} AND s.occurred_at < ${TO_TS}`
    : `FROM sends AS s WHERE s.occurred_at >= ${FROM_TS} AND s.occurred_at < ${TO_TS}`,
});

// Spam-risk events that may be attributed to a send of [from, to]: they happen up to the window after it.
const SPAM_EVENTS = `SELECT event_id, type, occurred_at, channel, business_id, user_id FROM subscriptions
                     WHERE type IN ${SPAM} AND occurred_at >= ${FROM_TS} AND occurred_at < ${TO_TS} + ${WINDOW}`;

const rawAttributed: Branch = {
  table: 'subscriptions+sends (attributed)',
  dims: [
    'toDate(a.best.2) AS day',
    `${NS('a.best.3')} AS channel`,
    `${NS('a.best.6')} AS category`,
    `nullIf(CAST(a.best.7 AS String), '') AS frequency`,
    `${NS(regimeOf('a.best.4', 'a.best.5', 'a.best.3', 'toDate(a.best.2)'))} AS regime`,
    `${NS('a.best.8')} AS business_id`,
    'a.best.10 AS campaign_id',
    'a.best.9 AS topic',
  ].join(', '),
  measures: ATTRIBUTED_MEASURES,
  // The latest send of the same business, user and channel at or before the event, within the window (ties: the
  // larger event_id), among ALL sends; the event counts here if that send is in the range.
  from: `FROM (
           SELECT o.event_id AS event_id, any(o.type) AS type,
                  argMax(tuple(s.event_id, s.occurred_at, s.channel, s.regime, s.regime_named, s.category, s.frequency,
                               s.business_id, s.topic, s.campaign_id), tuple(s.occurred_at, s.event_id)) AS best
           FROM (${SPAM_EVENTS}) AS o
           INNER JOIN (
             SELECT event_id, occurred_at, channel, business_id, user_id, regime, regime_named, category, frequency, topic, campaign_id
             FROM sends
             WHERE occurred_at >= ${FROM_TS} - ${WINDOW} AND occurred_at < ${TO_TS} + ${WINDOW}
               AND (channel, business_id, user_id) IN (SELECT channel, business_id, user_id FROM (${SPAM_EVENTS}))
           ) AS s ON s.channel = o.channel AND s.business_id = o.business_id AND s.user_id = o.user_id
           WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - ${WINDOW}
           GROUP BY o.event_id
         ) AS a
         WHERE a.best.2 >= ${FROM_TS} AND a.best.2 < ${TO_TS}`,
};

const rawUnattributed = (): Branch => ({
  ...unattributedDims,
  table: 'subscriptions+sends (unattributed)',
  from: `FROM subscriptions AS o
         WHERE o.type IN ${SPAM} AND o.occurred_at >= ${FROM_TS} AND o.occurred_at < ${TO_TS}
           AND o.event_id NOT IN (
             SELECT o2.event_id
             FROM (SELECT event_id, occurred_at, channel, business_id, user_id FROM subscriptions
                   WHERE type IN ${SPAM} AND occurred_at >= ${FROM_TS} AND occurred_at < ${TO_TS}) AS o2
             INNER JOIN (
               SELECT occurred_at, channel, business_id, user_id FROM sends
               WHERE occurred_at >= ${FROM_TS} - ${WINDOW} AND occurred_at < ${TO_TS}
                 AND (channel, business_id, user_id) IN (SELECT channel, business_id, user_id FROM subscriptions
                                                         WHERE type IN ${SPAM} AND occurred_at >= ${FROM_TS} AND occurred_at < ${TO_TS})
             ) AS s ON s.channel = o2.channel AND s.business_id = o2.business_id AND s.user_id = o2.user_id
             WHERE s.occurred_at <= o2.occurred_at AND s.occurred_at >= o2.occurred_at - ${WINDOW}
           )`,
});

// ---------------------------------------------------------------- planning

/** Columns only the fine rollup (send_metrics_daily) has. */
const FINE_COLUMNS = ['business_id', 'campaign_id', 'topic'];

export interface Plan {
  sql: string;
  params: Record<string, unknown>;
  measures: BaseMeasure[];
  sources: Partial<Record<MeasureGroup, Source>>;
  /** What each branch reads. */
  tables: string[];
}

/** Decides where each group of measures comes from and builds the SQL. */
export function planQuery(q: NormalizedQuery, opts: RunOptions): Plan {
  const choice = opts.source ?? 'auto';
  const window = opts.attributionWindowHours;
  if (!Number.isInteger(window) || window <= 0) throw new QueryPlanError(`attribution window must be a positive integer, got ${window}`);
  const measures = measuresFor(q.metrics);
  const groups = new Set(measures.map((m) => BASE_MEASURES[m].group));
  const pairsFit = window <= PAIRS_MAX_WINDOW_HOURS;
  if (choice === 'rollup' && !pairsFit && (groups.has('spam') || groups.has('unattributed'))) {
    throw new QueryPlanError(`spam_pairs holds candidates up to ${PAIRS_MAX_WINDOW_HOURS} h back; the configured window is ${window} h`);
  }
  const base: Source = choice === 'raw' ? 'raw' : 'rollup';
  const attribution: Source = choice === 'raw' || !pairsFit ? 'raw' : 'rollup';
  const sources: Partial<Record<MeasureGroup, Source>> = {};
  for (const g of groups) sources[g] = g === 'spam' || g === 'unattributed' ? attribution : base;

  const used = new Set([...q.dimensions.map((d) => DIMENSIONS[d].column), ...q.filters.map((f) => DIMENSIONS[f.dimension].column)]);
  const coarse = !FINE_COLUMNS.some((c) => used.has(c));
  const branches: Branch[] = [base === 'rollup' ? rollupSends(coarse) : rawSends(groups.has('engagement'))];
  if (sources.spam === 'rollup') branches.push(pairsAttributed);
  if (sources.spam === 'raw') branches.push(rawAttributed);
  if (sources.unattributed === 'rollup') branches.push(pairsUnattributed());
  if (sources.unattributed === 'raw') branches.push(rawUnattributed());

  const params: Record<string, unknown> = { from: q.from, to: q.to, window, limit: q.limit };
  const where = q.filters.map((f, i) => {
    params[`f${i}`] = f.values;
    const column = DIMENSIONS[f.dimension].column;
    return `${f.op === 'is_not' ? 'NOT ' : ''}has({f${i}:Array(Nullable(String))}, ${column})`;
  });

  const dimSelect = q.dimensions.map((d, i) => `${DIMENSIONS[d].sql} AS d${i}`);
  const sums = measures.map((m) => `sum(${m}) AS m_${m}`);
  const outputs = measures.map((m) => (BASE_MEASURES[m].money ? `toString(m_${m}) AS o_${m}` : `toFloat64(m_${m}) AS o_${m}`));
  const order = [
    ...q.orderBy.map((o) => `${o.kind === 'metric' ? METRICS[o.key].orderSql : `d${q.dimensions.indexOf(o.key)}`} ${o.dir.toUpperCase()} NULLS LAST`),
    ...q.dimensions.map((_, i) => `d${i} ASC NULLS LAST`),
  ];
  const grouped = q.dimensions.length > 0;
  const sql = [
    `SELECT ${[...dimSelect, ...sums, ...outputs, 'count() OVER () AS total_rows'].join(', ')}`,
    `FROM (${branches.map((b) => branchSql(b, measures)).join('\nUNION ALL\n')}) AS rel`,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    grouped ? `GROUP BY ${q.dimensions.map((_, i) => `d${i}`).join(', ')}` : '',
    // Keeps the two paths' groups identical should a rollup row ever sum to zero.
    grouped ? `HAVING ${measures.map((m) => `m_${m} != 0`).join(' OR ')}` : '',
    order.length ? `ORDER BY ${order.join(', ')}` : '',
    'LIMIT {limit:UInt32}',
  ]
    .filter(Boolean)
    .join('\n');
  return { sql, params, measures, sources, tables: branches.map((b) => b.table) };
}

export async function runMetricsQuery(wh: Warehouse, q: NormalizedQuery, opts: RunOptions): Promise<QueryResult> {
  const started = performance.now();
  const plan = planQuery(q, opts);
  const rows = await queryRows<Record<string, string | number | null>>(wh, plan.sql, plan.params);
  const results = rows.map((r) => {
    const dimensions: Record<string, string | null> = {};
    q.dimensions.forEach((d, i) => (dimensions[d] = r[`d${i}`] === null ? null : String(r[`d${i}`])));
    const base = {} as BaseValues;
    for (const m of Object.keys(BASE_MEASURES) as BaseMeasure[]) base[m] = plan.measures.includes(m) ? Number(r[`o_${m}`]) : 0;
    return { dimensions, metrics: computeMetrics(q.metrics, base) };
  });
  const totalRows = rows.length ? Number(rows[0].total_rows) : 0;
  const kinds = new Set(Object.values(plan.sources));
  return {
    results,
    meta: {
      source: kinds.size > 1 ? 'mixed' : (kinds.values().next().value ?? 'rollup'),
      sources: plan.sources,
      tables: plan.tables,
      date_range: [q.from, q.to],
      metrics: q.metrics,
      dimensions: q.dimensions,
      rows: results.length,
      total_rows: totalRows,
      truncated: totalRows > results.length,
      attribution_window_hours: opts.attributionWindowHours,
      confidence: 0.95,
      intervals: {
        rate: 'Wilson score',
        events_per_1k: 'exact (Garwood) Poisson limits on the event count',
        amount_per_1k: 'normal, compound-Poisson variance (sum of squared conversion revenue)',
      },
      took_ms: Math.round((performance.now() - started) * 10) / 10,
    },
  };
}
