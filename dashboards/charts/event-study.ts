// Event study at each boundary: one panel per boundary, the effect by week since the change (dot = estimate,
// bar = 95% interval), 0 and the change marked. For a boundary answered by an interrupted time series (no
// control), the dots are the weekly values minus the pre-change trend carried on, without intervals.
import * as Plot from '@observablehq/plot';
import type { EventStudyRow } from '../data.js';
import { METHOD_NAMES } from './impact.js';
import { distinct, fmtUnit, STYLE, tickFormat, treatedChannelColour, WIDTH, type ChartOptions, type Unit } from './common.js';

export interface EventStudyChartOptions extends ChartOptions {
  label: string;
  unit: Unit;
}

const PANEL = 120;

export const eventStudyKey = (r: EventStudyRow): string => `${r.change_date} ${r.treated} · ${METHOD_NAMES[r.method] ?? r.method}`;

export function eventStudyChart(rows: readonly EventStudyRow[], options: EventStudyChartOptions): Element {
  const keys = distinct(rows, eventStudyKey);
  const withCi = rows.filter((r) => r.ci95_lo !== null && r.ci95_hi !== null);
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 60 + keys.length * PANEL,
    marginTop: 24,
    marginLeft: 64,
    marginRight: 240,
    marginBottom: 36,
    style: STYLE,
    ariaLabel: `Event study of ${options.label} at each regime boundary`,
    x: { label: 'Weeks since the change →', grid: true },
    y: { label: `Effect on ${options.label}`, grid: true, nice: true, tickFormat: tickFormat(options.unit) },
    fy: { domain: keys, label: null, padding: 0.15 },
    color: treatedChannelColour(rows),
    marks: [
      Plot.frame({ stroke: '#d0d7de' }),
      Plot.ruleY([0], { stroke: '#57606a' }),
      Plot.ruleX([-0.5], { stroke: '#57606a', strokeDasharray: '4,3' }),
      Plot.ruleX(withCi, {
        x: 'relative_week',
        y1: 'ci95_lo',
        y2: 'ci95_hi',
        fy: eventStudyKey,
        stroke: (r: EventStudyRow) => r.treated.split(',')[0],
        strokeOpacity: 0.6,
      }),
      Plot.dot(rows, { x: 'relative_week', y: 'estimate', fy: eventStudyKey, fill: (r: EventStudyRow) => r.treated.split(',')[0], r: 3 }),
      Plot.axisFy({ anchor: 'right', label: null, fontSize: 11, textAnchor: 'start', dx: 8, tickSize: 0 }),
    ],
  });
}

export function describeEventStudy(rows: readonly EventStudyRow[], options: Pick<EventStudyChartOptions, 'label' | 'unit'>): string {
  if (!rows.length) return `No event study of ${options.label}.`;
  const parts = [`Week-by-week effect of ${options.label} around ${distinct(rows, eventStudyKey).length} regime boundaries.`];
  for (const key of distinct(rows, eventStudyKey)) {
    const own = rows.filter((r) => eventStudyKey(r) === key);
    const after = own.filter((r) => r.relative_week >= 0);
    const before = own.filter((r) => r.relative_week < -1);
    const mean = (xs: readonly EventStudyRow[]) => (xs.length ? xs.reduce((a, r) => a + r.estimate, 0) / xs.length : null);
    const outside = before.filter((r) => r.ci95_lo !== null && r.ci95_hi !== null && (r.ci95_lo > 0 || r.ci95_hi < 0)).length;
    parts.push(
      `${key}: mean ${fmtUnit(mean(after), options.unit)} over ${after.length} weeks after, ${fmtUnit(mean(before), options.unit)} before${
        own[0].method === 'event_study' ? ` (${outside} of ${before.length} earlier weeks with an interval excluding 0)` : ''
      }.`,
    );
  }
  return parts.join(' ');
}
