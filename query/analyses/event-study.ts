// Event study: the treated-minus-control gap week by week around a boundary, relative to the week before it
// (reference week −1), and the difference in differences of the same panel. Pure functions of the panel totals.
import { olsSlope } from './did.js';
import { groupRatio, type PanelLayout } from './weekly-panel.js';

export interface TwoGroupSpec {
  treated: readonly number[];
  control: readonly number[];
  /** Week index of the first week on or after the boundary. */
  boundary: number;
  /** Weeks used before (leads) and from (lags) the boundary. */
  leads: number;
  lags: number;
  scale: number;
}

/** Treated minus control in week w; null when either side has no denominator. */
export function weeklyGap(t: Float64Array, l: PanelLayout, s: TwoGroupSpec, w: number): number | null {
  const a = groupRatio(t, l, s.treated, w, w + 1, s.scale);
  const b = groupRatio(t, l, s.control, w, w + 1, s.scale);
  return a === null || b === null ? null : a - b;
}

/**
 * Effects for relative weeks −leads … lags−1: gap(k) − gap(−1). Week −1 is 0 by construction; an entry is null when
 * its week or the reference week has no data on a side.
 */
export function eventStudyEffects(t: Float64Array, l: PanelLayout, s: TwoGroupSpec): (number | null)[] {
  const ref = weeklyGap(t, l, s, s.boundary - 1);
  const out: (number | null)[] = [];
  for (let k = -s.leads; k < s.lags; k++) {
    const g = weeklyGap(t, l, s, s.boundary + k);
    out.push(ref === null || g === null ? null : g - ref);
  }
  return out;
}

/** Mean of the post-boundary effects (k ≥ 0) that are defined: the event study's one-number summary. */
export function meanPostEffect(effects: readonly (number | null)[], leads: number): number | null {
  let sum = 0;
  let n = 0;
  for (let i = leads; i < effects.length; i++) {
    const e = effects[i];
    if (e === null) continue;
    sum += e;
    n++;
  }
  return n ? sum / n : null;
}

/** Difference in differences of ratios of sums: (treated after − before) − (control after − before). */
export function didOfPanel(t: Float64Array, l: PanelLayout, s: TwoGroupSpec): number | null {
  const r = (g: readonly number[], from: number, to: number) => groupRatio(t, l, g, from, to, s.scale);
  const tb = r(s.treated, s.boundary - s.leads, s.boundary);
  const ta = r(s.treated, s.boundary, s.boundary + s.lags);
  const cb = r(s.control, s.boundary - s.leads, s.boundary);
  const ca = r(s.control, s.boundary, s.boundary + s.lags);
  return tb === null || ta === null || cb === null || ca === null ? null : ta - tb - (ca - cb);
}

/** OLS slope, per week, of the gap over the lead weeks (the pre-trend check of docs/analyses.md). */
export function preTrendSlope(t: Float64Array, l: PanelLayout, s: TwoGroupSpec): number | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = -s.leads; k < 0; k++) {
    const g = weeklyGap(t, l, s, s.boundary + k);
    if (g === null) continue;
    xs.push(k);
    ys.push(g);
  }
  return olsSlope(xs, ys);
}
