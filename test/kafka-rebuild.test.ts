// A flush cut off after its raw inserts but before its ids were recorded (the window a kill -9 can hit) leaves
// rows in the raw tables and rollups that nothing has counted yet. The next owners of its partitions (here two
// members that split them) must rebuild that flush whole, so the warehouse drops what had landed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import type { IngestConsumer } from '../ingest/consumer.js';
import { groupLag } from '../ingest/idle.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { produceLines } from '../ingest/produce.js';
import { queryRows, type Warehouse } from '../warehouse/client.js';
import { readRegimes } from '../warehouse/migrate.js';
import { regimeResolver } from '../warehouse/regimes.js';
import { rawCounts } from '../warehouse/summary.js';
import { expectRollupsToMatchRaw } from './helpers/truth.js';
import { BatchWriter } from '../warehouse/writer.js';
import { brokers, makeTestTopics, testConsumer, type TestTopics } from './helpers/kafka.js';
import { expectedFamilies, plainStream } from './helpers/stream.js';
import { waitFor, waitForCount } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const EVENTS = 20_000;

const count = async (wh: Warehouse, sql: string) => Number((await queryRows<{ n: string }>(wh, sql))[0].n);

describe('a flush interrupted between its raw inserts and its id log', () => {
  let t: TestWarehouse;
  let k: TestTopics & { kafka: Kafka };
  const consumers: IngestConsumer[] = [];

  beforeAll(async () => {
    // One flush takes everything the first consumer reads, across all nine partitions.
    t = await openTestWarehouse({ POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_BATCH_MAX_MS: '500', POLICYLENS_MAX_HELD_ROWS: String(EVENTS) });
    k = await makeTestTopics(t.config, 3);
    await produceLines(k.kafka, plainStream(EVENTS, 'rebuild'), { topics: k.topics });
  });
  afterAll(async () => {
    for (const c of consumers) await c.stop({ flush: false }).catch(() => undefined);
    await t?.dispose();
  });

  it('is rebuilt whole by the partitions’ next owners and counted once', async () => {
    // The first consumer's warehouse takes the raw inserts, then fails where the id log would be written.
    const insertText: Warehouse['insertText'] = (insert) =>
      insert.table === 'event_ids' ? Promise.reject(new Error('killed before the id log')) : t.wh.insertText(insert);
    const resolve = regimeResolver(await readRegimes(t.wh));
    const dying = new BatchWriter({ ...t.wh, insertText }, (row) => resolve(row.channel, row.occurred_at));
    const a = testConsumer(t, k, { name: 'dying', writer: dying });
    consumers.push(a);
    await a.start();
    await expect(a.failed).rejects.toThrow('killed before the id log');
    await a.stop({ flush: false });

    const landed = await count(t.wh, 'SELECT count() AS n FROM sends');
    expect(landed, 'the interrupted flush left rows in the raw table').toBeGreaterThan(0);
    expect(await count(t.wh, 'SELECT count() AS n FROM event_ids')).toBe(0);

    const metrics = createIngestMetrics();
    const b = testConsumer(t, k, { name: 'b', metrics });
    const c = testConsumer(t, k, { name: 'c', metrics });
    consumers.push(b, c);
    await Promise.all([b.start(), c.start()]);
    await waitForCount(() => count(t.wh, 'SELECT count() AS n FROM event_ids'), EVENTS, 'every event recorded once', 60_000);
    // The rebuild's rows land before its commit, and a rebalance while B and C join can send it round again:
    // wait until a rebuild has committed and the group has committed every offset.
    await waitFor(() => b.stats.rebuilt + c.stats.rebuilt >= 1, 'the interrupted flush rebuilt and committed', 60_000);
    const admin = k.kafka.admin();
    await admin.connect();
    try {
      await waitFor(async () => (await groupLag(admin, k.groupId, Object.values(k.topics))).total === 0, 'every offset committed', 60_000);
    } finally {
      await admin.disconnect();
    }
    await waitFor(() => b.held() === 0 && c.held() === 0, 'nothing left held');
    expect(b.stats.rebuilt + c.stats.rebuilt).toBeGreaterThanOrEqual(1);
    const rebuilt = (await metrics.rebuilt.get()).values[0].value;
    expect(rebuilt).toBe(b.stats.rebuilt + c.stats.rebuilt);

    const raw = await rawCounts(t.wh);
    const want = expectedFamilies(EVENTS);
    expect(raw.sends).toBe(want.sends);
    expect(Object.values(raw.engagements).reduce((x, y) => x + y, 0)).toBe(want.engagements);
    expect(Object.values(raw.subscriptions).reduce((x, y) => x + y, 0)).toBe(want.subscriptions);
    expect(await count(t.wh, 'SELECT uniqExact(event_id) AS n FROM sends')).toBe(want.sends);
    await expectRollupsToMatchRaw(t.wh);
    // The per-send rollup counts each send once too.
    expect(await count(t.wh, 'SELECT sum(sends) AS n FROM send_metrics_daily')).toBe(want.sends);
  });
});
