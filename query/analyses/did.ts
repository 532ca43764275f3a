// Difference-in-differences of a ratio metric with a cluster (business) bootstrap and a pre-trend check.
// Pure: no I/O. The route hands over per-business sums; everything here is deterministic for a seed.
//
// Layout of one business's vector (and of the totals): for group g (0 = treated, 1 = control) and
// bucket k (0..preWeeks−1 = the weeks before the change, oldest first; preWeeks = the whole after
// window), numerator at index ((g·(preWeeks+1)) + k)·2 and denominator at that index + 1.
import { clusterBootstrap, DEFAULT_BOOTSTRAP, percentileInterval, type BootstrapOptions } from './bootstrap.js';

export interface DidCells {
  treated_before: number | null;
  treated_after: number | null;
  control_before: number | null;
  control_after: number | null;
}

export interface DidPoint extends DidCells {
  did: number | null;
  /** OLS slope, per week, of (treated − control) over the weekly buckets before the change. */
  pretrend_slope: number | null;
  /** Pre-window weeks with data on both sides, used for the slope. */
  pretrend_weeks: number;
}

export const vectorLength = (preWeeks: number): number => 2 * (preWeeks + 1) * 2;
export const numIndex = (group: 0 | 1, bucket: number, preWeeks: number): number => (group * (preWeeks + 1) + bucket) * 2;

/** Ordinary least-squares slope of y on x; null with fewer than 3 points or no spread in x. */
export function olsSlope(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n < 3) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

/** Numerator and denominator of one group over buckets [from, to) of a (numerator, denominator) vector. */
export function cellSums(v: Float64Array, group: 0 | 1, from: number, to: number, preWeeks: number): { num: number; den: number } {
  let num = 0;
  let den = 0;
  for (let k = from; k < to; k++) {
    const i = numIndex(group, k, preWeeks);
    num += v[i];
    den += v[i + 1];
  }
  return { num, den };
}

/** The four cells, the DiD and the pre-trend slope from summed (numerator, denominator) vectors. */
export function didFromTotals(v: Float64Array, preWeeks: number, scale = 1): DidPoint {
  const ratio = (group: 0 | 1, from: number, to: number): number | null => {
    const { num, den } = cellSums(v, group, from, to, preWeeks);
    return den > 0 ? (num / den) * scale : null;
  };
  const cells: DidCells = {
    treated_before: ratio(0, 0, preWeeks),
    treated_after: ratio(0, preWeeks, preWeeks + 1),
    control_before: ratio(1, 0, preWeeks),
    control_after: ratio(1, preWeeks, preWeeks + 1),
  };
  const { treated_before: tb, treated_after: ta, control_before: cb, control_after: ca } = cells;
  const did = tb === null || ta === null || cb === null || ca === null ? null : ta - tb - (ca - cb);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < preWeeks; k++) {
    const t = ratio(0, k, k + 1);
    const c = ratio(1, k, k + 1);
    if (t === null || c === null) continue;
    xs.push(k);
    ys.push(t - c);
  }
  return { ...cells, did, pretrend_slope: olsSlope(xs, ys), pretrend_weeks: xs.length };
}

export interface DidResult {
  point: DidPoint;
  /** The clusters' vectors summed: every cell's numerator and denominator. */
  totals: Float64Array;
  did_ci95: [number, number] | null;
  pretrend_ci95: [number, number] | null;
  /** Replicates in which the DiD was defined. */
  replicates_used: number;
  replicates: number;
  clusters: number;
}

/** DiD with a cluster bootstrap over businesses (percentile 95% intervals for the DiD and the pre-trend slope). */
export function differenceInDifferences(clusters: readonly Float64Array[], preWeeks: number, scale = 1, opts: BootstrapOptions = DEFAULT_BOOTSTRAP): DidResult {
  const len = vectorLength(preWeeks);
  for (const c of clusters) if (c.length !== len) throw new Error(`differenceInDifferences: vector length ${c.length}, expected ${len}`);
  const totals = new Float64Array(len);
  for (const c of clusters) for (let j = 0; j < len; j++) totals[j] += c[j];
  const point = didFromTotals(totals, preWeeks, scale);
  const boot = clusterBootstrap(
    clusters,
    (t) => {
      const p = didFromTotals(t, preWeeks, scale);
      return [p.did, p.pretrend_slope];
    },
    opts,
  );
  const [didValues = [], slopeValues = []] = boot.values;
  return {
    point,
    totals,
    did_ci95: point.did === null ? null : percentileInterval(didValues, boot.replicates),
    pretrend_ci95: point.pretrend_slope === null ? null : percentileInterval(slopeValues, boot.replicates),
    replicates_used: didValues.length,
    replicates: boot.replicates,
    clusters: clusters.length,
  };
}
