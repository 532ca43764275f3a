// Runs a metrics query (POST /v1/query, dashboards, exports): builds SQL from catalog fragments only, with every
// user value as a typed parameter, reads rollups where they can answer and raw tables for the rest.
//
// The query is a UNION ALL of branches (branches.ts), each yielding one row per (send or event) group with the
// same columns; the outer query filters, groups by the requested dimensions, sums, orders and limits.
// spam_pairs holds candidates up to PAIRS_MAX_WINDOW_HOURS back (migration 04), so any configured attribution
// window up to that is applied at query time; a longer one sends the spam-risk measures to raw tables
// (meta.source "mixed"). docs/metrics.md has the details.
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
import type { NormalizedQuery } from './request.js';

export type SourceChoice = 'auto' | 'rollup' | 'raw';
export type Source = 'rollup' | 'raw';

export interface RunOptions {
  /** 'auto' (default): rollups wherever they can answer. 'rollup' / 'raw' force a path (tests, checks). */
  source?: SourceChoice;
  /** config.attributionWindowHours */
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
  if (sources.unattributed === 'rollup') branches.push(pairsUnattributed);
  if (sources.unattributed === 'raw') branches.push(rawUnattributed);

  const params: Record<string, unknown> = { from: q.from, to: q.to, ...attributionWindowParam(window), limit: q.limit };
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
    q.dimensions.forEach((d, i) => {
      dimensions[d] = r[`d${i}`] === null ? null : String(r[`d${i}`]);
    });
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
