import { loadConfig, type Config } from '../common/config.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { normalizeQuery } from '../query/metrics/request.js';
import { runMetricsQuery } from '../query/metrics/query.js';
import { isoDay } from '../query/sql/days.js';
import { rawCounts } from '../warehouse/summary.js';
import type { Warehouse } from '../warehouse/client.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export interface FrequencyRegimeRow {
  regime: string;
  frequency: string;
  sends: number;
  opt_outs: number;
  read_rate: number;
  click_rate: number;
  opt_outs_per_1k: number;
}

/** Recurring notifications by frequency and regime, through the API's own metric definitions (docs/metrics.md). */
export async function engagementByFrequencyAndRegime(wh: Warehouse, attributionWindowHours: number): Promise<FrequencyRegimeRow[]> {
  const now = Date.now();
  const q = normalizeQuery({
    metrics: ['sends', 'opt_outs', 'read_rate', 'click_rate', 'opt_outs_per_1k'],
    dimensions: ['regime', 'frequency'],
    date_range: [isoDay(now - 3_650 * 86_400_000), isoDay(now)],
    filters: [['is', 'category', ['recurring_notification']]],
    order_by: [
      ['regime', 'asc'],
      ['frequency', 'asc'],
    ],
  });
  const { results } = await runMetricsQuery(wh, q, { attributionWindowHours });
  return results.map(({ dimensions: d, metrics: m }) => ({
    regime: String(d.regime),
    frequency: String(d.frequency),
    sends: Number(m.sends),
    opt_outs: Number(m.opt_outs),
    read_rate: Number(m.read_rate ?? 0),
    click_rate: Number(m.click_rate ?? 0),
    opt_outs_per_1k: Number(m.opt_outs_per_1k ?? 0),
  }));
}

export function formatFrequencyTable(rows: FrequencyRegimeRow[]): string {
  const header = ['regime', 'frequency', 'sends', 'read rate', 'click rate', 'opt-outs', 'opt-outs / 1k sends'];
  const body = rows.map((r) => [r.regime, r.frequency, String(r.sends), pct(r.read_rate), pct(r.click_rate), String(r.opt_outs), r.opt_outs_per_1k.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export async function printSummary(wh: Warehouse, config: Config): Promise<void> {
  const counts = await rawCounts(wh);
  const engagements = Object.entries(counts.engagements)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const subs = Object.entries(counts.subscriptions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`\nwarehouse: ${counts.sends} sends; engagements: ${engagements}; subscriptions: ${subs}`);
  console.log(`cost $${counts.cost_usd}, revenue $${counts.revenue_usd}\n`);
  console.log('Recurring notifications: engagement and opt-outs by frequency and regime');
  console.log(formatFrequencyTable(await engagementByFrequencyAndRegime(wh, config.attributionWindowHours)));
}

export async function runSummary(): Promise<number> {
  const config = loadConfig();
  const { wh } = await openReadyWarehouse(config);
  try {
    await printSummary(wh, config);
  } finally {
    await wh.close();
  }
  return 0;
}
