// The frequency page's rows: one estimate with its interval per frequency, from POST /v1/query or the frontier.
import type { FrontierPart, Interval, QueryResult } from './api-responses.js';
import { channelOrder, freqOrder } from './dimensions.js';
import type { RegimeBook } from './regime-book.js';

/** One estimate with its 95% interval, for one frequency in one regime (and channel, when not filtered). */
export interface FrequencyRow {
  group: string;
  regime: string;
  channel: string | null;
  frequency: string;
  metric: string;
  value: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  sends: number;
  /** The previous period of the same length (POST /v1/query include.comparisons); null when not compared or not defined. */
  previous_value: number | null;
  previous_ci95_lo: number | null;
  previous_ci95_hi: number | null;
  /** value − previous_value, with its 95% interval. */
  change: number | null;
  change_ci95_lo: number | null;
  change_ci95_hi: number | null;
}

const NOT_COMPARED = {
  previous_value: null,
  previous_ci95_lo: null,
  previous_ci95_hi: null,
  change: null,
  change_ci95_lo: null,
  change_ci95_hi: null,
} as const;

export const groupLabel = (book: RegimeBook, regime: string, channel: string | null): string =>
  channel ? `${book.label(regime)} · ${channel}` : book.label(regime);

/** opt_outs_per_1k, read_rate, click_rate by frequency × regime (× channel) from POST /v1/query. */
export function frequencyQueryRows(results: QueryResult[], book: RegimeBook, metric: string, byChannel: boolean): FrequencyRow[] {
  const out: FrequencyRow[] = [];
  for (const r of results) {
    const { frequency, regime } = r.dimensions;
    const channel = byChannel ? r.dimensions.channel : null;
    const value = r.metrics[metric];
    if (!frequency || !regime || value === null || value === undefined || (byChannel && !channel)) continue;
    const ci = r.ci95[metric] ?? null;
    const previous = r.comparison?.previous;
    const change = r.comparison?.change;
    out.push({
      group: groupLabel(book, regime, channel),
      regime,
      channel,
      frequency,
      metric,
      value,
      ci95_lo: ci?.[0] ?? null,
      ci95_hi: ci?.[1] ?? null,
      sends: r.metrics.sends ?? 0,
      previous_value: previous?.metrics[metric] ?? null,
      previous_ci95_lo: previous?.ci95[metric]?.[0] ?? null,
      previous_ci95_hi: previous?.ci95[metric]?.[1] ?? null,
      change: change?.metrics[metric] ?? null,
      change_ci95_lo: change?.ci95[metric]?.[0] ?? null,
      change_ci95_hi: change?.ci95[metric]?.[1] ?? null,
    });
  }
  return sortFrequencyRows(out, book);
}

/** net_revenue_per_send, expected_net_revenue_per_subscriber… per frequency, one frontier response per regime (× channel). */
export function frequencyFrontierRows(parts: FrontierPart[], book: RegimeBook, metric: string, byChannel: boolean): FrequencyRow[] {
  const out: FrequencyRow[] = [];
  for (const p of parts) {
    for (const f of p.response.frequencies) {
      const est = f[metric] as Interval | undefined;
      if (!est || !(f.sends > 0) || est.estimate === null || est.estimate === undefined) continue;
      const channel = byChannel ? p.channel : null;
      out.push({
        group: groupLabel(book, p.regime, channel),
        regime: p.regime,
        channel,
        frequency: f.frequency,
        metric,
        value: est.estimate,
        ci95_lo: est.ci95?.[0] ?? null,
        ci95_hi: est.ci95?.[1] ?? null,
        sends: f.sends,
        ...NOT_COMPARED,
      });
    }
  }
  return sortFrequencyRows(out, book);
}

function sortFrequencyRows(rows: FrequencyRow[], book: RegimeBook): FrequencyRow[] {
  return rows.sort(
    (a, b) =>
      book.order(a.regime) - book.order(b.regime) ||
      channelOrder(a.channel ?? '') - channelOrder(b.channel ?? '') ||
      freqOrder(a.frequency) - freqOrder(b.frequency),
  );
}
