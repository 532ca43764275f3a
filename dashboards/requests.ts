// The API requests each page makes for a variant (channel × period), and the constants they are made with.
import { FREQUENCIES, FUNNEL_STAGES } from './dimensions.js';
import type { ApiRequest } from './source.js';

export interface Variant {
  /** null: every channel. */
  channel: string | null;
  from: string;
  to: string;
  /** Short name of the period in file names; '' for the default (whole) period. */
  period: string;
  periodLabel: string;
}

export const HORIZON_DAYS = 90;
export const IMPACT_WINDOW_DAYS = 90;
/** The API's largest `limit` (query/metrics/request.ts MAX_LIMIT); a truncated answer is said on the chart. */
export const QUERY_LIMIT = 10_000;

const channelFilter = (v: Variant): [string, string, string[]][] => (v.channel ? [['is', 'channel', [v.channel]]] : []);

export const requests = {
  regimes: (): ApiRequest => ({ method: 'GET', path: '/v1/regimes' }),
  extent: (from: string, to: string): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: { metrics: ['sends'], dimensions: ['time:month'], date_range: [from, to], limit: QUERY_LIMIT },
  }),
  scatter: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: {
      metrics: ['sends', 'spam_risk_per_1k', 'net_revenue_per_1k'],
      dimensions: ['regime', 'frequency', 'business_id'],
      date_range: [v.from, v.to],
      filters: [['is', 'frequency', [...FREQUENCIES]], ...channelFilter(v)],
      limit: QUERY_LIMIT,
    },
  }),
  frequency: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: {
      metrics: ['sends', 'opt_outs_per_1k', 'read_rate', 'click_rate'],
      dimensions: ['regime', 'channel', 'frequency'],
      date_range: [v.from, v.to],
      filters: [['is', 'frequency', [...FREQUENCIES]], ...channelFilter(v)],
      limit: QUERY_LIMIT,
      // Each estimate beside the same number of days just before the period, and the change.
      include: { comparisons: { mode: 'previous_period' } },
    },
  }),
  frontier: (from: string, to: string, channel: string): ApiRequest => ({
    method: 'GET',
    path: '/v1/frequency-frontier',
    query: { from, to, channel, horizon_days: HORIZON_DAYS },
  }),
  timeline: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: {
      metrics: ['sends', 'opt_outs_per_1k', 'net_revenue_per_1k'],
      dimensions: ['time:week', 'channel'],
      date_range: [v.from, v.to],
      filters: channelFilter(v),
      limit: QUERY_LIMIT,
    },
  }),
  // No control and no method: the API picks them (a DiD against the channels with no boundary in the window, or an
  // interrupted time series when there are none) and says why.
  impact: (metric: string, treated: string, change: string): ApiRequest => ({
    method: 'GET',
    path: '/v1/policy-impact',
    query: { metric, treated, change, window_days: IMPACT_WINDOW_DAYS },
  }),
  eventStudy: (metric: string, treated: string, change: string): ApiRequest => ({
    method: 'GET',
    path: '/v1/policy-impact',
    query: { metric, treated, change, window_days: IMPACT_WINDOW_DAYS, method: 'event_study' },
  }),
  retention: (v: Variant): ApiRequest => ({
    method: 'GET',
    path: '/v1/retention',
    query: { by: 'frequency', channel: v.channel ?? undefined, from: v.from, to: v.to },
  }),
  funnel: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: { metrics: [...FUNNEL_STAGES], dimensions: ['channel', 'category'], date_range: [v.from, v.to], filters: channelFilter(v), limit: QUERY_LIMIT },
  }),
};
