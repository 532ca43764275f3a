// The interval functions of query/metrics/stats.ts against published values.
import { describe, expect, it } from 'vitest';
import { amountIntervalPer1k, differenceInterval, gammaP, poissonLimits, rateIntervalPer1k, twoSidedAlpha, wilson, Z_95 } from '../query/metrics/stats.js';
import { computeMetrics, METRICS, METRIC_NAMES, measuresFor, type BaseValues } from '../query/metrics/catalog.js';

describe('wilson', () => {
  it('matches the textbook values', () => {
    // Newcombe (1998), table I: 81/263 -> 0.2553 .. 0.3662; 15/148 -> 0.0624 .. 0.1605
    const a = wilson(81, 263);
    expect(a[0]).toBeCloseTo(0.2553, 4);
    expect(a[1]).toBeCloseTo(0.3662, 4);
    const b = wilson(15, 148);
    expect(b[0]).toBeCloseTo(0.0624, 4);
    expect(b[1]).toBeCloseTo(0.1605, 4);
  });
  it('is exact at the edges and [0, 1] without trials', () => {
    expect(wilson(0, 10)[0]).toBe(0);
    expect(wilson(0, 10)[1]).toBeCloseTo(Z_95 ** 2 / (10 + Z_95 ** 2), 12);
    expect(wilson(10, 10)[1]).toBe(1);
    expect(wilson(0, 0)).toEqual([0, 1]);
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
  });
  it('narrows with z', () => {
    const [lo90, hi90] = wilson(30, 100, 1.6448536269514722);
    const [lo95, hi95] = wilson(30, 100);
    expect(lo90).toBeGreaterThan(lo95);
    expect(hi90).toBeLessThan(hi95);
  });
});

describe('exact Poisson limits', () => {
  it('match the exact limits (P(X >= k | lower) = P(X <= k | upper) = 0.025)', () => {
    const table: [number, number, number][] = [
      [0, 0, 3.689],
      [1, 0.0253, 5.572],
      [2, 0.2422, 7.225],
      [5, 1.6235, 11.6683],
      [10, 4.7954, 18.3904],
      [50, 37.1112, 65.9188],
    ];
    for (const [k, lo, hi] of table) {
      const [a, b] = poissonLimits(k);
      expect(a).toBeCloseTo(lo, 3);
      expect(b).toBeCloseTo(hi, 3);
    }
  });
  it('rests on a correct gamma function and normal tail', () => {
    expect(gammaP(1, 1)).toBeCloseTo(1 - Math.exp(-1), 14);
    expect(gammaP(3, 2)).toBeCloseTo(1 - Math.exp(-2) * (1 + 2 + 2), 14);
    expect(twoSidedAlpha(Z_95)).toBeCloseTo(0.05, 12);
  });
  it('scale per 1,000 sends', () => {
    const [lo, hi] = rateIntervalPer1k(10, 4000);
    expect(lo).toBeCloseTo((4.7954 / 4000) * 1000, 3);
    expect(hi).toBeCloseTo((18.3904 / 4000) * 1000, 3);
    expect(rateIntervalPer1k(0, 0)).toEqual([0, Infinity]);
  });
});

describe('amount per 1,000 sends', () => {
  it('is centre ± z·√Σx² / sends × 1000', () => {
    const [lo, hi] = amountIntervalPer1k(30, 500, 100);
    const half = (Z_95 * Math.sqrt(500) * 1000) / 100;
    expect(lo).toBeCloseTo(300 - half, 9);
    expect(hi).toBeCloseTo(300 + half, 9);
  });
});

describe('the catalog', () => {
  const zero = Object.fromEntries(
    [
      'sends',
      'cost_usd',
      'delivered',
      'read',
      'clicked',
      'replied',
      'converted',
      'revenue_usd',
      'revenue_sq',
      'opt_outs',
      'blocks',
      'spam_reports',
      'unattributed_opt_outs',
      'unattributed_blocks',
      'unattributed_spam_reports',
    ].map((k) => [k, 0]),
  ) as BaseValues;
  it('gives every rate and per-1k metric an interval, and no count one', () => {
    for (const name of METRIC_NAMES) {
      const kind = METRICS[name].kind;
      expect({ name, interval: typeof METRICS[name].interval === 'function' }).toEqual({ name, interval: kind === 'rate' || kind === 'per_1k' });
    }
  });
  it('computes values from base counts, null for a zero denominator', () => {
    const b = { ...zero, sends: 200, delivered: 180, read: 90, opt_outs: 2, blocks: 1, spam_reports: 1, revenue_usd: 50, revenue_sq: 1250, cost_usd: 2 };
    const m = computeMetrics(['delivery_rate', 'read_rate', 'spam_risk_per_1k', 'net_revenue_per_1k', 'click_rate'], b);
    expect(m.delivery_rate).toBe(0.9);
    expect(m.read_rate).toBe(0.5);
    expect(m.spam_risk_per_1k).toBe(20);
    expect(m.net_revenue_per_1k).toBe(240);
    expect(m.click_rate).toBe(0);
    expect(computeMetrics(['read_rate', 'opt_outs_per_1k'], zero)).toEqual({
      read_rate: null,
      read_rate_ci95: null,
      opt_outs_per_1k: null,
      opt_outs_per_1k_ci95: null,
    });
  });
  it('reads only the base measures the metrics need, sends always', () => {
    expect(measuresFor(['read_rate'])).toEqual(['sends', 'delivered', 'read']);
    expect(measuresFor(['unattributed_blocks'])).toEqual(['sends', 'unattributed_blocks']);
  });
});

describe('differenceInterval', () => {
  it('is Newcombe’s method 10 with Wilson intervals', () => {
    // Newcombe (1998), difference of independent proportions, example (a): 56/70 − 48/80 = 0.2, 0.0524 .. 0.3339.
    const [lo, hi] = differenceInterval(56 / 70, wilson(56, 70), 48 / 80, wilson(48, 80));
    expect(lo).toBeCloseTo(0.0524, 4);
    expect(hi).toBeCloseTo(0.3339, 4);
  });

  it('is d ± √(h₁² + h₂²) with symmetric normal intervals', () => {
    const [lo, hi] = differenceInterval(10, [7, 13], 4, [0, 8]);
    expect(lo).toBeCloseTo(6 - 5, 12);
    expect(hi).toBeCloseTo(6 + 5, 12);
  });
});
