// GET /v1/policy-impact: difference-in-differences of a metric around a regime boundary, treated channel
// against control channel, with a cluster bootstrap by business and a pre-trend check. docs/analyses.md.
import { readRegimes } from '../../../warehouse/migrate.js';
import type { Regime } from '../../../warehouse/regimes.js';
import { DEFAULT_BOOTSTRAP } from '../../analyses/bootstrap.js';
import { cellSums, differenceInDifferences, numIndex, vectorLength } from '../../analyses/did.js';
import { IMPACT_METRICS, impactRows } from '../../analyses/policy-impact-sql.js';
import { DAY_MS, isoDay, parseDay } from '../../sql/days.js';
import { channelSchema } from '../analysis-schemas.js';
import type { RouteModule } from '../route-module.js';
import { documentedEnum } from '../../documented-enum.js';
import { ApiError, errorSchema } from '../../../common/errors.js';

export const MAX_WINDOW_DAYS = 365;
export const MIN_WINDOW_DAYS = 7;

const querystring = {
  type: 'object',
  required: ['metric', 'treated', 'control', 'change'],
  additionalProperties: false,
  properties: {
    // Checked in the handler, which answers UNKNOWN_METRIC (docs/api.md).
    metric: documentedEnum(Object.keys(IMPACT_METRICS), {
      type: 'string',
      pattern: '^[a-z0-9_]{1,64}$',
      description: `One of ${Object.keys(IMPACT_METRICS).join(', ')}`,
    }),
    treated: channelSchema,
    control: channelSchema,
    change: {
      type: 'string',
      pattern: '^([0-9]{4}-[0-9]{2}-[0-9]{2}|[a-z0-9_]{1,64})$',
      description: 'A date YYYY-MM-DD, or a regime name: that regime’s start on the treated channel.',
    },
    window_days: { type: 'integer', minimum: MIN_WINDOW_DAYS, maximum: MAX_WINDOW_DAYS, default: 90 },
  },
} as const;

const interval = { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const cellSchema = {
  type: 'object',
  required: ['channel', 'value', 'numerator', 'denominator', 'businesses'],
  properties: {
    channel: { type: 'string' },
    value: { type: 'number' },
    numerator: { type: 'number' },
    denominator: { type: 'number' },
    businesses: { type: 'integer' },
  },
} as const;
const dates = { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } } as const;

const response200 = {
  type: 'object',
  required: [
    'metric',
    'metric_description',
    'treated',
    'control',
    'change',
    'window_days',
    'windows',
    'cells',
    'estimate',
    'ci95',
    'pre_trend',
    'method',
    'warnings',
  ],
  properties: {
    metric: { type: 'string' },
    metric_description: { type: 'string' },
    treated: { type: 'string' },
    control: { type: 'string' },
    change: {
      type: 'object',
      required: ['input', 'date', 'regime'],
      properties: { input: { type: 'string' }, date: { type: 'string' }, regime: { type: ['string', 'null'] } },
    },
    window_days: { type: 'integer' },
    windows: { type: 'object', required: ['before', 'after'], properties: { before: dates, after: dates } },
    cells: {
      type: 'object',
      required: ['treated_before', 'treated_after', 'control_before', 'control_after'],
      properties: { treated_before: cellSchema, treated_after: cellSchema, control_before: cellSchema, control_after: cellSchema },
    },
    estimate: { type: 'number' },
    ci95: interval,
    pre_trend: {
      type: 'object',
      required: ['weeks', 'slope_per_week', 'ci95', 'parallel_trends_plausible'],
      properties: {
        weeks: { type: 'integer' },
        slope_per_week: { type: ['number', 'null'] },
        ci95: interval,
        parallel_trends_plausible: { type: 'boolean' },
      },
    },
    method: {
      type: 'object',
      properties: {
        interval: { type: 'string' },
        clusters: { type: 'integer' },
        replicates: { type: 'integer' },
        replicates_used: { type: 'integer' },
        seed: { type: 'integer' },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

interface Query {
  metric: string;
  treated: string;
  control: string;
  change: string;
  window_days: number;
}

/** The treated channel's other boundaries and any control boundary inside the window, in words. */
function boundaryWarnings(regimes: Regime[], treated: string, control: string, changeDay: string, fromDay: string, endDay: string): string[] {
  const out: string[] = [];
  for (const r of regimes) {
    if (r.start <= fromDay || r.start >= endDay) continue;
    if (r.channel === treated && treated !== control && r.start !== changeDay) {
      out.push(`The treated channel ${treated} also enters regime ${r.regime} on ${r.start}, inside the window.`);
    }
    if (r.channel === control) {
      out.push(`The control channel ${control} enters regime ${r.regime} on ${r.start}, inside the window: it is not an unchanged control.`);
    }
  }
  return out;
}

export const routes: RouteModule = (app, { wh, config, answers }) => {
  app.get<{ Querystring: Query }>(
    '/v1/policy-impact',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['analyses'],
        summary: 'Difference-in-differences of a metric around a regime boundary',
        description:
          'Treated channel against control channel, window_days before and after the change; per business per period from raw tables; 95% interval by cluster bootstrap over businesses; pre-trend check over weekly buckets. See docs/analyses.md.',
        querystring,
        response: { 200: response200, 422: errorSchema },
      },
    },
    async (req, reply) =>
      // The query string as checked, defaults filled in; answers also depend on the configured attribution window.
      answers.reply(reply, { ...req.query, attribution_window_hours: config.attributionWindowHours }, async () => {
        const { metric: metricName, treated, control, change, window_days: windowDays } = req.query;
        const metric = Object.hasOwn(IMPACT_METRICS, metricName) ? IMPACT_METRICS[metricName] : null;
        if (!metric) throw new ApiError('UNKNOWN_METRIC', `metric must be one of ${Object.keys(IMPACT_METRICS).join(', ')}.`);
        if (treated === control) throw new ApiError('BAD_REQUEST', 'treated and control must be different channels.');

        const regimes = (await readRegimes(wh)).filter((r) => r.channel === treated || r.channel === control);
        let changeMs: number;
        let regimeName: string | null = null;
        if (/^\d{4}-\d{2}-\d{2}$/.test(change)) {
          changeMs = parseDay(change, 'change');
          regimeName = regimes.find((r) => r.channel === treated && r.start === change)?.regime ?? null;
        } else {
          const found = regimes.filter((r) => r.channel === treated && r.regime === change).sort((a, b) => a.start.localeCompare(b.start))[0];
          if (!found) throw new ApiError('UNKNOWN_REGIME', `No regime ${change} on channel ${treated}.`);
          changeMs = parseDay(found.start, 'change');
          regimeName = found.regime;
        }

        const preWeeks = Math.ceil(windowDays / 7);
        const rows = await impactRows(wh, { metric, treated, control, changeMs, windowDays, preWeeks, attributionWindowHours: config.attributionWindowHours });

        // One vector per business: (numerator, denominator) per group and bucket.
        const len = vectorLength(preWeeks);
        const byBusiness = new Map<string, Float64Array>();
        for (const r of rows) {
          const group = r.channel === treated ? 0 : 1;
          let v = byBusiness.get(r.business_id);
          if (!v) byBusiness.set(r.business_id, (v = new Float64Array(len)));
          const i = numIndex(group, r.bucket, preWeeks);
          v[i] += metric.numerator(r);
          v[i + 1] += metric.denominator(r);
        }
        const clusters = [...byBusiness.keys()].sort().map((b) => byBusiness.get(b)!);
        const result = differenceInDifferences(clusters, preWeeks, metric.scale, DEFAULT_BOOTSTRAP);
        const p = result.point;
        if (p.did === null) {
          const empty = (['treated_before', 'treated_after', 'control_before', 'control_after'] as const).filter((k) => p[k] === null);
          throw new ApiError('INSUFFICIENT_DATA', `The denominator of ${metricName} is 0 in: ${empty.join(', ')}.`);
        }

        const cell = (group: 0 | 1, after: boolean) => {
          const [from, to] = after ? [preWeeks, preWeeks + 1] : [0, preWeeks];
          const { num: numerator, den: denominator } = cellSums(result.totals, group, from, to, preWeeks);
          // Denominators are counts, never negative: a business is in the cell when its own denominator there is not 0.
          const businesses = clusters.filter((c) => cellSums(c, group, from, to, preWeeks).den > 0).length;
          const key = `${group === 0 ? 'treated' : 'control'}_${after ? 'after' : 'before'}` as const;
          return { channel: group === 0 ? treated : control, value: p[key]!, numerator, denominator, businesses };
        };

        const fromMs = changeMs - windowDays * DAY_MS;
        const endMs = changeMs + windowDays * DAY_MS;
        const warnings = boundaryWarnings(regimes, treated, control, isoDay(changeMs), isoDay(fromMs), isoDay(endMs));
        if (p.pretrend_slope === null) warnings.push('Fewer than 3 weeks before the change have data on both channels: the pre-trend cannot be checked.');
        if (result.clusters < 20) warnings.push(`Only ${result.clusters} businesses: the cluster bootstrap interval is rough.`);
        if (result.did_ci95 === null) warnings.push('The DiD was undefined in more than half the bootstrap replicates: no interval.');

        const slopeCi = result.pretrend_ci95;
        return {
          metric: metricName,
          metric_description: metric.description,
          treated,
          control,
          change: { input: change, date: isoDay(changeMs), regime: regimeName },
          window_days: windowDays,
          windows: {
            before: { from: isoDay(fromMs), to: isoDay(changeMs - DAY_MS) },
            after: { from: isoDay(changeMs), to: isoDay(endMs - DAY_MS) },
          },
          cells: { treated_before: cell(0, false), treated_after: cell(0, true), control_before: cell(1, false), control_after: cell(1, true) },
          estimate: p.did,
          ci95: result.did_ci95,
          pre_trend: {
            weeks: p.pretrend_weeks,
            slope_per_week: p.pretrend_slope,
            ci95: slopeCi,
            parallel_trends_plausible: slopeCi !== null && slopeCi[0] <= 0 && slopeCi[1] >= 0,
          },
          method: {
            interval: 'cluster bootstrap by business (all of a business’s rows resampled together), percentile 2.5–97.5',
            clusters: result.clusters,
            replicates: result.replicates,
            replicates_used: result.replicates_used,
            seed: DEFAULT_BOOTSTRAP.seed,
          },
          warnings,
        };
      }),
  );
};
