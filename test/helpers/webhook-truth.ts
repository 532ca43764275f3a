// The truth of the simulated world as it comes through Meta's webhooks and the business's send log
// (docs/sources.md, "The simulator in Meta's shapes"): what the answers of POST /v1/query and the raw tables must
// hold, whichever way the webhooks travelled (mapped in-process, or posted to collect and mapped on Kafka).
import type { FastifyInstance } from 'fastify';
import { expect, it } from 'vitest';
import type { Channel } from '../../events/types.js';
import type { Truth } from '../../simulator/index.js';
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import { rawCounts } from '../../warehouse/summary.js';
import { authAs } from './api.js';
import { expectRollupsToMatchRaw } from './truth.js';

export interface WebhookWorld {
  /** The API over the warehouse the world was loaded into. */
  app: FastifyInstance;
  wh: Warehouse;
  truth: Truth;
}

const ALL_TIME: [string, string] = ['2019-01-01', '2026-10-31'];
const CELL = ['channel', 'category', 'frequency', 'regime'] as const;
/** What webhooks and the send log carry per send, exactly; cost is absent (no webhook carries a price). */
const EXACT = ['sends', 'clicked', 'replied', 'converted', 'revenue_usd', 'opt_outs', 'blocks', 'spam_reports'] as const;
const TRUTH_NAME: Record<string, string> = { opt_outs: 'opt_out', blocks: 'block', spam_reports: 'spam_report' };

type Row = { dimensions: Record<string, string | null>; metrics: Record<string, number | null> };

async function ask(app: FastifyInstance, body: Record<string, unknown>): Promise<Row[]> {
  const res = await app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: { date_range: ALL_TIME, limit: 10_000, ...body } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results as Row[];
}

const cellKey = (d: Record<string, unknown>) => CELL.map((k) => d[k] ?? '').join('|');

/** Truth of delivered or read sends per channel, from the truth's cells. */
function byChannel(truth: Truth, type: 'delivered' | 'read'): Record<Channel, number> {
  const out: Record<Channel, number> = { messenger: 0, instagram: 0, whatsapp: 0 };
  for (const c of truth.cells) out[c.channel] += c.realized[type];
  return out;
}

/** Registers the checks; `world` is called inside each test, once the caller's beforeAll has loaded it. */
export function webhookTruthTests(world: () => WebhookWorld): void {
  it('answers sends, clicks, replies, conversions, revenue, opt-outs, blocks and spam reports per cell as the truth (POST /v1/query)', async () => {
    const { app, truth } = world();
    const got = new Map((await ask(app, { metrics: [...EXACT], dimensions: [...CELL] })).map((r) => [cellKey(r.dimensions), r.metrics]));
    expect(got.size).toBe(truth.cells.length);
    for (const c of truth.cells) {
      const key = cellKey(c as unknown as Record<string, unknown>);
      const realized = c.realized as unknown as Record<string, number>;
      const want = Object.fromEntries(EXACT.map((m) => [m, realized[TRUTH_NAME[m] ?? m]]));
      expect({ cell: key, ...got.get(key) }).toEqual({ cell: key, ...want });
    }
    const [unattributed] = await ask(app, { metrics: ['unattributed_opt_outs', 'unattributed_blocks', 'unattributed_spam_reports'] });
    expect(unattributed.metrics).toEqual({
      unattributed_opt_outs: truth.counts.spamRisk.unattributed.opt_out,
      unattributed_blocks: 0,
      unattributed_spam_reports: 0,
    });
  });

  it('answers sends by category and by frequency as the truth (POST /v1/query)', async () => {
    const { app, truth } = world();
    const byCategory = await ask(app, { metrics: ['sends'], dimensions: ['category'] });
    expect(Object.fromEntries(byCategory.map((r) => [r.dimensions.category, r.metrics.sends]))).toEqual(truth.counts.sendsByCategory);
    const byFrequency = await ask(app, { metrics: ['sends'], dimensions: ['frequency'] });
    expect(Object.fromEntries(byFrequency.map((r) => [r.dimensions.frequency ?? 'none', r.metrics.sends]))).toEqual(
      Object.fromEntries(Object.entries(truth.counts.sendsByFrequency).filter(([, n]) => n > 0)),
    );
  });

  it('answers WhatsApp deliveries and reads and Instagram reads exactly; Messenger watermarks cover at least the truth (POST /v1/query)', async () => {
    const { app, truth } = world();
    const rows = await ask(app, { metrics: ['delivered', 'read'], dimensions: ['channel'] });
    const got = Object.fromEntries(rows.map((r) => [r.dimensions.channel, r.metrics])) as Record<Channel, { delivered: number; read: number }>;
    const [delivered, read] = [byChannel(truth, 'delivered'), byChannel(truth, 'read')];
    expect(got.whatsapp).toEqual({ delivered: delivered.whatsapp, read: read.whatsapp });
    expect(got.instagram).toEqual({ delivered: read.instagram, read: read.instagram }); // no delivery webhook on Instagram: only the one a read implies
    expect(got.messenger.read).toBeGreaterThanOrEqual(read.messenger);
    expect(got.messenger.delivered).toBeGreaterThanOrEqual(delivered.messenger);
  });

  it('holds every event of what webhooks and the send log carry, once: engagements, revenue, opt-ins, opt-outs, blocks, spam reports', async () => {
    const { wh, truth } = world();
    const raw = await rawCounts(wh);
    const want = truth.counts.validByType;
    expect(raw.sends).toBe(want.send);
    for (const type of ['clicked', 'replied', 'converted'] as const) expect(raw.engagements[type] ?? 0, type).toBe(want[type]);
    for (const type of ['opt_in', 'opt_out', 'block', 'spam_report'] as const) expect(raw.subscriptions[type] ?? 0, type).toBe(want[type]);
    expect(raw.revenue_usd).toBe((truth.counts.revenueMicros / 1e6).toFixed(6));
    expect(raw.cost_usd).toBe((0).toFixed(6));
    // Every engagement names a stored send.
    const [orphans] = await queryRows<{ n: string }>(wh, 'SELECT count() AS n FROM engagements WHERE send_id NOT IN (SELECT event_id FROM sends)');
    expect(Number(orphans.n)).toBe(0);
  });

  it('holds opt-in frequencies on Messenger and Instagram, and WhatsApp opt-ins without one (contract v1.1)', async () => {
    const { wh, truth } = world();
    const rows = await queryRows<{ channel: string; frequency: string; n: string }>(
      wh,
      "SELECT channel, frequency, count() AS n FROM subscriptions WHERE type = 'opt_in' GROUP BY channel, frequency",
    );
    const got = Object.fromEntries(rows.map((r) => [`${r.channel} ${r.frequency || 'none'}`, Number(r.n)]));
    const want: Record<string, number> = {};
    for (const [channel, byFrequency] of Object.entries(truth.counts.optInsByChannelFrequency)) {
      for (const [frequency, n] of Object.entries(byFrequency)) {
        if (n === 0) continue;
        const key = channel === 'whatsapp' ? 'whatsapp none' : `${channel} ${frequency}`;
        want[key] = (want[key] ?? 0) + n;
      }
    }
    expect(got).toEqual(want);
  });

  it('keeps the rollups equal to the raw tables', async () => {
    await expectRollupsToMatchRaw(world().wh);
  });
}
