// Interrupted time series: a segmented regression of the treated channels' weekly ratio on time, with a level
// and a slope change at the boundary, and Newey–West (HAC, Bartlett kernel) standard errors so that serially
// correlated weeks do not make the interval too narrow. Pure.
//
//   y_k = b0 + b1·k + b2·D_k + b3·D_k·k + e_k,   k = week relative to the boundary, D_k = [k ≥ 0]
//
// b2 is the level change at the boundary (the estimate), b3 the change in weekly slope.
import { Z_95 } from '../metrics/stats.js';
import { weeklyRatios, type PanelLayout } from './weekly-panel.js';

export interface ItsFit {
  /** [b0, b1, b2, b3] as above. */
  coef: number[];
  /** Newey–West standard errors of coef. */
  se: number[];
  lags: number;
  /** Weeks with data. */
  n: number;
}

export interface ItsResult extends ItsFit {
  level_change: number;
  level_change_ci95: [number, number];
  slope_change: number;
  slope_change_ci95: [number, number];
  pre_slope: number;
}

/** Newey and West's (1994) rule of thumb for the truncation lag: ⌊4 (n/100)^(2/9)⌋. */
export const neweyWestLags = (n: number): number => Math.floor(4 * (n / 100) ** (2 / 9));

/** Inverse of a small symmetric positive-definite matrix (Gauss–Jordan); null when singular. */
export function invert(m: readonly number[][]): number[][] | null {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-12) return null;
    [a[c], a[p]] = [a[p], a[c]];
    const d = a[c][c];
    for (let j = 0; j < 2 * n; j++) a[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r][c];
      if (f !== 0) for (let j = 0; j < 2 * n; j++) a[r][j] -= f * a[c][j];
    }
  }
  return a.map((row) => row.slice(n));
}

/** OLS of y on the rows of x with a Newey–West covariance (no small-sample correction, as statsmodels' HAC). */
export function olsNeweyWest(x: readonly number[][], y: readonly number[], lags: number): { coef: number[]; se: number[] } | null {
  const n = y.length;
  const p = x[0]?.length ?? 0;
  if (n <= p) return null;
  const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < p; i++) {
      xty[i] += x[t][i] * y[t];
      for (let j = 0; j < p; j++) xtx[i][j] += x[t][i] * x[t][j];
    }
  }
  const inv = invert(xtx);
  if (!inv) return null;
  const coef = inv.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const e = y.map((yt, t) => yt - x[t].reduce((s, v, j) => s + v * coef[j], 0));
  const s = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let l = 0; l <= lags; l++) {
    const w = l === 0 ? 1 : 1 - l / (lags + 1);
    for (let t = l; t < n; t++) {
      const f = w * e[t] * e[t - l];
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          s[i][j] += f * (l === 0 ? x[t][i] * x[t][j] : x[t][i] * x[t - l][j] + x[t - l][i] * x[t][j]);
        }
      }
    }
  }
  // (X'X)⁻¹ S (X'X)⁻¹
  const mul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((acc, v, k) => acc + v * b[k][j], 0)));
  const cov = mul(mul(inv, s), inv);
  return { coef, se: cov.map((row, i) => Math.sqrt(Math.max(0, row[i]))) };
}

/** The segmented regression on weeks boundary−leads … boundary+lags−1 of the treated channels; null when it cannot be fitted. */
export function interruptedTimeSeries(
  t: Float64Array,
  l: PanelLayout,
  s: { treated: readonly number[]; boundary: number; leads: number; lags: number; scale: number },
): ItsResult | null {
  const ys = weeklyRatios(t, l, s.treated, s.boundary - s.leads, s.boundary + s.lags, s.scale);
  const x: number[][] = [];
  const y: number[] = [];
  let pre = 0;
  let post = 0;
  ys.forEach((v, i) => {
    if (v === null) return;
    const k = i - s.leads;
    const d = k >= 0 ? 1 : 0;
    if (d) post++;
    else pre++;
    x.push([1, k, d, d * k]);
    y.push(v);
  });
  // Two points on each side at least, or the level and slope changes are not identified.
  if (pre < 2 || post < 2) return null;
  const lags = neweyWestLags(y.length);
  const fit = olsNeweyWest(x, y, lags);
  if (!fit) return null;
  const ci = (i: number): [number, number] => [fit.coef[i] - Z_95 * fit.se[i], fit.coef[i] + Z_95 * fit.se[i]];
  return {
    ...fit,
    lags,
    n: y.length,
    level_change: fit.coef[2],
    level_change_ci95: ci(2),
    slope_change: fit.coef[3],
    slope_change_ci95: ci(3),
    pre_slope: fit.coef[1],
  };
}
