// GET /v1/policy-impact?method=staggered: Callaway–Sant'Anna group-time effects over several boundaries
// (query/analyses/staggered.ts; docs/analyses.md).
import { CHANNELS } from '../../events/types.js';
import type { Regime } from '../../warehouse/regimes.js';
import { DEFAULT_BOOTSTRAP } from '../analyses/bootstrap.js';
import { channelsChangingOn, WARNINGS } from '../analyses/impact-design.js';
import { staggeredOnPanel } from '../analyses/impact-methods.js';
import { weeksBefore, type ImpactMetric, type ImpactPanelQuery } from '../analyses/policy-impact-sql.js';
import { DAY_MS, isoDay, parseDay } from '../sql/days.js';
import { ApiError } from '../../common/errors.js';
import { BOOTSTRAP_TEXT, boundaryWarnings, isDate, panel, WEEK_MS, type Query } from './policy-impact-common.js';
import type { RouteModule } from './route-module.js';

/** Cohorts from a list of changes: channel → the day its boundary starts. */
function resolveCohorts(regimes: readonly Regime[], changes: readonly string[]): Map<string, string> {
  const cohorts = new Map<string, string>();
  for (const c of changes) {
    let found: [string, string][];
    if (isDate(c)) {
      parseDay(c, 'change');
      found = channelsChangingOn(regimes, c).map((ch) => [ch, c]);
      if (!found.length) throw new ApiError('BAD_REQUEST', `No regime starts on ${c}.`);
    } else {
      const starts = new Map<string, string>();
      for (const r of regimes) if (r.regime === c && (!starts.has(r.channel) || r.start < starts.get(r.channel)!)) starts.set(r.channel, r.start);
      if (!starts.size) throw new ApiError('UNKNOWN_REGIME', `No regime ${c} on any channel.`);
      found = [...starts.entries()];
    }
    for (const [ch, day] of found) {
      if (cohorts.has(ch) && cohorts.get(ch) !== day)
        throw new ApiError('BAD_REQUEST', `Channel ${ch} would start on both ${cohorts.get(ch)} and ${day}: one change per channel.`);
      cohorts.set(ch, day);
    }
  }
  return cohorts;
}

export async function staggered(
  wh: Parameters<RouteModule>[1]['wh'],
  q: Query,
  metric: ImpactMetric,
  regimes: readonly Regime[],
  attributionWindowHours: number,
) {
  if (q.treated || q.control) throw new ApiError('BAD_REQUEST', 'method=staggered takes its channels from the changes: leave treated and control out.');
  const cohorts = resolveCohorts(regimes, q.change.split(','));
  const days = [...new Set(cohorts.values())].sort();
  const firstMs = parseDay(days[0], 'change');
  const lastMs = parseDay(days.at(-1)!, 'change');
  const W = q.window_days;
  const fromMs = firstMs - W * DAY_MS;
  const endMs = lastMs + W * DAY_MS;
  const channels = [...CHANNELS];
  const never = channels.filter((c) => !cohorts.has(c));
  if (q.control_group === 'never_treated' && !never.length) {
    throw new ApiError('NO_CONTROL_GROUP', 'Every channel changes in this list: there is no never-treated channel; use control_group=not_yet_treated.');
  }
  const afterDays = (endMs - firstMs) / DAY_MS;
  const pq: ImpactPanelQuery = { metric, channels, changeMs: firstMs, windowDays: W, afterDays, placeboWeeks: 0, attributionWindowHours, perBusiness: true };
  const { layout, clusters } = await panel(wh, pq, channels);
  const boundary = weeksBefore(pq);
  const weekOf = (day: string) => boundary + Math.floor((parseDay(day, 'change') - firstMs) / WEEK_MS);
  const weekFrom = (w: number) => isoDay(Math.max(fromMs, firstMs + (w - boundary) * WEEK_MS));
  const leads = Math.ceil(W / 7);
  const lags = Math.ceil(afterDays / 7);
  const r = staggeredOnPanel(
    clusters,
    layout,
    { cohorts: channels.map((c) => (cohorts.has(c) ? weekOf(cohorts.get(c)!) : null)), controlGroup: q.control_group, leads, lags, scale: metric.scale },
    DEFAULT_BOOTSTRAP,
  );
  if (r.estimate === null)
    throw new ApiError('INSUFFICIENT_DATA', `No group-time effect of ${q.metric} is defined: no data, or no control in any week after a change.`);
  const cohortList = days.map((d) => ({ date: d, week_from: weekFrom(weekOf(d)), channels: channels.filter((c) => cohorts.get(c) === d) }));
  const dayOfWeek = new Map(cohortList.map((c) => [weekOf(c.date), c.date]));
  const warnings = boundaryWarnings(regimes, [...cohorts.keys()], never, days, isoDay(fromMs), isoDay(endMs));
  const unidentified = days.filter((d) => !r.cells.some((c) => c.group === weekOf(d) && c.relative_week >= 0));
  if (unidentified.length) warnings.push(WARNINGS.lastCohortNoControl(unidentified));
  if (r.clusters < 20) warnings.push(`Only ${r.clusters} businesses: the cluster bootstrap interval is rough.`);
  return {
    metric: q.metric,
    metric_description: metric.description,
    treated: [...cohorts.keys()].sort().join(','),
    control: never.length ? never.join(',') : null,
    change: { input: q.change, date: days[0], regime: null },
    window_days: W,
    windows: { before: { from: isoDay(fromMs), to: isoDay(firstMs - DAY_MS) }, after: { from: isoDay(firstMs), to: isoDay(endMs - DAY_MS) } },
    estimate: r.estimate,
    ci95: r.ci95,
    event_study: { reference_week: -1, weeks: r.dynamic },
    staggered: {
      control_group: q.control_group,
      cohorts: cohortList,
      group_time: r.cells.map((c) => ({ cohort: dayOfWeek.get(c.group)!, week_from: weekFrom(c.week), relative_week: c.relative_week, att: c.att })),
      twfe_estimate: r.twfe,
    },
    method: {
      name: 'staggered' as const,
      chosen: 'request' as const,
      reason: `Callaway–Sant’Anna group-time effects for boundaries on ${days.join(', ')}, against ${q.control_group === 'never_treated' ? 'never-treated' : 'not-yet-treated'} channels; two-way fixed effects would be biased when effects change with time since the boundary.`,
      interval: BOOTSTRAP_TEXT,
      clusters: r.clusters,
      replicates: r.replicates,
      replicates_used: r.replicates_used,
      seed: DEFAULT_BOOTSTRAP.seed,
    },
    placebo: null,
    warnings,
  };
}
