// The query window of an export: inclusive UTC days, either end optional.
import { checkDayRange, DAY_MS, type DayLimits } from '../sql/days.js';
import { chTime, inBounds, timeParam, type Bounds } from '../sql/values.js';

export interface ExportWindow {
  /** Inclusive first UTC day, YYYY-MM-DD, or null for no lower bound. */
  from: string | null;
  /** Inclusive last UTC day, YYYY-MM-DD, or null for no upper bound. */
  to: string | null;
}

/**
 * DateTime64(3) covers 1900-01-01 to 2299-12-31 and the window's end is the midnight after `to`; events are
 * accepted from 2010 on. No limit on the length: an export may span all the data.
 */
export const EXPORT_DAYS: DayLimits = { min: '1970-01-01', max: '2299-12-30' };

/** Checks from/to (both optional); throws INVALID_DATE_RANGE. */
export function parseWindow(from: string | undefined, to: string | undefined): ExportWindow {
  checkDayRange(from, to, EXPORT_DAYS);
  return { from: from ?? null, to: to ?? null };
}

/** Query parameters of a window: pl_from (inclusive) and pl_until (exclusive), as DateTime64(3, 'UTC') text. */
export function windowParams(w: ExportWindow): Record<string, string> {
  const p: Record<string, string> = {};
  if (w.from !== null) p.pl_from = chTime(Date.parse(`${w.from}T00:00:00Z`));
  if (w.to !== null) p.pl_until = chTime(Date.parse(`${w.to}T00:00:00Z`) + DAY_MS);
  return p;
}

/** The window as SQL bounds over windowParams. */
export const windowBounds = (w: ExportWindow): Bounds => ({
  from: w.from === null ? null : timeParam('pl_from'),
  to: w.to === null ? null : timeParam('pl_until'),
});

/** occurred_at within the window. */
export const windowSql = (w: ExportWindow): string => inBounds('occurred_at', windowBounds(w));
