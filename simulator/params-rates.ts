// Per-send probabilities, in exactly the terms the pipeline measures. A cell is
// (channel, category, frequency | null, regime); its rates are a base per (channel family, category)
// times a channel multiplier (Instagram), a regime multiplier and, for recurring notifications
// only, a frequency multiplier. cellRates() gives the effective numbers; the world draws from them
// and the truth file prints them, so measured rates can be compared cell by cell.
// Sources and assumptions are in docs/simulator.md; every number here is an assumption anchored
// on the vendor/industry ranges in /work/shared/reference/domain.md unless said otherwise.
import type { Channel, Frequency, SendCategory } from '../events/types.js';

export interface SendRates {
  /** delivered / sends */
  delivery_rate: number;
  /** read / delivered */
  read_rate: number;
  /** clicked / delivered (clicked implies read) */
  click_rate: number;
  /** replied / delivered (replied implies read) */
  reply_rate: number;
  /** converted / delivered (converted implies clicked) */
  conversion_rate: number;
  /** opt_outs attributed to the send / sends (only delivered sends cause them) */
  opt_out_rate: number;
  /** blocks attributed / sends */
  block_rate: number;
  /** spam_reports attributed / sends */
  spam_report_rate: number;
  /** mean revenue_usd of a converted engagement (log-normal around it, in cents) */
  revenue_per_conversion_usd: number;
}

type Multiplier = Partial<Record<keyof SendRates, number>>;

const r = (
  delivery_rate: number,
  read_rate: number,
  click_rate: number,
  reply_rate: number,
  conversion_rate: number,
  opt_out_rate: number,
  block_rate: number,
  spam_report_rate: number,
  revenue_per_conversion_usd: number,
): SendRates => ({ delivery_rate, read_rate, click_rate, reply_rate, conversion_rate, opt_out_rate, block_rate, spam_report_rate, revenue_per_conversion_usd });

/** Messenger (and, with CHANNEL_MULTIPLIERS, Instagram). Recurring is at the weekly level. */
export const MESSENGER_BASE: Partial<Record<SendCategory, SendRates>> = {
  //                       deliv  read  click  reply  conv   opt_out block   spam    revenue
  response: r(0.99, 0.86, 0.05, 0.42, 0.012, 0.0004, 0.0008, 0.0002, 38),
  message_tag: r(0.975, 0.72, 0.07, 0.08, 0.01, 0.0015, 0.002, 0.0006, 32),
  one_time_notification: r(0.975, 0.74, 0.13, 0.06, 0.022, 0.0012, 0.0012, 0.0004, 41),
  recurring_notification: r(0.98, 0.66, 0.09, 0.03, 0.012, 0.0025, 0.0006, 0.0002, 29),
  marketing_message: r(0.975, 0.58, 0.085, 0.02, 0.014, 0.003, 0.0009, 0.0004, 46),
  utility_template: r(0.985, 0.8, 0.09, 0.05, 0.006, 0.0004, 0.0003, 0.0001, 24),
};

export const WHATSAPP_BASE: Partial<Record<SendCategory, SendRates>> = {
  marketing_template: r(0.96, 0.46, 0.085, 0.04, 0.018, 0.006, 0.004, 0.0015, 34),
  utility_template: r(0.985, 0.8, 0.065, 0.07, 0.004, 0.0008, 0.0006, 0.0002, 22),
  authentication_template: r(0.99, 0.9, 0.01, 0.01, 0, 0.0002, 0.0002, 0.0001, 0),
  service: r(0.995, 0.92, 0.045, 0.55, 0.016, 0.0003, 0.0005, 0.0001, 40),
};

export const CHANNEL_MULTIPLIERS: Partial<Record<Channel, Multiplier>> = {
  // Assumption: Instagram DMs are read a little more and clicked a little less than Messenger.
  instagram: { read_rate: 1.04, click_rate: 0.85, reply_rate: 1.15, conversion_rate: 0.9, block_rate: 1.1, revenue_per_conversion_usd: 0.9 },
};

/**
 * Per-send engagement falls and per-send opt-out rises (a little) with frequency, so that total
 * opt-outs per subscriber-month rise steeply with frequency (about flat per send: segmentum.co.uk)
 * and revenue per subscriber over a token's life peaks at weekly, the level nearest the ~7/month
 * optimum of Zhang, Kumar & Cosguner (2017).
 */
export const FREQUENCY_MULTIPLIERS: Record<Frequency, Multiplier> = {
  daily: { read_rate: 0.8, click_rate: 0.45, reply_rate: 0.6, conversion_rate: 0.22, opt_out_rate: 1.5, block_rate: 1.5, spam_report_rate: 1.5 },
  weekly: {},
  monthly: { read_rate: 1.08, click_rate: 1.2, reply_rate: 1.1, conversion_rate: 1.25, opt_out_rate: 0.85, block_rate: 0.8, spam_report_rate: 0.8 },
};

/** Regime effects by category; absent means 1. */
export const REGIME_MULTIPLIERS: Record<string, Partial<Record<SendCategory, Multiplier>>> = {
  // 24+1: tags were abused for promotion and the "+1" follow-up was promotional: more clicks, more blocking.
  '24h_plus_1': {
    message_tag: { read_rate: 0.9, click_rate: 1.1, conversion_rate: 1.1, opt_out_rate: 1.6, block_rate: 1.8, spam_report_rate: 2 },
    response: { opt_out_rate: 1.3, block_rate: 1.3 },
  },
  '24h_tags_otn': {},
  // Novelty of the launch period.
  recurring_all_frequencies: { recurring_notification: { read_rate: 1.05, click_rate: 1.05 } },
  recurring_daily_only: {},
  // Paid marketing messages compete for the same inbox.
  paid_marketing_messages: { recurring_notification: { read_rate: 0.95 } },
  utility_messages: { marketing_message: { opt_out_rate: 1.1 } },
  // Before conversation pricing, marketing templates were cheap mass blasts (~38% read for blasts).
  whatsapp_template_pricing: { marketing_template: { read_rate: 0.92, opt_out_rate: 1.1, block_rate: 1.1 } },
  whatsapp_conversation_pricing: {},
  whatsapp_category_pricing: {},
  // Per-message pricing makes businesses target better.
  whatsapp_per_message_pricing: { marketing_template: { read_rate: 1.08, click_rate: 1.1, opt_out_rate: 0.9 } },
};

const RATE_KEYS: (keyof SendRates)[] = [
  'delivery_rate',
  'read_rate',
  'click_rate',
  'reply_rate',
  'conversion_rate',
  'opt_out_rate',
  'block_rate',
  'spam_report_rate',
  'revenue_per_conversion_usd',
];

export function baseRatesOf(channel: Channel, category: SendCategory): SendRates | undefined {
  return (channel === 'whatsapp' ? WHATSAPP_BASE : MESSENGER_BASE)[category];
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * The effective rates of one cell, rounded to 6 decimals (the world draws from the rounded
 * numbers, so the truth file states exactly what was used).
 */
export function cellRates(channel: Channel, category: SendCategory, frequency: Frequency | null, regime: string): SendRates {
  const base = baseRatesOf(channel, category);
  if (!base) throw new Error(`no rates for ${channel}/${category}`);
  const layers: (Multiplier | undefined)[] = [
    CHANNEL_MULTIPLIERS[channel],
    REGIME_MULTIPLIERS[regime]?.[category],
    category === 'recurring_notification' && frequency ? FREQUENCY_MULTIPLIERS[frequency] : undefined,
  ];
  const out = { ...base };
  for (const key of RATE_KEYS) {
    let v = base[key];
    for (const m of layers) v *= m?.[key] ?? 1;
    out[key] = key === 'revenue_per_conversion_usd' ? Math.round(v * 100) / 100 : round6(v);
  }
  const problems = checkRates(out);
  if (problems.length) throw new Error(`inconsistent rates for ${channel}/${category}/${frequency}/${regime}: ${problems.join('; ')}`);
  return out;
}

/** The funnel forces these orderings; a violation would make a conditional probability exceed 1. */
export function checkRates(x: SendRates): string[] {
  const p: string[] = [];
  for (const key of RATE_KEYS) if (key !== 'revenue_per_conversion_usd' && !(x[key] >= 0 && x[key] <= 1)) p.push(`${key} outside [0,1]`);
  if (x.click_rate > x.read_rate) p.push('click_rate > read_rate');
  if (x.reply_rate > x.read_rate) p.push('reply_rate > read_rate');
  if (x.conversion_rate > x.click_rate) p.push('conversion_rate > click_rate');
  if (x.opt_out_rate + x.block_rate + x.spam_report_rate > x.delivery_rate) p.push('spam-risk rates exceed delivery_rate');
  if (x.conversion_rate > 0 && !(x.revenue_per_conversion_usd > 0)) p.push('conversions without revenue');
  return p;
}
