// Whole UTC days as every endpoint takes them (YYYY-MM-DD, ranges inclusive of both ends), and the one check
// their dates go through. Endpoints differ only in the limits they pass (the types their SQL binds the dates
// to hold different spans); the codes are the same everywhere: INVALID_DATE_RANGE, DATE_RANGE_TOO_LONG.
import { DAY_MS, isoDay } from '../../common/days.js';
import { ApiError } from '../../common/errors.js';

export { DAY_MS, isoDay };
/** "Date range ≤ 10 years": 10 × 365.25 days, counting both ends. */
export const MAX_RANGE_DAYS = 3653;
export const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/** Midnight UTC of a YYYY-MM-DD that names a real calendar day, else null. */
export function calendarDayMs(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  return m && !Number.isNaN(ms) && isoDay(ms) === value ? ms : null;
}

export interface DayLimits {
  /** First and last day allowed, YYYY-MM-DD, inclusive; no bound when absent. */
  min?: string;
  max?: string;
  /** Most days a range may span, counting both ends; no bound when absent. */
  maxDays?: number;
}

/** Midnight UTC of a calendar day YYYY-MM-DD within min..max, else INVALID_DATE_RANGE. */
export function parseDay(value: string, name: string, limits: DayLimits = {}): number {
  const ms = calendarDayMs(value);
  if (ms === null) throw new ApiError('INVALID_DATE_RANGE', `${name} is not a calendar date YYYY-MM-DD.`);
  // Both are valid YYYY-MM-DD here, so text order is date order.
  if ((limits.min !== undefined && value < limits.min) || (limits.max !== undefined && value > limits.max)) {
    throw new ApiError('INVALID_DATE_RANGE', `${name} must lie within ${limits.min ?? 'any day'} .. ${limits.max ?? 'any day'}.`);
  }
  return ms;
}

export interface OpenDayRange {
  /** Inclusive start, midnight UTC; null: no lower bound. */
  fromMs: number | null;
  /** Exclusive end: the day after `to`, midnight UTC; null: no upper bound. */
  endMs: number | null;
}

/** The check of a from..to request: each given end a day within the limits, from ≤ to, at most maxDays long. */
export function checkDayRange(from: string | undefined, to: string | undefined, limits: DayLimits): OpenDayRange {
  const fromMs = from === undefined ? null : parseDay(from, 'from', limits);
  const toMs = to === undefined ? null : parseDay(to, 'to', limits);
  if (fromMs !== null && toMs !== null) {
    if (fromMs > toMs) throw new ApiError('INVALID_DATE_RANGE', `from ${from} is after to ${to}.`);
    const days = (toMs - fromMs) / DAY_MS + 1;
    if (limits.maxDays !== undefined && days > limits.maxDays) throw new ApiError('DATE_RANGE_TOO_LONG', `At most ${limits.maxDays} days; got ${days}.`);
  }
  return { fromMs, endMs: toMs === null ? null : toMs + DAY_MS };
}

export interface DayRange {
  fromMs: number;
  endMs: number;
}

/** checkDayRange with both ends required. */
export function dayRange(from: string, to: string, limits: DayLimits): DayRange {
  return checkDayRange(from, to, limits) as DayRange;
}
