// The days of a /v1/query: relative ranges ("30d", "all", …) resolved against the warehouse's extent, the other
// period of a comparison, and the time buckets of a range. docs/api.md ("Date ranges") is the prose of these rules.
import { addDays, dayMs, DAY_MS, isoDay } from '../../common/days.js';

export const RELATIVE_RANGES = ['all', '7d', '30d', 'month', '6mo', '12mo', 'year'] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];
export const isRelativeRange = (value: unknown): value is RelativeRange => (RELATIVE_RANGES as readonly unknown[]).includes(value);

export const COMPARISON_MODES = ['previous_period', 'year_over_year'] as const;
export type ComparisonMode = (typeof COMPARISON_MODES)[number];

/** First and last UTC day with a send or a spam-risk event: the days /v1/query can count. */
export interface Extent {
  first: string;
  last: string;
}

const monthStart = (day: string): string => `${day.slice(0, 7)}-01`;

/** The first day of the month `months` months before the month of `day`. */
function monthsBack(day: string, months: number): string {
  const d = new Date(dayMs(day));
  return isoDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1));
}

/**
 * [from, to] of a relative range. Every range ends on the warehouse's last event day (not today): on a warehouse
 * fed live the two are the same day, and on a historical or simulated one "30d" still means the latest 30 days of
 * data rather than an empty answer. An empty warehouse has no extent; its ranges end today (UTC).
 */
export function resolveRelativeRange(range: RelativeRange, extent: Extent | null, today: string = isoDay(Date.now())): [string, string] {
  const last = extent?.last ?? today;
  switch (range) {
    case 'all':
      return [extent?.first ?? today, last];
    case '7d':
      return [addDays(last, -6), last];
    case '30d':
      return [addDays(last, -29), last];
    case 'month':
      return [monthStart(last), last];
    case '6mo':
      return [monthsBack(last, 5), last];
    case '12mo':
      return [monthsBack(last, 11), last];
    case 'year':
      return [`${last.slice(0, 4)}-01-01`, last];
  }
}

/** The same calendar day one year earlier; 29 February becomes 28 February. */
export function yearBefore(day: string): string {
  const y = String(Number(day.slice(0, 4)) - 1).padStart(4, '0');
  const md = day.slice(5) === '02-29' ? '02-28' : day.slice(5);
  return `${y}-${md}`;
}

const daysIn = (from: string, to: string): number => (dayMs(to) - dayMs(from)) / DAY_MS + 1;

/**
 * The other period of a comparison and how a day of the range maps into it. previous_period: the same number of days
 * just before `from`; year_over_year: the same calendar days a year earlier.
 */
export function comparisonPeriod(mode: ComparisonMode, from: string, to: string): { from: string; to: string; shift: (day: string) => string } {
  if (mode === 'year_over_year') return { from: yearBefore(from), to: yearBefore(to), shift: yearBefore };
  const n = daysIn(from, to);
  return { from: addDays(from, -n), to: addDays(from, -1), shift: (day) => addDays(day, -n) };
}

/** Every bucket label of a time dimension over from..to, in order; `bucket` maps a day to its bucket's label. */
export function timeLabels(from: string, to: string, bucket: (day: string) => string): string[] {
  const labels: string[] = [];
  for (let ms = dayMs(from), end = dayMs(to); ms <= end; ms += DAY_MS) {
    const label = bucket(isoDay(ms));
    if (labels[labels.length - 1] !== label) labels.push(label);
  }
  return labels;
}
