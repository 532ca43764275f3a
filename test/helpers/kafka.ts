import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '../../common/log.js';
import type { Config } from '../../common/config.js';
import type { EventFamily } from '../../events/types.js';
import { createKafka, ensureTopics } from '../../ingest/kafka.js';
import { allTopics, topicNames } from '../../events/topics.js';
import { IngestConsumer } from '../../ingest/consumer.js';
import { createIngestMetrics, type IngestMetrics } from '../../ingest/metrics.js';
import type { BatchWriter } from '../../warehouse/writer.js';

export interface TestTopics {
  topics: Record<EventFamily, string>;
  dlqTopic: string;
  rawTopic: string;
  groupId: string;
}

/** Every test gets its own topics and group, so tests never see each other's messages. */
export async function makeTestTopics(config: Config, partitions = 3): Promise<TestTopics & { kafka: Kafka; prefix: string }> {
  const id = randomBytes(4).toString('hex');
  const names = topicNames(`t${id}`);
  const topics = names.events;
  const dlqTopic = names.dlq;
  const kafka = createKafka(config, createLogger({ test: id }, 'error'));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, partitions, allTopics(names));
  await admin.disconnect();
  return { kafka, topics, dlqTopic, rawTopic: names.raw, groupId: `g${id}`, prefix: `t${id}` };
}

/** The settings that point a process (or loadConfig) at a test's own topics and group on the run's broker. */
export function topicsEnv(k: { prefix: string; groupId: string }): Record<string, string> {
  return { POLICYLENS_KAFKA_BROKERS: brokers(), POLICYLENS_TOPIC_PREFIX: k.prefix, POLICYLENS_KAFKA_GROUP: k.groupId };
}

export function brokers(): string {
  const b = process.env.POLICYLENS_KAFKA_BROKERS;
  if (!b) throw new Error('POLICYLENS_KAFKA_BROKERS is not set: the global setup should have started the broker');
  return b;
}

/** An ingest consumer on a test's own topics and group, writing into a test warehouse. */
export function testConsumer(
  t: { config: Config; writer: BatchWriter },
  k: TestTopics & { kafka: Kafka },
  opts: { name: string; writer?: BatchWriter; metrics?: IngestMetrics },
): IngestConsumer {
  return new IngestConsumer({
    config: t.config,
    kafka: k.kafka,
    writer: opts.writer ?? t.writer,
    log: createLogger({ consumer: opts.name }, 'error'),
    metrics: opts.metrics ?? createIngestMetrics(),
    groupId: k.groupId,
    topics: k.topics,
    dlqTopic: k.dlqTopic,
  });
}
