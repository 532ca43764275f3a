// Policy impact: the estimate at each regime boundary, 90 days either side, by the method the API chose (a
// difference in differences against unchanged channels, or an interrupted time series when every channel
// changed), dot = estimate, bar = 95% interval; the method is in each row's label.
import * as Plot from '@observablehq/plot';
import type { ImpactRow } from '../data.js';
import { ciText, fmtNumber, fmtUnit, STYLE, tickFormat, treatedChannelColour, WIDTH, type ChartOptions, type Unit } from './common.js';

export interface ImpactChartOptions extends ChartOptions {
  label: string;
  unit: Unit;
}

const METHOD_SHORT: Record<string, string> = { did: 'DiD', event_study: 'event study', its: 'ITS', staggered: 'staggered' };

export const impactKey = (r: ImpactRow): string => `${r.change_date} ${r.treated}: ${r.label} (${METHOD_SHORT[r.method] ?? r.method})`;

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
    ariaLabel: `Estimated effect on ${options.label} at each regime boundary`,
    y: { domain: keys, label: null, padding: 0.3 },
    x: {
      label: `Effect on ${options.label} (DiD: treated minus control, after minus before; ITS: level change) →`,
      grid: true,
      nice: true,
      tickFormat: tickFormat(options.unit),
    },
    color: treatedChannelColour(rows),
    marks: [
      Plot.axisY({ anchor: 'left', lineWidth: 31, textOverflow: 'ellipsis', fontSize: 12, tickSize: 0, label: null }),
      Plot.ruleX([0], { stroke: '#57606a' }),
      Plot.ruleY(withCi, {
        y: impactKey,
        x1: 'ci95_lo',
        x2: 'ci95_hi',
        stroke: (r: ImpactRow) => r.treated.split(',')[0],
        strokeWidth: 2.5,
        strokeOpacity: 0.6,
      }),
      Plot.dot(rows, { y: impactKey, x: 'estimate', fill: (r: ImpactRow) => r.treated.split(',')[0], stroke: 'white', r: 5 }),
    ],
  });
}

/** The policy-impact methods in words (the API's method.name as key). */
export const METHOD_NAMES: Record<string, string> = {
  did: 'difference in differences',
  event_study: 'event study',
  its: 'interrupted time series',
  staggered: 'Callaway–Sant’Anna',
};

export function describeImpact(rows: readonly ImpactRow[], options: Pick<ImpactChartOptions, 'label' | 'unit'>): string {
  if (!rows.length) return `No estimates of ${options.label} at regime boundaries.`;
  const parts = [`Effect on ${options.label} at ${rows.length} regime boundar${rows.length === 1 ? 'y' : 'ies'}.`];
  for (const r of rows) {
    const sig = r.ci95_lo !== null && r.ci95_hi !== null && (r.ci95_lo > 0 || r.ci95_hi < 0) ? 'interval excludes zero' : 'interval includes zero';
    const against = r.control ? ` against ${r.control}` : ', no control';
    const trend = r.parallel_trends_plausible === null ? '' : `; pre-trend ${r.parallel_trends_plausible ? 'parallel' : 'not shown parallel'}`;
    const p = r.randomisation_p === null ? '' : `; placebo p ${fmtNumber(r.randomisation_p, 2)}`;
    parts.push(
      `${r.change_date}, ${r.label}, ${r.treated}${against}, ${METHOD_NAMES[r.method] ?? r.method}: ${fmtUnit(r.estimate, options.unit)} (${ciText(r.ci95_lo, r.ci95_hi, options.unit)}; ${sig}${trend}${p}).`,
    );
  }
  return parts.join(' ');
}
