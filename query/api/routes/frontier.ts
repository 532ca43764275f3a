// GET /v1/frequency-frontier: per recurring-notification frequency, what a subscriber earns and how fast
// (and how noisily) they leave — the spam-risk-versus-revenue answer. Definitions: docs/analyses.md.
import { FREQUENCIES } from '../../../events/types.js';
import { DEFAULT_BOOTSTRAP } from '../../analyses/bootstrap.js';
import { frontierOf, type FrontierPoint } from '../../analyses/frontier.js';
import { frontierRows, LAPSE_PERIODS } from '../../analyses/frontier-sql.js';
import { dayRange } from '../../sql/days.js';
import { ANALYSIS_DAYS, channelSchema, dateSchema, estimateSchema } from '../analysis-schemas.js';
import type { RouteModule } from '../route-module.js';

export const MAX_HORIZON_DAYS = 730;

const ESTIMATES = [
  'mean_send_interval_days',
  'sends_per_subscriber_month',
  'opt_outs_per_send',
  'blocks_per_send',
  'leaves_per_send',
  'spam_reports_per_1k_sends',
  'hazard_per_subscriber_day',
  'survival_at_horizon',
  'net_revenue_per_send',
  'daily_net_revenue_per_subscriber',
  'expected_net_revenue_per_subscriber',
  'spam_reports_per_1k_subscribers',
] as const satisfies readonly (keyof FrontierPoint)[];

const querystring = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    from: dateSchema,
    to: dateSchema,
    channel: channelSchema,
    horizon_days: { type: 'integer', minimum: 1, maximum: MAX_HORIZON_DAYS, default: 90 },
  },
} as const;

const frequencySchema = {
  type: 'object',
  required: ['frequency', 'businesses', 'subscribers', 'sends', 'opt_outs', 'blocks', 'spam_reports', 'revenue_usd', 'cost_usd', ...ESTIMATES],
  properties: {
    frequency: { type: 'string' },
    businesses: { type: 'integer' },
    subscribers: { type: 'integer' },
    sends: { type: 'integer' },
    opt_outs: { type: 'integer' },
    blocks: { type: 'integer' },
    spam_reports: { type: 'integer' },
    revenue_usd: { type: 'number' },
    cost_usd: { type: 'number' },
    ...Object.fromEntries(ESTIMATES.map((k) => [k, estimateSchema])),
  },
} as const;

const response200 = {
  type: 'object',
  required: ['from', 'to', 'channel', 'horizon_days', 'attribution_window_hours', 'method', 'frequencies'],
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    channel: { type: ['string', 'null'] },
    horizon_days: { type: 'integer' },
    attribution_window_hours: { type: 'integer' },
    method: {
      type: 'object',
      properties: {
        intervals: { type: 'string' },
        bootstrap_replicates: { type: 'integer' },
        bootstrap_seed: { type: 'integer' },
        lapse_periods: { type: 'integer' },
      },
    },
    frequencies: { type: 'array', items: frequencySchema },
  },
} as const;

interface Query {
  from: string;
  to: string;
  channel?: string;
  horizon_days: number;
}

export const routes: RouteModule = (app, { wh, config, answers }) => {
  app.get<{ Querystring: Query }>(
    '/v1/frequency-frontier',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['analyses'],
        summary: 'Spam risk versus revenue per recurring-notification frequency',
        description:
          'Per frequency (daily, weekly, monthly): sends per subscriber-month, opt-out hazard, net revenue per send, survival-weighted net revenue per subscriber over the horizon and spam reports per 1k subscribers, with 95% intervals. See docs/analyses.md.',
        querystring,
        response: { 200: response200 },
      },
    },
    async (req, reply) =>
      // The query string as checked, defaults filled in; answers also depend on the configured attribution window.
      answers.reply(reply, { ...req.query, attribution_window_hours: config.attributionWindowHours }, async () => {
        const { from, to, channel, horizon_days: horizon } = req.query;
        const range = dayRange(from, to, ANALYSIS_DAYS);
        const rows = await frontierRows(wh, {
          fromMs: range.fromMs,
          endMs: range.endMs,
          channel: channel ?? null,
          attributionWindowHours: config.attributionWindowHours,
        });
        const frequencies = FREQUENCIES.map((frequency) => {
          const own = rows.filter((r) => r.frequency === frequency);
          const f = frontierOf(own, horizon);
          return {
            frequency,
            businesses: f.businesses,
            subscribers: f.totals.subscribers,
            sends: f.totals.sends,
            opt_outs: f.totals.opt_outs,
            blocks: f.totals.blocks,
            spam_reports: f.totals.spam_reports,
            revenue_usd: Math.round(f.totals.revenue_usd * 1e6) / 1e6,
            cost_usd: Math.round(f.totals.cost_usd * 1e6) / 1e6,
            ...Object.fromEntries(ESTIMATES.map((k) => [k, { estimate: f.point[k], ci95: f.ci95[k] }])),
          };
        });
        return {
          from,
          to,
          channel: channel ?? null,
          horizon_days: horizon,
          attribution_window_hours: config.attributionWindowHours,
          method: {
            intervals:
              'per-send proportions: Wilson score on the business-cluster effective sample size; hazard, survival and spam per 1k subscribers: that interval carried through the formula; the rest: cluster bootstrap by business, percentile',
            bootstrap_replicates: DEFAULT_BOOTSTRAP.replicates,
            bootstrap_seed: DEFAULT_BOOTSTRAP.seed,
            lapse_periods: LAPSE_PERIODS,
          },
          frequencies,
        };
      }),
  );
};
