// The mapping stage against the real broker: raw webhook bodies in, contract events out keyed by user, dead
// letters with their reason, the watermark state rebuilt after a restart, and a replay that adds nothing new.
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes, type Kafka, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { RAW_HEADERS, topicNames } from '../events/topics.js';
import { DLQ_HEADERS } from '../ingest/dead-letter.js';
import { createKafka, prepareProjectTopics, withAdmin } from '../ingest/kafka.js';
import { runIngest } from '../ingest/run-ingest.js';
import { receiptEventId, sendEventId } from '../sources/meta/ids.js';
import { echo, messagingBody, readWatermark } from '../sources/meta/payloads.js';
import { runMapStage } from '../sources/map-stage.js';
import { queryRows } from '../warehouse/client.js';
import { brokers } from './helpers/kafka.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';
import { Registry } from 'prom-client';

const PAGE = 'page-1';
const T = Date.parse('2024-05-01T12:00:00.000Z');
const log = createLogger({ test: 'map-stage' }, 'error');

/** Every message of the topics, read by a throwaway group until nothing new comes for a while. */
async function readAll(kafka: Kafka, topics: string[]): Promise<Map<string, KafkaMessage[]>> {
  const got = new Map<string, KafkaMessage[]>(topics.map((t) => [t, []]));
  const consumer = kafka.consumer({ groupId: `read-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  let last = Date.now();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      got.get(topic)?.push(message);
      last = Date.now();
    },
  });
  const started = Date.now();
  while (Date.now() - last < 2500 || Date.now() - started < 4000) await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();
  return got;
}

describe('the mapping stage on Kafka', () => {
  let t: TestWarehouse;
  let config: Config;
  let kafka: Kafka;
  const names = () => topicNames(config.kafka.topicPrefix);

  const produceRaw = async (...bodies: string[]) => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: names().raw,
      acks: -1,
      messages: bodies.map((value) => ({
        key: PAGE,
        value,
        headers: { [RAW_HEADERS.receivedAt]: new Date(T + 60_000).toISOString(), [RAW_HEADERS.source]: 'meta' },
      })),
    });
    await producer.disconnect();
  };

  beforeAll(async () => {
    t = await openTestWarehouse();
    const id = randomBytes(4).toString('hex');
    config = loadConfig({
      ...process.env,
      ...t.env,
      POLICYLENS_KAFKA_BROKERS: brokers(),
      POLICYLENS_TOPIC_PREFIX: `t${id}`,
      POLICYLENS_KAFKA_GROUP: `g${id}`,
      POLICYLENS_KAFKA_PARTITIONS: '3',
    });
    kafka = createKafka(config, log);
    await withAdmin(kafka, (admin) => prepareProjectTopics(admin, config));
  });
  afterAll(async () => t?.dispose());

  it('maps, dead-letters with a reason, keeps state across a restart, and replays to the same events', async () => {
    const watermark = JSON.stringify(messagingBody('page', [{ businessId: PAGE, time: T, messaging: [readWatermark(PAGE, 'u-1', T + 50, T + 10)] }]));
    const echoes = JSON.stringify(
      messagingBody('page', [
        { businessId: PAGE, time: T, messaging: [echo(PAGE, 'u-1', T, 'm_1'), echo(PAGE, 'u-1', T + 10, 'm_2'), echo(PAGE, 'u-2', T, 'm_3')] },
      ]),
    );
    // The watermark first, mapped and committed by a stage that then stops: it names no send it knows yet.
    await produceRaw(watermark, '{"object":"page","entry":', JSON.stringify({ object: 'user', entry: [] }));
    const registry = new Registry();
    const first = await runMapStage({ config, log, untilIdleSeconds: 1, registry });
    expect(first).toMatchObject({ bodies: 3, events: 0, deadLettered: 1, ignored: 1, rebuiltFrom: 0 });
    // What /metrics serves (in `up`, beside the ingest's): the same counts as the stage's summary.
    const counters = await registry.getMetricsAsJSON();
    const total = (name: string) => counters.find((m) => m.name === name)?.values.reduce((a, v) => a + v.value, 0);
    expect([total('policylens_map_bodies_total'), total('policylens_map_dlq_total'), total('policylens_map_ignored_total')]).toEqual([3, 1, 1]);

    // A new stage process sees the echoes: it has rebuilt the watermark from the raw topic, so the reads come now.
    await produceRaw(echoes);
    const second = await runMapStage({ config, log, untilIdleSeconds: 1 });
    expect(second).toMatchObject({ bodies: 1, events: 3 + 4, rebuiltFrom: 3 });

    // A better mapping re-reads everything: the same events again, which the warehouse drops as duplicates.
    const replay = await runMapStage({ config, log, untilIdleSeconds: 1, fromBeginning: true });
    expect(replay).toMatchObject({ bodies: 4, events: 7, deadLettered: 1 });

    const got = await readAll(kafka, [...Object.values(names().events), names().dlq]);
    const sends = got.get(names().events.sends) ?? [];
    const engagements = got.get(names().events.engagements) ?? [];
    for (const m of [...sends, ...engagements]) expect(m.key?.toString()).toBe(JSON.parse(String(m.value)).user_id);
    const ids = new Set(engagements.map((m) => JSON.parse(String(m.value)).event_id));
    expect(ids).toEqual(new Set(['m_1', 'm_2'].flatMap((mid) => [receiptEventId(mid, 'delivered'), receiptEventId(mid, 'read')])));
    expect(new Set(sends.map((m) => JSON.parse(String(m.value)).event_id))).toEqual(new Set(['m_1', 'm_2', 'm_3'].map(sendEventId)));
    const dlq = got.get(names().dlq) ?? [];
    expect(dlq).toHaveLength(2); // the bad body, once per pass over it
    expect(dlq[0].headers?.[DLQ_HEADERS.reason]?.toString()).toBe('not_json');
    expect(dlq[0].value?.toString()).toBe('{"object":"page","entry":');
    expect(dlq[0].headers?.[DLQ_HEADERS.topic]?.toString()).toBe(names().raw);

    const ingested = await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, log, warehouse: t });
    expect(ingested).toMatchObject({ written: 7, duplicates: 7 });
    // Echoes without metadata are sends of category unknown (contract v1.1), which the warehouse takes.
    const [row] = await queryRows<{ sends: string; reads: string }>(
      t.wh,
      "SELECT (SELECT count() FROM sends WHERE category = 'unknown') AS sends, (SELECT count() FROM engagements WHERE type = 'read') AS reads",
    );
    expect([Number(row.sends), Number(row.reads)]).toEqual([3, 2]);
  }, 120_000);

  it('stops when its events cannot be produced, commits nothing of that batch, and a new stage maps it whole', async () => {
    const user = 'u-fail';
    const watermark = JSON.stringify(messagingBody('page', [{ businessId: PAGE, time: T, messaging: [readWatermark(PAGE, user, T + 50, T + 10)] }]));
    await produceRaw(watermark);
    await runMapStage({ config, log, untilIdleSeconds: 1 });
    // The engagements topic refuses every message for a while: the batch with the echo cannot be produced.
    const maxBytes = (value: string) =>
      withAdmin(kafka, (admin) =>
        admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: names().events.engagements, configEntries: [{ name: 'max.message.bytes', value }] }],
        }),
      );
    await maxBytes('64');
    await produceRaw(JSON.stringify(messagingBody('page', [{ businessId: PAGE, time: T, messaging: [echo(PAGE, user, T, 'm_fail')] }])));
    await expect(runMapStage({ config, log, untilIdleSeconds: 3 })).rejects.toThrow(/restart rebuilds its state/);
    await maxBytes(String(10 * 1024 * 1024));
    const again = await runMapStage({ config, log, untilIdleSeconds: 1 });
    expect(again).toMatchObject({ bodies: 1, events: 3 });
    const got = await readAll(kafka, [names().events.engagements]);
    const ids = (got.get(names().events.engagements) ?? []).map((m) => JSON.parse(String(m.value)).event_id);
    expect(ids).toContain(receiptEventId('m_fail', 'delivered'));
    expect(ids).toContain(receiptEventId('m_fail', 'read'));
  }, 180_000);
});
