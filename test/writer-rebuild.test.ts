// A flush's rebuild must send the blocks the interrupted attempt sent under the same tokens, even when the attempt
// recorded part of its ids. On a cluster the id log is one Distributed insert split by shard, so a kill between the
// shards' blocks, or a rebuild reading while the old owner is still writing, sees some of the flush's own ids
// recorded. Tokens made of the ids left after that look-up were new tokens, and the rows of the ids not yet recorded
// were written a second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../events/types.js';
import { validateEvent } from '../events/validate.js';
import { queryRows, type Warehouse } from '../warehouse/client.js';
import { readRegimes } from '../warehouse/migrate.js';
import { regimeResolver } from '../warehouse/regimes.js';
import { rawCounts } from '../warehouse/summary.js';
import { BatchWriter, type PreparedBlock } from '../warehouse/writer.js';
import { engagementEvent, sendEvent, subscriptionEvent } from './helpers/events.js';
import { expectRollupsToMatchRaw } from './helpers/truth.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const SENDS = 300;

const count = async (wh: Warehouse, sql: string) => Number((await queryRows<{ n: string }>(wh, sql))[0].n);

function events(tag: string): NormalizedEvent[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < SENDS; i++) {
    const send = sendEvent({ event_id: `${tag}-s${i}`, user_id: `u${i % 41}` });
    out.push(send);
    out.push(engagementEvent(send.event_id as string, 'delivered', { event_id: `${tag}-d${i}`, user_id: send.user_id }));
    if (i % 3 === 0) out.push(subscriptionEvent('opt_out', { event_id: `${tag}-o${i}`, user_id: send.user_id }));
  }
  return out.map((e) => {
    const v = validateEvent(e, Date.parse('2026-01-01T00:00:00Z'));
    if (!v.ok) throw new Error(`a test event is invalid: ${JSON.stringify(v.rejection)}`);
    return v.event;
  });
}

describe('rebuilding a flush whose id log landed in part', () => {
  let t: TestWarehouse;
  beforeAll(async () => {
    t = await openTestWarehouse();
  });
  afterAll(async () => t?.dispose());

  it('writes every row once, in the raw tables, the id log and the rollups', async () => {
    const resolve = regimeResolver(await readRegimes(t.wh));
    const blocksOf = (writer: BatchWriter, evs: NormalizedEvent[]): PreparedBlock[] => {
      const byFamily = new Map<string, PreparedBlock>();
      for (const e of evs) {
        const block = byFamily.get(e.family) ?? writer.emptyBlock(e.family);
        byFamily.set(e.family, block);
        writer.add(block, e.row);
      }
      return [...byFamily.values()];
    };
    const evs = events('partial');
    // An earlier flush accepted some of these ids: the attempt and its rebuild must both leave them out.
    await t.writer.writePrepared(
      blocksOf(
        t.writer,
        evs.filter((_, i) => i % 10 === 0),
      ),
    );

    // The interrupted attempt: its raw inserts land, then half of its id log (every other id), then it dies. The
    // half goes under a token of its own: on a cluster it is one shard's block, in that shard's deduplication log,
    // and the shard that missed its block has never seen the attempt's token.
    const insertText: Warehouse['insertText'] = async (insert) => {
      if (insert.table !== 'event_ids') return t.wh.insertText(insert);
      const lines = Buffer.concat(insert.body).toString().split('\n').filter(Boolean);
      const half = lines.filter((_, i) => i % 2 === 0);
      const settings = { ...insert.settings, insert_deduplication_token: `${insert.settings?.insert_deduplication_token}:shard-1` };
      await t.wh.insertText({ ...insert, settings, body: [Buffer.from(`${half.join('\n')}\n`)] });
      throw new Error('killed between the shards of the id log');
    };
    const dying = new BatchWriter({ ...t.wh, insertText }, (row) => resolve(row.channel, row.occurred_at));
    await expect(dying.writePrepared(blocksOf(dying, evs))).rejects.toThrow('killed between the shards');

    // The rebuild: the same blocks, through a writer that works.
    const results = await t.writer.writePrepared(blocksOf(t.writer, evs));
    const unique = new Set(evs.map((e) => e.row.event_id)).size;
    expect(results.reduce((n, r) => n + r.written + r.duplicates, 0)).toBe(evs.length);

    expect(await count(t.wh, 'SELECT count() AS n FROM event_ids')).toBe(unique);
    expect(await count(t.wh, 'SELECT uniqExact(event_id) AS n FROM event_ids')).toBe(unique);
    const raw = await rawCounts(t.wh);
    expect(raw.sends).toBe(SENDS);
    expect(Object.values(raw.engagements).reduce((x, y) => x + y, 0)).toBe(SENDS);
    expect(Object.values(raw.subscriptions).reduce((x, y) => x + y, 0)).toBe(Math.ceil(SENDS / 3));
    await expectRollupsToMatchRaw(t.wh);
    expect(await count(t.wh, 'SELECT sum(sends) AS n FROM send_metrics_daily')).toBe(SENDS);
  });
});
