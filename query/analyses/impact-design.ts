// Which policy-impact method answers a request, why, and in what words a weak design is flagged. Pure: the route
// hands over the regime table and the request; docs/analyses.md explains each rule.
import type { Regime } from '../../warehouse/regimes.js';

export const IMPACT_METHODS = ['did', 'event_study', 'its', 'staggered'] as const;
export type ImpactMethod = (typeof IMPACT_METHODS)[number];

export interface DesignChoice {
  method: ImpactMethod;
  chosen: 'request' | 'default';
  reason: string;
  treated: string[];
  control: string[];
}

/** Channels that enter a regime on the day. */
export const channelsChangingOn = (regimes: readonly Regime[], day: string): string[] =>
  [...new Set(regimes.filter((r) => r.start === day).map((r) => r.channel))].sort();

/** Channels with a regime boundary strictly inside (from, to): they are not unchanged controls there. */
export const channelsChangingInside = (regimes: readonly Regime[], fromDay: string, toDay: string): Set<string> =>
  new Set(regimes.filter((r) => r.start > fromDay && r.start < toDay).map((r) => r.channel));

const list = (xs: readonly string[]) => xs.join(', ');

/**
 * The two-group or time-series design: treated and control channels and the method. A control given in the request
 * is used as is (the warnings say when a regime boundary touches it); otherwise the controls are the channels with no
 * boundary inside the window. Without a control, and no method asked for, the answer is an interrupted time series.
 */
export function chooseDesign(o: {
  method: ImpactMethod | null;
  treated: readonly string[];
  control: string | null;
  channels: readonly string[];
  changingInside: ReadonlySet<string>;
  changeDay: string;
}): DesignChoice | { error: 'NO_CONTROL_GROUP'; message: string } {
  const treated = [...o.treated];
  const control = o.control !== null ? [o.control] : o.channels.filter((c) => !treated.includes(c) && !o.changingInside.has(c));
  if (o.method === 'its') {
    return {
      method: 'its',
      chosen: 'request',
      reason: 'Interrupted time series, as requested: the treated channels’ own weeks before the change are the comparison.',
      treated,
      control: [],
    };
  }
  if (o.method !== null && control.length === 0) {
    return {
      error: 'NO_CONTROL_GROUP',
      message: `Every other channel has a regime boundary inside the window around ${o.changeDay}, so ${o.method} has no control; use method=its (interrupted time series) or name a control.`,
    };
  }
  if (o.method !== null)
    return {
      method: o.method,
      chosen: 'request',
      reason: `${o.method === 'did' ? 'Difference in differences' : 'Event study'}, as requested, against ${list(control)}.`,
      treated,
      control,
    };
  if (control.length === 0) {
    return {
      method: 'its',
      chosen: 'default',
      reason: `No channel stays unchanged in the window around ${o.changeDay} (${list(treated)} change on it${o.channels.length > treated.length ? ', the others inside the window' : ''}), so there is no control group for a difference in differences: interrupted time series, the treated channels against their own trend before the change.`,
      treated,
      control: [],
    };
  }
  return {
    method: 'did',
    chosen: 'default',
    reason:
      o.control !== null
        ? `Difference in differences against the named control ${o.control}.`
        : `Difference in differences against ${list(control)}, which have no regime boundary inside the window.`,
    treated,
    control,
  };
}

export const WARNINGS = {
  oneTreated: (channel: string) =>
    `Only one treated channel (${channel}): anything else that hit ${channel} in the same weeks looks like an effect, and the bootstrap over businesses cannot see it (few treated clusters, Conley and Taber 2011). Compare the estimate with the placebo estimates and their randomisation p-value.`,
  noControl: () =>
    'No control group: the interrupted time series credits the change with anything else that moved in the same weeks (seasonality, other launches), and its interval assumes the trend before the change would have continued (Hausman and Rapson 2018).',
  preTrend: (what: string) =>
    `The pre-trend check failed (${what}): the groups were already drifting apart before the change, so the estimate is not credible as an effect of it.`,
  placeboLarge: (p: number, n: number) =>
    `The interval excludes 0, but ${Math.round((p * (n + 1) - 1) * 10) / 10} of ${n} placebo boundaries before the change gave an estimate at least as large (randomisation p = ${p.toFixed(3)}): the interval is probably too narrow.`,
  fewPlacebos: (n: number) =>
    n === 0
      ? 'No placebo boundary before the change has data on every side: no randomisation p-value.'
      : `Only ${n} placebo boundar${n === 1 ? 'y has' : 'ies have'} data before the change: the randomisation p-value cannot go below ${(1 / (n + 1)).toFixed(3)}.`,
  lastCohortNoControl: (dates: readonly string[]) =>
    `No channel is left untreated after ${list(dates)}: the group-time effects after it are not identified and are left out.`,
};
