// The warehouse stops answering for a while: the consumer pauses, retries with backoff, resumes and loses nothing.
// The outage is injected in front of the real writer, so it runs on the embedded engine too, which cannot go away
// under a running process; test/server-outage.test.ts stops a real server instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import type { IngestConsumer } from '../ingest/consumer.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { produceLines } from '../ingest/produce.js';
import { queryRows } from '../warehouse/client.js';
import type { BatchWriter } from '../warehouse/writer.js';
import { brokers, makeTestTopics, testConsumer, type TestTopics } from './helpers/kafka.js';
import { plainStream } from './helpers/stream.js';
import { distinctAndTotal } from './helpers/truth.js';
import { waitFor } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const EVENTS = 20_000;

describe('warehouse outage during ingest (injected in front of the writer)', () => {
  let t: TestWarehouse;
  let k: TestTopics & { kafka: Kafka };
  let consumer: IngestConsumer;
  const metrics = createIngestMetrics();
  let failuresLeft = 4;

  beforeAll(async () => {
    t = await openTestWarehouse({ POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_BATCH_MAX_MS: '200' });
    k = await makeTestTopics(t.config, 3);
    await produceLines(k.kafka, plainStream(EVENTS, 'outage'), { topics: k.topics });
    const flaky = Object.create(t.writer) as BatchWriter;
    flaky.writePrepared = async (blocks) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
      }
      return t.writer.writePrepared(blocks);
    };
    consumer = testConsumer(t, k, { name: 'outage', writer: flaky, metrics });
    await consumer.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await t?.dispose();
  });

  it('retries until the warehouse answers, then writes every event once', async () => {
    await waitFor(
      async () => {
        const [{ n }] = await queryRows<{ n: string }>(t.wh, 'SELECT count() AS n FROM event_ids');
        return Number(n) === EVENTS;
      },
      'every event written after the outage',
      120_000,
    );
    expect(failuresLeft).toBe(0);
    const text = await metrics.registry.getSingleMetricAsString('policylens_ingest_retries_total');
    expect(text).toMatch(/policylens_ingest_retries_total\{operation="flush"\} 4/);
    const { total, distinct } = await distinctAndTotal(t.wh);
    expect([total, distinct]).toEqual([EVENTS, EVENTS]);
  });
});
