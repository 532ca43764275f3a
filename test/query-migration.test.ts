// Migration 04 on a warehouse that already holds events: the rollups are backfilled from the raw tables and the
// regime_named column is computed for stored rows. (Its own file: one embedded data directory per process.)
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../common/config.js';
import type { EventFamily, NormalizedEvent } from '../events/types.js';
import { parseStep } from '../ingest/steps.js';
import { normalizeQuery, type QueryRequest } from '../query/metrics/request.js';
import { runMetricsQuery } from '../query/metrics/query.js';
import { openWarehouse, queryRows, type Warehouse } from '../warehouse/client.js';
import { listMigrations, migrate, readRegimes } from '../warehouse/migrate.js';
import { regimeResolver } from '../warehouse/regimes.js';
import { BatchWriter } from '../warehouse/writer.js';
import { dropTestDatabase, freshWarehouseEnv } from './helpers/warehouse.js';

type Ev = Record<string, unknown>;
const common = { business_id: 'b1', user_id: 'u1', channel: 'messenger' };
const send = (id: string, at: string, over: Ev = {}): Ev => ({
  event_id: id,
  type: 'send',
  occurred_at: at,
  ...common,
  category: 'recurring_notification',
  frequency: 'daily',
  cost_usd: 0.5,
  ...over,
});
const eng = (id: string, sendId: string, type: string, at: string, over: Ev = {}): Ev => ({
  event_id: id,
  type,
  occurred_at: at,
  ...common,
  send_id: sendId,
  ...over,
});
const sub = (id: string, type: string, at: string): Ev => ({ event_id: id, type, occurred_at: at, ...common });

/** Writes events as a writer from before migration 04 did: the 01–03 columns only, no regime_named. */
async function insert(wh: Warehouse, regimeOf: (row: NormalizedEvent['row']) => string, ...batches: Ev[][]): Promise<void> {
  for (const batch of batches) {
    const parsed = batch.map((e) => {
      const step = parseStep(JSON.stringify(e), Date.parse('2026-11-01T00:00:00Z'));
      if (step.kind !== 'ok') throw new Error(JSON.stringify(step));
      return step.value;
    });
    const values = parsed.map(({ row }) => {
      const r = row as unknown as Record<string, unknown>;
      const out: Record<string, unknown> = { ...r, regime: row.regime ?? regimeOf(row) };
      if ('frequency' in r) out.frequency = r.frequency ?? '';
      for (const money of ['cost_usd', 'revenue_usd']) if (money in r) out[money] = (r[money] as number).toFixed(6);
      return out;
    });
    await wh.client.insert({
      table: parsed[0].family as EventFamily,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `pre04-${parsed[0].row.event_id}`, input_format_skip_unknown_fields: 1 },
    });
  }
}

/** Writes events through today's writer. */
async function write(writer: BatchWriter, ...batches: Ev[][]): Promise<void> {
  for (const batch of batches) {
    const parsed = batch.map((e) => {
      const step = parseStep(JSON.stringify(e), Date.parse('2026-11-01T00:00:00Z'));
      if (step.kind !== 'ok') throw new Error(JSON.stringify(step));
      return step.value;
    });
    await writer.write(parsed[0].family as EventFamily, parsed.map((p) => p.row) as never);
  }
}

async function both(wh: Warehouse, req: QueryRequest) {
  const [rollup, raw] = await Promise.all(
    (['rollup', 'raw'] as const).map((source) => runMetricsQuery(wh, normalizeQuery(req), { source, attributionWindowHours: 72 })),
  );
  expect(rollup.results).toEqual(raw.results);
  return Object.fromEntries(rollup.results.map((r) => [Object.values(r.dimensions).join('|'), r.metrics]));
}

describe('migration 04 on a warehouse that already holds events', () => {
  let wh: Warehouse;
  let dir: string;
  let config: Config;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'policylens-q04-'));
    const migrations = join(dir, 'migrations');
    cpSync(fileURLToPath(new URL('../warehouse/migrations/', import.meta.url)), migrations, { recursive: true });
    for (const f of readdirSync(migrations)) if (!/^0[123]_/.test(f)) rmSync(join(migrations, f));
    config = loadConfig({ ...process.env, ...freshWarehouseEnv(dir) });
    wh = await openWarehouse(config);
    await migrate(wh, migrations);
    const resolve = regimeResolver(await readRegimes(wh));
    await insert(
      wh,
      (row) => resolve(row.channel, row.occurred_at),
      [eng('e1', 'm1', 'delivered', '2022-06-01T00:00:01Z'), eng('e2', 'm1', 'converted', '2022-06-01T00:10:00Z', { revenue_usd: 3 })],
      [send('m1', '2022-06-01T00:00:00Z'), send('m2', '2022-06-01T01:00:00Z', { regime: 'named_one' })],
      [sub('o1', 'opt_out', '2022-06-01T02:00:00Z'), sub('o2', 'opt_out', '2022-06-09T00:00:00Z')],
    );
  });
  afterAll(async () => {
    await wh?.close();
    if (config) await dropTestDatabase(config);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies 04 after 01-03 and backfills rollups equal to the raw tables', async () => {
    const result = await migrate(wh);
    expect(result.applied).toEqual(
      listMigrations()
        .map((m) => m.id)
        .filter((id) => id >= '04'),
    );
    // 05 dropped migration 03's daily rollups and their views, which had been filling up to here.
    const left = await queryRows<{ name: string }>(wh, "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '%s_daily%'");
    expect(left.map((r) => r.name).filter((n) => !n.startsWith('send_metrics'))).toEqual([]);
    const rows = await both(wh, {
      date_range: ['2022-06-01', '2022-06-30'],
      metrics: ['sends', 'cost_usd', 'delivered', 'converted', 'revenue_usd', 'opt_outs', 'unattributed_opt_outs'],
      dimensions: ['regime'],
    });
    expect(rows).toEqual({
      named_one: { sends: 1, cost_usd: 0.5, delivered: 0, converted: 0, revenue_usd: 0, opt_outs: 1, unattributed_opt_outs: 0 },
      recurring_all_frequencies: { sends: 1, cost_usd: 0.5, delivered: 1, converted: 1, revenue_usd: 3, opt_outs: 0, unattributed_opt_outs: 1 },
    });
  });

  it('marks only the row whose event named its regime', async () => {
    const rows = await queryRows<{ event_id: string; regime_named: number }>(wh, 'SELECT event_id, regime_named FROM sends ORDER BY event_id');
    expect(rows.map((r) => [r.event_id, Number(r.regime_named)])).toEqual([
      ['m1', 0],
      ['m2', 1],
    ]);
  });

  it('finds nothing to do when run again, and keeps counting new events once', async () => {
    expect((await migrate(wh)).applied).toEqual([]);
    const resolve = regimeResolver(await readRegimes(wh));
    const writer = new BatchWriter(wh, (row) => resolve(row.channel, row.occurred_at));
    await write(writer, [eng('e3', 'm3', 'delivered', '2022-06-02T00:00:01Z')], [send('m3', '2022-06-02T00:00:00Z')]);
    const rows = await both(wh, { date_range: ['2022-06-01', '2022-06-30'], metrics: ['sends', 'delivered'], dimensions: ['regime'] });
    expect(rows.recurring_all_frequencies).toEqual({ sends: 2, delivered: 2 });
  });
});
