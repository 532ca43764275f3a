// Policy impact: the difference-in-differences estimate at each regime boundary (treated channel against a
// control channel, 90 days either side), dot = estimate, bar = 95% cluster-bootstrap interval.
import * as Plot from '@observablehq/plot';
import type { ImpactRow } from '../data.js';
import { CHANNEL_COLOURS, categorical, ciText, fmtUnit, STYLE, tickFormat, WIDTH, type ChartOptions, type Unit } from './common.js';

export interface ImpactChartOptions extends ChartOptions {
  label: string;
  unit: Unit;
}

export const impactKey = (r: ImpactRow): string => `${r.change_date} ${r.treated}: ${r.label}`;

export function impactChart(rows: readonly ImpactRow[], options: ImpactChartOptions): Element {
  const keys = rows.map(impactKey);
  const withCi = rows.filter((r) => r.ci95_lo !== null && r.ci95_hi !== null);
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 70 + rows.length * 30,
    marginTop: 28,
    marginLeft: 400,
    marginRight: 24,
    marginBottom: 40,
    style: STYLE,
    ariaLabel: `Difference-in-differences of ${options.label} at each regime boundary`,
    y: { domain: keys, label: null, padding: 0.3 },
    x: { label: `Change in ${options.label} (treated minus control, after minus before) →`, grid: true, nice: true, tickFormat: tickFormat(options.unit) },
    color: {
      ...categorical(
        rows.map((r) => r.treated),
        CHANNEL_COLOURS,
      ),
      label: 'Treated channel',
    },
    marks: [
      Plot.axisY({ anchor: 'left', lineWidth: 31, textOverflow: 'ellipsis', fontSize: 12, tickSize: 0, label: null }),
      Plot.ruleX([0], { stroke: '#57606a' }),
      Plot.ruleY(withCi, { y: impactKey, x1: 'ci95_lo', x2: 'ci95_hi', stroke: 'treated', strokeWidth: 2.5, strokeOpacity: 0.6 }),
      Plot.dot(rows, { y: impactKey, x: 'estimate', fill: 'treated', stroke: 'white', r: 5 }),
    ],
  });
}

export function describeImpact(rows: readonly ImpactRow[], options: Pick<ImpactChartOptions, 'label' | 'unit'>): string {
  if (!rows.length) return `No difference-in-differences estimates of ${options.label}.`;
  const parts = [`Difference-in-differences of ${options.label} at ${rows.length} regime boundar${rows.length === 1 ? 'y' : 'ies'}.`];
  for (const r of rows) {
    const sig = r.ci95_lo !== null && r.ci95_hi !== null && (r.ci95_lo > 0 || r.ci95_hi < 0) ? 'interval excludes zero' : 'interval includes zero';
    parts.push(
      `${r.change_date}, ${r.label}, ${r.treated} against ${r.control}: ${fmtUnit(r.estimate, options.unit)} (${ciText(r.ci95_lo, r.ci95_hi, options.unit)}; ${sig}; pre-trend ${r.parallel_trends_plausible ? 'parallel' : 'not shown parallel'}).`,
    );
  }
  return parts.join(' ');
}
