// Two consumers in one group (one process, as embedded mode requires); one leaves mid-stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import type { IngestConsumer } from '../ingest/consumer.js';
import { groupLag } from '../ingest/idle.js';
import { produceLines } from '../ingest/produce.js';
import { brokers, makeTestTopics, testConsumer, type TestTopics } from './helpers/kafka.js';
import { plainStream } from './helpers/stream.js';
import { distinctAndTotal, expectRollupsToMatchRaw } from './helpers/truth.js';
import { waitFor } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const HALF = 50_000;

describe.each([
  { how: 'leaves cleanly', flush: true },
  { how: 'drops out without writing what it held', flush: false },
])('a consumer that $how mid-stream', ({ flush }) => {
  let t: TestWarehouse;
  let k: TestTopics & { kafka: Kafka };
  const consumers: IngestConsumer[] = [];

  beforeAll(async () => {
    t = await openTestWarehouse({ POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_BATCH_MAX_ROWS: '2000', POLICYLENS_BATCH_MAX_MS: '300' });
    k = await makeTestTopics(t.config, 6);
  });
  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => undefined);
    await t?.dispose();
  });

  const makeConsumer = (name: string) => {
    const c = testConsumer(t, k, { name });
    consumers.push(c);
    return c;
  };

  it('loses and doubles nothing', async () => {
    const tag = flush ? 'clean' : 'drop';
    const a = makeConsumer('a');
    const b = makeConsumer('b');
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => a.assignedPartitions() > 0 && b.assignedPartitions() > 0, 'both consumers to be given partitions');
    await produceLines(k.kafka, plainStream(HALF, `${tag}-a`), { topics: k.topics });
    await waitFor(() => a.stats.flushes > 0 && b.stats.flushes > 0, 'both consumers to write');
    // The second half arrives while the group rebalances around the consumer that stops.
    const more = produceLines(k.kafka, plainStream(HALF, `${tag}-b`), { topics: k.topics });
    await a.stop({ flush });
    await more;
    const admin = k.kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        async () => (await groupLag(admin, k.groupId, Object.values(k.topics))).total === 0 && b.held() === 0,
        'the remaining consumer to catch up',
        120_000,
      );
    } finally {
      await admin.disconnect();
    }
    expect(await distinctAndTotal(t.wh)).toEqual({ total: 2 * HALF, distinct: 2 * HALF });
    await expectRollupsToMatchRaw(t.wh);
  });
});
