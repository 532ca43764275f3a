// The ground truth of a simulation: the options, every parameter used, and exact counts of what
// was written. Counters are plain fields the world bumps as lines are yielded; build() turns
// them into the JSON document (simulator's `<out>.truth.json`).
import { DEFAULT_ATTRIBUTION_WINDOW_HOURS } from '../events/attribution.js';
import { CHANNELS, type Channel, type EventFamily, type EventType, type Frequency, type SendCategory } from '../events/types.js';
import type { Cell, CellKey, CellRealized } from './cells.js';
import { MESSENGER_BASE, WHATSAPP_BASE, CHANNEL_MULTIPLIERS, FREQUENCY_MULTIPLIERS, REGIME_MULTIPLIERS, type SendRates } from './params-rates.js';
import { COUNTRY_PRICES, MESSENGER_MARKETING_MESSAGE_USD, PRICE_DERIVATION, WHATSAPP_COUNTRIES } from './params-prices.js';
import { FREQUENCY_SCHEDULE, OUTPUT, TIMING, WORLD, TAGS } from './params-world.js';
import { POLICY_DATES } from './policy-calendar.js';
import { costModelOf } from './pricing.js';
import { DAY, isoOf, monthOf } from './time.js';

export const TRUTH_FORMAT = 'policylens-simulator-truth/1';

export const BAD_KINDS = [
  'not_json',
  'truncated_json',
  'json_array',
  'json_scalar',
  'missing_field',
  'wrong_type',
  'unknown_type',
  'unknown_channel',
  'bad_frequency_enum',
  'frequency_on_opt_out',
  'frequency_on_non_recurring',
  'unknown_category',
  'revenue_on_non_converted',
  'timestamp_before_2010',
  'timestamp_far_future',
  'timestamp_without_offset',
  'negative_cost',
  'event_id_too_long',
  'event_id_empty',
  'oversized',
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** Measured rates of a cell, computed from its realized counts (null when the denominator is 0). */
export type RealizedRates = { [K in keyof SendRates]: number | null } & { cost_per_send_usd: number | null };

export interface TruthCell extends CellKey {
  /** The probabilities the simulator drew from (expected values). */
  rates: SendRates;
  /** How cost_usd is set for sends of this cell (WhatsApp costs depend on country and open conversations). */
  cost_model: string;
  /** Exact counts written for sends of this cell and for events attributed to them. */
  realized: CellRealized & { cost_usd: number; revenue_usd: number };
  /** The same counts as rates, in the pipeline's terms. */
  realized_rates: RealizedRates;
}

export interface Truth {
  format: typeof TRUTH_FORMAT;
  /** False when read before lines() was exhausted. */
  complete: boolean;
  options: { events: number; seed: number; badRatio: number; dupRatio: number; from: string; to: string };
  world: {
    businesses: number;
    users: number;
    threads: number;
    /** The simulation ran from here; events before options.from were simulated but not written. */
    warmupFrom: string;
    firstOccurredAt: string | null;
    lastOccurredAt: string | null;
    /** Arrivals added on the last day only to reach exactly options.events (0 normally). */
    forcedArrivals: number;
  };
  parameters: {
    attributionWindowHours: number;
    policyDates: typeof POLICY_DATES;
    frequencySchedule: typeof FREQUENCY_SCHEDULE;
    world: typeof WORLD;
    timing: typeof TIMING;
    output: typeof OUTPUT;
    tags: typeof TAGS;
    rates: {
      messengerBase: typeof MESSENGER_BASE;
      whatsappBase: typeof WHATSAPP_BASE;
      channelMultipliers: typeof CHANNEL_MULTIPLIERS;
      frequencyMultipliers: typeof FREQUENCY_MULTIPLIERS;
      regimeMultipliers: typeof REGIME_MULTIPLIERS;
    };
    prices: {
      whatsappCountries: typeof WHATSAPP_COUNTRIES;
      derivation: typeof PRICE_DERIVATION;
      /** Derived prices in micro-dollars, in WHATSAPP_COUNTRIES order. */
      whatsappCountryPricesMicros: typeof COUNTRY_PRICES;
      messengerMarketingMessageUsd: number;
    };
  };
  counts: {
    /** Every line written: valid + duplicates + bad. */
    lines: number;
    /** Valid unique events (= options.events). */
    valid: number;
    duplicates: number;
    bad: number;
    validByFamily: Record<EventFamily, number>;
    validByType: Record<EventType, number>;
    duplicatesByFamily: Record<EventFamily, number>;
    badByKind: Record<BadKind, number>;
    /** Sum of cost_usd over valid sends, and of revenue_usd over valid converted engagements. */
    costUsd: number;
    costMicros: number;
    revenueUsd: number;
    revenueMicros: number;
    sendsByChannelRegime: Record<Channel, Record<string, number>>;
    sendsByCategory: Partial<Record<SendCategory, number>>;
    sendsByFrequency: Record<Frequency | 'none', number>;
    optInsByChannelFrequency: Record<Channel, Record<Frequency, number>>;
    /** opt_ins that renewed an expiring token (subset of validByType.opt_in). */
    optInRenewals: number;
    /** Spam-risk events: caused by a send (attributable by the 72 h rule) or spontaneous (no send in the previous 72 h). */
    spamRisk: {
      attributed: { opt_out: number; block: number; spam_report: number };
      unattributed: { opt_out: number };
    };
    /** Engagements written up to 10 minutes after later events (out of order). */
    engagementsWrittenLate: number;
    /** Valid events whose occurred_at is an epoch-ms integer. */
    epochMsTimestamps: number;
    validByMonth: Record<string, number>;
  };
  /** Every cell with at least one written send. */
  cells: TruthCell[];
}

const zeroFamilies = (): Record<EventFamily, number> => ({ sends: 0, engagements: 0, subscriptions: 0 });

export class TruthRecorder {
  lines = 0;
  valid = 0;
  duplicates = 0;
  bad = 0;
  validByFamily = zeroFamilies();
  duplicatesByFamily = zeroFamilies();
  validByType: Record<EventType, number> = {
    send: 0,
    delivered: 0,
    read: 0,
    clicked: 0,
    replied: 0,
    converted: 0,
    opt_in: 0,
    opt_out: 0,
    block: 0,
    spam_report: 0,
  };
  badByKind = {} as Record<BadKind, number>;
  costMicros = 0;
  revenueMicros = 0;
  sendsByChannelRegime = Object.fromEntries(CHANNELS.map((c) => [c, {} as Record<string, number>])) as Record<Channel, Record<string, number>>;
  sendsByCategory: Partial<Record<SendCategory, number>> = {};
  sendsByFrequency: Record<Frequency | 'none', number> = { daily: 0, weekly: 0, monthly: 0, none: 0 };
  optInsByChannelFrequency = Object.fromEntries(CHANNELS.map((c) => [c, { daily: 0, weekly: 0, monthly: 0 }])) as Record<Channel, Record<Frequency, number>>;
  optInRenewals = 0;
  attributed = { opt_out: 0, block: 0, spam_report: 0 };
  unattributed = { opt_out: 0 };
  engagementsWrittenLate = 0;
  epochMsTimestamps = 0;
  firstOccurredAt = Infinity;
  lastOccurredAt = -Infinity;
  forcedArrivals = 0;
  businesses = 0;
  users = 0;
  threads = 0;
  complete = false;

  private readonly monthOfDay: Int32Array;
  private readonly monthNames: string[] = [];
  private readonly monthCounts: number[] = [];

  private readonly options: Truth['options'];
  private readonly warmupFromMs: number;
  private readonly fromMs: number;

  constructor(options: Truth['options'], warmupFromMs: number, fromMs: number, toMs: number) {
    this.options = options;
    this.warmupFromMs = warmupFromMs;
    this.fromMs = fromMs;
    for (const k of BAD_KINDS) this.badByKind[k] = 0;
    // Day -> month index, so counting events by month costs an array lookup, not a date format.
    const days = Math.ceil((toMs - fromMs) / DAY) + 1;
    this.monthOfDay = new Int32Array(days);
    for (let d = 0; d < days; d++) {
      const name = monthOf(fromMs + d * DAY);
      if (this.monthNames[this.monthNames.length - 1] !== name) {
        this.monthNames.push(name);
        this.monthCounts.push(0);
      }
      this.monthOfDay[d] = this.monthNames.length - 1;
    }
  }

  countValid(family: EventFamily, occurredAt: number, epoch: boolean): void {
    this.lines++;
    this.valid++;
    this.validByFamily[family]++;
    if (epoch) this.epochMsTimestamps++;
    if (occurredAt < this.firstOccurredAt) this.firstOccurredAt = occurredAt;
    if (occurredAt > this.lastOccurredAt) this.lastOccurredAt = occurredAt;
    this.monthCounts[this.monthOfDay[Math.floor((occurredAt - this.fromMs) / DAY)]]++;
  }

  countSend(channel: Channel, regime: string, category: SendCategory, frequency: Frequency | null, costMicros: number): void {
    this.validByType.send++;
    const byRegime = this.sendsByChannelRegime[channel];
    byRegime[regime] = (byRegime[regime] ?? 0) + 1;
    this.sendsByCategory[category] = (this.sendsByCategory[category] ?? 0) + 1;
    this.sendsByFrequency[frequency ?? 'none']++;
    this.costMicros += costMicros;
  }

  build(cells: readonly Cell[]): Truth {
    const usd = (micros: number): number => Number((micros / 1e6).toFixed(6));
    const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
    return {
      format: TRUTH_FORMAT,
      complete: this.complete,
      options: this.options,
      world: {
        businesses: this.businesses,
        users: this.users,
        threads: this.threads,
        warmupFrom: isoOf(this.warmupFromMs),
        firstOccurredAt: Number.isFinite(this.firstOccurredAt) ? isoOf(this.firstOccurredAt) : null,
        lastOccurredAt: Number.isFinite(this.lastOccurredAt) ? isoOf(this.lastOccurredAt) : null,
        forcedArrivals: this.forcedArrivals,
      },
      parameters: {
        attributionWindowHours: DEFAULT_ATTRIBUTION_WINDOW_HOURS,
        policyDates: POLICY_DATES,
        frequencySchedule: FREQUENCY_SCHEDULE,
        world: WORLD,
        timing: TIMING,
        output: OUTPUT,
        tags: TAGS,
        rates: {
          messengerBase: MESSENGER_BASE,
          whatsappBase: WHATSAPP_BASE,
          channelMultipliers: CHANNEL_MULTIPLIERS,
          frequencyMultipliers: FREQUENCY_MULTIPLIERS,
          regimeMultipliers: REGIME_MULTIPLIERS,
        },
        prices: {
          whatsappCountries: WHATSAPP_COUNTRIES,
          derivation: PRICE_DERIVATION,
          whatsappCountryPricesMicros: COUNTRY_PRICES,
          messengerMarketingMessageUsd: MESSENGER_MARKETING_MESSAGE_USD,
        },
      },
      counts: {
        lines: this.lines,
        valid: this.valid,
        duplicates: this.duplicates,
        bad: this.bad,
        validByFamily: { ...this.validByFamily },
        validByType: { ...this.validByType },
        duplicatesByFamily: { ...this.duplicatesByFamily },
        badByKind: { ...this.badByKind },
        costUsd: usd(this.costMicros),
        costMicros: this.costMicros,
        revenueUsd: usd(this.revenueMicros),
        revenueMicros: this.revenueMicros,
        sendsByChannelRegime: Object.fromEntries(CHANNELS.map((c) => [c, { ...this.sendsByChannelRegime[c] }])) as Record<Channel, Record<string, number>>,
        sendsByCategory: { ...this.sendsByCategory },
        sendsByFrequency: { ...this.sendsByFrequency },
        optInsByChannelFrequency: Object.fromEntries(CHANNELS.map((c) => [c, { ...this.optInsByChannelFrequency[c] }])) as Record<
          Channel,
          Record<Frequency, number>
        >,
        optInRenewals: this.optInRenewals,
        spamRisk: { attributed: { ...this.attributed }, unattributed: { ...this.unattributed } },
        engagementsWrittenLate: this.engagementsWrittenLate,
        epochMsTimestamps: this.epochMsTimestamps,
        validByMonth: Object.fromEntries(this.monthNames.map((m, i) => [m, this.monthCounts[i]]).filter(([, n]) => (n as number) > 0)),
      },
      cells: cells
        .filter((c) => c.realized.sends > 0)
        .map((c) => {
          const x = c.realized;
          return {
            channel: c.channel,
            category: c.category,
            frequency: c.frequency,
            regime: c.regime,
            rates: c.rates,
            cost_model: costModelOf(c.channel, c.category, c.regime),
            realized: { ...x, cost_usd: usd(x.cost_micros), revenue_usd: usd(x.revenue_micros) },
            realized_rates: {
              delivery_rate: ratio(x.delivered, x.sends),
              read_rate: ratio(x.read, x.delivered),
              click_rate: ratio(x.clicked, x.delivered),
              reply_rate: ratio(x.replied, x.delivered),
              conversion_rate: ratio(x.converted, x.delivered),
              opt_out_rate: ratio(x.opt_out, x.sends),
              block_rate: ratio(x.block, x.sends),
              spam_report_rate: ratio(x.spam_report, x.sends),
              revenue_per_conversion_usd: x.converted > 0 ? Number((x.revenue_micros / 1e6 / x.converted).toFixed(6)) : null,
              cost_per_send_usd: x.sends > 0 ? Number((x.cost_micros / 1e6 / x.sends).toFixed(6)) : null,
            },
          };
        })
        .sort(
          (a, b) =>
            a.channel.localeCompare(b.channel) ||
            a.category.localeCompare(b.category) ||
            String(a.frequency).localeCompare(String(b.frequency)) ||
            a.regime.localeCompare(b.regime),
        ),
    };
  }
}
