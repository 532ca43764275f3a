// The regime table as the charts use it: ordering, labels, the timeline's bands and the policy-change boundaries.
import type { RegimeEntry } from './api-responses.js';
import { addDays } from '../common/days.js';
import { channelOrder } from './dimensions.js';

export class RegimeBook {
  readonly entries: RegimeEntry[];
  constructor(entries: RegimeEntry[]) {
    this.entries = [...entries].sort((a, b) => a.start.localeCompare(b.start) || channelOrder(a.channel) - channelOrder(b.channel));
  }
  /** The first entry of a regime name (names are shared by channels with the same calendar). */
  first(regime: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.regime === regime);
  }
  label(regime: string): string {
    return this.first(regime)?.label ?? regime;
  }
  /** Chronological order key of a regime name; unknown names last. */
  order(regime: string): number {
    const i = this.entries.findIndex((e) => e.regime === regime);
    return i < 0 ? this.entries.length : i;
  }
  of(channel: string, regime: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.channel === channel && e.regime === regime);
  }
  /** The regime of a channel on a day. */
  at(channel: string, day: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.channel === channel && e.start <= day && (e.end === null || day < e.end));
  }
  /** Regime ranges of the channels, clipped to [from, to] (inclusive days): the timeline's bands. */
  bands(channels: readonly string[], from: string, to: string): BandRow[] {
    const out: BandRow[] = [];
    for (const channel of channels) {
      const own = this.entries.filter((e) => e.channel === channel);
      own.forEach((e, i) => {
        const last = e.end === null ? to : addDays(e.end, -1);
        if (last < from || e.start > to) return;
        out.push({ channel, regime: e.regime, label: e.label, start: e.start < from ? from : e.start, end: last > to ? to : last, shade: i % 2 });
      });
    }
    return out;
  }
  /** Starts of regimes after a channel's first, inside [from, to]: the policy changes. */
  boundaries(channels: readonly string[], from: string, to: string): BoundaryRow[] {
    const out: BoundaryRow[] = [];
    for (const channel of channels) {
      const own = this.entries.filter((e) => e.channel === channel);
      for (let i = 1; i < own.length; i++) {
        const e = own[i];
        if (e.start >= from && e.start <= to) out.push({ channel, date: e.start, regime: e.regime, label: e.label, previous: own[i - 1].regime });
      }
    }
    return out.sort((a, b) => a.date.localeCompare(b.date) || channelOrder(a.channel) - channelOrder(b.channel));
  }
}

// Chart rows. Every field is a plain string or number (or null), so rows go to CSV and tables as they are.

/** A regime band on the timeline: [start, end] inclusive days; `shade` alternates 0/1 within a channel. */
export interface BandRow {
  channel: string;
  regime: string;
  label: string;
  start: string;
  end: string;
  shade: number;
}

export interface BoundaryRow {
  channel: string;
  date: string;
  regime: string;
  label: string;
  previous: string;
}
