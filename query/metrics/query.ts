// Runs a metrics query (POST /v1/query, dashboards, exports): builds SQL from catalog fragments only, with every
// user value as a typed parameter, reads rollups where they can answer and raw tables for the rest.
//
// The query is a UNION ALL of branches (branches.ts), each yielding one row per (send or event) group with the
// same columns; the outer query filters, groups by the requested dimensions, sums, orders and limits.
// spam_pairs holds candidates up to PAIRS_MAX_WINDOW_HOURS back (migration 04), so any configured attribution
// window up to that is applied at query time; a longer one sends the spam-risk measures to raw tables
// (meta.source "mixed"). docs/metrics.md has the details. Zero-filled time buckets (time-labels.ts) and the other
// period of a comparison (comparison.ts) are added around that query here; docs/api.md describes them.
import { createHash } from 'node:crypto';
import type { Warehouse } from '../../warehouse/client.js';
import { queryRows } from '../../warehouse/client.js';
import { PAIRS_MAX_WINDOW_HOURS } from '../../events/attribution.js';
import { attributionWindowParam } from '../sql/attribution.js';
import { branchSql, FINE_COLUMNS, pairsAttributed, pairsUnattributed, rawAttributed, rawSends, rawUnattributed, rollupSends, type Branch } from './branches.js';
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
import { attachComparisons, comparesPageOnly, otherPeriodQuery } from './comparison.js';
import { ALL_DAYS, readDayRows, sumRange, type DayPartials } from './day-partials.js';
import { MAX_GROUPS, type NormalizedQuery } from './request.js';
import { emptyMetrics, fillTimeLabels, orderOf, tooLarge } from './time-labels.js';

export type SourceChoice = 'auto' | 'rollup' | 'raw';
export type Source = 'rollup' | 'raw';

export interface RunOptions {
  /** 'auto' (default): rollups wherever they can answer. 'rollup' / 'raw' force a path (tests, checks). */
  source?: SourceChoice;
  /** config.attributionWindowHours */
  attributionWindowHours: number;
  /** Day sums kept for reuse, and the warehouse version this request is answered at (the API's; day-partials.ts). */
  daySums?: { cache: DayPartials; version: string };
}

export interface QueryRow {
  dimensions: Record<string, string | null>;
  metrics: Record<string, MetricValue>;
  /** With include.comparisons (comparison.ts). */
  comparison?: { dimensions: Record<string, string | null>; metrics: Record<string, MetricValue>; change: Record<string, MetricValue> };
}

export interface QueryMeta {
  source: 'rollup' | 'raw' | 'mixed';
  sources: Partial<Record<MeasureGroup, Source>>;
  tables: string[];
  date_range: [string, string];
  comparison?: { mode: string; date_range: [string, string] };
  metrics: string[];
  dimensions: string[];
  rows: number;
  total_rows: number;
  truncated: boolean;
  pagination: { limit: number; offset: number };
  time_labels?: string[];
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

export interface Plan {
  sql: string;
  /** How many groups the query has, without ordering or cutting them. */
  countSql: string;
  params: Record<string, unknown>;
  measures: BaseMeasure[];
  sources: Partial<Record<MeasureGroup, Source>>;
  /** What each branch reads. */
  tables: string[];
  /** The same question's sums per day over every day, for day sums kept for reuse (day-partials.ts). */
  daySql: string;
}

/**
 * Decides where each group of measures comes from and builds the SQL. With `withComparison` (a comparison whose
 * period does not overlap the range) one query reads both periods: the range from the other period's first day to
 * the last day, each row tagged with its period (0: this one, 1: the other; days between them are dropped), every
 * group of both periods.
 * Most of a query's time is fixed cost (planning, the attribution pairs' grouping), so one query for both periods
 * costs little more than one for either (docs/performance.md).
 */
/** Rows a tagged query may return: both periods at their cap, and one more to tell. */
const TAGGED_CAP = 2 * MAX_GROUPS + 1;

export function planQuery(q: NormalizedQuery, opts: RunOptions, withComparison = false): Plan {
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
  if (sources.unattributed === 'rollup') branches.push(pairsUnattributed);
  if (sources.unattributed === 'raw') branches.push(rawUnattributed);

  const both = withComparison && q.comparison !== null;
  const params: Record<string, unknown> = { from: q.from, to: q.to, ...attributionWindowParam(window), limit: q.limit, offset: q.offset };
  if (both && q.comparison) {
    Object.assign(params, { from: q.comparison.from, p0f: q.from, p0t: q.to, p1f: q.comparison.from, p1t: q.comparison.to, cap: TAGGED_CAP });
  }
  const where = q.filters.map((f, i) => {
    params[`f${i}`] = f.values;
    const column = DIMENSIONS[f.dimension].column;
    return `${f.op === 'is_not' ? 'NOT ' : ''}has({f${i}:Array(Nullable(String))}, ${column})`;
  });

  const dimSelect = q.dimensions.map((d, i) => `${DIMENSIONS[d].sql} AS d${i}`);
  const sums = measures.map((m) => `sum(${m}) AS m_${m}`);
  const outputs = measures.map((m) => (BASE_MEASURES[m].money ? `toString(m_${m}) AS o_${m}` : `toFloat64(m_${m}) AS o_${m}`));
  // Groups are unique by their dimensions, so ending on all of them makes the order total: pages concatenate.
  const order = [
    ...q.orderBy.map((o) => `${o.kind === 'metric' ? METRICS[o.key].orderSql : `d${q.dimensions.indexOf(o.key)}`} ${o.dir.toUpperCase()} NULLS LAST`),
    ...q.dimensions.map((_, i) => `d${i} ASC NULLS LAST`),
  ];
  const grouped = q.dimensions.length > 0;
  const dimKeys = q.dimensions.map((_, i) => `d${i}`);
  // The branches once: the page's query, its count and the day sums all read them.
  const rel = `FROM (${branches.map((b) => branchSql(b, measures)).join('\nUNION ALL\n')}) AS rel`;
  const bodyOf = (tagged: boolean) => {
    const keys = tagged ? ['period', ...dimKeys] : dimKeys;
    const filters = tagged ? ['period < 2', ...where] : where;
    return [
      rel,
      filters.length ? `WHERE ${filters.join(' AND ')}` : '',
      keys.length ? `GROUP BY ${keys.join(', ')}` : '',
      // Keeps the two paths' groups identical should a rollup row ever sum to zero.
      grouped ? `HAVING ${measures.map((m) => `m_${m} != 0`).join(' OR ')}` : '',
    ];
  };
  const lines = (xs: string[]) => xs.filter(Boolean).join('\n');
  // The tagged query returns every group of both periods, unordered: the page is cut in readGroups by the same
  // order (time-labels.ts orderOf). Window functions to cut it here cost more than the second period did.
  const sql = both
    ? lines([
        `SELECT ${[
          'multiIf(day >= {p0f:Date} AND day <= {p0t:Date}, 0, day >= {p1f:Date} AND day <= {p1t:Date}, 1, 2) AS period',
          ...dimSelect,
          ...sums,
          ...outputs,
        ].join(', ')}`,
        ...bodyOf(true),
        'LIMIT {cap:UInt32}',
      ])
    : lines([
        `SELECT ${[...dimSelect, ...sums, ...outputs, 'count() OVER () AS total_rows'].join(', ')}`,
        ...bodyOf(false),
        order.length ? `ORDER BY ${order.join(', ')}` : '',
        'LIMIT {limit:UInt32} OFFSET {offset:UInt64}',
      ]);
  const countSql = `SELECT count() AS n FROM (${lines(['SELECT', [...dimSelect, ...sums].join(', '), ...bodyOf(false)])})`;
  // Time dimensions are left out: their buckets are made from the day (the catalog's bucket), as zero-filling does.
  const plain = q.dimensions.filter((d) => DIMENSIONS[d].kind !== 'time');
  const daySql = lines([
    `SELECT ${['toString(day) AS day', ...plain.map((d, i) => `${DIMENSIONS[d].sql} AS p${i}`), ...measures.map((m) => `toString(sum(${m})) AS s_${m}`)].join(', ')}`,
    rel,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    `GROUP BY ${['day', ...plain.map((_, i) => `p${i}`)].join(', ')}`,
    'LIMIT {cap:UInt32}',
  ]);
  return { sql, countSql, params, measures, sources, tables: branches.map((b) => b.table), daySql };
}

export interface Groups {
  /** The page of this period's groups, in order. */
  rows: QueryRow[];
  /** How many groups this period has. */
  total: number;
  /** With withComparison: every group of the other period. */
  other: QueryRow[];
  plan: Plan;
}

/** A group as the API answers it, from a row of the query (or of day sums) holding `d<i>` and `o_<measure>`. */
function rowOf(q: NormalizedQuery, plan: Plan, r: Record<string, string | number | null>): QueryRow {
  const dimensions: Record<string, string | null> = {};
  q.dimensions.forEach((d, i) => {
    dimensions[d] = r[`d${i}`] === null ? null : String(r[`d${i}`]);
  });
  const base = {} as BaseValues;
  for (const m of Object.keys(BASE_MEASURES) as BaseMeasure[]) base[m] = plan.measures.includes(m) ? Number(r[`o_${m}`]) : 0;
  return { dimensions, metrics: computeMetrics(q.metrics, base) };
}

/**
 * The query's groups from kept day sums, or null when it must run its own query: day sums need every measure from
 * rollups (the raw path is not read by day), an order the page can be cut by here (dimensions only), and a bucket
 * function for each time dimension.
 */
async function fromDaySums(wh: Warehouse, q: NormalizedQuery, plan: Plan, opts: RunOptions): Promise<Record<string, string | null>[] | null> {
  const ds = opts.daySums;
  if (!ds) return null;
  if (Object.values(plan.sources).some((s) => s !== 'rollup') || q.orderBy.some((o) => o.kind !== 'dimension')) return null;
  const dims = q.dimensions.map((d) => ({ time: DIMENSIONS[d].kind === 'time' ? (DIMENSIONS[d].bucket ?? null) : null }));
  if (q.dimensions.some((d, i) => DIMENSIONS[d].kind === 'time' && !dims[i].time)) return null;
  const params = Object.fromEntries(Object.entries(plan.params).filter(([k]) => !['from', 'to', 'limit', 'offset'].includes(k)));
  // A digest: the SQL text is kilobytes, and keys are held for every question sighted.
  const key = createHash('sha256')
    .update(JSON.stringify([q.dimensions, plan.daySql, params]))
    .digest('base64');
  const sums = await ds.cache.get(
    key,
    ds.version,
    (cap) => readDayRows(wh, plan.daySql, { ...params, ...ALL_DAYS, cap }, dims, plan.measures),
    plan.measures.length,
  );
  return sums && sumRange(sums, plan.measures, q.from, q.to, q.dimensions.length > 0);
}

/** The groups of one page of a query (rows offset+1 .. offset+limit in its order), and how many there are in all. */
export async function readGroups(wh: Warehouse, q: NormalizedQuery, opts: RunOptions, withComparison = false): Promise<Groups> {
  const plan = planQuery(q, opts, withComparison);
  const summed = withComparison ? null : await fromDaySums(wh, q, plan, opts);
  if (summed) {
    const all = summed.map((r) => rowOf(q, plan, r)).sort(orderOf(q));
    return { rows: all.slice(q.offset, q.offset + q.limit), total: q.dimensions.length === 0 ? 1 : all.length, other: [], plan };
  }
  const found = await queryRows<Record<string, string | number | null>>(wh, plan.sql, plan.params);
  const toRow = (r: Record<string, string | number | null>): QueryRow => rowOf(q, plan, r);
  if (withComparison) {
    if (found.length >= TAGGED_CAP) throw tooLarge('The two periods');
    const mine = found.filter((r) => Number(r.period) === 0).map(toRow);
    const other = found.filter((r) => Number(r.period) === 1).map(toRow);
    if (mine.length > MAX_GROUPS || other.length > MAX_GROUPS) throw tooLarge('The two periods');
    // Without dimensions there is always one group; a tagged query has no row for a period without data.
    if (q.dimensions.length === 0) {
      if (!mine.length) mine.push({ dimensions: {}, metrics: emptyMetrics(q.metrics) });
      if (!other.length) other.push({ dimensions: {}, metrics: emptyMetrics(q.metrics) });
    }
    return { rows: mine.sort(orderOf(q)).slice(q.offset, q.offset + q.limit), total: mine.length, other, plan };
  }
  const rows = found.map(toRow);
  let total = found.length ? Number(found[0].total_rows) : 0;
  if (q.dimensions.length === 0) total = 1;
  else if (!found.length && q.offset > 0) {
    // A page past the end has no row to carry the count.
    total = Number((await queryRows<{ n: string }>(wh, plan.countSql, plan.params))[0].n);
  }
  return { rows, total, other: [], plan };
}

export async function runMetricsQuery(wh: Warehouse, q: NormalizedQuery, opts: RunOptions): Promise<QueryResult> {
  const started = performance.now();
  // One query for both periods when they do not overlap (a year_over_year range longer than a year does) and the
  // other period is read whole (comparison.ts comparesPageOnly).
  const oneQuery = q.comparison !== null && q.comparison.to < q.from && !comparesPageOnly(q);
  // Zero-filling needs every group first; the page is cut after filling (time-labels.ts).
  const main = async () => {
    if (!q.timeLabels) return { ...(await readGroups(wh, q, opts, oneQuery)), labels: null };
    const all = await readGroups(wh, { ...q, limit: MAX_GROUPS + 1, offset: 0 }, opts, oneQuery);
    if (all.rows.length > MAX_GROUPS) throw tooLarge('The query');
    const { rows, labels } = fillTimeLabels(q, all.rows);
    return { ...all, rows: rows.slice(q.offset, q.offset + q.limit), total: rows.length, labels };
  };
  const otherPeriod = async (page: QueryRow[] | null) => {
    const found = await readGroups(wh, otherPeriodQuery(q, page), opts);
    if (found.rows.length > MAX_GROUPS) throw tooLarge(`The ${q.comparison?.mode} period`);
    return found.rows;
  };

  let page: Awaited<ReturnType<typeof main>>;
  let results: QueryRow[];
  if (!q.comparison) {
    page = await main();
    results = page.rows;
  } else if (oneQuery) {
    page = await main();
    results = attachComparisons(q, page.rows, page.other);
  } else if (comparesPageOnly(q)) {
    page = await main();
    results = attachComparisons(q, page.rows, page.rows.length ? await otherPeriod(page.rows) : []);
  } else {
    const [p, o] = await Promise.all([main(), otherPeriod(null)]);
    page = p;
    results = attachComparisons(q, page.rows, o);
  }

  const kinds = new Set(Object.values(page.plan.sources));
  return {
    results,
    meta: {
      source: kinds.size > 1 ? 'mixed' : (kinds.values().next().value ?? 'rollup'),
      sources: page.plan.sources,
      tables: page.plan.tables,
      date_range: [q.from, q.to],
      ...(q.comparison ? { comparison: { mode: q.comparison.mode, date_range: [q.comparison.from, q.comparison.to] as [string, string] } } : {}),
      metrics: q.metrics,
      dimensions: q.dimensions,
      rows: results.length,
      total_rows: page.total,
      truncated: page.total > q.offset + results.length,
      pagination: { limit: q.limit, offset: q.offset },
      ...(page.labels ? { time_labels: page.labels } : {}),
      attribution_window_hours: opts.attributionWindowHours,
      confidence: 0.95,
      intervals: {
        rate: 'Wilson score',
        events_per_1k: 'exact (Garwood) Poisson limits on the event count',
        amount_per_1k: 'normal, compound-Poisson variance (sum of squared conversion revenue)',
        ...(q.comparison ? { change: 'MOVER (Newcombe / Zou–Donner): the two periods’ intervals combined as independent' } : {}),
      },
      took_ms: Math.round((performance.now() - started) * 10) / 10,
    },
  };
}
