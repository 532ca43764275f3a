// The policy-impact methods on a weekly panel: each returns its estimate, interval, week-by-week detail and placebo
// estimates. Pure and deterministic for a seed; the route (query/api/routes/policy-impact.ts) fetches the panel and
// shapes the answer. docs/analyses.md defines every quantity.
import { clusterBootstrap, percentileInterval, type BootstrapOptions } from './bootstrap.js';
import { differenceInDifferences, numIndex, vectorLength, type DidResult } from './did.js';
import { didOfPanel, eventStudyEffects, meanPostEffect, preTrendSlope, type TwoGroupSpec } from './event-study.js';
import { interruptedTimeSeries, type ItsResult } from './its.js';
import { placeboBoundaries, randomisationP } from './placebo.js';
import { callawaySantAnna, twoWayFixedEffects, type StaggeredSpec } from './staggered.js';
import { cellIndex, sliceWeeks, sumClusters, panelLength, weeklyRatios, type PanelLayout } from './weekly-panel.js';

export type Interval = [number, number] | null;

export interface PlaceboResult {
  /** Week index of each placebo boundary and its estimate (null when undefined there). */
  boundaries: { week: number; estimate: number | null }[];
  randomisation_p: number | null;
}

function placebos(estimate: number | null, boundary: number, leads: number, lags: number, count: number, at: (b: number) => number | null): PlaceboResult {
  const boundaries = placeboBoundaries(boundary, leads, lags, count).map((week) => ({ week, estimate: at(week) }));
  const defined = boundaries.flatMap((b) => (b.estimate === null ? [] : [b.estimate]));
  return { boundaries, randomisation_p: estimate === null ? null : randomisationP(estimate, defined) };
}

/**
 * The classic two-period DiD of did.ts on the window's weeks: channels of a side summed, the weeks after the change
 * in one bucket. Businesses with nothing in the window are left out, so the bootstrap draws from the same businesses
 * as before placebo weeks were read.
 */
export function didOnPanel(clusters: readonly Float64Array[], l: PanelLayout, s: TwoGroupSpec, placeboCount: number, opts: BootstrapOptions) {
  const len = vectorLength(s.leads);
  const vectors: Float64Array[] = [];
  for (const v of clusters) {
    const d = new Float64Array(len);
    let any = false;
    for (const [g, chs] of [s.treated, s.control].entries()) {
      for (const c of chs) {
        for (let w = s.boundary - s.leads; w < s.boundary + s.lags; w++) {
          const k = Math.min(w - (s.boundary - s.leads), s.leads);
          const i = cellIndex(l, c, w);
          const j = numIndex(g as 0 | 1, k, s.leads);
          d[j] += v[i];
          d[j + 1] += v[i + 1];
          if (v[i] !== 0 || v[i + 1] !== 0) any = true;
        }
      }
    }
    if (any) vectors.push(d);
  }
  const result: DidResult = differenceInDifferences(vectors, s.leads, s.scale, opts);
  const totals = sumClusters(clusters, panelLength(l));
  return {
    result,
    vectors,
    placebo: placebos(result.point.did, s.boundary, s.leads, s.lags, placeboCount, (b) => didOfPanel(totals, l, { ...s, boundary: b })),
  };
}

export interface WeekEffect {
  /** Week relative to the boundary (−1 is the reference). */
  relative_week: number;
  estimate: number | null;
  ci95: Interval;
}

export interface EventStudyResult {
  weeks: WeekEffect[];
  /** Mean of the weekly effects from the boundary on. */
  estimate: number | null;
  ci95: Interval;
  pretrend_slope: number | null;
  pretrend_ci95: Interval;
  /** Lead weeks whose Bonferroni-adjusted interval (95% jointly over the leads) excludes 0. */
  leads_outside: number[];
  replicates: number;
  replicates_used: number;
  clusters: number;
  placebo: PlaceboResult;
}

export function eventStudyOnPanel(
  clusters: readonly Float64Array[],
  l: PanelLayout,
  s: TwoGroupSpec,
  placeboCount: number,
  opts: BootstrapOptions,
): EventStudyResult {
  const totals = sumClusters(clusters, panelLength(l));
  const effects = eventStudyEffects(totals, l, s);
  const estimate = meanPostEffect(effects, s.leads);
  const slope = preTrendSlope(totals, l, s);
  // Only the window's weeks are resampled: placebo weeks would cost time and change nothing.
  const win = sliceWeeks(clusters, l, s.boundary - s.leads, s.boundary + s.lags);
  const kept = win.clusters.filter((v) => v.some((x) => x !== 0));
  const ws: TwoGroupSpec = { ...s, boundary: s.leads };
  const boot = clusterBootstrap(
    kept,
    (t) => {
      const e = eventStudyEffects(t, win.layout, ws);
      return [meanPostEffect(e, ws.leads), preTrendSlope(t, win.layout, ws), ...e];
    },
    opts,
  );
  const [meanValues = [], slopeValues = [], ...weekValues] = boot.values;
  const bonferroni = 1 - 0.05 / Math.max(1, s.leads - 1);
  const leadsOutside: number[] = [];
  const weeks = effects.map((estimate, i) => {
    const k = i - s.leads;
    const values = weekValues[i] ?? [];
    if (k < -1 && estimate !== null) {
      const band = percentileInterval(values, boot.replicates, bonferroni);
      if (band && (band[0] > 0 || band[1] < 0)) leadsOutside.push(k);
    }
    return { relative_week: k, estimate, ci95: estimate === null || k === -1 ? null : percentileInterval(values, boot.replicates) };
  });
  return {
    weeks,
    estimate,
    ci95: estimate === null ? null : percentileInterval(meanValues, boot.replicates),
    pretrend_slope: slope,
    pretrend_ci95: slope === null ? null : percentileInterval(slopeValues, boot.replicates),
    leads_outside: leadsOutside,
    replicates: boot.replicates,
    replicates_used: meanValues.length,
    clusters: kept.length,
    placebo: placebos(estimate, s.boundary, s.leads, s.lags, placeboCount, (b) => meanPostEffect(eventStudyEffects(totals, l, { ...s, boundary: b }), s.leads)),
  };
}

export interface ItsWeek {
  relative_week: number;
  observed: number | null;
  fitted: number;
  /** The pre-change line carried on: what the fit says the weeks after would have been without the change. */
  counterfactual: number;
}

export interface ItsOnPanel {
  fit: ItsResult | null;
  weeks: ItsWeek[];
  placebo: PlaceboResult;
}

export function itsOnPanel(clusters: readonly Float64Array[], l: PanelLayout, s: TwoGroupSpec, placeboCount: number): ItsOnPanel {
  const totals = sumClusters(clusters, panelLength(l));
  const fit = interruptedTimeSeries(totals, l, s);
  const observed = weeklyRatios(totals, l, s.treated, s.boundary - s.leads, s.boundary + s.lags, s.scale);
  const weeks = fit
    ? observed.map((y, i) => {
        const k = i - s.leads;
        const [b0, b1, b2, b3] = fit.coef;
        const base = b0 + b1 * k;
        return { relative_week: k, observed: y, fitted: k >= 0 ? base + b2 + b3 * k : base, counterfactual: base };
      })
    : [];
  return {
    fit,
    weeks,
    placebo: placebos(
      fit?.level_change ?? null,
      s.boundary,
      s.leads,
      s.lags,
      placeboCount,
      (b) => interruptedTimeSeries(totals, l, { ...s, boundary: b })?.level_change ?? null,
    ),
  };
}

export interface StaggeredOnPanel {
  estimate: number | null;
  ci95: Interval;
  dynamic: WeekEffect[];
  cells: { group: number; week: number; relative_week: number; att: number }[];
  twfe: number | null;
  replicates: number;
  replicates_used: number;
  clusters: number;
}

export function staggeredOnPanel(clusters: readonly Float64Array[], l: PanelLayout, s: StaggeredSpec, opts: BootstrapOptions): StaggeredOnPanel {
  const totals = sumClusters(clusters, panelLength(l));
  const point = callawaySantAnna(totals, l, s);
  const boot = clusterBootstrap(
    clusters,
    (t) => {
      const p = callawaySantAnna(t, l, s);
      return [p.simple, ...p.dynamic];
    },
    opts,
  );
  const [simpleValues = [], ...dyn] = boot.values;
  return {
    estimate: point.simple,
    ci95: point.simple === null ? null : percentileInterval(simpleValues, boot.replicates),
    dynamic: point.dynamic.map((estimate, i) => ({
      relative_week: i - s.leads,
      estimate,
      ci95: estimate === null ? null : percentileInterval(dyn[i] ?? [], boot.replicates),
    })),
    cells: point.cells.map((c) => ({ group: c.group, week: c.week, relative_week: c.relative, att: c.att })),
    twfe: twoWayFixedEffects(totals, l, s.cohorts, s.scale),
    replicates: boot.replicates,
    replicates_used: simpleValues.length,
    clusters: clusters.length,
  };
}
