// Placebo boundaries and randomisation inference in time: the same estimator, with the same window, at boundaries
// moved back into the weeks before the real one, where nothing changed. Where a bootstrap over businesses misses a
// shock that hits a whole channel (few treated clusters, Conley and Taber 2011), the placebo estimates show how
// large an "effect" ordinary weeks produce. Pure.

/** Placebo boundary weeks: j = 1 … count, the j-th at boundary − lags − (j − 1), so its after-window ends before the real boundary. */
export function placeboBoundaries(boundary: number, leads: number, lags: number, count: number): number[] {
  const out: number[] = [];
  for (let j = 1; j <= count; j++) {
    const b = boundary - lags - (j - 1);
    if (b - leads < 0) break;
    out.push(b);
  }
  return out;
}

/** Weeks of data a panel needs before the boundary for `count` placebos. */
export const placeboPreWeeks = (leads: number, lags: number, count: number): number => (count > 0 ? leads + lags + count - 1 : leads);

/**
 * Randomisation-inference p-value: the share of placebo estimates at least as far from 0 as the estimate, counting
 * the estimate itself ((1 + #{|placebo| ≥ |estimate|}) / (1 + placebos)). Null without placebos. Its smallest value
 * is 1 / (1 + placebos).
 */
export function randomisationP(estimate: number, placebos: readonly number[]): number | null {
  if (!placebos.length) return null;
  const a = Math.abs(estimate);
  // A tolerance so that a placebo equal to the estimate up to rounding counts as "at least as large".
  const hits = placebos.filter((p) => Math.abs(p) >= a - 1e-12 * Math.max(1, a)).length;
  return (1 + hits) / (1 + placebos.length);
}
