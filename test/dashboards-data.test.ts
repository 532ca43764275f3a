// The adapter between the API and the charts: response shapes in, chart rows out; and a whole build against
// the real API in-process (buildApp + inject) over a small simulated warehouse, so the adapter is checked
// against the routes in the tree, not only against the fixtures.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite, type Manifest } from '../dashboards/build.js';
import { csvCell, parseCsv, toCsv } from '../dashboards/csv.js';
import {
  dayOf,
  eventStudyRows,
  impactRow,
  frequencyFrontierRows,
  queryResults,
  RegimeBook,
  regimesFrom,
  retentionRows,
  scatterFrontierRows,
  type FrontierResponse,
} from '../dashboards/data.js';
import { injectSource, requestKey } from '../dashboards/source.js';
import { loadFile } from '../ingest/load-file.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { simulateToFile } from '../simulator/index.js';
import { loadDefaultRegimes } from '../warehouse/regimes.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const book = new RegimeBook(loadDefaultRegimes());

describe('adapter', () => {
  it('normalises /v1/query results: dimensions as text or null, <metric>_ci95 as intervals, time as days', () => {
    const rows = queryResults({
      results: [
        {
          dimensions: { 'time:week': '2024-01-01T00:00:00Z', channel: 'messenger', frequency: '' },
          metrics: { sends: '1200', opt_outs_per_1k: 1.5, opt_outs_per_1k_ci95: [1.1, 2.0] },
        },
        {
          dimensions: { 'time:week': 1704067200000, channel: 'whatsapp', frequency: null },
          metrics: { sends: 3, read_rate: { estimate: 0.5, ci95: [0.2, 0.8] } },
        },
      ],
      meta: {},
    });
    expect(rows[0]).toEqual({
      dimensions: { 'time:week': '2024-01-01', channel: 'messenger', frequency: null },
      metrics: { sends: 1200, opt_outs_per_1k: 1.5 },
      ci95: { opt_outs_per_1k: [1.1, 2.0] },
    });
    expect(rows[1].dimensions['time:week']).toBe('2024-01-01');
    expect(rows[1].metrics.read_rate).toBe(0.5);
    expect(rows[1].ci95.read_rate).toEqual([0.2, 0.8]);
    expect(dayOf('2024-01-01 00:00:00')).toBe('2024-01-01');
    expect(() => queryResults({ rows: [] })).toThrow(/results/);
  });

  it('reads the regime table whether wrapped or bare, and finds the boundaries to label', () => {
    expect(regimesFrom({ regimes: loadDefaultRegimes() })).toHaveLength(16);
    expect(regimesFrom(loadDefaultRegimes())).toHaveLength(16);
    const b = book.boundaries(['messenger', 'whatsapp'], '2019-01-01', '2026-10-31').map((x) => `${x.date} ${x.channel} ${x.label}`);
    expect(b).toEqual([
      '2020-03-04 messenger End of 24+1: tags and one-time notifications',
      '2022-02-01 whatsapp Conversation-based pricing',
      '2022-05-19 messenger Recurring notifications launch',
      '2023-01-31 messenger Weekly and monthly withdrawn',
      '2023-06-01 whatsapp Four conversation categories',
      '2025-07-01 messenger Paid marketing messages',
      '2025-07-01 whatsapp Per-message pricing',
      '2026-02-10 messenger Utility messages replace recurring',
    ]);
    const bands = book.bands(['whatsapp'], '2021-01-01', '2023-12-31');
    expect(bands.map((x) => [x.regime, x.start, x.end])).toEqual([
      ['whatsapp_template_pricing', '2021-01-01', '2022-01-31'],
      ['whatsapp_conversation_pricing', '2022-02-01', '2023-05-31'],
      ['whatsapp_category_pricing', '2023-06-01', '2023-12-31'],
    ]);
  });

  it('turns a policy-impact answer into a row with its method, and its weeks into the event-study plot', () => {
    const base = {
      metric: 'opt_outs_per_1k',
      metric_description: '',
      treated: 'whatsapp',
      change: { input: '2025-07-01', date: '2025-07-01', regime: null },
      window_days: 14,
      windows: { before: { from: '2025-06-17', to: '2025-06-30' }, after: { from: '2025-07-01', to: '2025-07-14' } },
      estimate: 2,
      ci95: [1, 3],
      warnings: ['No control group: …'],
    };
    const its = {
      ...base,
      control: null,
      method: { name: 'its', chosen: 'default', reason: 'No channel stays unchanged.' },
      its: {
        weeks: [
          { relative_week: -2, observed: 5, fitted: 5, counterfactual: 5 },
          { relative_week: -1, observed: null, fitted: 5, counterfactual: 5 },
          { relative_week: 0, observed: 7.5, fitted: 7, counterfactual: 5 },
        ],
      },
      placebo: { randomisation_p: 0.05 },
    };
    const row = impactRow(its, book);
    expect(row).toMatchObject({ method: 'its', method_reason: 'No channel stays unchanged.', control: '', regime: 'whatsapp_per_message_pricing' });
    expect(row).toMatchObject({ treated_before: null, parallel_trends_plausible: null, randomisation_p: 0.05 });
    expect(eventStudyRows(its, row).map((r) => [r.relative_week, r.estimate, r.method, r.ci95_lo])).toEqual([
      [-2, 0, 'its', null],
      [0, 2.5, 'its', null],
    ]);
    const es = {
      ...base,
      control: 'messenger',
      event_study: {
        reference_week: -1,
        weeks: [
          { relative_week: -1, estimate: 0, ci95: null },
          { relative_week: 0, estimate: 3, ci95: [2, 4] },
        ],
      },
    };
    expect(eventStudyRows(es, row).map((r) => [r.relative_week, r.estimate, r.method, r.ci95_lo, r.ci95_hi])).toEqual([
      [-1, 0, 'event_study', null, null],
      [0, 3, 'event_study', 2, 4],
    ]);
    expect(() => eventStudyRows(base, row)).toThrow(/event_study.weeks or its.weeks/);
  });

  it('sums frontier totals over channels for the scatter, keeps per-channel intervals for the frequency page', () => {
    const part = (channel: string, sends: number, risk: number, net: number): { regime: string; channel: string; response: FrontierResponse } => ({
      regime: 'recurring_all_frequencies',
      channel,
      response: {
        from: '2022-05-19',
        to: '2023-01-30',
        channel,
        horizon_days: 90,
        frequencies: [
          {
            frequency: 'daily',
            businesses: 2,
            subscribers: 10,
            sends,
            opt_outs: risk,
            blocks: 0,
            spam_reports: 0,
            revenue_usd: net,
            cost_usd: 0,
            net_revenue_per_send: { estimate: net / sends, ci95: [0, 1] },
          },
          {
            frequency: 'weekly',
            businesses: 0,
            subscribers: 0,
            sends: 0,
            opt_outs: 0,
            blocks: 0,
            spam_reports: 0,
            revenue_usd: 0,
            cost_usd: 0,
            net_revenue_per_send: { estimate: null, ci95: null },
          },
        ],
      },
    });
    const parts = [part('messenger', 1000, 2, 30), part('instagram', 3000, 10, 30)];
    const front = scatterFrontierRows(parts, book);
    expect(front).toEqual([
      {
        layer: 'frontier',
        regime: 'recurring_all_frequencies',
        regime_label: 'Recurring notifications launch',
        frequency: 'daily',
        business_id: null,
        sends: 4000,
        spam_risk_per_1k: 3,
        net_revenue_per_1k: 15,
      },
    ]);
    const freq = frequencyFrontierRows(parts, book, 'net_revenue_per_send', true);
    expect(freq.map((r) => [r.group, r.value])).toEqual([
      ['Recurring notifications launch · messenger', 0.03],
      ['Recurring notifications launch · instagram', 0.01],
    ]);
  });

  it('starts every Kaplan–Meier curve at day 0, survival 1', () => {
    const rows = retentionRows({
      by: 'frequency',
      channel: null,
      end_of_data: null,
      groups: [
        {
          group: 'weekly',
          subjects: 5,
          events: 1,
          censored: 4,
          median_days: null,
          steps: [{ day: 3, at_risk: 5, events: 1, censored: 0, survival: 0.8, ci95: [0.5, 0.9] }],
        },
      ],
    });
    expect(rows.map((r) => [r.day, r.survival, r.at_risk])).toEqual([
      [0, 1, 5],
      [3, 0.8, 5],
    ]);
  });

  it('writes CSV that reads back, numbers in full, formulas defused', () => {
    const rows = [{ a: 'x,"y"', b: 0.1 + 0.2, c: null, d: '=cmd()', e: -1.5 }];
    const text = toCsv(rows, ['a', 'b', 'c', 'd', 'e']);
    expect(text).toBe('a,b,c,d,e\r\n"x,""y""",0.30000000000000004,,\'=cmd(),-1.5\r\n');
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['x,"y"', '0.30000000000000004', '', "'=cmd()", '-1.5'],
    ]);
    expect(csvCell(true)).toBe('true');
  });

  it('keys requests canonically, whatever the order of fields', () => {
    expect(requestKey({ method: 'POST', path: '/v1/query', body: { b: 1, a: [2, { y: 1, x: 2 }] } })).toBe(
      requestKey({ method: 'POST', path: '/v1/query', body: { a: [2, { x: 2, y: 1 }], b: 1 } }),
    );
    expect(requestKey({ method: 'GET', path: '/v1/retention', query: { channel: undefined, by: 'frequency' } })).toBe('GET /v1/retention?by=frequency');
  });
});

describe('a build against the API in the tree (in-process, small simulated warehouse)', () => {
  let t: TestWarehouse;
  let app: FastifyInstance;
  let out: string;
  let manifest: Manifest;

  beforeAll(async () => {
    t = await openTestWarehouse();
    const file = join(t.dir, 'events.ndjson');
    await simulateToFile({ events: 60_000, seed: 11, out: file });
    await loadFile(file, t.writer, { batchRows: 50_000 });
    const key = 'dashboards-test-admin-key-0123';
    app = await buildApp({ config: t.config, wh: t.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 1_000_000 });
    out = mkdtempSync(join(tmpdir(), 'policylens-dash-live-'));
    manifest = await buildSite({
      source: injectSource(app, key),
      out,
      from: '2019-01-01',
      to: '2026-10-31',
      channels: [null],
      fallbackRegimes: loadDefaultRegimes,
    });
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('draws every chart whose route exists; the rest say the route is missing', () => {
    const charts = manifest.pages.flatMap((p) => p.charts.map((c) => ({ at: `${p.page}/${c.id}`, ...c })));
    const missing = charts.filter((c) => c.error);
    if (missing.length) console.warn(`charts waiting for API routes:\n${missing.map((c) => `  ${c.at}: ${c.error}`).join('\n')}`);
    // Anything but "this route is not in the tree yet" is a mismatch between the adapter and the API.
    for (const c of missing) expect(c.error, c.at).toMatch(/^NOT_FOUND \(404\) from (POST \/v1\/query|GET \/v1\/regimes)/);
    // The analyses that exist today draw from the real routes.
    const drawn = new Set(charts.filter((c) => c.rows > 0).map((c) => c.at));
    for (const at of [
      'retention/survival',
      'frequency/net-revenue-per-send',
      'frequency/expected-net-revenue-per-subscriber',
      'timeline/impact-opt-outs-per-1k',
      'timeline/impact-net-revenue-per-1k',
      'timeline/event-study-opt-outs-per-1k',
      'timeline/event-study-net-revenue-per-1k',
    ]) {
      expect(drawn.has(at), at).toBe(true);
    }
  });
});
