// include.time_labels: every bucket of the time dimension over the range, for every combination of the other
// dimensions that has data in it. A bucket without data gets the metrics of nothing: counts and amounts 0, rates and
// per-1k values null (a zero denominator), intervals null. The filled groups are ordered here by the rule the SQL
// orders by (query.ts), so that pages of a filled answer concatenate too.
import { ApiError } from '../../common/errors.js';
import { BASE_MEASURE_NAMES, computeMetrics, DIMENSIONS, type BaseValues, type MetricValue } from './catalog.js';
import { timeLabels } from './date-range.js';
import { MAX_GROUPS, type NormalizedQuery } from './request.js';

export interface Row {
  dimensions: Record<string, string | null>;
  metrics: Record<string, MetricValue>;
}

/** What a group with no data answers. */
export const emptyMetrics = (metrics: readonly string[]): Record<string, MetricValue> =>
  computeMetrics(metrics, Object.fromEntries(BASE_MEASURE_NAMES.map((m) => [m, 0])) as BaseValues);

export const timeDimensionOf = (q: Pick<NormalizedQuery, 'dimensions'>): string | undefined => q.dimensions.find((d) => DIMENSIONS[d].kind === 'time');

export function tooLarge(what: string): ApiError {
  return new ApiError('RESULT_TOO_LARGE', `${what} would hold more than ${MAX_GROUPS.toLocaleString('en')} groups.`);
}

/** Every group of `rows` (all of the query's groups, in any order) plus the empty buckets, in the query's order. */
export function fillTimeLabels<R extends Row>(q: NormalizedQuery, rows: R[]): { rows: (R | Row)[]; labels: string[] } {
  const time = timeDimensionOf(q);
  if (!time) throw new Error('fillTimeLabels: the query has no time dimension');
  const bucket = DIMENSIONS[time].bucket;
  if (!bucket) throw new Error(`fillTimeLabels: ${time} has no bucket rule`);
  const labels = timeLabels(q.from, q.to, bucket);
  const others = q.dimensions.filter((d) => d !== time);
  const comboKey = (dims: Record<string, string | null>) => JSON.stringify(others.map((d) => dims[d]));
  const combos = new Map<string, Record<string, string | null>>(others.length ? [] : [['[]', {}]]);
  const found = new Map<string, R>();
  for (const r of rows) {
    combos.set(comboKey(r.dimensions), r.dimensions);
    found.set(`${comboKey(r.dimensions)}|${r.dimensions[time]}`, r);
  }
  if (combos.size * labels.length > MAX_GROUPS) throw tooLarge(`Zero-filling ${labels.length} buckets for ${combos.size} groups`);
  const empty = emptyMetrics(q.metrics);
  const filled: (R | Row)[] = [];
  for (const [key, dims] of combos) {
    for (const label of labels) {
      const hit = found.get(`${key}|${label}`);
      filled.push(hit ?? { dimensions: Object.fromEntries(q.dimensions.map((d) => [d, d === time ? label : dims[d]])), metrics: { ...empty } });
    }
  }
  return { rows: filled.sort(orderOf(q)), labels };
}

// ClickHouse orders strings by their bytes; so does this, rather than by UTF-16 units.
const bytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function compareNullsLast(a: unknown, b: unknown, dir: 'asc' | 'desc'): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  const c = typeof a === 'number' && typeof b === 'number' ? a - b : bytes(String(a), String(b));
  return dir === 'desc' ? -c : c;
}

/** The order of the query's SQL: its order_by, then every dimension ascending; nulls last throughout. */
export function orderOf(q: NormalizedQuery): (a: Row, b: Row) => number {
  const keys = [
    ...q.orderBy.map((o) => ({ get: (r: Row) => (o.kind === 'metric' ? r.metrics[o.key] : r.dimensions[o.key]), dir: o.dir })),
    ...q.dimensions.map((d) => ({ get: (r: Row) => r.dimensions[d], dir: 'asc' as const })),
  ];
  return (a, b) => {
    for (const k of keys) {
      const c = compareNullsLast(k.get(a), k.get(b), k.dir);
      if (c !== 0) return c;
    }
    return 0;
  };
}
