// Day sums kept for reuse: dashboards and product teams ask one question again and again over other date ranges
// (a date picker, "the last 30 days" moving on). Every measure a rollup query reads is a sum of rows of one day, so
// the answer for any range is a sum of that question's per-day sums. The sums of a question over every day are read
// once per warehouse version, kept as running totals per group, and any range is then two subtractions per group
// and measure, exact to the last digit (decimals are summed as integers of 10^-12).
// Why the sums are additive by day, branch by branch: docs/metrics.md ("Day sums").
import { Counter, type Registry } from 'prom-client';
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import { VersionedStore } from '../versioned-store.js';
import type { BaseMeasure } from './catalog.js';

/** The whole date range a day-sum query reads: the first and last day a Date column holds, less the day after. */
export const ALL_DAYS = { from: '1970-01-01', to: '2149-06-05' } as const;

const SCALE = 12;
const UNIT = 10n ** BigInt(SCALE);

/** A decimal's text (`-12.5`, `3`, `0.000001`) as an integer of 10^-12. */
export function toScaled(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  if (fraction.length > SCALE) throw new Error(`a day sum has more than ${SCALE} decimals: ${text}`);
  const v = BigInt(whole || '0') * UNIT + BigInt(fraction.padEnd(SCALE, '0') || '0');
  return negative ? -v : v;
}

/** An integer of 10^-12 as decimal text, which Number() reads as the engine's own text of the same value. */
export function fromScaled(v: bigint): string {
  const negative = v < 0n;
  const abs = negative ? -v : v;
  const text = `${abs / UNIT}.${(abs % UNIT).toString().padStart(SCALE, '0')}`;
  return negative ? `-${text}` : text;
}

interface Group {
  /** The group's value of each requested dimension. */
  dims: (string | null)[];
  /** Its days, ascending. */
  days: string[];
  /** Per measure, running totals: totals[m][i] is the sum of its first i days. */
  totals: bigint[][];
}

export interface DaySums {
  groups: Group[];
  rows: number;
}

/** A day-sum query's row: its day, its value of each requested dimension and each measure's sum, as text. */
export type DayRow = { day: string; dims: (string | null)[]; sums: string[] };

/** Running totals per group from per-day rows (in any order). */
export function buildDaySums(rows: DayRow[], measures: number): DaySums {
  const byKey = new Map<string, { dims: (string | null)[]; rows: DayRow[] }>();
  for (const r of rows) {
    const key = JSON.stringify(r.dims);
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { dims: r.dims, rows: [] }));
    g.rows.push(r);
  }
  const groups: Group[] = [];
  for (const g of byKey.values()) {
    g.rows.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    const totals = Array.from({ length: measures }, () => [0n]);
    const days: string[] = [];
    for (const r of g.rows) {
      // Two rows of one day and group (a time dimension buckets days, not groups them) add up in one place.
      if (days.at(-1) === r.day) {
        for (let m = 0; m < measures; m++) totals[m][days.length] += toScaled(r.sums[m]);
        continue;
      }
      days.push(r.day);
      for (let m = 0; m < measures; m++) totals[m].push(totals[m][days.length - 1] + toScaled(r.sums[m]));
    }
    groups.push({ dims: g.dims, days, totals });
  }
  return { groups, rows: rows.length };
}

/** First index whose day is at or after `day`. */
function lowerBound(days: string[], day: string): number {
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (days[mid] < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each group's sums over from…to, as the metrics query's own rows would hold them (`d<i>`, `o_<measure>`). With
 * dimensions, groups whose every sum is zero are left out (the query's HAVING); without, there is always one row.
 */
export function sumRange(s: DaySums, measures: readonly BaseMeasure[], from: string, to: string, grouped: boolean): Record<string, string | null>[] {
  const out: Record<string, string | null>[] = [];
  for (const g of s.groups) {
    const lo = lowerBound(g.days, from);
    const hi = lowerBound(g.days, `${to}~`); // past every day <= to
    if (hi <= lo && grouped) continue;
    const sums = g.totals.map((t) => t[hi] - t[lo]);
    if (grouped && sums.every((v) => v === 0n)) continue;
    const row: Record<string, string | null> = {};
    g.dims.forEach((d, i) => {
      row[`d${i}`] = d;
    });
    measures.forEach((m, i) => {
      row[`o_${m}`] = fromScaled(sums[i]);
    });
    out.push(row);
  }
  if (!grouped && out.length === 0) {
    const row: Record<string, string | null> = {};
    for (const m of measures) row[`o_${m}`] = fromScaled(0n);
    out.push(row);
  }
  if (!grouped && out.length > 1) throw new Error('day sums without dimensions hold one group');
  return out;
}

export interface DayPartialsLimits {
  /** Rows of one question's day sums; a question with more is answered by its own query each time. */
  maxRowsPerQuestion: number;
  /** Rows of every question's day sums together; the least recently used go first. */
  maxRows: number;
}

// A kept row costs about 34 bytes per measure (measured: the day sums of 100,800 rows of 9 measures took 29.6 MB of
// heap), so 500,000 rows of 9 measures are about 150 MB.
export const DEFAULT_DAY_PARTIAL_LIMITS: DayPartialsLimits = { maxRowsPerQuestion: 100_000, maxRows: 500_000 };

/** Questions kept or sighted (each a digest and a version; a question over its row limit keeps no rows). */
const MAX_QUESTIONS = 10_000;

/** A question's day sums, or 'none': more rows than a question may keep (kept, so it is not read again). */
type Kept = DaySums | 'none';

/**
 * Day sums by question and warehouse version (query/versioned-store.ts). A question's sums are read on its second
 * sighting in one version (the first is answered by its own query, cheaper for a question asked once), kept only if
 * the version did not move while they were read, and shared with identical requests meanwhile.
 */
export class DayPartials {
  private readonly store: VersionedStore<Kept>;
  private readonly sighted = new Map<string, string>();
  private readonly answered: Counter;
  private readonly limits: DayPartialsLimits;

  constructor(version: () => Promise<string>, registry: Registry, limits: DayPartialsLimits = DEFAULT_DAY_PARTIAL_LIMITS) {
    this.limits = limits;
    this.store = new VersionedStore({ entries: MAX_QUESTIONS, size: limits.maxRows }, version);
    this.answered = new Counter({
      name: 'policylens_api_day_sums_answers_total',
      help: 'Metrics queries answered from kept day sums instead of a query of their own (docs/api.md, "Caching")',
      registers: [registry],
    });
  }

  /**
   * The day sums of `key` at `version`, or null when this request should run its own query: first sighting, too
   * many rows, or a failed read. `read` runs the day-sum query; its rows come back as `DayRow`s.
   */
  async get(key: string, version: string, read: (cap: number) => Promise<DayRow[]>, measures: number): Promise<DaySums | null> {
    if (this.store.lookup(key, version) === undefined && this.sighted.get(key) !== version) {
      this.sighted.delete(key);
      this.sighted.set(key, version);
      for (const [oldest] of this.sighted) {
        if (this.sighted.size <= MAX_QUESTIONS) break;
        this.sighted.delete(oldest);
      }
      return null;
    }
    const cap = this.limits.maxRowsPerQuestion;
    const build = async (): Promise<Kept> => {
      const rows = await read(cap + 1);
      return rows.length > cap ? 'none' : buildDaySums(rows, measures);
    };
    // A day-sum query that fails leaves the request to its own query, which says what went wrong if it fails too.
    const got = await this.store.get(key, version, build, (k) => (k === 'none' ? 0 : k.rows)).catch(() => null);
    if (!got || got.value === 'none') return null;
    this.answered.inc();
    return got.value;
  }
}

/** Reads a day-sum query's rows (`day`, `p<i>` per non-time dimension, `s_<measure>`). */
export async function readDayRows(
  wh: Warehouse,
  sql: string,
  params: Record<string, unknown>,
  dims: { time: ((day: string) => string) | null }[],
  measures: readonly BaseMeasure[],
): Promise<DayRow[]> {
  const rows = await queryRows<Record<string, string | null>>(wh, sql, params);
  return rows.map((r) => {
    const day = r.day as string;
    let p = 0;
    return {
      day,
      dims: dims.map((d) => (d.time ? d.time(day) : r[`p${p++}`])),
      sums: measures.map((m) => r[`s_${m}`] as string),
    };
  });
}
