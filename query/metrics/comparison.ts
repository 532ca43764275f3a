// include.comparisons: each group of the page beside the same group in the other period (date-range.ts), and the
// change, this period minus the other, with its 95% interval. The periods hold different sends, so their estimates
// are independent and the change's interval is recovered from the two intervals (stats.ts differenceInterval).
// Counts and amounts have no interval (they are totals, not estimates), so neither has their change.
import { FINE_COLUMNS } from './branches.js';
import { DIMENSIONS, intervalKey, METRICS, type Interval, type MetricValue } from './catalog.js';
import { comparisonPeriod } from './date-range.js';
import { MAX_GROUPS, type NormalizedQuery } from './request.js';
import { differenceInterval } from './stats.js';
import { emptyMetrics, timeDimensionOf, type Row } from './time-labels.js';

export interface Compared extends Row {
  comparison: { dimensions: Record<string, string | null>; metrics: Record<string, MetricValue>; change: Record<string, MetricValue> };
}

/**
 * Whether the other period is read after the page, restricted to the page's values of each dimension. Queries by
 * business, campaign or topic can have more groups than fit in memory; the others have a few hundred per bucket,
 * so their other period is read at the same time as the page.
 */
export const comparesPageOnly = (q: NormalizedQuery): boolean => q.dimensions.some((d) => FINE_COLUMNS.includes(DIMENSIONS[d].column));

/** The query of the other period: all its groups, or those with the page's values when comparesPageOnly. */
export function otherPeriodQuery(q: NormalizedQuery, page: readonly Row[] | null): NormalizedQuery {
  if (!q.comparison) throw new Error('otherPeriodQuery: the query has no comparison');
  const time = timeDimensionOf(q);
  const pageFilters = (page ? q.dimensions.filter((d) => d !== time) : []).map((dimension) => ({
    op: 'is' as const,
    dimension,
    values: [...new Set(page!.map((r) => r.dimensions[dimension]))],
  }));
  return {
    ...q,
    from: q.comparison.from,
    to: q.comparison.to,
    filters: [...q.filters, ...pageFilters],
    orderBy: [],
    limit: MAX_GROUPS + 1,
    offset: 0,
    comparison: null,
    timeLabels: false,
  };
}

/** this − other for every metric, and for each metric with an interval the interval of the change. */
export function changeOf(metrics: readonly string[], now: Record<string, MetricValue>, before: Record<string, MetricValue>): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const name of metrics) {
    const [a, b] = [now[name], before[name]];
    const both = typeof a === 'number' && typeof b === 'number';
    out[name] = both ? a - b : null;
    if (!METRICS[name].interval) continue;
    const [ca, cb] = [now[intervalKey(name)], before[intervalKey(name)]] as (Interval | null)[];
    const ci = both && ca && cb ? differenceInterval(a, ca, b, cb) : null;
    out[intervalKey(name)] = ci?.every(Number.isFinite) ? ci : null;
  }
  return out;
}

/** The page's rows, each with the matching group of the other period (zeros where it has none) and the change. */
export function attachComparisons(q: NormalizedQuery, page: readonly Row[], other: readonly Row[]): Compared[] {
  if (!q.comparison) throw new Error('attachComparisons: the query has no comparison');
  const time = timeDimensionOf(q);
  const { shift } = comparisonPeriod(q.comparison.mode, q.from, q.to);
  const bucket = time ? DIMENSIONS[time].bucket : undefined;
  // A bucket maps to the other period's bucket that holds its first day in the range, moved back by the shift.
  const counterpart = (dims: Record<string, string | null>): Record<string, string | null> => {
    if (!time || !bucket) return dims;
    const label = dims[time] as string;
    const firstDay = label.localeCompare(q.from) < 0 ? q.from : label;
    return { ...dims, [time]: bucket(shift(firstDay)) };
  };
  const key = (dims: Record<string, string | null>) => JSON.stringify(q.dimensions.map((d) => dims[d]));
  const byKey = new Map(other.map((r) => [key(r.dimensions), r]));
  const empty = emptyMetrics(q.metrics);
  return page.map((r) => {
    const dimensions = counterpart(r.dimensions);
    const metrics = byKey.get(key(dimensions))?.metrics ?? { ...empty };
    return { ...r, comparison: { dimensions, metrics, change: changeOf(q.metrics, r.metrics, metrics) } };
  });
}
