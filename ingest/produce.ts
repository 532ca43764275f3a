// Produces an event stream to the topics, keyed by user so one user's events stay in order on one partition.
import type { Kafka, Message } from 'kafkajs';
import { createHash } from 'node:crypto';
import { createProgress } from '../common/progress.js';
import { EVENT_FAMILIES, type EventFamily } from '../events/types.js';
import { PARTITIONER } from './kafka.js';

export interface ProducibleLine {
  line: string;
  key: string;
  /** null for a line that is not a valid event: it goes to an event topic chosen by its key. */
  family: EventFamily | null;
}

export interface ProduceOptions {
  topics: Record<EventFamily, string>;
  total?: number | null;
  progress?: boolean;
  batchSize?: number;
}

const topicForBadLine = (key: string): EventFamily => EVENT_FAMILIES[createHash('md5').update(key).digest()[0] % 3];

export async function produceLines(kafka: Kafka, lines: Iterable<ProducibleLine>, opts: ProduceOptions): Promise<number> {
  const topics = opts.topics;
  const batchSize = opts.batchSize ?? 5_000;
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: PARTITIONER });
  await producer.connect();
  const progress = opts.progress ? createProgress('produce', opts.total ?? null) : null;
  let pending: Record<string, Message[]> = {};
  let held = 0;
  let sent = 0;
  const send = async () => {
    const topicMessages = Object.entries(pending).map(([topic, messages]) => ({ topic, messages }));
    pending = {};
    held = 0;
    if (topicMessages.length) await producer.sendBatch({ topicMessages, acks: -1 });
  };
  try {
    for (const l of lines) {
      const topic = topics[l.family ?? topicForBadLine(l.key)];
      (pending[topic] ??= []).push({ key: l.key, value: l.line });
      held++;
      sent++;
      if (held >= batchSize) {
        await send();
        progress?.tick(sent);
      }
    }
    await send();
    progress?.finish();
  } finally {
    await producer.disconnect();
  }
  return sent;
}
