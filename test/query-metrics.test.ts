// Metric values against small hand-written events with exact expected numbers, inserted in awkward orders
// (engagements before their send, spam-risk events before the sends that explain them, duplicate engagement
// types, a retried insert), through both the rollup and the raw path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFamily, NormalizedEvent } from '../events/types.js';
import { parseStep } from '../ingest/steps.js';
import { normalizeQuery, type QueryRequest } from '../query/metrics/request.js';
import { runMetricsQuery, type QueryResult, type SourceChoice } from '../query/metrics/query.js';
import type { Warehouse } from '../warehouse/client.js';
import type { BatchWriter } from '../warehouse/writer.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

type Ev = Record<string, unknown>;
const rowOf = (e: Ev): NormalizedEvent => {
  const step = parseStep(JSON.stringify(e), Date.parse('2026-11-01T00:00:00Z'));
  if (step.kind !== 'ok') throw new Error(`fixture event rejected: ${JSON.stringify(step)}`);
  return step.value;
};

/** Each batch is one insert of one family, in the order given. */
async function insert(writer: BatchWriter, ...batches: Ev[][]): Promise<void> {
  for (const batch of batches) {
    const rows = batch.map(rowOf);
    const family = rows[0].family as EventFamily;
    if (rows.some((r) => r.family !== family)) throw new Error('one family per batch');
    await writer.write(family, rows.map((r) => r.row) as never);
  }
}

const send = (id: string, at: string, over: Ev = {}): Ev => ({
  event_id: id,
  type: 'send',
  occurred_at: at,
  business_id: 'b1',
  user_id: 'u1',
  channel: 'messenger',
  category: 'recurring_notification',
  frequency: 'daily',
  topic: null,
  campaign_id: null,
  cost_usd: 0,
  ...over,
});
let n = 0;
const eng = (sendId: string, type: string, at: string, over: Ev = {}): Ev => ({
  event_id: `e-${++n}`,
  type,
  occurred_at: at,
  business_id: 'b1',
  user_id: 'u1',
  channel: 'messenger',
  send_id: sendId,
  ...over,
});
const sub = (id: string, type: string, at: string, over: Ev = {}): Ev => ({
  event_id: id,
  type,
  occurred_at: at,
  business_id: 'b1',
  user_id: 'u1',
  channel: 'messenger',
  topic: null,
  frequency: null,
  reason: null,
  ...over,
});

async function query(wh: Warehouse, req: QueryRequest, source: SourceChoice, windowHours = 72): Promise<QueryResult> {
  return runMetricsQuery(wh, normalizeQuery(req), { source, attributionWindowHours: windowHours });
}

/** Runs on both paths, checks they agree exactly, returns the rows keyed by their dimension values. */
async function both(wh: Warehouse, req: QueryRequest, windowHours = 72): Promise<Record<string, Record<string, unknown>>> {
  const rollup = await query(wh, req, 'rollup', windowHours);
  const raw = await query(wh, req, 'raw', windowHours);
  expect(rollup.results).toEqual(raw.results);
  expect(rollup.meta.total_rows).toBe(raw.meta.total_rows);
  return Object.fromEntries(rollup.results.map((r) => [Object.values(r.dimensions).join('|'), r.metrics]));
}

let t: TestWarehouse;
beforeAll(async () => {
  t = await openTestWarehouse();
});
afterAll(async () => t?.dispose());

describe('engagement metrics, whatever the order of arrival', () => {
  beforeAll(async () => {
    await insert(
      t.writer,
      // engagements of s5 before s5 itself; one engagement whose send never arrives
      [
        eng('s5', 'delivered', '2022-06-02T12:00:01Z', { user_id: 'u5', business_id: 'b2' }),
        eng('s5', 'read', '2022-06-02T12:10:00Z', { user_id: 'u5', business_id: 'b2' }),
        eng('s5', 'converted', '2022-06-02T13:00:00Z', { user_id: 'u5', business_id: 'b2', revenue_usd: 20 }),
        eng('never-sent', 'delivered', '2022-06-02T12:00:00Z'),
      ],
      [
        send('s1', '2022-06-01T10:00:00Z', { cost_usd: 0.01 }),
        send('s2', '2022-06-01T11:00:00Z', { user_id: 'u2', cost_usd: 0.02 }),
        send('s3', '2022-06-02T09:00:00Z', { user_id: 'u3', frequency: 'weekly', cost_usd: 0.03 }),
      ],
      [
        eng('s1', 'delivered', '2022-06-01T10:00:01Z'),
        eng('s1', 'read', '2022-06-01T10:05:00Z'),
        eng('s1', 'clicked', '2022-06-01T10:06:00Z'),
        eng('s1', 'converted', '2022-06-01T11:00:00Z', { revenue_usd: 10 }),
        eng('s2', 'delivered', '2022-06-01T11:00:01Z', { user_id: 'u2' }),
        eng('s2', 'read', '2022-06-01T11:30:00Z', { user_id: 'u2' }),
        eng('s3', 'delivered', '2022-06-02T09:00:01Z', { user_id: 'u3' }),
      ],
      [
        send('s4', '2022-06-02T10:00:00Z', { business_id: 'b2', user_id: 'u4', frequency: 'weekly', campaign_id: 'c1', topic: 'deals' }),
        send('s5', '2022-06-02T12:00:00Z', { business_id: 'b2', user_id: 'u5', frequency: 'weekly', cost_usd: 0.05 }),
      ],
      // a second delivered for s2 and a second read for s5 (same send, same type); a second conversion for s1
      [
        eng('s2', 'delivered', '2022-06-01T11:00:02Z', { user_id: 'u2' }),
        eng('s5', 'read', '2022-06-02T12:20:00Z', { user_id: 'u5', business_id: 'b2' }),
        eng('s1', 'converted', '2022-06-01T12:00:00Z', { revenue_usd: 5 }),
      ],
    );
  });

  const june = { date_range: ['2022-06-01', '2022-06-30'] as [string, string] };

  it('counts distinct sends per engagement type and sums revenue over conversions', async () => {
    const rows = await both(t.wh, {
      ...june,
      metrics: ['sends', 'cost_usd', 'delivered', 'read', 'clicked', 'replied', 'converted', 'revenue_usd'],
      dimensions: ['frequency'],
    });
    expect(rows).toEqual({
      daily: { sends: 2, cost_usd: 0.03, delivered: 2, read: 2, clicked: 1, replied: 0, converted: 1, revenue_usd: 15 },
      weekly: { sends: 3, cost_usd: 0.08, delivered: 2, read: 1, clicked: 0, replied: 0, converted: 1, revenue_usd: 20 },
    });
  });

  it('computes rates and per-1k values from those counts, with intervals', async () => {
    const rows = await both(t.wh, {
      ...june,
      metrics: ['delivery_rate', 'read_rate', 'click_rate', 'conversion_rate', 'revenue_per_1k', 'net_revenue_per_1k'],
      dimensions: ['frequency'],
    });
    const daily = rows.daily;
    expect(daily.delivery_rate).toBe(1);
    expect(daily.read_rate).toBe(1);
    expect(daily.click_rate).toBe(0.5);
    expect(daily.conversion_rate).toBe(0.5);
    expect(daily.revenue_per_1k).toBe(7500);
    expect(daily.net_revenue_per_1k).toBeCloseTo(7485, 9);
    // Wilson, 1 of 2 at z = 1.96: 0.0945 .. 0.9055
    expect((daily.click_rate_ci95 as number[])[0]).toBeCloseTo(0.09453, 4);
    expect((daily.click_rate_ci95 as number[])[1]).toBeCloseTo(0.90547, 4);
    // revenue: 15 ± 1.96·√(10² + 5²), per 2 sends, × 1000; the revenue bound stops at 0, the net one does not
    const half = (1.959963984540054 * Math.sqrt(125) * 1000) / 2;
    expect((daily.revenue_per_1k_ci95 as number[])[0]).toBe(0);
    expect((daily.revenue_per_1k_ci95 as number[])[1]).toBeCloseTo(7500 + half, 6);
    expect((daily.net_revenue_per_1k_ci95 as number[])[0]).toBeCloseTo(7485 - half, 6);
    const weekly = rows.weekly;
    expect(weekly.delivery_rate).toBeCloseTo(2 / 3, 12);
    expect(weekly.read_rate).toBe(0.5);
    expect(weekly.click_rate).toBe(0);
    expect(weekly.click_rate_ci95).toEqual([0, expect.closeTo(0.6576, 3)]);
    expect(weekly.revenue_per_1k).toBeCloseTo(20000 / 3, 9);
    expect(weekly.net_revenue_per_1k).toBeCloseTo(19920 / 3, 9);
  });

  it('groups engagements by their send: business, campaign, topic, day', async () => {
    const rows = await both(t.wh, { ...june, metrics: ['sends', 'delivered', 'revenue_usd'], dimensions: ['business_id', 'campaign_id', 'topic', 'time:day'] });
    expect(rows).toEqual({
      'b1|||2022-06-01': { sends: 2, delivered: 2, revenue_usd: 15 },
      'b1|||2022-06-02': { sends: 1, delivered: 1, revenue_usd: 0 },
      'b2|c1|deals|2022-06-02': { sends: 1, delivered: 0, revenue_usd: 0 },
      'b2|||2022-06-02': { sends: 1, delivered: 1, revenue_usd: 20 },
    });
  });

  it('buckets by week (Monday) and month of the send', async () => {
    expect(await both(t.wh, { ...june, metrics: ['sends'], dimensions: ['time:week'] })).toEqual({
      '2022-05-30': { sends: 5 },
    });
    expect(await both(t.wh, { ...june, metrics: ['sends'], dimensions: ['time:month'] })).toEqual({ '2022-06-01': { sends: 5 } });
  });

  it('filters with is / is_not, null meaning "none"', async () => {
    expect(await both(t.wh, { ...june, metrics: ['sends'], dimensions: ['topic'], filters: [['is', 'topic', [null]]] })).toEqual({ '': { sends: 4 } });
    expect(
      await both(t.wh, {
        ...june,
        metrics: ['sends'],
        filters: [
          ['is_not', 'business_id', ['b1']],
          ['is', 'frequency', ['weekly']],
        ],
      }),
    ).toEqual({
      '': { sends: 2 },
    });
  });

  it('leaves the rows unchanged when an insert is retried after later inserts', async () => {
    const before = await query(t.wh, { ...june, metrics: ['sends', 'delivered', 'read', 'converted', 'revenue_usd'], dimensions: ['frequency'] }, 'rollup');
    // An engagement block whose send is not stored yet, then the send, then the same engagement block again
    // (as after a crash before its ids were recorded): the retry carries the same token and must count nothing.
    const block = [eng('s6', 'delivered', '2022-06-03T00:00:01Z', { user_id: 'u6' }), eng('s6', 'read', '2022-06-03T00:01:00Z', { user_id: 'u6' })];
    await insert(t.writer, block, [send('s6', '2022-06-03T00:00:00Z', { user_id: 'u6' })]);
    await t.wh.client.command({
      query: 'ALTER TABLE event_ids DELETE WHERE has({ids:Array(String)}, event_id) SETTINGS mutations_sync = 2',
      query_params: { ids: block.map((e) => e.event_id) },
    });
    await insert(t.writer, block);
    const after = await both(t.wh, { ...june, metrics: ['sends', 'delivered', 'read', 'converted', 'revenue_usd'], dimensions: ['frequency'] });
    const daily = before.results.find((r) => r.dimensions.frequency === 'daily')!.metrics;
    expect(after.daily).toEqual({ ...daily, sends: (daily.sends as number) + 1, delivered: (daily.delivered as number) + 1, read: (daily.read as number) + 1 });
  });
});

describe('spam-risk attribution, whatever the order of arrival', () => {
  const july = { date_range: ['2022-07-01', '2022-07-31'] as [string, string] };
  const spam = ['sends', 'opt_outs', 'blocks', 'spam_reports', 'unattributed_opt_outs', 'unattributed_blocks', 'unattributed_spam_reports'];

  beforeAll(async () => {
    await insert(
      t.writer,
      [send('sA', '2022-07-01T00:00:00Z'), send('sB', '2022-07-02T00:00:00Z', { frequency: 'weekly' })],
      [
        sub('o1', 'opt_out', '2022-07-02T06:00:00Z'), // -> sB
        sub('o2', 'block', '2022-07-05T00:00:00.000Z'), // exactly 72 h after sB -> sB
        sub('o3', 'spam_report', '2022-07-05T00:00:00.001Z'), // 72 h + 1 ms -> unattributed
        sub('o4', 'opt_out', '2022-07-10T12:00:00Z', { user_id: 'u2' }), // no send yet -> unattributed, for now
      ],
    );
  });

  it('attributes to the latest send within the window, boundary included', async () => {
    const rows = await both(t.wh, { ...july, metrics: spam, dimensions: ['frequency'] });
    expect(rows).toEqual({
      daily: { sends: 1, opt_outs: 0, blocks: 0, spam_reports: 0, unattributed_opt_outs: 0, unattributed_blocks: 0, unattributed_spam_reports: 0 },
      weekly: { sends: 1, opt_outs: 1, blocks: 1, spam_reports: 0, unattributed_opt_outs: 0, unattributed_blocks: 0, unattributed_spam_reports: 0 },
      '': { sends: 0, opt_outs: 0, blocks: 0, spam_reports: 0, unattributed_opt_outs: 1, unattributed_blocks: 0, unattributed_spam_reports: 1 },
    });
  });

  it('moves an event to a send that arrives after it, and again to a later one', async () => {
    await insert(t.writer, [send('sC', '2022-07-10T08:00:00Z', { user_id: 'u2' })]);
    // (a group whose measures are all zero is not listed)
    let rows = await both(t.wh, { ...july, metrics: ['opt_outs', 'unattributed_opt_outs'], dimensions: ['frequency'] });
    expect(rows).toEqual({ daily: { opt_outs: 1, unattributed_opt_outs: 0 }, weekly: { opt_outs: 1, unattributed_opt_outs: 0 } });

    await insert(t.writer, [
      send('sD', '2022-07-10T10:00:00Z', { user_id: 'u2', frequency: 'weekly' }),
      send('sE', '2022-07-10T13:00:00Z', { user_id: 'u2', frequency: 'weekly' }), // after the event: no effect
    ]);
    rows = await both(t.wh, { ...july, metrics: ['sends', 'opt_outs', 'unattributed_opt_outs'], dimensions: ['frequency'] });
    expect(rows).toEqual({ daily: { sends: 2, opt_outs: 0, unattributed_opt_outs: 0 }, weekly: { sends: 3, opt_outs: 2, unattributed_opt_outs: 0 } });
  });

  it('breaks a tie of send times by the larger event_id, and keeps a regime the event named', async () => {
    await insert(
      t.writer,
      [
        send('s-tie-a', '2022-07-15T00:00:00Z', { user_id: 'u3' }),
        send('s-tie-b', '2022-07-15T00:00:00Z', { user_id: 'u3', frequency: 'monthly' }),
        send('sR', '2022-07-20T00:00:00Z', { user_id: 'u4', regime: 'custom_x' }),
      ],
      [
        sub('o5', 'opt_out', '2022-07-15T01:00:00Z', { user_id: 'u3' }),
        sub('o6', 'spam_report', '2022-07-20T01:00:00Z', { user_id: 'u4' }),
        sub('o7', 'opt_out', '2022-07-25T00:00:00Z', { channel: 'whatsapp', user_id: 'u9', topic: 'deals' }),
      ],
    );
    const byFrequency = await both(t.wh, { ...july, metrics: ['sends', 'opt_outs', 'spam_reports'], dimensions: ['frequency'] });
    expect(byFrequency.monthly).toEqual({ sends: 1, opt_outs: 1, spam_reports: 0 });
    expect(byFrequency.daily).toEqual({ sends: 4, opt_outs: 0, spam_reports: 1 });
    const byRegime = await both(t.wh, {
      ...july,
      metrics: ['sends', 'spam_reports', 'unattributed_opt_outs', 'unattributed_spam_reports'],
      dimensions: ['channel', 'regime'],
    });
    expect(byRegime).toEqual({
      'messenger|custom_x': { sends: 1, spam_reports: 1, unattributed_opt_outs: 0, unattributed_spam_reports: 0 },
      'messenger|recurring_all_frequencies': { sends: 7, spam_reports: 0, unattributed_opt_outs: 0, unattributed_spam_reports: 1 },
      'whatsapp|whatsapp_conversation_pricing': { sends: 0, spam_reports: 0, unattributed_opt_outs: 1, unattributed_spam_reports: 0 },
    });
  });

  it('computes per-1k values and Poisson intervals', async () => {
    const rows = await both(t.wh, {
      ...july,
      metrics: ['opt_outs_per_1k', 'blocks_per_1k', 'spam_reports_per_1k', 'spam_risk_per_1k', 'unattributed_opt_outs'],
      dimensions: ['frequency'],
    });
    expect(rows.weekly.opt_outs_per_1k).toBeCloseTo(2000 / 3, 9);
    expect(rows.weekly.spam_risk_per_1k).toBe(1000);
    // exact Poisson limits of 3 events: 0.6187 .. 8.7673, per 3 sends
    expect((rows.weekly.spam_risk_per_1k_ci95 as number[])[0]).toBeCloseTo(206.23, 1);
    expect((rows.weekly.spam_risk_per_1k_ci95 as number[])[1]).toBeCloseTo(2922.43, 1);
    // no sends in the group of unattributed events: no value, no interval
    expect(rows['']).toMatchObject({ opt_outs_per_1k: null, opt_outs_per_1k_ci95: null });
  });

  it('applies the configured window at query time (24 h), and goes to raw tables past 168 h', async () => {
    const rows = await both(t.wh, { ...july, metrics: ['blocks', 'unattributed_blocks'], dimensions: ['frequency'] }, 24);
    expect(rows.weekly.blocks).toBe(0); // o2 was 72 h after sB
    expect(rows[''].unattributed_blocks).toBe(1);
    const auto = await runMetricsQuery(t.wh, normalizeQuery({ ...july, metrics: ['sends', 'opt_outs'] }), { attributionWindowHours: 200 });
    expect(auto.meta).toMatchObject({ source: 'mixed', sources: { sends: 'rollup', spam: 'raw' } });
    await expect(query(t.wh, { ...july, metrics: ['opt_outs'] }, 'rollup', 200)).rejects.toThrow(/168/);
  });
});
