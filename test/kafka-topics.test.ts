// `kafka start` leaves the project's topics ready: a client that knows nothing of policylens can produce at once.
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { brokerTopics, describeTopics, ensureBrokerTopics } from '../devtools/kafka/topics.js';
import { brokers } from './helpers/kafka.js';

const { Kafka, logLevel } = kafkajs;

const suffixes = ['sends', 'engagements', 'subscriptions', 'dlq', 'raw'];
const newPrefix = () => `kt${randomBytes(4).toString('hex')}`;
const configFor = (prefix: string, partitions: number) =>
  loadConfig({ ...process.env, POLICYLENS_TOPIC_PREFIX: prefix, POLICYLENS_KAFKA_PARTITIONS: String(partitions), POLICYLENS_LOG_LEVEL: 'error' });

describe('the topics kafka start creates', () => {
  // A plain client, not the project's: what a user's kcat or service would be.
  const kafka = new Kafka({ clientId: 'outsider', brokers: brokers().split(','), logLevel: logLevel.NOTHING });
  let admin: Admin;
  const made: string[] = [];
  const partitionCounts = async (topics: string[]) =>
    Object.fromEntries((await admin.fetchTopicMetadata({ topics })).topics.map((t) => [t.name, t.partitions.length]));

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    if (made.length) await admin.deleteTopics({ topics: made }).catch(() => undefined);
    await admin.disconnect();
  });

  it('are the event topics and the DLQ with the configured partitions, and take messages at once', async () => {
    const prefix = newPrefix();
    const topics = suffixes.map((s) => `${prefix}.${s}`);
    made.push(...topics);
    const config = configFor(prefix, 4);

    const first = await ensureBrokerTopics(config, brokers());
    expect(first).toEqual(topics.map((topic) => ({ topic, partitions: 4, created: true })));
    expect(await partitionCounts(topics)).toEqual(Object.fromEntries(topics.map((t) => [t, 4])));

    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({
        topic: `${prefix}.sends`,
        messages: [
          { key: 'user-1', value: '{}' },
          { partition: 3, value: '{}' },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const written = (await admin.fetchTopicOffsets(`${prefix}.sends`)).reduce((n, p) => n + Number(p.high), 0);
    expect(written).toBe(2);

    // A second start finds them as they are: nothing created, no message lost.
    const second = await ensureBrokerTopics(config, brokers());
    expect(second).toEqual(topics.map((topic) => ({ topic, partitions: 4, created: false })));
    expect(await partitionCounts(topics)).toEqual(Object.fromEntries(topics.map((t) => [t, 4])));
    expect((await admin.fetchTopicOffsets(`${prefix}.sends`)).reduce((n, p) => n + Number(p.high), 0)).toBe(2);
    expect(describeTopics(first, 4)[0]).toBe(`topic ${prefix}.sends: created, 4 partitions`);
    expect(describeTopics(second, 4)[3]).toBe(`topic ${prefix}.dlq: found, 4 partitions`);
  });

  it('leave existing topics with another partition count as they are, and say so', async () => {
    const prefix = newPrefix();
    const topics = suffixes.map((s) => `${prefix}.${s}`);
    made.push(...topics);
    await admin.createTopics({ topics: topics.slice(0, 3).map((topic) => ({ topic, numPartitions: 2 })) });

    const states = await ensureBrokerTopics(configFor(prefix, 4), brokers());
    expect(states.map((s) => [s.partitions, s.created])).toEqual([
      [2, false],
      [2, false],
      [2, false],
      [4, true],
      [4, true],
    ]);
    const lines = describeTopics(states, 4);
    expect(lines[0]).toBe(
      `topic ${prefix}.sends: found, 2 partitions, not the configured 4 (POLICYLENS_KAFKA_PARTITIONS applies only when a topic is created)`,
    );
    expect(lines[3]).toBe(`topic ${prefix}.dlq: created, 4 partitions`);
  });

  it('refuse event topics whose partition counts differ, as the ingest does', async () => {
    const prefix = newPrefix();
    made.push(...suffixes.map((s) => `${prefix}.${s}`));
    await admin.createTopics({ topics: [{ topic: `${prefix}.sends`, numPartitions: 2 }] });
    const refused = ensureBrokerTopics(configFor(prefix, 4), brokers());
    // The broker lists the topics in no fixed order.
    await expect(refused).rejects.toThrow(/same number of partitions/);
    await expect(refused).rejects.toThrow(new RegExp(`${prefix}\\.sends 2\\b`));
    await expect(refused).rejects.toThrow(new RegExp(`${prefix}\\.engagements 4\\b`));
  });

  it('are listed by status without being created', async () => {
    const prefix = newPrefix();
    const states = await brokerTopics(configFor(prefix, 4), brokers());
    expect(states.map((s) => s.partitions)).toEqual([null, null, null, null, null]);
    expect(describeTopics(states, 4)[0]).toBe(`topic ${prefix}.sends: missing (\`kafka start\` or the first ingest creates it)`);
    expect((await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`))).toEqual([]);
  });
});
