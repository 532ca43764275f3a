// Kaplan–Meier survival with Greenwood's variance. Pure: no I/O, no clock.
// Input is already grouped by distinct time (here whole days): how many subjects had the event and how
// many were censored at that time. Ties follow the usual convention: events at time t happen before
// censorings at t, so a subject censored at t is still at risk for the events at t.
import { Z_95 } from '../metrics/stats.js';

export interface KmTimeCount {
  /** Time since origin, in any unit (the API uses whole days). */
  time: number;
  events: number;
  censored: number;
}

export type KmInterval = 'log-log' | 'plain';

export interface KmStep {
  time: number;
  /** Subjects at risk just before `time`: not yet failed or censored. */
  at_risk: number;
  events: number;
  censored: number;
  /** S(time): the probability of surviving past `time`. */
  survival: number;
  /** Greenwood standard error of S(time). */
  std_err: number;
  /** Pointwise 95% (or 1−α for the given z) interval for S(time). */
  ci95: [number, number];
}

export interface KmResult {
  subjects: number;
  events: number;
  censored: number;
  steps: KmStep[];
  /** Smallest time with S ≤ 0.5, or null when survival never falls to one half (median not reached). */
  median: number | null;
  /** Brookmeyer–Crowley-style interval from the pointwise bands: [first time the lower band ≤ 0.5, first time the upper band ≤ 0.5]; null ends are not reached. */
  median_ci95: [number | null, number | null];
}

export const Z95 = Z_95;

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Kaplan–Meier estimate. `rows` may come in any order and may repeat a time (they are merged).
 * Greenwood: Var S(t) = S(t)² Σ_{tᵢ≤t} dᵢ / (nᵢ (nᵢ − dᵢ)).
 * Interval 'log-log' (default): S^{exp(±z·σ/ln S)} with σ² = Σ dᵢ/(nᵢ(nᵢ−dᵢ)), always inside [0, 1];
 * 'plain': S ± z·SE clipped to [0, 1].
 */
export function kaplanMeier(rows: readonly KmTimeCount[], opts: { z?: number; interval?: KmInterval } = {}): KmResult {
  const z = opts.z ?? Z95;
  const interval = opts.interval ?? 'log-log';
  const merged = new Map<number, { events: number; censored: number }>();
  for (const r of rows) {
    if (!Number.isFinite(r.time) || r.events < 0 || r.censored < 0 || !Number.isInteger(r.events) || !Number.isInteger(r.censored)) {
      throw new Error(`kaplanMeier: bad row ${JSON.stringify(r)}`);
    }
    const m = merged.get(r.time) ?? { events: 0, censored: 0 };
    m.events += r.events;
    m.censored += r.censored;
    merged.set(r.time, m);
  }
  const times = [...merged.keys()].sort((a, b) => a - b);
  let atRisk = 0;
  let events = 0;
  let censored = 0;
  for (const m of merged.values()) {
    atRisk += m.events + m.censored;
    events += m.events;
    censored += m.censored;
  }
  const subjects = atRisk;

  const steps: KmStep[] = [];
  let s = 1;
  let greenwood = 0; // Σ d/(n(n−d))
  let dead = false; // S reached 0: every later variance term is undefined, S stays 0
  for (const time of times) {
    const { events: d, censored: c } = merged.get(time)!;
    const n = atRisk;
    if (d > 0 && !dead) {
      s *= (n - d) / n;
      if (n - d === 0) dead = true;
      else greenwood += d / (n * (n - d));
    }
    const se = dead ? 0 : s * Math.sqrt(greenwood);
    let ci: [number, number];
    if (dead) ci = [0, 0];
    else if (greenwood === 0) ci = [s, s];
    else if (interval === 'plain') ci = [clamp01(s - z * se), clamp01(s + z * se)];
    else {
      const sigma = Math.sqrt(greenwood) / Math.abs(Math.log(s));
      ci = [s ** Math.exp(z * sigma), s ** Math.exp(-z * sigma)];
    }
    steps.push({ time, at_risk: n, events: d, censored: c, survival: s, std_err: se, ci95: ci });
    atRisk -= d + c;
  }

  const firstAtOrBelowHalf = (value: (st: KmStep) => number): number | null => {
    for (const st of steps) if (st.events > 0 && value(st) <= 0.5) return st.time;
    return null;
  };
  return {
    subjects,
    events,
    censored,
    steps,
    median: firstAtOrBelowHalf((st) => st.survival),
    median_ci95: [firstAtOrBelowHalf((st) => st.ci95[0]), firstAtOrBelowHalf((st) => st.ci95[1])],
  };
}

/** S(t) read off a step curve: the survival of the last step at or before t (1 before the first). */
export function survivalAt(steps: readonly KmStep[], t: number): KmStep | null {
  let found: KmStep | null = null;
  for (const st of steps) {
    if (st.time > t) break;
    found = st;
  }
  return found;
}
