// What every chart shares: the document Plot draws into, fonts (Plot does not measure text, so sizes and
// margins are fixed here), categorical colours (no continuous legends: those need a canvas), number formats.
import type * as Plot from '@observablehq/plot';

export interface ChartOptions {
  /** The DOM document Plot creates elements in (jsdom on the server). */
  document: Document;
  /** Outer width in pixels. */
  width?: number;
}

export const WIDTH = 960;
export const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
export const FONT_SIZE = 12;

export const STYLE = { fontFamily: FONT_FAMILY, fontSize: `${FONT_SIZE}px`, color: '#1f2328', background: '#ffffff', overflow: 'visible' } as const;

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
export const FREQUENCY_COLOURS: Record<string, string> = { daily: '#D55E00', weekly: '#0072B2', monthly: '#009E73' };
export const CHANNEL_COLOURS: Record<string, string> = { messenger: '#0072B2', instagram: '#CC79A7', whatsapp: '#009E73' };
const OTHER = '#7f7f7f';

/** A categorical colour scale over the values present, in their canonical order, with a swatch legend. */
export function categorical(present: readonly string[], colours: Record<string, string>, legend = true): Plot.ScaleOptions {
  const known = Object.keys(colours);
  const domain = [...new Set(present)].sort((a, b) => rank(known, a) - rank(known, b) || a.localeCompare(b));
  return { type: 'categorical', domain, range: domain.map((d) => colours[d] ?? OTHER), legend };
}

/** Estimates coloured by their (first) treated channel: the impact and event-study charts of the timeline. */
export const treatedChannelColour = (rows: readonly { treated: string }[]): Plot.ScaleOptions => ({
  ...categorical(
    rows.map((r) => r.treated.split(',')[0]),
    CHANNEL_COLOURS,
  ),
  label: 'Treated channel',
});

const rank = (order: readonly string[], v: string) => {
  const i = order.indexOf(v);
  return i < 0 ? order.length : i;
};

export const utcDay = (day: string): Date => new Date(`${day}T00:00:00Z`);

/** A number for people: at most `digits` significant digits, thousands separated, no trailing zeros. */
export function fmtNumber(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 10 ** digits) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 20 });
}

export const fmtPercent = (n: number | null | undefined, digits = 3): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : `${fmtNumber(n * 100, digits)}%`;
export const fmtUsd = (n: number | null | undefined, digits = 3): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : `${n < 0 ? '−' : ''}$${fmtNumber(Math.abs(n), digits)}`;

export type Unit = 'per_1k' | 'rate' | 'usd' | 'usd_per_1k' | 'count';

export function fmtUnit(n: number | null | undefined, unit: Unit): string {
  if (unit === 'rate') return fmtPercent(n);
  if (unit === 'usd' || unit === 'usd_per_1k') return fmtUsd(n);
  return fmtNumber(n);
}

export const tickFormat = (unit: Unit): string => (unit === 'rate' ? '.1%' : unit === 'usd' || unit === 'usd_per_1k' ? '$,~r' : ',~r');

export const ciText = (lo: number | null, hi: number | null, unit: Unit): string =>
  lo === null || hi === null ? 'no interval' : `95% interval ${fmtUnit(lo, unit)} to ${fmtUnit(hi, unit)}`;

/** Values sorted, then the one at quantile q (nearest rank). */
export function quantile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** The distinct values of a field in first-seen order (rows come sorted from the adapter). */
export const distinct = <T, K>(rows: readonly T[], key: (r: T) => K): K[] => [...new Set(rows.map(key))];
