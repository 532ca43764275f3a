// GET /v1/policy-impact: how much a regime boundary moved a metric, by difference in differences, event study,
// interrupted time series or (several boundaries) Callaway–Sant'Anna, with placebo boundaries and a plain-language
// warning when the design is weak. The statistics are in query/analyses/; docs/analyses.md.
import { CHANNELS } from '../../../events/types.js';
import { readRegimes } from '../../../warehouse/migrate.js';
import type { Regime } from '../../../warehouse/regimes.js';
import { DEFAULT_BOOTSTRAP } from '../../analyses/bootstrap.js';
import { cellSums } from '../../analyses/did.js';
import type { TwoGroupSpec } from '../../analyses/event-study.js';
import { channelsChangingInside, channelsChangingOn, chooseDesign, WARNINGS } from '../../analyses/impact-design.js';
import { didOnPanel, eventStudyOnPanel, itsOnPanel, type PlaceboResult } from '../../analyses/impact-methods.js';
import { placeboPreWeeks } from '../../analyses/placebo.js';
import { IMPACT_METRICS, weeksBefore, type ImpactPanelQuery } from '../../analyses/policy-impact-sql.js';
import { DAY_MS, isoDay, parseDay } from '../../sql/days.js';
import { ApiError, errorSchema } from '../../../common/errors.js';
import { BOOTSTRAP_TEXT, boundaryWarnings, panel, WEEK_MS, isDate, type Query } from '../policy-impact-common.js';
import { querystring, response200 } from '../policy-impact-schema.js';
import { staggered } from '../policy-impact-staggered.js';
import type { RouteModule } from '../route-module.js';

/** The change date and the treated channels of a single change. */
function resolveChange(regimes: readonly Regime[], change: string, treated: string | undefined): { day: string; regime: string | null; treated: string[] } {
  if (isDate(change)) {
    parseDay(change, 'change');
    const channels = treated ? [treated] : channelsChangingOn(regimes, change);
    if (!channels.length) throw new ApiError('BAD_REQUEST', `No regime starts on ${change}: name the treated channel.`);
    return { day: change, regime: regimes.find((r) => r.channel === channels[0] && r.start === change)?.regime ?? null, treated: channels };
  }
  const found = regimes.filter((r) => r.regime === change && (!treated || r.channel === treated)).sort((a, b) => a.start.localeCompare(b.start))[0];
  if (!found) throw new ApiError('UNKNOWN_REGIME', treated ? `No regime ${change} on channel ${treated}.` : `No regime ${change} on any channel.`);
  const channels = treated ? [treated] : [...new Set(regimes.filter((r) => r.regime === change && r.start === found.start).map((r) => r.channel))].sort();
  return { day: found.start, regime: found.regime, treated: channels };
}

function placeboBody(p: PlaceboResult, changeMs: number, boundary: number) {
  return {
    boundaries: p.boundaries.map((b) => ({ date: isoDay(changeMs + (b.week - boundary) * WEEK_MS), estimate: b.estimate })),
    randomisation_p: p.randomisation_p,
  };
}

function checkInterval(warnings: string[], ci: [number, number] | null, p: PlaceboResult, requested: number) {
  const defined = p.boundaries.filter((b) => b.estimate !== null).length;
  if (requested > 0 && defined < 19) warnings.push(WARNINGS.fewPlacebos(defined));
  if (ci && (ci[0] > 0 || ci[1] < 0) && p.randomisation_p !== null && p.randomisation_p > 0.1) warnings.push(WARNINGS.placeboLarge(p.randomisation_p, defined));
}

export const routes: RouteModule = (app, { wh, config, answers }) => {
  app.get<{ Querystring: Query }>(
    '/v1/policy-impact',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['analyses'],
        summary: 'Effect of a regime boundary on a metric: difference in differences, event study, interrupted time series or staggered',
        description:
          'Per business, channel and week from raw tables. DiD and event study: treated against control channels, 95% interval by cluster bootstrap over businesses. Interrupted time series (the default when no channel stays unchanged): segmented regression with Newey–West intervals. Staggered: Callaway–Sant’Anna group-time effects. Placebo boundaries before the change with a randomisation p-value; warnings when the design is weak. See docs/analyses.md.',
        querystring,
        response: { 200: response200, 422: errorSchema },
      },
    },
    async (req, reply) =>
      // The query string as checked, defaults filled in; answers also depend on the configured attribution window.
      answers.reply(reply, { ...req.query, attribution_window_hours: config.attributionWindowHours }, async () => {
        const q = req.query;
        const metric = Object.hasOwn(IMPACT_METRICS, q.metric) ? IMPACT_METRICS[q.metric] : null;
        if (!metric) throw new ApiError('UNKNOWN_METRIC', `metric must be one of ${Object.keys(IMPACT_METRICS).join(', ')}.`);
        if (q.treated && q.treated === q.control) throw new ApiError('BAD_REQUEST', 'treated and control must be different channels.');
        const regimes = await readRegimes(wh);
        const attributionWindowHours = config.attributionWindowHours;
        if (q.method === 'staggered') return staggered(wh, q, metric, regimes, attributionWindowHours);
        if (q.change.includes(',')) throw new ApiError('BAD_REQUEST', 'A list of changes needs method=staggered.');

        const change = resolveChange(regimes, q.change, q.treated);
        if (q.control && change.treated.includes(q.control))
          throw new ApiError('BAD_REQUEST', `control ${q.control} is treated: it enters a regime on ${change.day}.`);
        const changeMs = parseDay(change.day, 'change');
        const W = q.window_days;
        const fromMs = changeMs - W * DAY_MS;
        const endMs = changeMs + W * DAY_MS;
        const design = chooseDesign({
          method: q.method ?? null,
          treated: change.treated,
          control: q.control ?? null,
          channels: CHANNELS,
          changingInside: channelsChangingInside(regimes, isoDay(fromMs), isoDay(endMs)),
          changeDay: change.day,
        });
        if ('error' in design) throw new ApiError(design.error, design.message);

        const weeks = Math.ceil(W / 7);
        const placeboWeeks = placeboPreWeeks(weeks, weeks, q.placebos) - weeks;
        const channels = [...design.treated, ...design.control];
        // An interrupted time series reads only the weekly totals (its interval is Newey–West, not a bootstrap).
        const perBusiness = design.method !== 'its';
        const pq: ImpactPanelQuery = { metric, channels, changeMs, windowDays: W, afterDays: W, placeboWeeks, attributionWindowHours, perBusiness };
        const { layout, clusters } = await panel(wh, pq, channels);
        const boundary = weeksBefore(pq);
        const spec: TwoGroupSpec = {
          treated: design.treated.map((c) => channels.indexOf(c)),
          control: design.control.map((c) => channels.indexOf(c)),
          boundary,
          leads: weeks,
          lags: weeks,
          scale: metric.scale,
        };
        const weekFrom = (k: number) => isoDay(Math.max(fromMs, changeMs + k * WEEK_MS));
        const warnings = boundaryWarnings(regimes, design.treated, design.control, [change.day], isoDay(fromMs), isoDay(endMs));
        if (design.method === 'its' && q.control) warnings.push(`An interrupted time series has no control: control ${q.control} is not used.`);
        if (design.method !== 'its' && design.treated.length === 1) warnings.push(WARNINGS.oneTreated(design.treated[0]));
        if (design.method === 'its') warnings.push(WARNINGS.noControl());

        const common = {
          metric: q.metric,
          metric_description: metric.description,
          treated: design.treated.join(','),
          control: design.control.length ? design.control.join(',') : null,
          change: { input: q.change, date: change.day, regime: change.regime },
          window_days: W,
          windows: {
            before: { from: isoDay(fromMs), to: isoDay(changeMs - DAY_MS) },
            after: { from: isoDay(changeMs), to: isoDay(endMs - DAY_MS) },
          },
        };
        const method = { name: design.method, chosen: design.chosen, reason: design.reason };

        if (design.method === 'did') {
          const { result, vectors, placebo } = didOnPanel(clusters, layout, spec, q.placebos, DEFAULT_BOOTSTRAP);
          const p = result.point;
          if (p.did === null) {
            const empty = (['treated_before', 'treated_after', 'control_before', 'control_after'] as const).filter((k) => p[k] === null);
            throw new ApiError('INSUFFICIENT_DATA', `The denominator of ${q.metric} is 0 in: ${empty.join(', ')}.`);
          }
          const cell = (group: 0 | 1, after: boolean) => {
            const [from, to] = after ? [weeks, weeks + 1] : [0, weeks];
            const { num: numerator, den: denominator } = cellSums(result.totals, group, from, to, weeks);
            // Denominators are counts, never negative: a business is in the cell when its own denominator there is not 0.
            const businesses = vectors.filter((c) => cellSums(c, group, from, to, weeks).den > 0).length;
            const key = `${group === 0 ? 'treated' : 'control'}_${after ? 'after' : 'before'}` as const;
            return { channel: (group === 0 ? design.treated : design.control).join(','), value: p[key]!, numerator, denominator, businesses };
          };
          if (p.pretrend_slope === null) warnings.push('Fewer than 3 weeks before the change have data on both sides: the pre-trend cannot be checked.');
          const slopeCi = result.pretrend_ci95;
          const plausible = slopeCi !== null && slopeCi[0] <= 0 && slopeCi[1] >= 0;
          if (slopeCi !== null && !plausible) warnings.push(WARNINGS.preTrend('the slope of the weekly gap before the change is not 0'));
          if (result.clusters < 20) warnings.push(`Only ${result.clusters} businesses: the cluster bootstrap interval is rough.`);
          if (result.did_ci95 === null) warnings.push('The DiD was undefined in more than half the bootstrap replicates: no interval.');
          checkInterval(warnings, result.did_ci95, placebo, q.placebos);
          return {
            ...common,
            cells: { treated_before: cell(0, false), treated_after: cell(0, true), control_before: cell(1, false), control_after: cell(1, true) },
            estimate: p.did,
            ci95: result.did_ci95,
            pre_trend: { weeks: p.pretrend_weeks, slope_per_week: p.pretrend_slope, ci95: slopeCi, parallel_trends_plausible: plausible },
            method: {
              ...method,
              interval: BOOTSTRAP_TEXT,
              clusters: result.clusters,
              replicates: result.replicates,
              replicates_used: result.replicates_used,
              seed: DEFAULT_BOOTSTRAP.seed,
            },
            placebo: q.placebos ? placeboBody(placebo, changeMs, boundary) : null,
            warnings,
          };
        }

        if (design.method === 'event_study') {
          const es = eventStudyOnPanel(clusters, layout, spec, q.placebos, DEFAULT_BOOTSTRAP);
          if (es.estimate === null)
            throw new ApiError('INSUFFICIENT_DATA', `The denominator of ${q.metric} is 0 in the reference week (−1) or in every week after the change.`);
          const slopeCi = es.pretrend_ci95;
          const plausible = slopeCi !== null && slopeCi[0] <= 0 && slopeCi[1] >= 0 && es.leads_outside.length === 0;
          if (es.pretrend_slope === null) warnings.push('Fewer than 3 weeks before the change have data on both sides: the pre-trend cannot be checked.');
          if (slopeCi !== null && !plausible) {
            warnings.push(
              WARNINGS.preTrend(
                es.leads_outside.length
                  ? `weeks ${es.leads_outside.join(', ')} differ from week −1 beyond their joint 95% band`
                  : 'the slope of the weekly gap before the change is not 0',
              ),
            );
          }
          if (es.clusters < 20) warnings.push(`Only ${es.clusters} businesses: the cluster bootstrap interval is rough.`);
          checkInterval(warnings, es.ci95, es.placebo, q.placebos);
          return {
            ...common,
            estimate: es.estimate,
            ci95: es.ci95,
            pre_trend: {
              weeks: es.weeks.filter((w) => w.relative_week < 0 && w.estimate !== null).length,
              slope_per_week: es.pretrend_slope,
              ci95: slopeCi,
              parallel_trends_plausible: plausible,
              leads_outside: es.leads_outside,
            },
            event_study: { reference_week: -1, weeks: es.weeks.map((w) => ({ ...w, from: weekFrom(w.relative_week) })) },
            method: {
              ...method,
              interval: BOOTSTRAP_TEXT,
              clusters: es.clusters,
              replicates: es.replicates,
              replicates_used: es.replicates_used,
              seed: DEFAULT_BOOTSTRAP.seed,
            },
            placebo: q.placebos ? placeboBody(es.placebo, changeMs, boundary) : null,
            warnings,
          };
        }

        const its = itsOnPanel(clusters, layout, spec, q.placebos);
        if (!its.fit) throw new ApiError('INSUFFICIENT_DATA', `Fewer than 2 weeks with data on either side of the change for ${q.metric}.`);
        checkInterval(warnings, its.fit.level_change_ci95, its.placebo, q.placebos);
        return {
          ...common,
          estimate: its.fit.level_change,
          ci95: its.fit.level_change_ci95,
          its: {
            level_change: { estimate: its.fit.level_change, ci95: its.fit.level_change_ci95 },
            slope_change: { estimate: its.fit.slope_change, ci95: its.fit.slope_change_ci95 },
            pre_slope_per_week: its.fit.pre_slope,
            newey_west_lags: its.fit.lags,
            weeks: its.weeks.map((w) => ({ ...w, from: weekFrom(w.relative_week) })),
          },
          method: {
            ...method,
            interval: `Newey–West (HAC, Bartlett kernel, ${its.fit.lags} lag${its.fit.lags === 1 ? '' : 's'}) standard error × 1.96 over ${its.fit.n} weeks`,
          },
          placebo: q.placebos ? placeboBody(its.placebo, changeMs, boundary) : null,
          warnings,
        };
      }),
  );
};
