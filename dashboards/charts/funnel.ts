// Funnel: for each channel and send category, the share of sends that reached each stage
// (sent → delivered → read → clicked → converted), one column per stage.
import * as Plot from '@observablehq/plot';
import type { FunnelRow } from '../data.js';
import { CHANNEL_COLOURS, categorical, distinct, fmtNumber, fmtPercent, STYLE, WIDTH, type ChartOptions } from './common.js';

export const funnelKey = (r: FunnelRow): string => `${r.channel} · ${r.category}`;

export function funnelChart(rows: readonly FunnelRow[], options: ChartOptions): Element {
  const keys = distinct(rows, funnelKey);
  const stages = distinct(
    [...rows].sort((a, b) => a.stage_index - b.stage_index),
    (r) => r.stage,
  );
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 70 + keys.length * 24,
    marginTop: 44,
    marginLeft: 250,
    marginRight: 12,
    marginBottom: 20,
    style: STYLE,
    ariaLabel: 'Share of sends reaching each funnel stage, by channel and category',
    fx: { domain: stages, label: null, padding: 0.08, axis: null },
    y: { domain: keys, label: null, padding: 0.15 },
    x: { domain: [0, 1], axis: null },
    color: {
      ...categorical(
        rows.map((r) => r.channel),
        CHANNEL_COLOURS,
      ),
      label: 'Channel',
    },
    marks: [
      Plot.axisFx({ anchor: 'top', fontSize: 12, fontWeight: 'bold', label: null, tickSize: 0 }),
      Plot.axisY({ anchor: 'left', lineWidth: 28, textOverflow: 'ellipsis', fontSize: 12, tickSize: 0, label: null }),
      Plot.barX(rows, { fx: 'stage', y: funnelKey, x1: 0, x2: 1, fill: '#f0f3f6', ariaHidden: 'true' }),
      Plot.barX(rows, { fx: 'stage', y: funnelKey, x: 'share_of_sends', fill: 'channel', fillOpacity: 0.5 }),
      // Long bars carry their label inside, short ones just after their end (dark text on light bars either way).
      Plot.text(
        rows.filter((r) => r.share_of_sends >= 0.5),
        {
          fx: 'stage',
          y: funnelKey,
          x: 'share_of_sends',
          text: (d: FunnelRow) => fmtPercent(d.share_of_sends, 2),
          textAnchor: 'end',
          dx: -4,
          fontSize: 11,
          fill: '#1f2328',
        },
      ),
      Plot.text(
        rows.filter((r) => r.share_of_sends < 0.5),
        {
          fx: 'stage',
          y: funnelKey,
          x: 'share_of_sends',
          text: (d: FunnelRow) => fmtPercent(d.share_of_sends, 2),
          textAnchor: 'start',
          dx: 4,
          fontSize: 11,
          fill: '#1f2328',
        },
      ),
    ],
  });
}

export function describeFunnel(rows: readonly FunnelRow[]): string {
  const keys = distinct(rows, funnelKey);
  const channels = distinct(rows, (r) => r.channel);
  const parts = [`Funnel for ${keys.length} channel–category pairs.`];
  for (const c of channels) {
    const own = rows.filter((r) => r.channel === c);
    const total = (stage: string) => own.filter((r) => r.stage === stage).reduce((a, r) => a + r.count, 0);
    const sends = total('sent');
    parts.push(
      `${c}: ${fmtNumber(sends)} sends; ${['delivered', 'read', 'clicked', 'converted'].map((s) => `${fmtPercent(sends ? total(s) / sends : null, 3)} ${s}`).join(', ')}.`,
    );
  }
  return parts.join(' ');
}
