// What the API answers, and how an answer is read: lenient about small shape differences, strict about what
// the charts need.
import { isoDay } from '../common/days.js';

// ---------------------------------------------------------------------------------------------------------
// Response shapes, as the contract and the route files (query/api/routes/*.ts) give them. Fields the dashboards do
// not read are left out.

export interface RegimeEntry {
  channel: string;
  regime: string;
  /** Inclusive UTC day. */
  start: string;
  /** Exclusive UTC day, null when open. */
  end: string | null;
  label: string;
}

export interface Interval {
  estimate: number | null;
  ci95: [number, number] | null;
}

export interface FrontierResponse {
  from: string;
  to: string;
  channel: string | null;
  horizon_days: number;
  frequencies: ({
    frequency: string;
    businesses: number;
    subscribers: number;
    sends: number;
    opt_outs: number;
    blocks: number;
    spam_reports: number;
    revenue_usd: number;
    cost_usd: number;
  } & Record<string, Interval | number | string>)[];
}

export interface RetentionResponse {
  by: string;
  channel: string | null;
  end_of_data: string | null;
  groups: {
    group: string;
    subjects: number;
    events: number;
    censored: number;
    median_days: number | null;
    steps: { day: number; at_risk: number; events: number; censored: number; survival: number; ci95: [number, number] }[];
  }[];
}

export interface ImpactCell {
  channel: string;
  value: number;
  numerator: number;
  denominator: number;
  businesses: number;
}

export interface ImpactResponse {
  metric: string;
  metric_description: string;
  /** The treated channels, comma-separated. */
  treated: string;
  /** The control channels, comma-separated; null without a control (an interrupted time series). */
  control: string | null;
  change: { input: string; date: string; regime: string | null };
  window_days: number;
  windows: { before: { from: string; to: string }; after: { from: string; to: string } };
  /** Difference in differences only. */
  cells?: { treated_before: ImpactCell; treated_after: ImpactCell; control_before: ImpactCell; control_after: ImpactCell };
  estimate: number;
  ci95: [number, number] | null;
  pre_trend?: { weeks: number; slope_per_week: number | null; ci95: [number, number] | null; parallel_trends_plausible: boolean };
  method?: { name?: string; chosen?: string; reason?: string; interval?: string };
  /** Event study: effects by week relative to the change (reference week −1). */
  event_study?: { reference_week: number; weeks: { relative_week: number; estimate: number | null; ci95: [number, number] | null }[] };
  /** Interrupted time series: observed, fitted and counterfactual by week relative to the change. */
  its?: { weeks: { relative_week: number; observed: number | null; fitted: number; counterfactual: number }[] };
  placebo?: { randomisation_p: number | null } | null;
  warnings: string[];
}

/** Metrics as numbers, and their intervals by metric name. */
export interface MetricValues {
  metrics: Record<string, number | null>;
  ci95: Record<string, [number, number] | null>;
}

/** One result of POST /v1/query, normalised: dimension values as strings (null kept), metrics as numbers. */
export interface QueryResult extends MetricValues {
  dimensions: Record<string, string | null>;
  /** With include.comparisons: the other period's values and the change (this − other), each with intervals. */
  comparison?: { previous: MetricValues; change: MetricValues };
}

/** One frontier answer, for one regime on one channel. */
export interface FrontierPart {
  regime: string;
  channel: string;
  response: FrontierResponse;
}

// ---------------------------------------------------------------------------------------------------------
// Normalisers: lenient about small shape differences, strict about what the charts need.

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
};
const pair = (v: unknown): [number, number] | null => {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const a = numOrNull(v[0]);
  const b = numOrNull(v[1]);
  return a === null || b === null ? null : [a, b];
};

export function regimesFrom(body: unknown): RegimeEntry[] {
  const list = Array.isArray(body) ? body : isObj(body) && Array.isArray(body.regimes) ? body.regimes : null;
  if (!list) throw new Error('regimes: expected {regimes: [...]} or an array');
  return list.map((r: unknown) => {
    if (!isObj(r) || typeof r.channel !== 'string' || typeof r.regime !== 'string' || typeof r.start !== 'string')
      throw new Error(`regimes: bad entry ${JSON.stringify(r)}`);
    return {
      channel: r.channel,
      regime: r.regime,
      start: r.start.slice(0, 10),
      end: typeof r.end === 'string' ? r.end.slice(0, 10) : null,
      label: typeof r.label === 'string' && r.label ? r.label : r.regime,
    };
  });
}

/** A time dimension's value as YYYY-MM-DD: accepts a date, a date-time, or epoch milliseconds. */
export function dayOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return isoDay(v);
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  if (v.length === 10) return v;
  const ms = Date.parse(v.includes('T') || v.includes('Z') ? v : `${v.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? v.slice(0, 10) : isoDay(ms);
}

function metricValues(m: Record<string, unknown>): MetricValues {
  const metrics: Record<string, number | null> = {};
  const ci95: Record<string, [number, number] | null> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.endsWith('_ci95')) ci95[k.slice(0, -5)] = pair(v);
    else if (isObj(v) && 'estimate' in v) {
      // Tolerated: {estimate, ci95} per metric, as the analysis endpoints write intervals.
      metrics[k] = numOrNull(v.estimate);
      ci95[k] = pair(v.ci95);
    } else metrics[k] = numOrNull(v);
  }
  return { metrics, ci95 };
}

export function queryResults(body: unknown): QueryResult[] {
  if (!isObj(body) || !Array.isArray(body.results)) throw new Error('query: expected {results: [...]}');
  return body.results.map((r: unknown) => {
    if (!isObj(r) || !isObj(r.dimensions) || !isObj(r.metrics)) throw new Error(`query: bad result ${JSON.stringify(r).slice(0, 200)}`);
    const dimensions: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(r.dimensions))
      dimensions[k] = v === null || v === undefined || v === '' ? null : k.startsWith('time:') ? dayOf(v) : String(v);
    const c = r.comparison;
    const comparison = isObj(c) && isObj(c.metrics) && isObj(c.change) ? { previous: metricValues(c.metrics), change: metricValues(c.change) } : undefined;
    return { dimensions, ...metricValues(r.metrics), ...(comparison ? { comparison } : {}) };
  });
}
