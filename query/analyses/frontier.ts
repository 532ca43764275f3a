// The frequency frontier: what a recurring-notification frequency earns and costs per subscriber.
// Pure maths on per-business sums (the SQL in frontier-sql.ts produces them). Definitions are in
// docs/analyses.md; in short, for one frequency:
//   ḡ  = mean interval between consecutive sends of that frequency to the same subscriber (days)
//   p  = attributed (opt-outs + blocks) per send,  q = attributed spam reports per send
//   v  = net revenue per send = (revenue of converted engagements − cost) / sends
//   h  = hazard per subscriber-day = (opt-outs + blocks) / subscriber-days = p / ḡ
//        (each send stands for one send interval of exposure: subscriber-days = sends × ḡ)
//   S(t) = exp(−h·t);  E_H = Σ_{t=0}^{H−1} S(t) · v/ḡ;  spam per 1k subscribers over H = 1000 · Σ S(t) · q/ḡ
import { clusterBootstrap, DEFAULT_BOOTSTRAP, percentileInterval, type BootstrapOptions } from './bootstrap.js';
import { wilsonOrNull, Z_95 as Z95 } from '../metrics/stats.js';

export const DAYS_PER_MONTH = 365.25 / 12;

export interface FrontierSums {
  sends: number;
  subscribers: number;
  opt_outs: number;
  blocks: number;
  spam_reports: number;
  revenue_usd: number;
  cost_usd: number;
  /** Complete intervals between consecutive sends to the same subscriber, and their total length in days. */
  gap_n: number;
  gap_days: number;
}

export const SUM_FIELDS = [
  'sends',
  'subscribers',
  'opt_outs',
  'blocks',
  'spam_reports',
  'revenue_usd',
  'cost_usd',
  'gap_n',
  'gap_days',
] as const satisfies readonly (keyof FrontierSums)[];

export interface FrontierPoint {
  mean_send_interval_days: number | null;
  sends_per_subscriber_month: number | null;
  opt_outs_per_send: number | null;
  blocks_per_send: number | null;
  /** (opt-outs + blocks) per send: the per-send probability of losing the subscriber. */
  leaves_per_send: number | null;
  spam_reports_per_1k_sends: number | null;
  hazard_per_subscriber_day: number | null;
  survival_at_horizon: number | null;
  net_revenue_per_send: number | null;
  daily_net_revenue_per_subscriber: number | null;
  expected_net_revenue_per_subscriber: number | null;
  spam_reports_per_1k_subscribers: number | null;
}

export type Interval = [number, number] | null;
export type FrontierIntervals = { [K in keyof FrontierPoint]: Interval };

/** Σ_{t=0}^{H−1} exp(−h·t): expected days alive during the first H days under a constant hazard h. */
export function survivalDays(hazard: number, horizonDays: number): number {
  if (hazard <= 0) return horizonDays;
  const q = Math.exp(-hazard);
  return (1 - q ** horizonDays) / (1 - q);
}

const div = (a: number, b: number): number | null => (b > 0 ? a / b : null);

export function frontierPoint(s: FrontierSums, horizonDays: number): FrontierPoint {
  const gap = div(s.gap_days, s.gap_n);
  const p = div(s.opt_outs + s.blocks, s.sends);
  const q = div(s.spam_reports, s.sends);
  const v = div(s.revenue_usd - s.cost_usd, s.sends);
  const h = p !== null && gap !== null && gap > 0 ? p / gap : null;
  const days = h === null ? null : survivalDays(h, horizonDays);
  const daily = v !== null && gap !== null && gap > 0 ? v / gap : null;
  return {
    mean_send_interval_days: gap,
    sends_per_subscriber_month: gap !== null && gap > 0 ? DAYS_PER_MONTH / gap : null,
    opt_outs_per_send: div(s.opt_outs, s.sends),
    blocks_per_send: div(s.blocks, s.sends),
    leaves_per_send: p,
    spam_reports_per_1k_sends: q === null ? null : q * 1000,
    hazard_per_subscriber_day: h,
    survival_at_horizon: h === null ? null : Math.exp(-h * horizonDays),
    net_revenue_per_send: v,
    daily_net_revenue_per_subscriber: daily,
    expected_net_revenue_per_subscriber: daily === null || days === null ? null : daily * days,
    spam_reports_per_1k_subscribers: q === null || gap === null || gap <= 0 || days === null ? null : (1000 * q * days) / gap,
  };
}

// ---------- intervals for proportions ----------

/** Wilson score interval (query/metrics/stats.ts); null without trials. Trials may be fractional (an effective size). */
export function wilson(successes: number, trials: number, z = Z95): Interval {
  return wilsonOrNull(successes, trials, z);
}

/**
 * Design effect of a ratio of sums p = Σy/Σn over clusters: the cluster-robust (linearised) variance
 * G/(G−1)·Σ(y_b − p·n_b)²/N² over the binomial p(1−p)/N, never below 1.
 */
export function designEffect(ys: readonly number[], ns: readonly number[]): number {
  const g = ys.length;
  let y = 0;
  let n = 0;
  for (let i = 0; i < g; i++) {
    y += ys[i];
    n += ns[i];
  }
  if (g < 2 || n <= 0) return 1;
  const p = y / n;
  if (p <= 0 || p >= 1) return 1;
  let ss = 0;
  for (let i = 0; i < g; i++) ss += (ys[i] - p * ns[i]) ** 2;
  const robust = ((g / (g - 1)) * ss) / (n * n);
  const binomial = (p * (1 - p)) / n;
  return Math.max(1, robust / binomial);
}

/** Wilson interval on the effective sample size N / deff, so clustering by business widens it. */
export function clusteredWilson(ys: readonly number[], ns: readonly number[], z = Z95): Interval {
  let y = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    y += ys[i];
    n += ns[i];
  }
  if (n <= 0) return null;
  const nEff = n / designEffect(ys, ns);
  return wilson((y / n) * nEff, nEff, z);
}

// ---------- the frontier of one frequency ----------

export interface FrontierResult {
  totals: FrontierSums;
  point: FrontierPoint;
  ci95: FrontierIntervals;
  businesses: number;
}

const scaleInterval = (i: Interval, f: (x: number) => number): Interval => {
  if (i === null) return null;
  const a = f(i[0]);
  const b = f(i[1]);
  return a <= b ? [a, b] : [b, a];
};

/**
 * Estimates and 95% intervals for one frequency from per-business sums.
 * - per-send proportions: Wilson on the cluster-adjusted effective size (clusteredWilson);
 * - hazard, survival at the horizon, spam reports per 1k subscribers: the proportion's interval carried
 *   through the (monotone) formula with ḡ at its estimate (ḡ is measured far more precisely than rare events);
 * - interval, sends per month, net revenue per send, daily and expected net revenue: cluster bootstrap over
 *   businesses, percentile, seeded.
 */
export function frontierOf(rows: readonly FrontierSums[], horizonDays: number, opts: BootstrapOptions = DEFAULT_BOOTSTRAP): FrontierResult {
  const totals = Object.fromEntries(SUM_FIELDS.map((f) => [f, rows.reduce((a, r) => a + r[f], 0)])) as unknown as FrontierSums;
  const point = frontierPoint(totals, horizonDays);
  const sends = rows.map((r) => r.sends);
  const opt = clusteredWilson(
    rows.map((r) => r.opt_outs),
    sends,
  );
  const blk = clusteredWilson(
    rows.map((r) => r.blocks),
    sends,
  );
  const leave = clusteredWilson(
    rows.map((r) => r.opt_outs + r.blocks),
    sends,
  );
  const spam = clusteredWilson(
    rows.map((r) => r.spam_reports),
    sends,
  );
  const gap = point.mean_send_interval_days;
  const h = point.hazard_per_subscriber_day;

  const vectors = rows.map((r) => Float64Array.from(SUM_FIELDS.map((f) => r[f])));
  const bootKeys = [
    'mean_send_interval_days',
    'sends_per_subscriber_month',
    'net_revenue_per_send',
    'daily_net_revenue_per_subscriber',
    'expected_net_revenue_per_subscriber',
  ] as const;
  const boot = clusterBootstrap(
    vectors,
    (t) => {
      const p = frontierPoint(Object.fromEntries(SUM_FIELDS.map((f, i) => [f, t[i]])) as unknown as FrontierSums, horizonDays);
      return bootKeys.map((k) => p[k]);
    },
    opts,
  );
  const bootCi = (k: (typeof bootKeys)[number]): Interval =>
    point[k] === null ? null : percentileInterval(boot.values[bootKeys.indexOf(k)] ?? [], boot.replicates);

  const perGap = (i: Interval, f: (p: number) => number): Interval => (gap === null || gap <= 0 ? null : scaleInterval(i, f));
  const ci95: FrontierIntervals = {
    mean_send_interval_days: bootCi('mean_send_interval_days'),
    sends_per_subscriber_month: bootCi('sends_per_subscriber_month'),
    opt_outs_per_send: opt,
    blocks_per_send: blk,
    leaves_per_send: leave,
    spam_reports_per_1k_sends: scaleInterval(spam, (x) => x * 1000),
    hazard_per_subscriber_day: perGap(leave, (p) => p / gap!),
    survival_at_horizon: perGap(leave, (p) => Math.exp((-p / gap!) * horizonDays)),
    net_revenue_per_send: bootCi('net_revenue_per_send'),
    daily_net_revenue_per_subscriber: bootCi('daily_net_revenue_per_subscriber'),
    expected_net_revenue_per_subscriber: bootCi('expected_net_revenue_per_subscriber'),
    spam_reports_per_1k_subscribers: h === null ? null : perGap(spam, (q) => (1000 * q * survivalDays(h, horizonDays)) / gap!),
  };
  return { totals, point, ci95, businesses: rows.length };
}
