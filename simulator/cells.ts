// The cells the truth is stated in: (channel, category, frequency | null, regime). Each cell keeps
// its effective rates, the conditional probabilities the funnel draws from, and what was
// actually written for its sends (engagements and spam-risk events count in their send's cell).
import type { Channel, Frequency, SendCategory } from '../events/types.js';
import { OUTPUT } from './params-world.js';
import { cellRates, type SendRates } from './params-rates.js';

export interface CellKey {
  channel: Channel;
  category: SendCategory;
  frequency: Frequency | null;
  regime: string;
}

/** Counts of written events attributed to one cell. Money in integer micro-dollars. */
export interface CellRealized {
  sends: number;
  delivered: number;
  read: number;
  clicked: number;
  replied: number;
  converted: number;
  opt_out: number;
  block: number;
  spam_report: number;
  cost_micros: number;
  revenue_micros: number;
}

export interface Cell extends CellKey {
  rates: SendRates;
  /** Conditional probabilities used by the funnel: P(read | delivered), P(clicked | read), ... */
  pDeliver: number;
  pRead: number;
  pClickGivenRead: number;
  pReplyGivenRead: number;
  pConvertGivenClick: number;
  /** Cumulative P(opt_out), P(opt_out or block), P(any spam-risk event), each given delivered. */
  pOptOutGivenDelivered: number;
  pBlockCumGivenDelivered: number;
  pSpamCumGivenDelivered: number;
  /** mu of the log-normal revenue in dollars, so that its mean is rates.revenue_per_conversion_usd. */
  revenueMu: number;
  realized: CellRealized;
}

export function emptyRealized(): CellRealized {
  return { sends: 0, delivered: 0, read: 0, clicked: 0, replied: 0, converted: 0, opt_out: 0, block: 0, spam_report: 0, cost_micros: 0, revenue_micros: 0 };
}

export class CellRegistry {
  readonly cells: Cell[] = [];
  private readonly byKey = new Map<string, number>();

  id(channel: Channel, category: SendCategory, frequency: Frequency | null, regime: string): number {
    const key = `${channel}|${category}|${frequency}|${regime}`;
    const found = this.byKey.get(key);
    if (found !== undefined) return found;
    const rates = cellRates(channel, category, frequency, regime);
    const del = rates.delivery_rate;
    const sigma = OUTPUT.revenueLogSigma;
    const cell: Cell = {
      channel,
      category,
      frequency,
      regime,
      rates,
      pDeliver: del,
      pRead: rates.read_rate,
      pClickGivenRead: rates.read_rate > 0 ? rates.click_rate / rates.read_rate : 0,
      pReplyGivenRead: rates.read_rate > 0 ? rates.reply_rate / rates.read_rate : 0,
      pConvertGivenClick: rates.click_rate > 0 ? rates.conversion_rate / rates.click_rate : 0,
      pOptOutGivenDelivered: rates.opt_out_rate / del,
      pBlockCumGivenDelivered: (rates.opt_out_rate + rates.block_rate) / del,
      pSpamCumGivenDelivered: (rates.opt_out_rate + rates.block_rate + rates.spam_report_rate) / del,
      revenueMu: rates.revenue_per_conversion_usd > 0 ? Math.log(rates.revenue_per_conversion_usd) - (sigma * sigma) / 2 : 0,
      realized: emptyRealized(),
    };
    this.cells.push(cell);
    this.byKey.set(key, this.cells.length - 1);
    return this.cells.length - 1;
  }
}
