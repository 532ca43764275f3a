// Members that find one announced flush rebuild it together, each reading every range of it at the same moment.
// Each read must have a group of its own: two readers in one group split the partitions and wait for each other's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { partitionKey } from '../ingest/partition-buffers.js';
import { produceLines } from '../ingest/produce.js';
import { readRanges, rebuildGroupId, type TopicRange } from '../ingest/range-reader.js';
import { brokers, makeTestTopics, type TestTopics } from './helpers/kafka.js';
import { plainStream } from './helpers/stream.js';

const EVENTS = 2_000;

describe('reading announced ranges', () => {
  let k: TestTopics & { kafka: Kafka };

  beforeAll(async () => {
    k = await makeTestTopics(loadConfig({ POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_LOG_LEVEL: 'error' }), 3);
    await produceLines(k.kafka, plainStream(EVENTS, 'ranges'), { topics: k.topics });
  });

  it('names every read apart, even many in one millisecond of one process', () => {
    const ids = Array.from({ length: 1_000 }, () => rebuildGroupId('g'));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.startsWith('g.rebuild.'))).toBe(true);
  });

  it('gives two readers started together every message of every range', async () => {
    const admin = k.kafka.admin();
    await admin.connect();
    try {
      const ranges: TopicRange[] = [];
      for (const topic of Object.values(k.topics)) {
        for (const o of await admin.fetchTopicOffsets(topic)) {
          if (BigInt(o.high) > 1n) ranges.push({ topic, partition: o.partition, first: 1n, last: BigInt(o.high) - 1n });
        }
      }
      expect(ranges.length).toBeGreaterThan(3);
      const log = createLogger({ test: 'range-reader' }, 'error');
      const [a, b] = await Promise.all([
        readRanges(k.kafka, admin, k.groupId, ranges, log, 60_000),
        readRanges(k.kafka, admin, k.groupId, ranges, log, 60_000),
      ]);
      const want = ranges.reduce((n, r) => n + Number(r.last - r.first + 1n), 0);
      for (const got of [a, b]) {
        expect([...got.values()].reduce((n, ms) => n + ms.length, 0)).toBe(want);
        for (const r of ranges) {
          const ms = got.get(partitionKey(r.topic, r.partition)) ?? [];
          expect(ms.map((m) => BigInt(m.offset))).toEqual(Array.from({ length: Number(r.last - r.first + 1n) }, (_, i) => r.first + BigInt(i)));
        }
      }
    } finally {
      await admin.disconnect();
    }
  });

  afterAll(async () => {
    const admin = k?.kafka.admin();
    if (!admin) return;
    await admin.connect();
    await admin.deleteTopics({ topics: [...Object.values(k.topics), k.dlqTopic, k.rawTopic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
