// The funnel page's rows: each stage's count and share of sends, by channel and send category.
import type { QueryResult } from './api-responses.js';
import { channelOrder, FUNNEL_STAGES } from './dimensions.js';

export interface FunnelRow {
  channel: string;
  category: string;
  stage: string;
  stage_index: number;
  count: number;
  share_of_sends: number;
}

export function funnelRows(results: QueryResult[]): FunnelRow[] {
  const out: FunnelRow[] = [];
  for (const r of results) {
    const { channel, category } = r.dimensions;
    const sends = r.metrics.sends ?? 0;
    if (!channel || !category || !(sends > 0)) continue;
    FUNNEL_STAGES.forEach((stage, i) => {
      const count = r.metrics[stage] ?? 0;
      out.push({ channel, category, stage: stage === 'sends' ? 'sent' : stage, stage_index: i, count, share_of_sends: count / sends });
    });
  }
  return out.sort((a, b) => channelOrder(a.channel) - channelOrder(b.channel) || a.category.localeCompare(b.category) || a.stage_index - b.stage_index);
}
