// The policy timeline page's rows: weekly metrics per channel, the estimate at each boundary (by the method the API
// chose), and each boundary's week-by-week plot.
import { isObj, type ImpactResponse, type QueryResult } from './api-responses.js';
import { channelOrder } from './dimensions.js';
import type { RegimeBook } from './regime-book.js';

export interface TimelineRow {
  week: string;
  channel: string;
  regime: string;
  metric: string;
  value: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  sends: number;
}

export interface ImpactRow {
  metric: string;
  change_date: string;
  treated: string;
  /** The control channels, or '' for an interrupted time series. */
  control: string;
  regime: string;
  label: string;
  /** did, event_study, its or staggered: the API's choice unless the request named one. */
  method: string;
  /** Why the API used that method, in its words. */
  method_reason: string;
  estimate: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  treated_before: number | null;
  treated_after: number | null;
  control_before: number | null;
  control_after: number | null;
  pre_trend_slope_per_week: number | null;
  parallel_trends_plausible: boolean | null;
  randomisation_p: number | null;
  warnings: string;
}

/** One week of the event-study plot of a boundary. */
export interface EventStudyRow {
  metric: string;
  change_date: string;
  treated: string;
  label: string;
  method: string;
  /** Weeks since the change; −1 is the reference week of an event study. */
  relative_week: number;
  /** Event study: the effect relative to week −1; interrupted time series: observed minus the counterfactual. */
  estimate: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
}

export function timelineRows(results: QueryResult[], book: RegimeBook, metric: string): TimelineRow[] {
  const out: TimelineRow[] = [];
  for (const r of results) {
    const week = r.dimensions['time:week'];
    const channel = r.dimensions.channel;
    const value = r.metrics[metric];
    if (!week || !channel || value === null || value === undefined) continue;
    const ci = r.ci95[metric] ?? null;
    out.push({
      week,
      channel,
      regime: book.at(channel, week)?.regime ?? 'unknown',
      metric,
      value,
      ci95_lo: ci?.[0] ?? null,
      ci95_hi: ci?.[1] ?? null,
      sends: r.metrics.sends ?? 0,
    });
  }
  return out.sort((a, b) => channelOrder(a.channel) - channelOrder(b.channel) || a.week.localeCompare(b.week));
}

export function impactRow(body: unknown, book: RegimeBook): ImpactRow {
  const r = body as ImpactResponse;
  if (!isObj(r) || typeof r.estimate !== 'number' || typeof r.treated !== 'string') throw new Error('policy-impact: expected {estimate, ci95, treated, …}');
  const first = r.treated.split(',')[0];
  const regime = r.change.regime ?? book.at(first, r.change.date)?.regime ?? '';
  return {
    metric: r.metric,
    change_date: r.change.date,
    treated: r.treated,
    control: r.control ?? '',
    regime,
    label: regime ? (book.of(first, regime)?.label ?? book.label(regime)) : r.change.date,
    method: r.method?.name ?? 'did',
    method_reason: r.method?.reason ?? '',
    estimate: r.estimate,
    ci95_lo: r.ci95?.[0] ?? null,
    ci95_hi: r.ci95?.[1] ?? null,
    treated_before: r.cells?.treated_before.value ?? null,
    treated_after: r.cells?.treated_after.value ?? null,
    control_before: r.cells?.control_before.value ?? null,
    control_after: r.cells?.control_after.value ?? null,
    pre_trend_slope_per_week: r.pre_trend?.slope_per_week ?? null,
    parallel_trends_plausible: r.pre_trend ? Boolean(r.pre_trend.parallel_trends_plausible) : null,
    randomisation_p: r.placebo?.randomisation_p ?? null,
    warnings: (r.warnings ?? []).join(' '),
  };
}

/** The weekly rows of a boundary's plot: an event study's effects, or an interrupted time series' observed − counterfactual. */
export function eventStudyRows(body: unknown, impact: Pick<ImpactRow, 'metric' | 'change_date' | 'treated' | 'label'>): EventStudyRow[] {
  const r = body as ImpactResponse;
  const base = { metric: impact.metric, change_date: impact.change_date, treated: impact.treated, label: impact.label };
  if (isObj(r) && isObj(r.event_study) && Array.isArray(r.event_study.weeks)) {
    return r.event_study.weeks.flatMap((w) =>
      w.estimate === null
        ? []
        : [
            {
              ...base,
              method: 'event_study',
              relative_week: w.relative_week,
              estimate: w.estimate,
              ci95_lo: w.ci95?.[0] ?? null,
              ci95_hi: w.ci95?.[1] ?? null,
            },
          ],
    );
  }
  if (isObj(r) && isObj(r.its) && Array.isArray(r.its.weeks)) {
    return r.its.weeks.flatMap((w) =>
      w.observed === null
        ? []
        : [{ ...base, method: 'its', relative_week: w.relative_week, estimate: w.observed - w.counterfactual, ci95_lo: null, ci95_hi: null }],
    );
  }
  throw new Error('policy-impact: expected event_study.weeks or its.weeks');
}
