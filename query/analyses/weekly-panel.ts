// The weekly panel every policy-impact estimator reads: per business (the cluster), channel and week, the metric's
// numerator and denominator. Pure: the SQL that fills it is policy-impact-sql.ts.
//
// Layout of one business's vector (and of the totals, the businesses' vectors summed): channel c (index into
// `channels`), week w (0 = oldest): numerator at ((c · weeks) + w) · 2, denominator at that index + 1.
// Estimators are functions of the totals only (ratios of sums), so a cluster bootstrap resamples businesses and
// evaluates the same function on each replicate's totals.

export interface PanelLayout {
  channels: readonly string[];
  weeks: number;
}

export const panelLength = (l: PanelLayout): number => l.channels.length * l.weeks * 2;
export const cellIndex = (l: PanelLayout, channel: number, week: number): number => (channel * l.weeks + week) * 2;

/** Σ numerator / Σ denominator over the channels and weeks [from, to), times scale; null when the denominator is 0. */
export function groupRatio(t: Float64Array, l: PanelLayout, channels: readonly number[], from: number, to: number, scale = 1): number | null {
  let num = 0;
  let den = 0;
  const lo = Math.max(0, from);
  const hi = Math.min(l.weeks, to);
  for (const c of channels) {
    for (let w = lo; w < hi; w++) {
      const i = cellIndex(l, c, w);
      num += t[i];
      den += t[i + 1];
    }
  }
  return den > 0 ? (num / den) * scale : null;
}

/** The same ratio week by week: one entry per week of [from, to). */
export function weeklyRatios(t: Float64Array, l: PanelLayout, channels: readonly number[], from: number, to: number, scale = 1): (number | null)[] {
  const out: (number | null)[] = [];
  for (let w = from; w < to; w++) out.push(groupRatio(t, l, channels, w, w + 1, scale));
  return out;
}

/** Sums the clusters' vectors. */
export function sumClusters(clusters: readonly Float64Array[], length: number): Float64Array {
  const totals = new Float64Array(length);
  for (const c of clusters) for (let j = 0; j < length; j++) totals[j] += c[j];
  return totals;
}

/** The weeks [from, to) of every cluster, as vectors of a narrower panel (a bootstrap then resamples only those). */
export function sliceWeeks(clusters: readonly Float64Array[], l: PanelLayout, from: number, to: number): { clusters: Float64Array[]; layout: PanelLayout } {
  const layout: PanelLayout = { channels: l.channels, weeks: to - from };
  const out = clusters.map((v) => {
    const s = new Float64Array(panelLength(layout));
    for (let c = 0; c < l.channels.length; c++) s.set(v.subarray(cellIndex(l, c, from), cellIndex(l, c, to)), cellIndex(layout, c, 0));
    return s;
  });
  return { clusters: out, layout };
}

export interface PanelRow {
  cluster: string;
  channel: string;
  week: number;
  numerator: number;
  denominator: number;
}

/** One vector per cluster (sorted by cluster key, so results do not depend on row order); rows of other channels are ignored. */
export function clustersFromRows(rows: Iterable<PanelRow>, l: PanelLayout): { keys: string[]; clusters: Float64Array[] } {
  const len = panelLength(l);
  const byKey = new Map<string, Float64Array>();
  for (const r of rows) {
    const c = l.channels.indexOf(r.channel);
    if (c < 0 || r.week < 0 || r.week >= l.weeks) continue;
    let v = byKey.get(r.cluster);
    if (!v) byKey.set(r.cluster, (v = new Float64Array(len)));
    const i = cellIndex(l, c, r.week);
    v[i] += r.numerator;
    v[i + 1] += r.denominator;
  }
  const keys = [...byKey.keys()].sort();
  return { keys, clusters: keys.map((k) => byKey.get(k)!) };
}
