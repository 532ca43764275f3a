// The spam-risk page's rows: businesses and the frequency frontier, from POST /v1/query and the frontier answers.
// Like every chart row, fields are plain strings or numbers (or null), so rows go to CSV and tables as they are.
import type { FrontierPart, QueryResult } from './api-responses.js';
import { freqOrder } from './dimensions.js';
import type { RegimeBook } from './regime-book.js';

/** Spam risk vs revenue: one row per business × frequency × regime (layer "business"), plus the frontier. */
export interface ScatterRow {
  layer: 'business' | 'frontier';
  regime: string;
  regime_label: string;
  frequency: string;
  business_id: string | null;
  sends: number;
  spam_risk_per_1k: number;
  net_revenue_per_1k: number;
}

export function scatterBusinessRows(results: QueryResult[], book: RegimeBook, minSends: number): ScatterRow[] {
  const out: ScatterRow[] = [];
  for (const r of results) {
    const { business_id: business, frequency, regime } = r.dimensions;
    const sends = r.metrics.sends ?? 0;
    const x = r.metrics.spam_risk_per_1k;
    const y = r.metrics.net_revenue_per_1k;
    if (!business || !frequency || !regime || x === null || y === null || x === undefined || y === undefined || sends < minSends) continue;
    out.push({
      layer: 'business',
      regime,
      regime_label: book.label(regime),
      frequency,
      business_id: business,
      sends,
      spam_risk_per_1k: x,
      net_revenue_per_1k: y,
    });
  }
  return out.sort(
    (a, b) => book.order(a.regime) - book.order(b.regime) || freqOrder(a.frequency) - freqOrder(b.frequency) || a.business_id!.localeCompare(b.business_id!),
  );
}

/** Frontier points per regime and frequency, ratio of the totals summed over the regime's channels. */
export function scatterFrontierRows(parts: FrontierPart[], book: RegimeBook): ScatterRow[] {
  const sums = new Map<string, { regime: string; frequency: string; sends: number; risk: number; net: number }>();
  for (const p of parts) {
    for (const f of p.response.frequencies) {
      if (!(f.sends > 0)) continue;
      const key = `${p.regime}\u0000${f.frequency}`;
      const s = sums.get(key) ?? { regime: p.regime, frequency: f.frequency, sends: 0, risk: 0, net: 0 };
      s.sends += f.sends;
      s.risk += f.opt_outs + f.blocks + f.spam_reports;
      s.net += f.revenue_usd - f.cost_usd;
      sums.set(key, s);
    }
  }
  return [...sums.values()]
    .map(
      (s): ScatterRow => ({
        layer: 'frontier',
        regime: s.regime,
        regime_label: book.label(s.regime),
        frequency: s.frequency,
        business_id: null,
        sends: s.sends,
        spam_risk_per_1k: (1000 * s.risk) / s.sends,
        net_revenue_per_1k: (1000 * s.net) / s.sends,
      }),
    )
    .sort((a, b) => book.order(a.regime) - book.order(b.regime) || freqOrder(a.frequency) - freqOrder(b.frequency));
}
