// Values on their way into and out of the warehouse, and time bounds on their columns.

/** A DateTime64(3, 'UTC') query-parameter value. */
export const chTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** The SQL placeholder of a DateTime64(3, 'UTC') query parameter (a value made by chTime). */
export const timeParam = (name: string): string => `{${name}:DateTime64(3, 'UTC')}`;

/** A number from a JSONEachRow value (UInt64 and Decimal come back as strings). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** A half-open time range [from, to) as SQL DateTime64 expressions written in this repository; null: no bound. */
export interface Bounds {
  from: string | null;
  to: string | null;
}

/** `column` within the bounds ('1' when there are none). */
export const inBounds = (column: string, b: Bounds): string =>
  [b.from === null ? '' : `${column} >= ${b.from}`, b.to === null ? '' : `${column} < ${b.to}`].filter(Boolean).join(' AND ') || '1';
