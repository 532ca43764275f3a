// collect over a test's own topics: the app (driven with inject), its sink on the real broker, and a way to read
// back what reached a topic.
import type { FastifyInstance } from 'fastify';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ROLES, createKeyRing } from '../../common/api-keys.js';
import { loadConfig, type Config } from '../../common/config.js';
import { createLogger } from '../../common/log.js';
import { buildCollectApp } from '../../collect/app.js';
import { createKafkaSink, type KafkaSink } from '../../collect/kafka-sink.js';
import { createCollectMetrics, type CollectMetrics } from '../../collect/metrics.js';
import { readRanges } from '../../ingest/range-reader.js';
import { withAdmin } from '../../ingest/kafka.js';
import { TEST_KEYS } from './api.js';
import { brokers, makeTestTopics, type TestTopics } from './kafka.js';

export const APP_SECRET = 'test-app-secret-0123456789abcdef';
export const VERIFY_TOKEN = 'test-verify-token';

export interface TestCollect {
  app: FastifyInstance;
  config: Config;
  k: TestTopics & { kafka: Kafka; prefix: string };
  sink: KafkaSink;
  metrics: CollectMetrics;
  /** Every message of a topic from its start, ordered by partition then offset. */
  read(topic: string): Promise<KafkaMessage[]>;
  close(): Promise<void>;
}

/** The environment collect runs with in tests: the real broker, the test's own prefix, known Meta secrets. */
export const collectEnv = (prefix: string, extra: Record<string, string> = {}): Record<string, string> => ({
  POLICYLENS_KAFKA_BROKERS: brokers(),
  POLICYLENS_TOPIC_PREFIX: prefix,
  POLICYLENS_META_APP_SECRET: APP_SECRET,
  POLICYLENS_META_VERIFY_TOKEN: VERIFY_TOKEN,
  POLICYLENS_COLLECT_RATE_LIMIT: '100000',
  POLICYLENS_LOG_LEVEL: 'error',
  ...extra,
});

export async function openTestCollect(extra: Record<string, string> = {}): Promise<TestCollect> {
  const k = await makeTestTopics(loadConfig({ POLICYLENS_KAFKA_BROKERS: brokers() }), 3);
  const config = loadConfig(collectEnv(k.prefix, extra));
  const log = createLogger({ test: 'collect' }, 'error');
  const sink = createKafkaSink(k.kafka, log);
  const metrics = createCollectMetrics();
  const keys = createKeyRing(ROLES.map((role) => ({ key: TEST_KEYS[role], role })));
  const app = await buildCollectApp({ config, keys, sink, log, metrics });
  return {
    app,
    config,
    k,
    sink,
    metrics,
    read: (topic) => readTopic(k.kafka, topic),
    async close() {
      await app.close();
      await sink.close();
    },
  };
}

export async function readTopic(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ranges = offsets
      .filter((o) => BigInt(o.high) > BigInt(o.low))
      .map((o) => ({ topic, partition: o.partition, first: BigInt(o.low), last: BigInt(o.high) - 1n }));
    const got = await readRanges(kafka, admin, `read-${topic}`, ranges, createLogger({}, 'error'));
    return [...got.values()].flat();
  });
}
