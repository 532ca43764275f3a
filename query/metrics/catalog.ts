// The one place metrics and dimensions are defined: names, meanings (docs/metrics.md is their prose), how each
// metric is computed from base counts, its interval, and the SQL fragments queries are allowed to use.
// /v1/query, the dashboards and the exports all go through this catalog (and query/metrics/query.ts).
//
// Nothing here depends on user input: user-supplied names are looked up in these tables (allow-lists) and
// user-supplied values only ever travel as typed query parameters.
import { addDays, dayMs } from '../../common/days.js';
import { amountIntervalPer1k, rateIntervalPer1k, wilsonOrNull, Z_95 } from './stats.js';

/**
 * Base measures: the sums every query reads, from rollups or raw tables. A metric is a function of these.
 * `group` says which part of the data a measure needs, so a query reads only what its metrics use.
 */
export const BASE_MEASURES = {
  sends: { group: 'sends', money: false },
  cost_usd: { group: 'sends', money: true },
  delivered: { group: 'engagement', money: false },
  read: { group: 'engagement', money: false },
  clicked: { group: 'engagement', money: false },
  replied: { group: 'engagement', money: false },
  converted: { group: 'engagement', money: false },
  revenue_usd: { group: 'engagement', money: true },
  /** Sum of squared revenue_usd of converted engagements, for the revenue interval. */
  revenue_sq: { group: 'engagement', money: true },
  opt_outs: { group: 'spam', money: false },
  blocks: { group: 'spam', money: false },
  spam_reports: { group: 'spam', money: false },
  unattributed_opt_outs: { group: 'unattributed', money: false },
  unattributed_blocks: { group: 'unattributed', money: false },
  unattributed_spam_reports: { group: 'unattributed', money: false },
} as const;

export type BaseMeasure = keyof typeof BASE_MEASURES;
export type MeasureGroup = (typeof BASE_MEASURES)[BaseMeasure]['group'];
export const BASE_MEASURE_NAMES = Object.keys(BASE_MEASURES) as BaseMeasure[];

/** Base measure values of one group of rows (numbers; money as decimal dollars). */
export type BaseValues = Record<BaseMeasure, number>;

export type MetricKind = 'count' | 'amount' | 'rate' | 'per_1k';
export type Interval = [number, number];

/** A rate or per-1k metric as a ratio of sums: what /v1/policy-impact sums per business and week. */
export interface MetricRatio {
  numerator(b: BaseValues): number;
  denominator: BaseMeasure;
  /** 1000 for per-1k metrics, else 1. */
  scale: number;
}

export interface MetricDef {
  name: string;
  kind: MetricKind;
  /** The definition, as in docs/metrics.md. */
  description: string;
  /** Base measures it is computed from. */
  uses: BaseMeasure[];
  /** Rates and per-1k metrics: the ratio `value` computes. */
  ratio?: MetricRatio;
  value(b: BaseValues): number | null;
  /** 95% interval (rates and per-1k metrics only); null when undefined (e.g. a zero denominator). */
  interval?(b: BaseValues, z: number): Interval | null;
  /** SQL over the aggregated base measures (named m_<measure>), for ORDER BY. */
  orderSql: string;
}

/** A metric's ratio and the value it gives (null on a zero denominator). */
function fromRatio(r: MetricRatio): { ratio: MetricRatio; value: (b: BaseValues) => number | null } {
  return {
    ratio: r,
    value: (b) => (b[r.denominator] === 0 ? null : r.scale === 1 ? r.numerator(b) / b[r.denominator] : (r.numerator(b) / b[r.denominator]) * r.scale),
  };
}
const sqlRatio = (num: string, den: string) => `if(m_${den} = 0, NULL, m_${num} / m_${den})`;
const sqlPer1k = (num: string) => `if(m_sends = 0, NULL, (${num}) / m_sends * 1000)`;

function count(name: BaseMeasure, description: string): MetricDef {
  return { name, kind: 'count', description, uses: [name], value: (b) => b[name], orderSql: `m_${name}` };
}

function rate(name: string, num: BaseMeasure, den: BaseMeasure, description: string): MetricDef {
  return {
    name,
    kind: 'rate',
    description,
    uses: [num, den],
    ...fromRatio({ numerator: (b) => b[num], denominator: den, scale: 1 }),
    interval: (b, z) => wilsonOrNull(b[num], b[den], z),
    orderSql: sqlRatio(num, den),
  };
}

function eventsPer1k(name: string, events: BaseMeasure[], description: string): MetricDef {
  const sum = (b: BaseValues) => events.reduce((acc, m) => acc + b[m], 0);
  return {
    name,
    kind: 'per_1k',
    description,
    uses: ['sends', ...events],
    ...fromRatio({ numerator: sum, denominator: 'sends', scale: 1000 }),
    interval: (b, z) => (b.sends === 0 ? null : rateIntervalPer1k(Math.max(0, sum(b)), b.sends, z)),
    orderSql: sqlPer1k(events.map((m) => `m_${m}`).join(' + ')),
  };
}

const METRIC_LIST: MetricDef[] = [
  count('sends', 'Distinct send events.'),
  { ...count('cost_usd', 'Sum of cost_usd over sends.'), kind: 'amount' },
  count('delivered', 'Distinct sends with at least one delivered engagement.'),
  count('read', 'Distinct sends with at least one read engagement.'),
  count('clicked', 'Distinct sends with at least one clicked engagement.'),
  count('replied', 'Distinct sends with at least one replied engagement.'),
  count('converted', 'Distinct sends with at least one converted engagement.'),
  rate('delivery_rate', 'delivered', 'sends', 'delivered / sends.'),
  rate('read_rate', 'read', 'delivered', 'read / delivered.'),
  rate('click_rate', 'clicked', 'delivered', 'clicked / delivered.'),
  rate('conversion_rate', 'converted', 'delivered', 'converted / delivered.'),
  { ...count('revenue_usd', 'Sum of revenue_usd over converted engagements.'), kind: 'amount' },
  {
    name: 'revenue_per_1k',
    kind: 'per_1k',
    description: 'revenue_usd / sends × 1000.',
    uses: ['sends', 'revenue_usd', 'revenue_sq'],
    ...fromRatio({ numerator: (b) => b.revenue_usd, denominator: 'sends', scale: 1000 }),
    interval: (b, z) => {
      if (b.sends === 0 || b.revenue_sq === 0) return null;
      const [lo, hi] = amountIntervalPer1k(b.revenue_usd, b.revenue_sq, b.sends, z);
      return [Math.max(0, lo), hi];
    },
    orderSql: sqlPer1k('toFloat64(m_revenue_usd)'),
  },
  {
    name: 'net_revenue_per_1k',
    kind: 'per_1k',
    description: '(revenue_usd − cost_usd) / sends × 1000.',
    uses: ['sends', 'revenue_usd', 'revenue_sq', 'cost_usd'],
    ...fromRatio({ numerator: (b) => b.revenue_usd - b.cost_usd, denominator: 'sends', scale: 1000 }),
    interval: (b, z) => (b.sends === 0 || b.revenue_sq === 0 ? null : amountIntervalPer1k(b.revenue_usd - b.cost_usd, b.revenue_sq, b.sends, z)),
    orderSql: sqlPer1k('toFloat64(m_revenue_usd) - toFloat64(m_cost_usd)'),
  },
  count('opt_outs', 'opt_out events attributed to a send (see attribution).'),
  count('blocks', 'block events attributed to a send.'),
  count('spam_reports', 'spam_report events attributed to a send.'),
  count('unattributed_opt_outs', 'opt_out events with no send to attribute them to.'),
  count('unattributed_blocks', 'block events with no send to attribute them to.'),
  count('unattributed_spam_reports', 'spam_report events with no send to attribute them to.'),
  eventsPer1k('opt_outs_per_1k', ['opt_outs'], 'attributed opt_outs / sends × 1000.'),
  eventsPer1k('blocks_per_1k', ['blocks'], 'attributed blocks / sends × 1000.'),
  eventsPer1k('spam_reports_per_1k', ['spam_reports'], 'attributed spam_reports / sends × 1000.'),
  eventsPer1k('spam_risk_per_1k', ['opt_outs', 'blocks', 'spam_reports'], '(attributed opt_outs + blocks + spam_reports) / sends × 1000.'),
];

export const METRICS: Readonly<Record<string, MetricDef>> = Object.freeze(Object.fromEntries(METRIC_LIST.map((m) => [m.name, m])));
export const METRIC_NAMES: readonly string[] = METRIC_LIST.map((m) => m.name);
export const isMetric = (name: string): boolean => Object.hasOwn(METRICS, name);
/** The key under which a metric's interval is reported. */
export const intervalKey = (metric: string): string => `${metric}_ci95`;

export type DimensionKind = 'time' | 'attribute';

export interface DimensionDef {
  name: string;
  kind: DimensionKind;
  description: string;
  /**
   * Column of the query relation (query/metrics/branches.ts) the dimension reads: day, channel, category, frequency,
   * regime, business_id, campaign_id, topic. Every column is Nullable(String) except day (Date).
   */
  column: string;
  /** SQL over the relation that yields the reported value (a string or NULL). */
  sql: string;
  filterable: boolean;
  /** Time dimensions: the label `sql` gives a day (YYYY-MM-DD), for zero-filling and comparisons; keep the two in step. */
  bucket?: (day: string) => string;
}

const attr = (name: string, description: string): DimensionDef => ({ name, kind: 'attribute', description, column: name, sql: name, filterable: true });

const DIMENSION_LIST: DimensionDef[] = [
  attr('channel', 'messenger, instagram or whatsapp.'),
  attr('category', 'The send category (response, recurring_notification, marketing_template, …).'),
  attr('frequency', 'daily, weekly or monthly for recurring notifications; null for other sends.'),
  attr('regime', 'The policy regime: the one the event named, else the regime table’s for its channel and UTC day.'),
  attr('business_id', 'The sending business.'),
  attr('campaign_id', 'The campaign of the send; null when it had none.'),
  attr('topic', 'The send topic; null when it had none.'),
  { name: 'time:day', kind: 'time', description: 'UTC day of the send, YYYY-MM-DD.', column: 'day', sql: 'toString(day)', filterable: false, bucket: (d) => d },
  {
    name: 'time:week',
    kind: 'time',
    description: 'Monday (UTC) of the ISO week of the send, YYYY-MM-DD.',
    column: 'day',
    sql: 'toString(toMonday(day))',
    filterable: false,
    bucket: (d) => addDays(d, -((new Date(dayMs(d)).getUTCDay() + 6) % 7)),
  },
  {
    name: 'time:month',
    kind: 'time',
    description: 'First day (UTC) of the month of the send, YYYY-MM-DD.',
    column: 'day',
    sql: 'toString(toStartOfMonth(day))',
    filterable: false,
    bucket: (d) => `${d.slice(0, 7)}-01`,
  },
];

export const DIMENSIONS: Readonly<Record<string, DimensionDef>> = Object.freeze(Object.fromEntries(DIMENSION_LIST.map((d) => [d.name, d])));
export const DIMENSION_NAMES: readonly string[] = DIMENSION_LIST.map((d) => d.name);
export const isDimension = (name: string): boolean => Object.hasOwn(DIMENSIONS, name);

/** The base measures a set of metrics needs (always including sends, which defines the groups). */
export function measuresFor(metrics: readonly string[]): BaseMeasure[] {
  const set = new Set<BaseMeasure>(['sends']);
  for (const m of metrics) for (const b of METRICS[m].uses) set.add(b);
  return BASE_MEASURE_NAMES.filter((b) => set.has(b));
}

export type MetricValue = number | null | Interval;

/** Values of the named metrics, each rate or per-1k metric followed by its `<name>_ci95` interval. */
export function computeMetrics(metrics: readonly string[], b: BaseValues, z: number = Z_95): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const name of metrics) {
    const def = METRICS[name];
    out[name] = def.value(b);
    if (def.interval) {
      const ci = def.interval(b, z);
      out[intervalKey(name)] = ci?.every(Number.isFinite) ? ci : null;
    }
  }
  return out;
}
