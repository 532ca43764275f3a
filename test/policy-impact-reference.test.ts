// Our policy-impact estimators against established implementations on one fixed panel: pyfixest (difference in
// differences, event study, two-way fixed effects), statsmodels (segmented regression with Newey–West errors) and
// `differences` (Callaway and Sant'Anna). test/reference/regenerate.py wrote the panel and the reference values;
// test/reference/README.md says how to regenerate them. Every unit's denominator is the same in every week of the
// panel, so the weighted regressions and our ratios of sums estimate the same quantities: point estimates must agree
// to 1e-9 (rounding), Newey–West standard errors to 1e-9 relative.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterBootstrap } from '../query/analyses/bootstrap.js';
import { didOfPanel, eventStudyEffects, type TwoGroupSpec } from '../query/analyses/event-study.js';
import { interruptedTimeSeries } from '../query/analyses/its.js';
import { callawaySantAnna, twoWayFixedEffects, type ControlGroup } from '../query/analyses/staggered.js';
import { clustersFromRows, sumClusters, panelLength, type PanelLayout } from '../query/analyses/weekly-panel.js';

const dir = new URL('./reference/', import.meta.url);
const ref = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8'));
const lines = readFileSync(new URL('panel.csv', dir), 'utf8').trim().split('\n');
const header = lines[0].split(',');
const rows = lines.slice(1).map((line) => {
  const v = line.split(',');
  const r = Object.fromEntries(header.map((h, i) => [h, v[i]]));
  return { cluster: r.business_id, channel: r.channel, week: Number(r.week), numerator: Number(r.numerator), denominator: Number(r.denominator) };
});

const layout: PanelLayout = { channels: ['messenger', 'instagram', 'whatsapp'], weeks: 40 };
const { clusters } = clustersFromRows(rows, layout);
const totals = sumClusters(clusters, panelLength(layout));
const ch = (name: string) => layout.channels.indexOf(name);
const spec: TwoGroupSpec = { treated: [ch('whatsapp')], control: [ch('instagram')], boundary: ref.boundary, leads: ref.leads, lags: ref.lags, scale: 1 };
const cohorts = layout.channels.map((c) => ref.cohorts[c] as number | null);
const POINT = 1e-9;

describe('policy-impact estimators against reference implementations (test/reference/)', () => {
  it('reads the whole panel', () => {
    expect(rows.length).toBe(40 * 3 * 40);
    expect(clusters.length).toBe(40);
  });

  it('difference in differences equals pyfixest feols(y ~ treat_post | unit + week, weights = denominator)', () => {
    expect(Math.abs(didOfPanel(totals, layout, spec)! - ref.did.estimate)).toBeLessThan(POINT);
    // Our interval is a cluster bootstrap, theirs CRV1 by business: different estimators of the same spread.
    // The bootstrap standard deviation must be within 20% of pyfixest's clustered standard error.
    const boot = clusterBootstrap(clusters, (t) => [didOfPanel(t, layout, spec)], { replicates: 1000, seed: 20_240_601 });
    const xs = boot.values[0];
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
    expect(sd / ref.did.se_crv1_business).toBeGreaterThan(0.8);
    expect(sd / ref.did.se_crv1_business).toBeLessThan(1.2);
  });

  it('event study equals pyfixest feols(y ~ i(rel, treat, ref=-1) | unit + week, weights = denominator)', () => {
    const effects = eventStudyEffects(totals, layout, spec);
    const expected: { relative_week: number; estimate: number }[] = ref.event_study;
    expect(expected.length).toBe(spec.leads + spec.lags - 1);
    for (const e of expected) expect(Math.abs(effects[e.relative_week + spec.leads]! - e.estimate), `week ${e.relative_week}`).toBeLessThan(POINT);
    expect(effects[spec.leads - 1]).toBe(0);
  });

  it('interrupted time series equals statsmodels OLS with cov_type="HAC" (Newey–West)', () => {
    const its = interruptedTimeSeries(totals, layout, spec)!;
    expect(its.lags).toBe(ref.its.lags);
    for (const [i, c] of (ref.its.coef as number[]).entries()) expect(Math.abs(its.coef[i] - c), `coef ${i}`).toBeLessThan(POINT);
    for (const [i, s] of (ref.its.se as number[]).entries()) expect(Math.abs(its.se[i] / s - 1), `se ${i}`).toBeLessThan(1e-9);
  });

  for (const control of ['not_yet_treated', 'never_treated'] as ControlGroup[]) {
    it(`Callaway–Sant'Anna (${control}) equals differences.ATTgt: every ATT(g, t), the simple and the event aggregation`, () => {
      const expected = ref.staggered[control];
      const cs = callawaySantAnna(totals, layout, { cohorts, controlGroup: control, leads: layout.weeks, lags: layout.weeks, scale: 1 });
      const mine = new Map(cs.cells.map((c) => [`${c.group}|${c.week}`, c.att]));
      expect(cs.cells.length).toBe(expected.cells.length);
      for (const c of expected.cells) expect(Math.abs(mine.get(`${c.group}|${c.week}`)! - c.att), `g ${c.group} t ${c.week}`).toBeLessThan(POINT);
      expect(Math.abs(cs.simple! - expected.simple)).toBeLessThan(POINT);
      for (const e of expected.event) {
        expect(Math.abs(cs.dynamic[e.relative_week + layout.weeks]! - e.att), `e ${e.relative_week}`).toBeLessThan(POINT);
      }
    });
  }

  it('two-way fixed effects equals pyfixest feols(y ~ d | unit + week, weights = denominator)', () => {
    expect(Math.abs(twoWayFixedEffects(totals, layout, cohorts, 1)! - ref.twfe)).toBeLessThan(POINT);
  });
});
