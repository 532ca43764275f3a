// The policy timeline page's rows: weekly metrics per channel, and the difference-in-differences at each boundary.
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
  control: string;
  regime: string;
  label: string;
  estimate: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  treated_before: number;
  treated_after: number;
  control_before: number;
  control_after: number;
  pre_trend_slope_per_week: number | null;
  parallel_trends_plausible: boolean;
  warnings: string;
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
  if (!isObj(r) || typeof r.estimate !== 'number' || !isObj(r.cells)) throw new Error('policy-impact: expected {estimate, ci95, cells, …}');
  const regime = r.change.regime ?? book.at(r.treated, r.change.date)?.regime ?? '';
  return {
    metric: r.metric,
    change_date: r.change.date,
    treated: r.treated,
    control: r.control,
    regime,
    label: regime ? (book.of(r.treated, regime)?.label ?? book.label(regime)) : r.change.date,
    estimate: r.estimate,
    ci95_lo: r.ci95?.[0] ?? null,
    ci95_hi: r.ci95?.[1] ?? null,
    treated_before: r.cells.treated_before.value,
    treated_after: r.cells.treated_after.value,
    control_before: r.cells.control_before.value,
    control_after: r.cells.control_after.value,
    pre_trend_slope_per_week: r.pre_trend?.slope_per_week ?? null,
    parallel_trends_plausible: Boolean(r.pre_trend?.parallel_trends_plausible),
    warnings: (r.warnings ?? []).join(' '),
  };
}
