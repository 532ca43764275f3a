// /v1/query against the simulator's ground truth: per-cell counts equal what the simulator wrote, on the rollup
// and the raw path; the simulator's true rates fall inside the 95% intervals at about the stated coverage.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFile } from '../ingest/load-file.js';
import { METRIC_NAMES } from '../query/metrics/catalog.js';
import { normalizeQuery, type QueryRequest } from '../query/metrics/request.js';
import { runMetricsQuery, type QueryResult } from '../query/metrics/query.js';
import { simulateToFile, type Truth } from '../simulator/index.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const EVENTS = 200_000;
const SEED = 5;
const ALL_TIME: [string, string] = ['2019-01-01', '2026-10-31'];
const CELL = ['channel', 'category', 'frequency', 'regime'];

let t: TestWarehouse;
let truth: Truth;
const run = (req: QueryRequest, source: 'rollup' | 'raw' | 'auto' = 'auto') =>
  runMetricsQuery(t.wh, normalizeQuery(req), { source, attributionWindowHours: t.config.attributionWindowHours });
const cellKey = (d: Record<string, string | null>) => [d.channel, d.category, d.frequency ?? '', d.regime].join('|');
const byCell = (r: QueryResult) => new Map(r.results.map((x) => [cellKey(x.dimensions), x.metrics]));

beforeAll(async () => {
  t = await openTestWarehouse();
  const file = join(t.dir, 'truth.ndjson');
  truth = await simulateToFile({ events: EVENTS, seed: SEED, badRatio: 0.01, dupRatio: 0.01, out: file });
  await loadFile(file, t.writer, { batchRows: 20_000 });
});
afterAll(async () => t?.dispose());

describe('against the simulator truth', () => {
  const counts = ['sends', 'delivered', 'read', 'clicked', 'replied', 'converted', 'opt_outs', 'blocks', 'spam_reports', 'cost_usd', 'revenue_usd'];
  const truthName: Record<string, string> = { opt_outs: 'opt_out', blocks: 'block', spam_reports: 'spam_report' };

  for (const source of ['rollup', 'raw'] as const) {
    it(`counts every cell exactly as written (${source})`, async () => {
      const res = await run({ metrics: counts, dimensions: CELL, date_range: ALL_TIME, limit: 10_000 }, source);
      expect(res.meta.source).toBe(source);
      const got = byCell(res);
      expect(got.size).toBe(truth.cells.length);
      for (const c of truth.cells) {
        const m = got.get(cellKey(c as unknown as Record<string, string | null>));
        const realized = c.realized as unknown as Record<string, number>;
        const want = Object.fromEntries(counts.map((k) => [k, realized[truthName[k] ?? k]]));
        expect({ cell: cellKey(c as unknown as Record<string, string | null>), ...m }).toEqual({
          cell: cellKey(c as unknown as Record<string, string | null>),
          ...want,
        });
      }
    });
  }

  it('counts the unattributed opt-outs the simulator wrote, and no other unattributed events', async () => {
    const res = await run({ metrics: ['unattributed_opt_outs', 'unattributed_blocks', 'unattributed_spam_reports'], date_range: ALL_TIME });
    expect(res.results[0].metrics).toEqual({
      unattributed_opt_outs: truth.counts.spamRisk.unattributed.opt_out,
      unattributed_blocks: 0,
      unattributed_spam_reports: 0,
    });
  });

  it('puts the true rate inside the 95% interval for at least 90% of checks on cells with >= 1,000 sends', async () => {
    const metrics = [
      'sends',
      'delivery_rate',
      'read_rate',
      'click_rate',
      'conversion_rate',
      'opt_outs_per_1k',
      'blocks_per_1k',
      'spam_reports_per_1k',
      'spam_risk_per_1k',
      'revenue_per_1k',
    ];
    const got = byCell(await run({ metrics, dimensions: CELL, date_range: ALL_TIME, limit: 10_000 }));
    const tally: Record<string, { inside: number; checks: number }> = {};
    for (const c of truth.cells) {
      const m = got.get(cellKey(c as unknown as Record<string, string | null>))!;
      if ((m.sends as number) < 1000) continue;
      const r = c.rates;
      const expected: Record<string, number> = {
        delivery_rate: r.delivery_rate,
        read_rate: r.read_rate,
        click_rate: r.click_rate,
        conversion_rate: r.conversion_rate,
        opt_outs_per_1k: r.opt_out_rate * 1000,
        blocks_per_1k: r.block_rate * 1000,
        spam_reports_per_1k: r.spam_report_rate * 1000,
        spam_risk_per_1k: (r.opt_out_rate + r.block_rate + r.spam_report_rate) * 1000,
        // at most one conversion per send in the simulator
        revenue_per_1k: r.delivery_rate * r.conversion_rate * r.revenue_per_conversion_usd * 1000,
      };
      for (const [name, value] of Object.entries(expected)) {
        const ci = m[`${name}_ci95`] as [number, number] | null;
        tally[name] ??= { inside: 0, checks: 0 };
        tally[name].checks++;
        if (ci && value >= ci[0] && value <= ci[1]) tally[name].inside++;
      }
    }
    const all = Object.values(tally).reduce((a, x) => ({ inside: a.inside + x.inside, checks: a.checks + x.checks }), { inside: 0, checks: 0 });
    expect(tally.delivery_rate.checks).toBeGreaterThanOrEqual(15);
    expect(all.inside / all.checks).toBeGreaterThanOrEqual(0.9);
    for (const [name, x] of Object.entries(tally)) expect({ name, coverage: x.inside / x.checks >= 0.8 }).toEqual({ name, coverage: true });
  });

  it('answers the same from rollups and raw tables for other groupings and filters', async () => {
    const requests: QueryRequest[] = [
      { metrics: [...METRIC_NAMES], dimensions: ['time:month', 'channel'], date_range: ['2024-01-01', '2024-12-31'] },
      { metrics: [...METRIC_NAMES], dimensions: ['business_id'], date_range: ['2025-01-01', '2025-06-30'], order_by: [['sends', 'desc']], limit: 25 },
      {
        metrics: ['sends', 'read_rate', 'opt_outs_per_1k', 'net_revenue_per_1k'],
        dimensions: ['frequency', 'regime'],
        date_range: ['2022-05-19', '2023-05-18'],
        filters: [['is', 'category', ['recurring_notification']]],
      },
      {
        metrics: ['sends', 'click_rate', 'spam_risk_per_1k'],
        dimensions: ['topic', 'time:week'],
        date_range: ['2023-03-01', '2023-03-31'],
        filters: [
          ['is_not', 'channel', ['whatsapp']],
          ['is', 'frequency', ['daily', null]],
        ],
      },
      {
        metrics: ['sends', 'delivered', 'unattributed_opt_outs'],
        dimensions: ['campaign_id'],
        date_range: ['2025-07-01', '2025-07-31'],
        order_by: [['delivered', 'desc']],
        limit: 40,
      },
    ];
    for (const req of requests) {
      const [rollup, raw] = [await run(req, 'rollup'), await run(req, 'raw')];
      expect(rollup.results.length).toBeGreaterThan(0);
      expect(rollup.results).toEqual(raw.results);
      expect(rollup.meta.total_rows).toBe(raw.meta.total_rows);
    }
  });
});
