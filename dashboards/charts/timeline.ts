// Policy timeline: one weekly series per channel (one panel each), the regimes as alternating bands behind
// it and every boundary as a dashed rule labelled with the regime that starts there.
import * as Plot from '@observablehq/plot';
import type { BandRow, BoundaryRow, TimelineRow } from '../data.js';
import {
  CHANNEL_COLOURS,
  categorical,
  ciText,
  distinct,
  fmtNumber,
  fmtUnit,
  quantile,
  STYLE,
  tickFormat,
  utcDay,
  WIDTH,
  type ChartOptions,
  type Unit,
} from './common.js';

export interface TimelineOptions extends ChartOptions {
  label: string;
  unit: Unit;
  /** Regime bands and boundaries of the channels shown: annotations, from the regime table. */
  bands: readonly BandRow[];
  boundaries: readonly BoundaryRow[];
  from: string;
  to: string;
}

const PANEL = 200;

function valueDomain(rows: readonly TimelineRow[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const r of rows) {
    lo = Math.min(lo, r.value);
    hi = Math.max(hi, r.value);
  }
  return [lo, hi > lo ? hi : lo + 1];
}
const FONT = 11;

export function timelineChart(rows: readonly TimelineRow[], options: TimelineOptions): Element {
  const channels = distinct(rows, (r) => r.channel);
  const bands = options.bands.filter((b) => channels.includes(b.channel));
  const boundaries = options.boundaries.filter((b) => channels.includes(b.channel));
  const withCi = rows.filter((r) => r.ci95_lo !== null && r.ci95_hi !== null);
  const week = (d: TimelineRow) => utcDay(d.week);
  const end = (d: BandRow) => new Date(utcDay(d.end).getTime() + 86_400_000);
  return Plot.plot({
    document: options.document,
    width: options.width ?? WIDTH,
    height: 60 + channels.length * PANEL,
    marginTop: 26,
    marginLeft: 64,
    marginRight: 92,
    marginBottom: 36,
    style: STYLE,
    ariaLabel: `Weekly ${options.label} per channel with policy regimes`,
    fy: { domain: channels, label: null, padding: 0.12 },
    x: { type: 'utc', domain: [utcDay(options.from), new Date(utcDay(options.to).getTime() + 86_400_000)], label: null },
    // The scale follows the weekly values; intervals of thin weeks can be far wider and are clipped.
    y: { label: `↑ ${options.label}`, grid: true, nice: true, domain: valueDomain(rows), tickFormat: tickFormat(options.unit) },
    color: categorical(channels, CHANNEL_COLOURS, false),
    marks: [
      Plot.rectX(bands, { fy: 'channel', x1: (d: BandRow) => utcDay(d.start), x2: end, fill: (d: BandRow) => (d.shade ? '#eef1f4' : '#f8f9fa') }),
      Plot.axisFy({ anchor: 'right', fontSize: 12, fontWeight: 'bold', label: null }),
      Plot.ruleY([0], { stroke: '#8c959f' }),
      Plot.areaY(withCi, {
        fy: 'channel',
        x: week,
        y1: 'ci95_lo',
        y2: 'ci95_hi',
        z: 'channel',
        fill: 'channel',
        fillOpacity: 0.18,
        curve: 'step-after',
        clip: true,
      }),
      Plot.lineY(rows, { fy: 'channel', x: week, y: 'value', z: 'channel', stroke: 'channel', strokeWidth: 1.4, curve: 'step-after' }),
      Plot.ruleX(boundaries, { fy: 'channel', x: (d: BoundaryRow) => utcDay(d.date), stroke: '#57606a', strokeDasharray: '4,3' }),
      Plot.text(boundaries, {
        fy: 'channel',
        x: (d: BoundaryRow) => utcDay(d.date),
        text: 'label',
        frameAnchor: 'top',
        rotate: -90,
        textAnchor: 'end',
        lineAnchor: 'top',
        dx: 8,
        dy: 4,
        fontSize: FONT,
        lineWidth: (PANEL - 24) / FONT,
        textOverflow: 'ellipsis',
        fill: '#24292f',
        stroke: 'white',
        strokeWidth: 3,
        paintOrder: 'stroke',
      }),
    ],
  });
}

export function describeTimeline(rows: readonly TimelineRow[], options: Pick<TimelineOptions, 'label' | 'unit' | 'boundaries'>): string {
  const channels = distinct(rows, (r) => r.channel);
  const parts = [`Weekly ${options.label}, ${rows.length} channel-weeks.`];
  for (const c of channels) {
    const own = rows.filter((r) => r.channel === c);
    const peak = own.reduce((a, b) => (b.value > a.value ? b : a), own[0]);
    const last = own[own.length - 1];
    parts.push(
      `${c}: ${own.length} weeks, median ${fmtUnit(
        quantile(
          own.map((r) => r.value),
          0.5,
        ),
        options.unit,
      )}, highest ${fmtUnit(peak.value, options.unit)} in the week of ${peak.week}, last week (${last.week}) ${fmtUnit(last.value, options.unit)} (${ciText(last.ci95_lo, last.ci95_hi, options.unit)}).`,
    );
  }
  const bs = options.boundaries.filter((b) => channels.includes(b.channel));
  if (bs.length) parts.push(`Regime boundaries: ${bs.map((b) => `${b.date} ${b.channel}, ${b.label}`).join('; ')}.`);
  parts.push(`Weeks plotted: ${fmtNumber(new Set(rows.map((r) => r.week)).size)}.`);
  return parts.join(' ');
}
