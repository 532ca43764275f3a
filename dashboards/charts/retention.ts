// Retention: Kaplan–Meier survival from opt-in to the first opt-out or block, one step curve per frequency
// with its pointwise 95% band.
import * as Plot from '@observablehq/plot';
import type { RetentionRow } from '../data.js';
import { categorical, distinct, fmtNumber, fmtPercent, FREQUENCY_COLOURS, STYLE, WIDTH, type ChartOptions } from './common.js';

export function retentionChart(rows: readonly RetentionRow[], options: ChartOptions): Element {
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 420,
    marginTop: 20,
    marginLeft: 56,
    marginRight: 24,
    marginBottom: 42,
    style: STYLE,
    ariaLabel: 'Kaplan–Meier survival of subscriptions by frequency',
    x: { label: 'Days since opt-in →', grid: true, nice: true },
    y: { label: '↑ Still subscribed (no opt-out or block)', domain: [0, 1], grid: true, tickFormat: '.0%' },
    color: {
      ...categorical(
        rows.map((r) => r.frequency),
        FREQUENCY_COLOURS,
      ),
      label: 'Frequency',
    },
    marks: [
      Plot.areaY(rows, { x: 'day', y1: 'ci95_lo', y2: 'ci95_hi', z: 'frequency', fill: 'frequency', fillOpacity: 0.16, curve: 'step-after' }),
      Plot.lineY(rows, { x: 'day', y: 'survival', z: 'frequency', stroke: 'frequency', strokeWidth: 2, curve: 'step-after' }),
      Plot.ruleY([0.5], { stroke: '#8c959f', strokeDasharray: '2,3' }),
    ],
  });
}

/** Survival at a day: the last step at or before it, or null when the curve stops earlier. */
export function survivalAt(rows: readonly RetentionRow[], day: number): RetentionRow | null {
  let found: RetentionRow | null = null;
  for (const r of rows) if (r.day <= day) found = r;
  const lastDay = rows.length ? rows[rows.length - 1].day : -1;
  return lastDay >= day ? found : null;
}

export function describeRetention(rows: readonly RetentionRow[]): string {
  const groups = distinct(rows, (r) => r.frequency);
  const parts = [`Kaplan–Meier survival curves for ${groups.length} frequenc${groups.length === 1 ? 'y' : 'ies'}.`];
  for (const g of groups) {
    const own = rows.filter((r) => r.frequency === g);
    const subjects = own[0]?.at_risk ?? 0;
    const events = own.reduce((a, r) => a + r.events, 0);
    const median = own.find((r) => r.events > 0 && r.survival <= 0.5);
    const at = [30, 90, 365]
      .map((d) => [d, survivalAt(own, d)] as const)
      .filter(([, r]) => r !== null)
      .map(([d, r]) => `${fmtPercent(r!.survival)} at day ${d} (95% ${fmtPercent(r!.ci95_lo)} to ${fmtPercent(r!.ci95_hi)})`);
    parts.push(
      `${g}: ${fmtNumber(subjects)} subscribers, ${fmtNumber(events)} opt-outs or blocks; ${at.length ? at.join(', ') : 'no day-30 point'}; median ${median ? `${median.day} days` : 'not reached'}.`,
    );
  }
  return parts.join(' ');
}
