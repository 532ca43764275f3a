// Cluster bootstrap: resample whole clusters (businesses) with replacement and read percentile intervals off
// the replicates. Pure and deterministic for a seed; used by the policy-impact DiD and the frequency frontier.

/** A small, fast, seedable PRNG (mulberry32); returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile of an ascending array by linear interpolation between order statistics (type 7, as R's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted: empty');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  replicates: number;
  seed: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { replicates: 1000, seed: 20_240_601 };

/**
 * Cluster bootstrap: each replicate draws as many clusters as there are, with replacement, sums their
 * vectors (a cluster drawn k times counts k times) and evaluates `stat` on the sum.
 * Returns, per statistic, the replicate values that were defined (stat returned a finite number).
 */
export function clusterBootstrap(
  clusters: readonly Float64Array[],
  stat: (totals: Float64Array) => readonly (number | null)[],
  opts: BootstrapOptions = DEFAULT_BOOTSTRAP,
): { values: number[][]; replicates: number } {
  const g = clusters.length;
  if (g === 0) return { values: [], replicates: 0 };
  const len = clusters[0].length;
  // Sparse copies: a business usually has data in few of the cells (one channel, some weeks).
  const sparse = clusters.map((v) => {
    const idx: number[] = [];
    for (let j = 0; j < len; j++) if (v[j] !== 0) idx.push(j);
    return { idx: Int32Array.from(idx), val: Float64Array.from(idx, (j) => v[j]) };
  });
  const rand = mulberry32(opts.seed);
  const counts = new Uint32Array(g);
  const totals = new Float64Array(len);
  let values: number[][] | null = null;
  for (let r = 0; r < opts.replicates; r++) {
    counts.fill(0);
    for (let i = 0; i < g; i++) counts[Math.floor(rand() * g)]++;
    totals.fill(0);
    for (let i = 0; i < g; i++) {
      const k = counts[i];
      if (k === 0) continue;
      const { idx, val } = sparse[i];
      for (let j = 0; j < idx.length; j++) totals[idx[j]] += k * val[j];
    }
    const out = stat(totals);
    values ??= out.map(() => []);
    out.forEach((x, i) => {
      if (x !== null && Number.isFinite(x)) values![i].push(x);
    });
  }
  return { values: values ?? [], replicates: opts.replicates };
}

/**
 * Percentile interval from replicate values; null when fewer than half the replicates were defined
 * (the statistic is then too often undefined for an interval to mean anything).
 */
export function percentileInterval(values: readonly number[], replicates: number, level = 0.95): [number, number] | null {
  if (values.length === 0 || values.length < replicates / 2) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const a = (1 - level) / 2;
  return [quantileSorted(sorted, a), quantileSorted(sorted, 1 - a)];
}
