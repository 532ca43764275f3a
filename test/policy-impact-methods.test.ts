// The policy-impact methods on simulated weekly panels with known effects: pure functions, no warehouse, so that
// many replications stay cheap. Each panel: businesses × channels × weeks, a rate's numerator drawn around
// denominator × (business base + channel level + week shock + injected effect).
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../query/analyses/bootstrap.js';
import type { TwoGroupSpec } from '../query/analyses/event-study.js';
import { chooseDesign, channelsChangingInside, channelsChangingOn } from '../query/analyses/impact-design.js';
import { didOnPanel, eventStudyOnPanel, itsOnPanel, staggeredOnPanel } from '../query/analyses/impact-methods.js';
import { placeboBoundaries, randomisationP } from '../query/analyses/placebo.js';
import { cellIndex, panelLength, type PanelLayout } from '../query/analyses/weekly-panel.js';
import { CHANNELS } from '../events/types.js';
import { loadDefaultRegimes } from '../warehouse/regimes.js';

interface World {
  businesses: number;
  channels: number;
  weeks: number;
  seed: number;
  /** Injected effect on the rate of channel c in week w. */
  effect: (c: number, w: number) => number;
  /** Standard deviation of a shock common to every business of a channel-week (0: none). */
  channelWeekShock?: number;
  /** A weekly trend shared by every channel. */
  trend?: number;
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function simulate(w: World): { clusters: Float64Array[]; layout: PanelLayout } {
  const rand = mulberry32(w.seed);
  const layout: PanelLayout = { channels: Array.from({ length: w.channels }, (_, c) => `c${c}`), weeks: w.weeks };
  const shocks = Array.from({ length: w.channels * w.weeks }, () => (w.channelWeekShock ?? 0) * normal(rand));
  const weekShock = Array.from({ length: w.weeks }, () => 0.005 * normal(rand));
  const clusters = Array.from({ length: w.businesses }, () => {
    const v = new Float64Array(panelLength(layout));
    const base = 0.15 + 0.1 * rand();
    for (let c = 0; c < w.channels; c++) {
      for (let k = 0; k < w.weeks; k++) {
        const den = 40 + Math.floor(80 * rand());
        const p = Math.min(0.95, Math.max(0.01, base + 0.02 * c + (w.trend ?? 0) * k + weekShock[k] + shocks[c * w.weeks + k] + w.effect(c, k)));
        // Binomial by its normal approximation: cheap, and exact enough for denominators of 40 to 120.
        const num = Math.min(den, Math.max(0, Math.round(den * p + Math.sqrt(den * p * (1 - p)) * normal(rand))));
        const i = cellIndex(layout, c, k);
        v[i] = num;
        v[i + 1] = den;
      }
    }
    return v;
  });
  return { clusters, layout };
}

const BOOT = { replicates: 400, seed: 7 };
const two = (boundary: number, leads: number, lags: number): TwoGroupSpec => ({ treated: [0], control: [1], boundary, leads, lags, scale: 1 });

describe('event study on simulated panels', () => {
  it('recovers a step effect: every week after the change near +0.05, every week before near 0', () => {
    const { clusters, layout } = simulate({ businesses: 60, channels: 2, weeks: 24, seed: 1, effect: (c, k) => (c === 0 && k >= 12 ? 0.05 : 0) });
    const es = eventStudyOnPanel(clusters, layout, two(12, 12, 12), 0, BOOT);
    expect(es.weeks).toHaveLength(24);
    expect(es.weeks[11]).toEqual({ relative_week: -1, estimate: 0, ci95: null });
    const covered = es.weeks.filter((w) => w.ci95 && w.ci95[0] <= (w.relative_week >= 0 ? 0.05 : 0) && (w.relative_week >= 0 ? 0.05 : 0) <= w.ci95[1]).length;
    // 23 intervals at 95%: at most 3 misses (a 1-in-30 event with independent weeks).
    expect(covered).toBeGreaterThanOrEqual(20);
    expect(Math.abs(es.estimate! - 0.05)).toBeLessThan(0.01);
    expect(es.ci95![0]).toBeLessThan(0.05);
    expect(es.ci95![1]).toBeGreaterThan(0.05);
    expect(es.leads_outside).toEqual([]);
  });

  it('recovers a gradual effect building up by 0.005 a week', () => {
    const truth = (k: number) => (k >= 0 ? 0.005 * (k + 1) : 0);
    const { clusters, layout } = simulate({ businesses: 60, channels: 2, weeks: 24, seed: 2, effect: (c, k) => (c === 0 ? truth(k - 12) : 0) });
    const es = eventStudyOnPanel(clusters, layout, two(12, 12, 12), 0, BOOT);
    const post = es.weeks.filter((w) => w.relative_week >= 0);
    for (const w of post) expect(Math.abs(w.estimate! - truth(w.relative_week)), `week ${w.relative_week}`).toBeLessThan(0.015);
    // The build-up is visible: the last weeks' effect is well above the first weeks'.
    expect(post.at(-1)!.estimate! - post[0].estimate!).toBeGreaterThan(0.04);
    expect(Math.abs(es.estimate! - 0.0325)).toBeLessThan(0.01);
  });

  it('flags leads that are off: an anticipation effect three weeks early', () => {
    const { clusters, layout } = simulate({ businesses: 60, channels: 2, weeks: 24, seed: 3, effect: (c, k) => (c === 0 && k >= 9 ? 0.05 : 0) });
    const es = eventStudyOnPanel(clusters, layout, two(12, 12, 12), 0, BOOT);
    // Weeks −12 … −4 lie 0.05 below week −1: the joint band excludes 0 there.
    expect(es.leads_outside.length).toBeGreaterThanOrEqual(6);
  });
});

describe('placebo boundaries and randomisation inference in a world without effects', () => {
  // 200 worlds; in each, one difference in differences at a boundary where nothing changed. At 95% the expected
  // number of intervals excluding 0 is 10; the band [3, 20] holds with probability above 99.5% under a correct size.
  it('DiD intervals at placebo boundaries exclude 0 at about the nominal 5%', () => {
    let rejected = 0;
    for (let r = 0; r < 200; r++) {
      const { clusters, layout } = simulate({ businesses: 40, channels: 2, weeks: 12, seed: 1000 + r, effect: () => 0 });
      const { result } = didOnPanel(clusters, layout, two(6, 6, 6), 0, { replicates: 200, seed: r });
      const ci = result.did_ci95!;
      if (ci[0] > 0 || ci[1] < 0) rejected++;
    }
    console.log(`DiD at placebo boundaries: ${rejected} of 200 intervals exclude 0 (nominal 10)`);
    expect(rejected).toBeGreaterThanOrEqual(3);
    expect(rejected).toBeLessThanOrEqual(20);
  });

  // The randomisation p-value with 19 placebos is ≤ 0.05 exactly when the estimate is the largest of 20 exchangeable
  // ones: probability 1/20. 200 worlds: expected 10, band [3, 20].
  it('the randomisation p-value of an interrupted time series is ≤ 0.05 in about 5% of worlds', () => {
    let rejected = 0;
    for (let r = 0; r < 200; r++) {
      const { clusters, layout } = simulate({ businesses: 20, channels: 1, weeks: 8 + 8 + 18 + 8, seed: 5000 + r, effect: () => 0, trend: 0.001 });
      const s: TwoGroupSpec = { treated: [0], control: [], boundary: 8 + 8 + 18, leads: 8, lags: 8, scale: 1 };
      const its = itsOnPanel(clusters, layout, s, 19);
      expect(its.placebo.boundaries).toHaveLength(19);
      if (its.placebo.randomisation_p! <= 0.05) rejected++;
    }
    console.log(`ITS randomisation p ≤ 0.05 in ${rejected} of 200 null worlds (nominal 10)`);
    expect(rejected).toBeGreaterThanOrEqual(3);
    expect(rejected).toBeLessThanOrEqual(20);
  });

  it('places placebo boundaries so that their windows end before the real one, and counts ties', () => {
    expect(placeboBoundaries(30, 5, 5, 3)).toEqual([25, 24, 23]);
    expect(placeboBoundaries(12, 5, 5, 10)).toEqual([7, 6, 5]);
    expect(randomisationP(2, [1, -3, 2, 0.5])).toBe(3 / 5);
    expect(randomisationP(2, [])).toBeNull();
  });
});

describe('interrupted time series on a change that hits every channel', () => {
  it('recovers a level change of +0.04 on all channels pooled, under a shared trend', () => {
    const { clusters, layout } = simulate({
      businesses: 60,
      channels: 3,
      weeks: 26,
      seed: 11,
      trend: 0.001,
      effect: (_c, k) => (k >= 13 ? 0.04 : 0),
    });
    const its = itsOnPanel(clusters, layout, { treated: [0, 1, 2], control: [], boundary: 13, leads: 13, lags: 13, scale: 1 }, 0);
    const fit = its.fit!;
    expect(fit.lags).toBe(2);
    expect(Math.abs(fit.level_change - 0.04)).toBeLessThan(0.01);
    expect(fit.level_change_ci95[0]).toBeLessThan(0.04);
    expect(fit.level_change_ci95[1]).toBeGreaterThan(0.04);
    expect(fit.level_change_ci95[0]).toBeGreaterThan(0);
    expect(Math.abs(fit.pre_slope - 0.001)).toBeLessThan(0.0008);
    expect(its.weeks).toHaveLength(26);
    expect(its.weeks[13].fitted - its.weeks[13].counterfactual).toBeCloseTo(fit.level_change, 12);
  });

  it('is the default when every channel changes on the date, and DiD is the default when one stays unchanged', () => {
    const regimes = loadDefaultRegimes();
    const design = (day: string) =>
      chooseDesign({
        method: null,
        treated: channelsChangingOn(regimes, day),
        control: null,
        channels: CHANNELS,
        changingInside: channelsChangingInside(regimes, addDays(day, -90), addDays(day, 90)),
        changeDay: day,
      });
    expect(design('2025-07-01')).toMatchObject({ method: 'its', chosen: 'default', treated: ['instagram', 'messenger', 'whatsapp'], control: [] });
    expect(design('2022-02-01')).toMatchObject({ method: 'did', treated: ['whatsapp'], control: ['messenger', 'instagram'] });
    // 2026-02-10 changes Messenger and Instagram; WhatsApp changed on 2025-07-01, outside the window: a control.
    expect(design('2026-02-10')).toMatchObject({ method: 'did', treated: ['instagram', 'messenger'], control: ['whatsapp'] });
    expect(
      chooseDesign({ method: 'did', treated: ['whatsapp'], control: null, channels: CHANNELS, changingInside: new Set(CHANNELS), changeDay: '2025-07-01' }),
    ).toMatchObject({ error: 'NO_CONTROL_GROUP' });
  });
});

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

describe('staggered adoption', () => {
  it("Callaway–Sant'Anna recovers effects that grow with time since adoption, where two-way fixed effects is biased", () => {
    // Channel 0 adopts in week 8, channel 1 in week 20, channel 2 never; the effect is 0.01 per week since adoption.
    const cohorts = [8, 20, null];
    const truth = (c: number, k: number) => (cohorts[c] !== null && k >= cohorts[c]! ? 0.01 * (k - cohorts[c]! + 1) : 0);
    const { clusters, layout } = simulate({ businesses: 60, channels: 3, weeks: 32, seed: 21, effect: truth });
    const s = { cohorts, controlGroup: 'not_yet_treated' as const, leads: 8, lags: 24, scale: 1 };
    const r = staggeredOnPanel(clusters, layout, s, { replicates: 200, seed: 1 });
    // The true simple aggregate over the same post cells, each group weighted by its size.
    const sizes = new Map<number, number>();
    for (const [c, g] of cohorts.entries()) {
      if (g === null) continue;
      let den = 0;
      for (const v of clusters) for (let k = 0; k < layout.weeks; k++) den += v[cellIndex(layout, c, k) + 1];
      sizes.set(g, den / layout.weeks);
    }
    let num = 0;
    let den = 0;
    for (const cell of r.cells) {
      if (cell.relative_week < 0) continue;
      num += sizes.get(cell.group)! * 0.01 * (cell.relative_week + 1);
      den += sizes.get(cell.group)!;
    }
    const trueAtt = num / den;
    console.log(
      `staggered: CS ${r.estimate!.toFixed(4)} [${r.ci95![0].toFixed(4)}, ${r.ci95![1].toFixed(4)}], TWFE ${r.twfe!.toFixed(4)}, truth ${trueAtt.toFixed(4)}`,
    );
    // Over seeds 1–40 of this set-up CS − truth has mean −0.0003 and standard deviation 0.006: allow 3 of them.
    expect(Math.abs(r.estimate! - trueAtt)).toBeLessThan(0.018);
    // TWFE is off by about 0.04, seven standard deviations, and lies outside the CS interval.
    expect(trueAtt - r.twfe!).toBeGreaterThan(0.03);
    expect(r.twfe!).toBeLessThan(r.ci95![0]);
    // The dynamic aggregation follows the build-up.
    for (const e of [0, 5, 10]) expect(Math.abs(r.dynamic[e + 8].estimate! - 0.01 * (e + 1)), `e ${e}`).toBeLessThan(0.015);
  });
});
