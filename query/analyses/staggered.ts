// Staggered adoption: Callaway and Sant'Anna's (2021) group-time average treatment effects, without covariates,
// on ratios of sums, and their aggregations; beside them the two-way fixed-effects estimate they replace (biased
// when effects vary over time since adoption, because earlier-treated channels then serve as controls). Pure.
//
// A group is the channels whose boundary falls in the same week g. ATT(g, t) = (Y_g(t) − Y_g(b)) − (Y_C(t) − Y_C(b)),
// Y_S(w) the ratio of sums over the channels S in week w, with base week b = g − 1 for t ≥ g and b = t − 1 before g
// (the "varying" base of the reference implementations), and controls C the never-treated channels, or those not
// yet treated at max(t, b) (and never-treated ones).
import { cellIndex, groupRatio, type PanelLayout } from './weekly-panel.js';

export type ControlGroup = 'not_yet_treated' | 'never_treated';

export interface StaggeredSpec {
  /** Per channel (index into layout.channels): the week of its boundary, or null when it never changes in the panel. */
  cohorts: readonly (number | null)[];
  controlGroup: ControlGroup;
  /** Relative weeks reported: −leads … lags−1. */
  leads: number;
  lags: number;
  scale: number;
}

export interface GroupTimeEffect {
  group: number;
  week: number;
  /** week − group */
  relative: number;
  att: number;
}

export interface StaggeredPoint {
  cells: GroupTimeEffect[];
  /** Mean of the post-adoption ATT(g, t), each weighted by its group's size ("simple" aggregation). */
  simple: number | null;
  /** By relative week −leads … lags−1: the group-size-weighted mean of ATT(g, g + e); null where none is defined. */
  dynamic: (number | null)[];
}

/** The groups: boundary week → channel indices, ascending. */
export function cohortGroups(cohorts: readonly (number | null)[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  cohorts.forEach((g, c) => {
    if (g !== null) groups.set(g, [...(groups.get(g) ?? []), c]);
  });
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

/** Mean weekly denominator of the channels over the panel: a group's size. */
function groupSize(t: Float64Array, l: PanelLayout, channels: readonly number[]): number {
  let den = 0;
  for (const c of channels) for (let w = 0; w < l.weeks; w++) den += t[cellIndex(l, c, w) + 1];
  return den / l.weeks;
}

export function controlsAt(s: StaggeredSpec, group: number, week: number, base: number): number[] {
  const out: number[] = [];
  s.cohorts.forEach((g, c) => {
    if (g === null || (s.controlGroup === 'not_yet_treated' && g !== group && g > Math.max(week, base))) out.push(c);
  });
  return out;
}

export function callawaySantAnna(t: Float64Array, l: PanelLayout, s: StaggeredSpec): StaggeredPoint {
  const y = (chs: readonly number[], w: number) => groupRatio(t, l, chs, w, w + 1, s.scale);
  const cells: GroupTimeEffect[] = [];
  const sizes = new Map<number, number>();
  for (const [g, chs] of cohortGroups(s.cohorts)) {
    sizes.set(g, groupSize(t, l, chs));
    for (let e = -s.leads; e < s.lags; e++) {
      const w = g + e;
      const b = e >= 0 ? g - 1 : w - 1;
      if (b < 0 || w >= l.weeks) continue;
      const ctl = controlsAt(s, g, w, b);
      if (!ctl.length) continue;
      const [gt, gb, ct, cb] = [y(chs, w), y(chs, b), y(ctl, w), y(ctl, b)];
      if (gt === null || gb === null || ct === null || cb === null) continue;
      cells.push({ group: g, week: w, relative: e, att: gt - gb - (ct - cb) });
    }
  }
  let num = 0;
  let den = 0;
  for (const c of cells) {
    if (c.relative < 0) continue;
    num += sizes.get(c.group)! * c.att;
    den += sizes.get(c.group)!;
  }
  const dynamic: (number | null)[] = [];
  for (let e = -s.leads; e < s.lags; e++) {
    let n = 0;
    let d = 0;
    for (const c of cells) {
      if (c.relative !== e) continue;
      n += sizes.get(c.group)! * c.att;
      d += sizes.get(c.group)!;
    }
    dynamic.push(d > 0 ? n / d : null);
  }
  return { cells, simple: den > 0 ? num / den : null, dynamic };
}

/**
 * Two-way fixed effects: weighted least squares of the channel-week ratio on channel and week effects and a
 * treated-since-boundary dummy, weights the channel-week denominators; the dummy's coefficient. Solved by
 * alternating weighted demeaning (exact at convergence). Null when the dummy has no variation left.
 */
export function twoWayFixedEffects(t: Float64Array, l: PanelLayout, cohorts: readonly (number | null)[], scale: number): number | null {
  const cs = l.channels.length;
  const n = cs * l.weeks;
  const wt = new Float64Array(n);
  const y = new Float64Array(n);
  const d = new Float64Array(n);
  for (let c = 0; c < cs; c++) {
    for (let w = 0; w < l.weeks; w++) {
      const i = c * l.weeks + w;
      const den = t[cellIndex(l, c, w) + 1];
      if (den <= 0) continue;
      wt[i] = den;
      y[i] = (t[cellIndex(l, c, w)] / den) * scale;
      const g = cohorts[c];
      d[i] = g !== null && w >= g ? 1 : 0;
    }
  }
  const demean = (v: Float64Array) => {
    const out = Float64Array.from(v);
    const tol = 1e-14 * Math.max(1, ...out.map(Math.abs));
    for (let iter = 0; iter < 10_000; iter++) {
      let moved = 0;
      for (let c = 0; c < cs; c++) {
        let s = 0;
        let sw = 0;
        for (let w = 0; w < l.weeks; w++) {
          const i = c * l.weeks + w;
          s += wt[i] * out[i];
          sw += wt[i];
        }
        const m = sw > 0 ? s / sw : 0;
        for (let w = 0; w < l.weeks; w++) out[c * l.weeks + w] -= m;
        moved = Math.max(moved, Math.abs(m));
      }
      for (let w = 0; w < l.weeks; w++) {
        let s = 0;
        let sw = 0;
        for (let c = 0; c < cs; c++) {
          const i = c * l.weeks + w;
          s += wt[i] * out[i];
          sw += wt[i];
        }
        const m = sw > 0 ? s / sw : 0;
        for (let c = 0; c < cs; c++) out[c * l.weeks + w] -= m;
        moved = Math.max(moved, Math.abs(m));
      }
      if (moved < tol) break;
    }
    return out;
  };
  const yd = demean(y);
  const dd = demean(d);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += wt[i] * dd[i] * yd[i];
    sxx += wt[i] * dd[i] * dd[i];
  }
  return sxx > 1e-12 ? sxy / sxx : null;
}
