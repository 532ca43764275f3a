// kafkajs set up the way policylens uses it: our logger, our topics, settings that let 2 MB messages through.
import kafkajs, { type Admin, type Kafka as KafkaClient, type logCreator } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { errorChain, sleep } from '../common/retry.js';
import { allTopics, topicNames } from '../events/topics.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

/** Broker-side limit for one message; the contract caps events at 64 KiB, but poison can be larger and must reach the DLQ. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

const EXPECTED_DURING_REBALANCE = /rebalancing|group coordinator is not available|not the correct coordinator|member id is not valid/i;
// collect's producer is idempotent with few retries on purpose: a request waits on them, and past them the sender is
// told 503 and sends again (a repeat is dropped by event id downstream), so kafkajs's warning about it is not news.
const CHOSEN_RETRY_LIMIT = /Limiting retries for the idempotent producer/;

// Group errors after which the partition will be read again from its committed offset by whoever owns it.
const GROUP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

/** Whether the group refused a request because it moved on; kafkajs may wrap the protocol error once its retries run out. */
export const isGroupError = (err: unknown): boolean => [...errorChain(err)].some((e) => GROUP_ERRORS.has(String(e.type ?? '')));

function kafkaLogs(log: Logger): logCreator {
  return () =>
    ({ level, log: entry }) => {
      const { message, ...rest } = entry;
      const fields = { component: 'kafkajs', ...rest };
      // kafkajs logs these at error level although it handles them itself by rejoining or retrying.
      if (EXPECTED_DURING_REBALANCE.test(String((rest as { error?: unknown }).error ?? '')) || CHOSEN_RETRY_LIMIT.test(message)) log.debug(message, fields);
      else if (level === logLevel.ERROR) log.error(message, fields);
      else if (level === logLevel.WARN) log.warn(message, fields);
    };
}

/**
 * The partitioner of every producer: murmur2 of the key, as the Java client does (kafkajs's default since v2).
 * Naming it keeps kafkajs from warning at the first producer that its default changed in v2.
 */
export const PARTITIONER = Partitioners.DefaultPartitioner;

export function createKafka(config: Config, log: Logger, clientId = config.kafka.clientId): KafkaClient {
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs(log),
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** A new topic can be created before every partition has a leader the broker will serve; wait for that. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        // Metadata can name a leader before that broker serves the partition (a produce then fails with "not the
        // leader", and kafkajs's retry of the whole request writes the partitions that had succeeded twice).
        // Reading every partition's offsets needs the leader itself, so it is the real sign of readiness.
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Creates the event topics and the dead-letter topic when missing. */
export async function ensureTopics(admin: Admin, partitions: number, topics: string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const wanted = topics.filter((t) => !existing.has(t));
  if (wanted.length === 0) return [];
  // Our own wait for leaders: kafkajs's gives up on "This server does not host this topic-partition", which a
  // broker still says for a moment after creating a topic (seen under load in tests).
  await admin.createTopics({
    waitForLeaders: false,
    topics: wanted.map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
      configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
    })),
  });
  await waitForLeaders(admin, wanted);
  return wanted;
}

/**
 * The event topics must have one partition count: one user's events are paired by partition number across them
 * (copartition-assigner.ts), which holds only while every topic hashes keys over the same number of partitions.
 */
export function assertCopartitioned(eventTopics: TopicState[]): void {
  const counts = eventTopics.map((t) => `${t.topic} ${t.partitions}`);
  if (new Set(eventTopics.map((t) => t.partitions)).size > 1) {
    throw new Error(
      `the event topics must have the same number of partitions, so that one user's events share a partition number (${counts.join(', ')}); ` +
        'add partitions to the smaller topics (kafka-topics --alter --partitions N) before ingesting',
    );
  }
}

/** One of the project's topics as the broker has it: partitions is null for a topic that does not exist. */
export interface TopicState {
  topic: string;
  partitions: number | null;
  created: boolean;
}

/** The partition counts of the project's topics (the event topics and the dead-letter topic), without creating any. */
export async function projectTopicStates(admin: Admin, config: Config, created: string[] = []): Promise<TopicState[]> {
  const topics = allTopics(topicNames(config.kafka.topicPrefix));
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const { topics: meta } = present.length ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
  const counts = new Map(meta.map((t) => [t.name, t.partitions.length]));
  return topics.map((topic) => ({ topic, partitions: counts.get(topic) ?? null, created: created.includes(topic) }));
}

/**
 * Makes the project's topics ready to use, as the ingest does before it consumes and `kafka start` does after the
 * broker answers: the missing ones are created with POLICYLENS_KAFKA_PARTITIONS partitions, existing ones are left
 * as they are, and the event topics must share one partition count.
 */
export async function prepareProjectTopics(admin: Admin, config: Config): Promise<TopicState[]> {
  const names = topicNames(config.kafka.topicPrefix);
  const created = await ensureTopics(admin, config.kafka.partitions, allTopics(names));
  const states = await projectTopicStates(admin, config, created);
  const events = new Set<string>(Object.values(names.events));
  assertCopartitioned(states.filter((t) => events.has(t.topic)));
  return states;
}

/** Connects an admin client for one piece of work, and disconnects it however the work ends. */
export async function withAdmin<T>(kafka: KafkaClient, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
