import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestConsumer } from '../ingest/consumer.js';
import { DLQ_HEADERS } from '../ingest/dead-letter.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { queryRows } from '../warehouse/client.js';
import { engagementEvent, sendEvent, subscriptionEvent } from './helpers/events.js';
import { brokers, makeTestTopics, testConsumer, type TestTopics } from './helpers/kafka.js';
import { waitFor } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

interface Dead {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

async function readTopic(kafka: Kafka, topic: string, groupId: string, count: number): Promise<Dead[]> {
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 10 * 1024 * 1024 });
  const got: Dead[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      got.push({ key: message.key?.toString() ?? null, value: message.value, headers });
    },
  });
  try {
    await waitFor(() => got.length >= count, `${count} dead letters`);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('poison messages', () => {
  let t: TestWarehouse;
  let k: TestTopics & { kafka: Kafka };
  let consumer: IngestConsumer;
  const metrics = createIngestMetrics();
  const good = [sendEvent({ event_id: 'good-send-1' }), sendEvent({ event_id: 'good-send-2' })];
  const goodEngagement = engagementEvent('good-send-1', 'read', { event_id: 'good-read-1' });
  const goodSub = subscriptionEvent('opt_out', { event_id: 'good-optout-1' });
  const big = Buffer.alloc(2 * 1024 * 1024, 'x');
  const poison: { topic: 'sends' | 'engagements' | 'subscriptions'; key: string; value: Buffer | string; reason: string }[] = [
    { topic: 'sends', key: 'p-random', value: randomBytes(300), reason: 'not_json' },
    { topic: 'sends', key: 'p-truncated', value: JSON.stringify(sendEvent()).slice(0, 40), reason: 'not_json' },
    { topic: 'engagements', key: 'p-wrongtype', value: JSON.stringify(engagementEvent('x', 'read', { send_id: 42 })), reason: 'contract' },
    { topic: 'subscriptions', key: 'p-unknown', value: JSON.stringify({ ...subscriptionEvent('opt_out'), type: 'unsubscribe_all' }), reason: 'unknown_type' },
    { topic: 'sends', key: 'p-big', value: big, reason: 'too_large' },
    { topic: 'sends', key: 'p-wrong-topic', value: JSON.stringify(subscriptionEvent('block')), reason: 'wrong_topic' },
  ];

  beforeAll(async () => {
    t = await openTestWarehouse({ POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_BATCH_MAX_MS: '200' });
    k = await makeTestTopics(t.config, 2);
    const producer = k.kafka.producer();
    await producer.connect();
    // Poison between good messages on one partition, so the good ones after it must get past it.
    const poisonOn = (topic: keyof typeof k.topics) => poison.filter((p) => p.topic === topic).map((p) => ({ partition: 0, key: p.key, value: p.value }));
    const goodOne = (e: Record<string, unknown>) => ({ partition: 0, key: String(e.user_id), value: JSON.stringify(e) });
    await producer.sendBatch({
      topicMessages: [
        { topic: k.topics.sends, messages: [goodOne(good[0]), ...poisonOn('sends'), goodOne(good[1])] },
        { topic: k.topics.engagements, messages: [...poisonOn('engagements'), goodOne(goodEngagement)] },
        { topic: k.topics.subscriptions, messages: [...poisonOn('subscriptions'), goodOne(goodSub)] },
      ],
    });
    await producer.disconnect();
    consumer = testConsumer(t, k, { name: 'poison', metrics });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await t?.dispose();
  });

  it('ingests every valid neighbour', async () => {
    const ids = await waitFor(async () => {
      const rows = await queryRows<{ event_id: string }>(t.wh, 'SELECT event_id FROM event_ids ORDER BY event_id');
      return rows.length === 4 ? rows.map((r) => r.event_id) : null;
    }, 'four valid events in the warehouse');
    expect(ids).toEqual(['good-optout-1', 'good-read-1', 'good-send-1', 'good-send-2']);
  });

  it('sends each poison message to the dead-letter topic with its bytes, key, reason and origin', async () => {
    const dead = await readTopic(k.kafka, k.dlqTopic, `${k.groupId}-reader`, poison.length);
    expect(dead).toHaveLength(poison.length);
    for (const p of poison) {
      const d = dead.find((x) => x.key === p.key);
      expect(d, p.key).toBeDefined();
      expect(d!.headers[DLQ_HEADERS.reason], p.key).toBe(p.reason);
      expect(d!.headers[DLQ_HEADERS.topic]).toBe(k.topics[p.topic]);
      expect(Number(d!.headers[DLQ_HEADERS.offset])).toBeGreaterThanOrEqual(0);
      expect(d!.headers[DLQ_HEADERS.error].length).toBeGreaterThan(0);
      expect(Buffer.compare(d!.value!, Buffer.from(p.value))).toBe(0);
    }
    expect(consumer.stats.deadLettered).toBe(poison.length);
    const counted = await metrics.registry.getSingleMetricAsString('policylens_ingest_dlq_messages_total');
    expect(counted).toMatch(/policylens_ingest_dlq_messages_total\{reason="not_json"\} 2/);
    expect(counted).toMatch(/policylens_ingest_dlq_messages_total\{reason="too_large"\} 1/);
  });
});
