// Spam risk vs revenue: one dot per business and frequency (size = sends), x = attributed spam-risk events
// per 1k sends, y = net revenue per 1k sends, colour = frequency, one panel per regime; the frequency frontier
// (the regime's totals per frequency, from /v1/frequency-frontier) drawn over it as a line through three marks.
import * as Plot from '@observablehq/plot';
import type { ScatterRow } from '../data.js';
import { categorical, distinct, fmtNumber, fmtUsd, FREQUENCY_COLOURS, quantile, STYLE, WIDTH, type ChartOptions } from './common.js';

export interface SpamRevenueOptions extends ChartOptions {
  /** Panels per row. */
  columns?: number;
  minSends: number;
}

const PANEL_HEIGHT = 230;

export function spamRevenueChart(rows: readonly ScatterRow[], options: SpamRevenueOptions): Element {
  const regimes = distinct(rows, (r) => r.regime);
  const labels = new Map(rows.map((r) => [r.regime, r.regime_label]));
  const columns = Math.max(1, Math.min(options.columns ?? 3, regimes.length));
  const col = new Map(regimes.map((r, i) => [r, i % columns]));
  const row = new Map(regimes.map((r, i) => [r, Math.floor(i / columns)]));
  const fx = (d: { regime: string }) => col.get(d.regime);
  const fy = (d: { regime: string }) => row.get(d.regime);
  const points = rows.filter((r) => r.layer === 'business');
  const frontier = rows.filter((r) => r.layer === 'frontier');
  const panels = regimes.map((regime) => ({ regime, label: labels.get(regime) ?? regime }));
  const x = 'spam_risk_per_1k';
  const y = 'net_revenue_per_1k';
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 50 + 50 + Math.ceil(regimes.length / columns) * PANEL_HEIGHT,
    marginTop: 40,
    marginLeft: 64,
    marginRight: 16,
    marginBottom: 46,
    style: STYLE,
    ariaLabel: 'Spam risk against net revenue per business and frequency, by regime',
    fx: { axis: null, padding: 0.08 },
    fy: { axis: null, padding: 0.16 },
    x: { label: 'Spam-risk events per 1k sends (opt-outs + blocks + spam reports) →', nice: true, zero: true, grid: true, insetLeft: 8, insetRight: 8 },
    y: { label: '↑ Net revenue per 1k sends (USD)', nice: true, grid: true, tickFormat: '$,~r', insetTop: 20, insetBottom: 6 },
    r: { range: [1.5, 7] },
    color: {
      ...categorical(
        rows.map((r) => r.frequency),
        FREQUENCY_COLOURS,
      ),
      label: 'Frequency',
    },
    marks: [
      Plot.frame({ stroke: '#d0d7de' }),
      Plot.ruleY([0], { stroke: '#8c959f' }),
      Plot.dot(points, { fx, fy, x, y, r: 'sends', fill: 'frequency', fillOpacity: 0.5, stroke: 'frequency', strokeOpacity: 0.8, strokeWidth: 0.5 }),
      Plot.line(frontier, { fx, fy, x, y, z: 'regime', stroke: '#1f2328', strokeWidth: 1.75 }),
      Plot.dot(frontier, { fx, fy, x, y, r: 6, fill: 'frequency', stroke: '#1f2328', strokeWidth: 1.75, symbol: 'diamond' }),
      Plot.text(frontier, {
        fx,
        fy,
        x,
        y,
        text: 'frequency',
        dy: -13,
        fontWeight: 'bold',
        fill: '#1f2328',
        stroke: 'white',
        strokeWidth: 3,
        paintOrder: 'stroke',
      }),
      // Panel titles sit above their panel, clear of the dots and the frontier labels.
      Plot.text(panels, {
        fx,
        fy,
        text: 'label',
        frameAnchor: 'top-left',
        lineAnchor: 'bottom',
        dy: -6,
        fontWeight: 'bold',
        fontSize: 12,
        lineWidth: 24,
        textOverflow: 'ellipsis',
        fill: '#1f2328',
      }),
    ],
  });
}

export function describeSpamRevenue(rows: readonly ScatterRow[], options: Pick<SpamRevenueOptions, 'minSends'>): string {
  const points = rows.filter((r) => r.layer === 'business');
  const frontier = rows.filter((r) => r.layer === 'frontier');
  const regimes = distinct(rows, (r) => r.regime);
  const parts = [
    `${points.length} dots, one per business and frequency in a regime, for businesses with at least ${fmtNumber(options.minSends)} sends there, in ${regimes.length} regime panel${regimes.length === 1 ? '' : 's'}.`,
  ];
  for (const regime of regimes) {
    const own = points.filter((p) => p.regime === regime);
    const fr = frontier.filter((f) => f.regime === regime);
    const label = rows.find((r) => r.regime === regime)?.regime_label ?? regime;
    const front = fr
      .map((f) => `${f.frequency} ${fmtNumber(f.spam_risk_per_1k)} spam-risk events and ${fmtUsd(f.net_revenue_per_1k)} net revenue per 1k sends`)
      .join('; ');
    const medX = quantile(
      own.map((p) => p.spam_risk_per_1k),
      0.5,
    );
    const medY = quantile(
      own.map((p) => p.net_revenue_per_1k),
      0.5,
    );
    parts.push(
      `${label}: ${own.length} businesses-frequency dots, median ${fmtNumber(medX)} spam-risk events and ${fmtUsd(medY)} per 1k sends` +
        (front ? `; frontier: ${front}.` : '; no frontier.'),
    );
  }
  return parts.join(' ');
}
