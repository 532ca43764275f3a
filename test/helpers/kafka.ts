import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '../../common/log.js';
import type { Config } from '../../common/config.js';
import type { EventFamily } from '../../events/types.js';
import { createKafka, ensureTopics } from '../../ingest/kafka.js';
import { topicNames } from '../../events/topics.js';

export interface TestTopics {
  topics: Record<EventFamily, string>;
  dlqTopic: string;
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
  await ensureTopics(admin, partitions, [...Object.values(topics), dlqTopic]);
  await admin.disconnect();
  return { kafka, topics, dlqTopic, groupId: `g${id}`, prefix: `t${id}` };
}

export function brokers(): string {
  const b = process.env.POLICYLENS_KAFKA_BROKERS;
  if (!b) throw new Error('POLICYLENS_KAFKA_BROKERS is not set: the global setup should have started the broker');
  return b;
}
