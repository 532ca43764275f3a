// One metric by frequency, with its 95% interval, one row of panels per regime (and channel when every
// channel is shown): dot = estimate, bar = interval. Used five times on the Frequency page. Rows compared with the
// previous period draw it just below: hollow dot = its estimate, thin bar = its interval.
import * as Plot from '@observablehq/plot';
import type { FrequencyRow } from '../data.js';
import { categorical, ciText, distinct, fmtUnit, FREQUENCY_COLOURS, STYLE, tickFormat, WIDTH, type ChartOptions, type Unit } from './common.js';

export interface FrequencyChartOptions extends ChartOptions {
  /** The x-axis label, e.g. "Opt-outs per 1k sends". */
  label: string;
  unit: Unit;
}

const ROW = 18;
/** Rows are taller when the previous period is drawn below each estimate, this far down (pixels). */
const COMPARED_ROW = 26;
const PREVIOUS_DY = 7;

export function frequencyChart(rows: readonly FrequencyRow[], options: FrequencyChartOptions): Element {
  const groups = distinct(rows, (r) => r.group);
  const frequencies = distinct(rows, (r) => r.frequency);
  const withCi = rows.filter((r) => r.ci95_lo !== null && r.ci95_hi !== null);
  const previous = rows.filter((r) => r.previous_value !== null);
  const previousCi = previous.filter((r) => r.previous_ci95_lo !== null && r.previous_ci95_hi !== null);
  // Only charts with a comparison get its marks, so the others draw as they always did.
  const previousMarks = previous.length
    ? [
        Plot.ruleY(previousCi, {
          fy: 'group',
          y: 'frequency',
          x1: 'previous_ci95_lo',
          x2: 'previous_ci95_hi',
          dy: PREVIOUS_DY,
          stroke: 'frequency',
          strokeWidth: 1,
          strokeOpacity: 0.7,
        }),
        Plot.dot(previous, { fy: 'group', y: 'frequency', x: 'previous_value', dy: PREVIOUS_DY, stroke: 'frequency', fill: 'white', r: 3, strokeWidth: 1.5 }),
      ]
    : [];
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 56 + groups.length * (frequencies.length * (previous.length ? COMPARED_ROW : ROW) + 22),
    marginTop: 16,
    marginLeft: 72,
    marginRight: 250,
    marginBottom: 40,
    style: STYLE,
    ariaLabel: `${options.label} by frequency and regime, with 95% intervals${previous.length ? ', beside the previous period' : ''}`,
    fy: { domain: groups, label: null, padding: 0.22 },
    y: { domain: frequencies, label: null, padding: 0.2 },
    x: { label: `${options.label} →`, grid: true, nice: true, zero: true, tickFormat: tickFormat(options.unit) },
    color: categorical(frequencies, FREQUENCY_COLOURS, false),
    marks: [
      Plot.frame({ stroke: '#eaeef2' }),
      Plot.axisFy({ anchor: 'right', lineWidth: 18, fontSize: 12, label: null }),
      Plot.axisY({ anchor: 'left', label: null, tickSize: 0 }),
      Plot.ruleX([0], { stroke: '#8c959f' }),
      Plot.ruleY(withCi, { fy: 'group', y: 'frequency', x1: 'ci95_lo', x2: 'ci95_hi', stroke: 'frequency', strokeWidth: 2.5, strokeOpacity: 0.6 }),
      ...previousMarks,
      Plot.dot(rows, { fy: 'group', y: 'frequency', x: 'value', fill: 'frequency', stroke: 'white', r: 4.5 }),
    ],
  });
}

export function describeFrequency(rows: readonly FrequencyRow[], options: Pick<FrequencyChartOptions, 'label' | 'unit'>): string {
  const groups = distinct(rows, (r) => r.group);
  const parts = [`${options.label} for ${rows.length} frequency–regime estimates in ${groups.length} row${groups.length === 1 ? '' : 's'}.`];
  for (const g of groups) {
    const own = rows.filter((r) => r.group === g);
    parts.push(
      `${g}: ${own.map((r) => `${r.frequency} ${fmtUnit(r.value, options.unit)} (${ciText(r.ci95_lo, r.ci95_hi, options.unit)})${previousText(r, options.unit)}`).join('; ')}.`,
    );
  }
  return parts.join(' ');
}

function previousText(r: FrequencyRow, unit: Unit): string {
  if (r.previous_value === null) return '';
  const sign = r.change !== null && r.change > 0 ? '+' : '';
  return `, previous period ${fmtUnit(r.previous_value, unit)}, change ${sign}${fmtUnit(r.change, unit)} (${ciText(r.change_ci95_lo, r.change_ci95_hi, unit)})`;
}
