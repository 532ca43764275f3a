import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../warehouse/client.js';
import { listMigrations, migrate } from '../warehouse/migrate.js';
import { loadFile, rejectedPathFor } from '../ingest/load-file.js';
import { rawCounts } from '../warehouse/summary.js';
import { expectRollupsToMatchRaw } from './helpers/truth.js';
import { tokenFor, tsvField } from '../warehouse/writer.js';
import { openTestWarehouse, testMode, type TestWarehouse } from './helpers/warehouse.js';
import { engagementEvent, ndjson, sendEvent, subscriptionEvent } from './helpers/events.js';

let t: TestWarehouse;
beforeAll(async () => {
  t = await openTestWarehouse();
});
afterAll(async () => t?.dispose());

describe('the warehouse under test', () => {
  it('is the one this test project names (embedded engine or local server)', async () => {
    expect(t.wh.mode).toBe(testMode());
    const [{ v }] = await queryRows<{ v: string }>(t.wh, 'SELECT version() AS v');
    expect(v).toMatch(/^26\./);
  });
});

describe('the duplicate look-up', () => {
  it('finds every accepted id among 12,000 awkward ones (far over the 128 KiB a server takes in a URL field)', async () => {
    // Straight into the id log: the look-up reads nothing else, and the raw tables stay as the other tests expect.
    const ids = Array.from({ length: 12_000 }, (_, i) => (i % 5 === 0 ? `look-up "${i}" \\ it's\tü` : `look-up-${i}`));
    const accepted = ids.filter((_, i) => i % 3 === 0);
    await t.wh.insertText({
      table: 'event_ids',
      columns: ['event_id', 'family'],
      format: 'TabSeparated',
      body: [Buffer.from(accepted.map((id) => `${tsvField(id)}\tsends\n`).join(''))],
      settings: { insert_deduplication_token: 'big-look-up' },
    });
    expect(encodeURIComponent(JSON.stringify(ids)).length).toBeGreaterThan(128 * 1024);
    const found = await t.writer.existingIds(ids);
    expect([...found].sort()).toEqual([...accepted].sort());
  });
});

describe('migrations', () => {
  it('apply once, then find nothing to do on the second run', async () => {
    const all = listMigrations().map((m) => m.id);
    expect(all.slice(0, 5)).toEqual(['01_regimes', '02_raw_events', '03_daily_rollups', '04_query_rollups', '05_drop_daily_rollups']);
    expect(t.migrations.applied).toEqual(all);
    const again = await migrate(t.wh);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBe(all.length);
    const [{ n }] = await queryRows<{ n: string }>(t.wh, 'SELECT count() AS n FROM schema_migrations');
    expect(Number(n)).toBe(all.length);
  });

  it('refuse a migration that was edited after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policylens-migrations-'));
    cpSync(fileURLToPath(new URL('../warehouse/migrations/', import.meta.url)), dir, { recursive: true });
    writeFileSync(join(dir, '01_regimes.sql'), `${readFileSync(join(dir, '01_regimes.sql'), 'utf8')}\n-- edited\n`);
    await expect(migrate(t.wh, dir)).rejects.toThrow(/01_regimes was changed after it was applied/);
  });

  it('seed the default regimes', async () => {
    const rows = await queryRows<{ channel: string; n: string }>(t.wh, 'SELECT channel, count() AS n FROM regimes GROUP BY channel ORDER BY channel');
    expect(rows.map((r) => [r.channel, Number(r.n)])).toEqual([
      ['instagram', 6],
      ['messenger', 6],
      ['whatsapp', 4],
    ]);
  });
});

describe('loading a file', () => {
  const s1 = sendEvent({ occurred_at: '2020-03-03T23:59:59.999Z' });
  const s2 = sendEvent({ occurred_at: '2020-03-04T00:00:00.000Z', category: 'message_tag', frequency: null, cost_usd: 0.25 });
  const s3 = sendEvent({
    channel: 'whatsapp',
    category: 'marketing_template',
    frequency: null,
    occurred_at: Date.parse('2025-07-01T00:00:00Z'),
    cost_usd: 0.0618,
  });
  const s4 = sendEvent({ regime: 'custom_override' });
  const odd = sendEvent({ topic: 'tab\there\nnewline \\ backslash \\N "quoted" ünïcødé 🚀', campaign_id: '' });
  const events = [
    s1,
    s2,
    'not json at all',
    s3,
    engagementEvent(s1.event_id as string, 'delivered'),
    engagementEvent(s1.event_id as string, 'converted'),
    { ...sendEvent(), channel: 'sms' },
    s4,
    odd,
    subscriptionEvent('opt_in'),
    subscriptionEvent('opt_out'),
    s1, // a duplicate line
    { ...subscriptionEvent('spam_report'), type: 'hourly_digest' },
  ];

  let file: string;
  let first: Awaited<ReturnType<typeof loadFile>>;
  beforeAll(async () => {
    file = join(t.dir, 'small.ndjson');
    writeFileSync(file, ndjson(events));
    first = await loadFile(file, t.writer, { batchRows: 4 });
  });

  it('counts loaded, duplicate and rejected lines', () => {
    expect(first).toMatchObject({ lines: 13, loaded: 9, duplicates: 1, rejected: 3 });
  });

  it('writes each rejected line with its line number, reason and the original text', () => {
    const rejected = readFileSync(rejectedPathFor(file), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected.map((r) => [r.line, r.reason])).toEqual([
      [3, 'not_json'],
      [7, 'contract'],
      [13, 'unknown_type'],
    ]);
    expect(rejected[1].error).toMatch(/^\$\.channel: must be one of messenger, instagram, whatsapp/);
    expect(rejected[0].raw).toBe('not json at all');
  });

  it('derives each regime from channel and time, unless the event names one', async () => {
    const rows = await queryRows<{ event_id: string; regime: string }>(t.wh, 'SELECT event_id, regime FROM sends ORDER BY event_id');
    const regime = Object.fromEntries(rows.map((r) => [r.event_id, r.regime]));
    expect(regime[s1.event_id as string]).toBe('24h_plus_1');
    expect(regime[s2.event_id as string]).toBe('24h_tags_otn');
    expect(regime[s3.event_id as string]).toBe('whatsapp_per_message_pricing');
    expect(regime[s4.event_id as string]).toBe('custom_override');
  });

  it('keeps awkward text and money exact', async () => {
    const [row] = await queryRows<{ topic: string; campaign_id: string | null }>(t.wh, 'SELECT topic, campaign_id FROM sends WHERE event_id = {id:String}', {
      id: odd.event_id,
    });
    expect(row).toEqual({ topic: odd.topic, campaign_id: '' });
    const [{ cost }] = await queryRows<{ cost: string }>(t.wh, 'SELECT toString(sum(cost_usd)) AS cost FROM sends');
    expect(cost).toBe('0.3418'); // three sends at 0.01, one at 0.25, one at 0.0618
  });

  it('changes no count when the same file is loaded again', async () => {
    const before = await rawCounts(t.wh);
    const again = await loadFile(file, t.writer, { batchRows: 3 });
    expect(again).toMatchObject({ loaded: 0, duplicates: 10, rejected: 3 });
    expect(await rawCounts(t.wh)).toEqual(before);
  });

  it('keeps rollup totals equal to raw totals', async () => {
    await expectRollupsToMatchRaw(t.wh);
  });

  it('rejects a line that is not valid UTF-8 instead of repairing it', async () => {
    const bad = join(t.dir, 'latin1.ndjson');
    const line = Buffer.from(JSON.stringify(sendEvent({ topic: 'caf\u00e9' })), 'latin1'); // é as one byte 0xE9
    writeFileSync(bad, Buffer.concat([line, Buffer.from('\n')]));
    const r = await loadFile(bad, t.writer, { batchRows: 10 });
    expect(r).toMatchObject({ loaded: 0, rejected: 1 });
    const [rejected] = readFileSync(rejectedPathFor(bad), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected.reason).toBe('not_json');
  });

  it('removes a stale rejected file when a load rejects nothing', async () => {
    const clean = join(t.dir, 'clean.ndjson');
    writeFileSync(rejectedPathFor(clean), 'stale\n');
    writeFileSync(clean, ndjson([sendEvent()]));
    const r = await loadFile(clean, t.writer, { batchRows: 10 });
    expect(r).toMatchObject({ loaded: 1, rejected: 0, rejectedFile: null });
    expect(existsSync(rejectedPathFor(clean))).toBe(false);
  });
});

describe('event ids that need escaping', () => {
  it('are stored as given and known as duplicates next time', async () => {
    const ids = ["it's", 'back\\slash', 'new\nline', 'tab\there', 'quote"d', 'ünï 😀', '[1,2]', '\\N'];
    const rows = ids.map((event_id, i) => ({
      event_id,
      occurred_at: Date.parse('2024-05-01T00:00:00Z') + i,
      business_id: 'b-esc',
      user_id: 'u-esc',
      channel: 'messenger' as const,
      category: 'response' as const,
      frequency: null,
      topic: null,
      campaign_id: null,
      cost_usd: 0,
      regime: null,
    }));
    expect(await t.writer.write('sends', rows)).toEqual({ written: ids.length, duplicates: 0 });
    expect(await t.writer.write('sends', rows)).toEqual({ written: 0, duplicates: ids.length });
    const stored = await queryRows<{ event_id: string }>(t.wh, "SELECT event_id FROM sends WHERE business_id = 'b-esc' ORDER BY occurred_at");
    expect(stored.map((r) => r.event_id)).toEqual(ids);
  });
});

describe('retried inserts', () => {
  it('are dropped by the raw table and by every rollup', async () => {
    const before = await rawCounts(t.wh);
    const rows = [sendEvent(), sendEvent()].map((e) => ({
      event_id: e.event_id as string,
      occurred_at: Date.parse(e.occurred_at as string),
      business_id: 'b9',
      user_id: 'u9',
      channel: 'messenger' as const,
      category: 'recurring_notification' as const,
      frequency: 'daily' as const,
      topic: null,
      campaign_id: null,
      cost_usd: 1,
      regime: null,
    }));
    await t.writer.write('sends', rows);
    // A crash after the raw insert but before the ids were recorded: the same rows come again.
    await t.wh.client.command({ query: 'DELETE FROM event_ids WHERE event_id IN {ids:Array(String)}', query_params: { ids: rows.map((r) => r.event_id) } });
    const retry = await t.writer.write('sends', rows);
    expect(retry.written).toBe(2); // the writer did not know them, so it sent them again...
    const after = await rawCounts(t.wh);
    expect(after.sends).toBe(before.sends + 2); // ...and the engine dropped the repeated block
    await expectRollupsToMatchRaw(t.wh);
  });
});

describe('insert tokens', () => {
  // Tokens of blocks already written must stay the same across versions, or a block rebuilt after an upgrade
  // would be written twice. This is the definition they were first written with.
  const reference = (family: string, ids: string[]) => {
    const h = createHash('sha256').update(family);
    for (const id of ids) h.update('\n').update(id);
    return `${family}:${ids.length}:${h.digest('hex').slice(0, 32)}`;
  };

  it('hash the family and every id, as they always have', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `id-${i}-ü\t`);
    expect(tokenFor('engagements', ids)).toBe(reference('engagements', ids));
    expect(tokenFor('sends', ['one'])).toBe(reference('sends', ['one']));
    expect(tokenFor('sends', [])).toBe(reference('sends', []));
    expect(tokenFor('sends', ['a', 'b'])).not.toBe(tokenFor('sends', ['b', 'a']));
  });
});
