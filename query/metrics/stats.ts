// Confidence intervals for policylens metrics. docs/metrics.md ("Intervals") says why each method was chosen.
//
// Exported names (other modules import these; keep them stable):
//
//   wilson(successes, trials, z = 1.96): [number, number]
//     Wilson score interval for the proportion successes / trials. Used for every *_rate metric.
//     trials = 0 gives [0, 1] (no information); successes must be an integer in [0, trials].
//
//   rateIntervalPer1k(events, sends, z = 1.96): [number, number]
//     Interval for events per 1,000 sends (opt_outs_per_1k, blocks_per_1k, spam_reports_per_1k,
//     spam_risk_per_1k). The count of events is treated as Poisson given the sends; its limits are the exact
//     (Garwood) Poisson limits, i.e. gamma quantiles, divided by sends and multiplied by 1,000.
//     sends = 0 gives [0, Infinity].
//
//   poissonLimits(k, z = 1.96): [number, number]
//     The exact (Garwood) two-sided limits for the mean of a Poisson count k.
//
//   amountIntervalPer1k(amount, sumOfSquares, sends, z = 1.96): [number, number]
//     Normal interval for an amount per 1,000 sends (revenue_per_1k, net_revenue_per_1k), where the amount
//     is a sum of random contributions (conversions) plus, for net revenue, a known part (cost). The variance
//     of the random part is the compound-Poisson estimate: the sum of the squared contributions.
//     sends = 0 gives [-Infinity, Infinity].
//
//   differenceInterval(value1, ci1, value2, ci2): [number, number]
//     Interval for value1 - value2 of two independent estimates, from their own intervals (MOVER: Zou and Donner
//     2008; with Wilson intervals it is Newcombe's 1998 method 10, with normal ones the usual sqrt(se1² + se2²)).
//     Used for the change between two periods in /v1/query comparisons.
//
//   Z_95 = 1.959963984540054: the two-sided 95% normal quantile.

export const Z_95 = 1.959963984540054;

function check(name: string, value: number, min = 0): void {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a finite number >= ${min}, got ${value}`);
}

/** Wilson score interval for successes / trials. */
export function wilson(successes: number, trials: number, z: number = Z_95): [number, number] {
  check('successes', successes);
  check('trials', trials);
  check('z', z);
  if (successes > trials) throw new RangeError(`successes (${successes}) must not exceed trials (${trials})`);
  if (trials === 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // The bounds are exactly 0 and 1 when p is; rounding must not push them past.
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === trials ? 1 : Math.min(1, centre + half)];
}

/** The Wilson interval of a rate with no trials is null; successes above the trials count as the trials. */
export function wilsonOrNull(successes: number, trials: number, z: number = Z_95): [number, number] | null {
  return trials > 0 ? wilson(Math.min(successes, trials), trials, z) : null;
}

// ---------- gamma functions, for the exact Poisson limits ----------

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error about 1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = 0.99999999999980993;
  const t = y + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i] / (y + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularised lower incomplete gamma function P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    // series
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 100_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, sum * front);
  }
  // continued fraction for Q(a, x) (modified Lentz)
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - front * h);
}

/** x such that P(a, x) = p, by bisection safeguarded Newton steps. */
export function gammaPInverse(a: number, p: number): number {
  if (!(p > 0)) return 0;
  if (p >= 1) return Infinity;
  let lo = 0;
  let hi = Math.max(1, a);
  while (gammaP(a, hi) < p) hi *= 2;
  let x = Math.min(hi, Math.max(a, 1e-8));
  const lnGammaA = lnGamma(a);
  for (let i = 0; i < 200; i++) {
    const f = gammaP(a, x) - p;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    const density = Math.exp(-x + (a - 1) * Math.log(x) - lnGammaA);
    let next = density > 0 ? x - f / density : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - x) <= 1e-14 * Math.max(1, x)) return next;
    x = next;
  }
  return x;
}

/** Two-sided tail probability outside ±z of a standard normal: erfc(z / √2) = Q(1/2, z²/2). */
export const twoSidedAlpha = (z: number): number => 1 - gammaP(0.5, (z * z) / 2);

const limitsCache = new Map<string, [number, number]>();

/** The exact (Garwood) limits for the mean of a Poisson count k, two-sided at ±z. */
export function poissonLimits(k: number, z: number = Z_95): [number, number] {
  check('count', k);
  check('z', z);
  const key = `${k}:${z}`;
  const hit = limitsCache.get(key);
  if (hit) return [hit[0], hit[1]];
  const alpha = twoSidedAlpha(z);
  const limits: [number, number] = [k === 0 ? 0 : gammaPInverse(k, alpha / 2), gammaPInverse(k + 1, 1 - alpha / 2)];
  if (limitsCache.size > 50_000) limitsCache.clear();
  limitsCache.set(key, limits);
  return [limits[0], limits[1]];
}

/** Events per 1,000 sends, with the count treated as Poisson. */
export function rateIntervalPer1k(events: number, sends: number, z: number = Z_95): [number, number] {
  check('sends', sends);
  const [lo, hi] = poissonLimits(events, z);
  if (sends === 0) return [0, Infinity];
  return [(lo / sends) * 1000, (hi / sends) * 1000];
}

/**
 * An amount per 1,000 sends: (amount / sends) * 1000 ± z * sqrt(sumOfSquares) / sends * 1000.
 * Pass the whole amount (e.g. revenue - cost) and the sum of squares of its random contributions only.
 */
export function amountIntervalPer1k(amount: number, sumOfSquares: number, sends: number, z: number = Z_95): [number, number] {
  if (!Number.isFinite(amount)) throw new RangeError(`amount must be finite, got ${amount}`);
  check('sumOfSquares', sumOfSquares);
  check('sends', sends);
  check('z', z);
  if (sends === 0) return [-Infinity, Infinity];
  const centre = (amount / sends) * 1000;
  const half = ((z * Math.sqrt(sumOfSquares)) / sends) * 1000;
  return [centre - half, centre + half];
}

/**
 * value1 - value2 with the interval recovered from each estimate's own interval (MOVER): each side's distance to its
 * limit stands in for its standard error, so skewed intervals (Wilson, Poisson) keep their shape near 0 and 1.
 */
export function differenceInterval(value1: number, ci1: readonly [number, number], value2: number, ci2: readonly [number, number]): [number, number] {
  const d = value1 - value2;
  return [d - Math.hypot(value1 - ci1[0], ci2[1] - value2), d + Math.hypot(ci1[1] - value1, value2 - ci2[0])];
}
