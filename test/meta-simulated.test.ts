// The simulated world in Meta's shapes, mapped in-process and loaded with the business's send log: the warehouse
// holds the truth for everything webhooks carry (docs/sources.md, "The simulator in Meta's shapes").
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from '../events/types.js';
import { loadFile } from '../ingest/load-file.js';
import { MetaMapper } from '../sources/meta/map.js';
import { SIGNATURE_HEADER, verifySignature } from '../sources/meta/signature.js';
import { simulateMetaWebhooks } from '../sources/meta/simulated-webhooks.js';
import type { Truth } from '../simulator/index.js';
import { queryRows } from '../warehouse/client.js';
import { rawCounts } from '../warehouse/summary.js';
import { expectRollupsToMatchRaw } from './helpers/truth.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const SECRET = 'test-app-secret';

describe('the simulated world through Meta webhooks', () => {
  let t: TestWarehouse;
  let truth: Truth;
  let posts = 0;
  let problems = 0;
  let loaded: Awaited<ReturnType<typeof loadFile>>;

  beforeAll(async () => {
    t = await openTestWarehouse();
    const file = join(t.dir, 'mapped.ndjson');
    const out = createWriteStream(file);
    const sim = simulateMetaWebhooks({ events: 40_000, seed: 7, dupRatio: 0.02, appSecret: SECRET });
    const mapper = new MetaMapper();
    const receivedAt = Date.now();
    for (const o of sim.outputs()) {
      let text: string;
      if (o.kind === 'sendlog') text = `${o.line}\n`;
      else {
        posts++;
        if (!verifySignature(Buffer.from(o.post.body), o.post.headers[SIGNATURE_HEADER], SECRET)) throw new Error('a simulated POST is not signed');
        const r = mapper.map(o.post.body, { receivedAt });
        problems += r.problems.length;
        text = r.events.map((e) => `${JSON.stringify(e)}\n`).join('');
      }
      if (text && !out.write(text)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    truth = sim.truth();
    loaded = await loadFile(file, t.writer, { batchRows: 20_000 });
  });
  afterAll(async () => t?.dispose());

  /** Truth counts of one engagement or spam-risk type, per channel, from the truth's cells. */
  const byChannel = (type: 'delivered' | 'read'): Record<Channel, number> => {
    const out: Record<Channel, number> = { messenger: 0, instagram: 0, whatsapp: 0 };
    for (const c of truth.cells) out[c.channel] += c.realized[type];
    return out;
  };

  async function stored(table: string, type: string): Promise<Record<string, number>> {
    const rows = await queryRows<{ channel: string; n: string }>(
      t.wh,
      `SELECT channel, count() AS n FROM ${table} WHERE type = {type:String} GROUP BY channel`,
      { type },
    );
    return Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
  }

  it('maps every POST without a problem, and loads every mapped event (retries dropped as duplicates)', () => {
    expect(posts).toBeGreaterThan(1000);
    expect(problems).toBe(0);
    expect(loaded.rejected).toBe(0);
    expect(loaded.duplicates).toBeGreaterThan(0);
  });

  it('holds the truth of sends, their categories and frequencies', async () => {
    const raw = await rawCounts(t.wh);
    expect(raw.sends).toBe(truth.counts.validByType.send);
    const rows = await queryRows<{ category: string; n: string }>(t.wh, 'SELECT category, count() AS n FROM sends GROUP BY category');
    expect(Object.fromEntries(rows.map((r) => [r.category, Number(r.n)]))).toEqual(truth.counts.sendsByCategory);
    const f = await queryRows<{ frequency: string; n: string }>(t.wh, 'SELECT frequency, count() AS n FROM sends GROUP BY frequency');
    const frequencies = Object.fromEntries(f.map((r) => [r.frequency || 'none', Number(r.n)]));
    expect(frequencies).toEqual(Object.fromEntries(Object.entries(truth.counts.sendsByFrequency).filter(([, n]) => n > 0)));
  });

  it('holds the truth of clicks, replies, conversions and revenue; opt-ins, opt-outs, blocks and spam reports', async () => {
    const raw = await rawCounts(t.wh);
    const want = truth.counts.validByType;
    for (const type of ['clicked', 'replied', 'converted'] as const) expect(raw.engagements[type] ?? 0, type).toBe(want[type]);
    for (const type of ['opt_in', 'opt_out', 'block', 'spam_report'] as const) expect(raw.subscriptions[type] ?? 0, type).toBe(want[type]);
    expect(raw.revenue_usd).toBe((truth.counts.revenueMicros / 1e6).toFixed(6));
    expect(raw.cost_usd).toBe((0).toFixed(6)); // no webhook carries a price
  });

  it('holds opt-in frequencies on Messenger and Instagram, and WhatsApp opt-ins without one (contract v1.1)', async () => {
    const rows = await queryRows<{ channel: string; frequency: string; n: string }>(
      t.wh,
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

  it('holds WhatsApp deliveries and reads and Instagram reads exactly; Messenger watermarks cover at least the truth', async () => {
    const delivered = await stored('engagements', 'delivered');
    const read = await stored('engagements', 'read');
    const wantDelivered = byChannel('delivered');
    const wantRead = byChannel('read');
    expect(delivered.whatsapp).toBe(wantDelivered.whatsapp);
    expect(read.whatsapp).toBe(wantRead.whatsapp);
    expect(read.instagram).toBe(wantRead.instagram);
    expect(delivered.instagram).toBe(wantRead.instagram); // no delivery webhook on Instagram: only the one a read implies
    expect(read.messenger).toBeGreaterThanOrEqual(wantRead.messenger);
    expect(delivered.messenger).toBeGreaterThanOrEqual(wantDelivered.messenger);
    // Every engagement names a stored send.
    const [orphans] = await queryRows<{ n: string }>(t.wh, 'SELECT count() AS n FROM engagements WHERE send_id NOT IN (SELECT event_id FROM sends)');
    expect(Number(orphans.n)).toBe(0);
  });

  it('keeps the rollups equal to the raw tables', async () => {
    await expectRollupsToMatchRaw(t.wh);
  });
});
