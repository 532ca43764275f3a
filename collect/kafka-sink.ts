// The one way collect writes to Kafka: append() resolves only once the broker has acknowledged every message
// (acks=all, idempotent producer), or rejects. Requests that arrive while a send is in flight wait and go
// together in the next send, so one request per round trip is not the ceiling, and nobody waits for a timer.
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from '../common/log.js';
import { PARTITIONER } from '../ingest/kafka.js';

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

interface Waiting {
  batch: TopicMessages[];
  bytes: number;
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SinkOptions {
  /** Most bytes of message values in one send: the broker refuses a partition's batch over max.message.bytes. */
  maxSendBytes?: number;
  /**
   * Most messages in one send (a request with more goes alone). kafkajs 2.2.4 groups a send's messages by partition
   * by copying each partition's list once per message, so a send's cost grows with the square of its size; but a
   * small cap means more round trips, which is what limits the rate when the broker answers slowly.
   */
  maxSendMessages?: number;
  /** Most bytes waiting for a send; past it, append() fails at once rather than hold memory without bound. */
  maxQueuedBytes?: number;
  /** A send not acknowledged within this long fails (its messages may still arrive: a retry is a duplicate). */
  sendTimeoutMs?: number;
}

export interface KafkaSink {
  append(batch: TopicMessages[]): Promise<void>;
  /** Sends that failed since start, and the number of messages acknowledged, for /metrics. */
  readonly stats: { sends: number; failures: number; acknowledged: number };
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const size = (batch: TopicMessages[]) => {
  let n = 0;
  for (const t of batch) for (const m of t.messages) n += m.value === null ? 0 : typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length;
  return n;
};

export class SinkUnavailableError extends Error {}

export function createKafkaSink(kafka: Kafka, log: Logger, opts: SinkOptions = {}): KafkaSink {
  const maxSendBytes = opts.maxSendBytes ?? 8 * MIB;
  const maxSendMessages = opts.maxSendMessages ?? 10_000;
  const maxQueuedBytes = opts.maxQueuedBytes ?? 256 * MIB;
  const sendTimeoutMs = opts.sendTimeoutMs ?? 10_000;
  const queue: Waiting[] = [];
  let queuedBytes = 0;
  let producer: Producer | null = null;
  let connecting: Promise<Producer> | null = null;
  let pumping = false;
  let closed = false;
  const stats = { sends: 0, failures: 0, acknowledged: 0 };

  const connected = (): Promise<Producer> => {
    if (producer) return Promise.resolve(producer);
    connecting ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: PARTITIONER,
        // Few retries: a request waits on them, and past them the client is told 503 and retries itself.
        retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 4 },
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      producer = p;
      return p;
    })().finally(() => (connecting = null));
    return connecting;
  };

  // After a failed send the idempotent producer's sequence numbers may be off; a new producer starts clean.
  const reset = () => {
    const p = producer;
    producer = null;
    p?.disconnect().catch(() => undefined);
  };

  const sendOnce = async (topicMessages: TopicMessages[]) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SinkUnavailableError(`not acknowledged within ${sendTimeoutMs} ms`)), sendTimeoutMs);
    });
    try {
      const p = await Promise.race([connected(), timeout]);
      await Promise.race([p.sendBatch({ topicMessages, acks: -1 }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const taken: Waiting[] = [];
        let bytes = 0;
        let messages = 0;
        const fits = (w: Waiting) => bytes + w.bytes <= maxSendBytes && messages + w.count <= maxSendMessages;
        while (queue.length > 0 && (taken.length === 0 || fits(queue[0]))) {
          const w = queue.shift()!;
          taken.push(w);
          bytes += w.bytes;
          messages += w.count;
        }
        queuedBytes -= bytes;
        const byTopic = new Map<string, Message[]>();
        let count = 0;
        for (const w of taken)
          for (const t of w.batch) {
            const list = byTopic.get(t.topic) ?? [];
            if (!byTopic.has(t.topic)) byTopic.set(t.topic, list);
            for (const m of t.messages) list.push(m);
            count += t.messages.length;
          }
        stats.sends++;
        try {
          await sendOnce([...byTopic].map(([topic, messages]) => ({ topic, messages })));
          stats.acknowledged += count;
          for (const w of taken) w.resolve();
        } catch (err) {
          stats.failures++;
          log.warn('kafka send failed', { error: (err as Error).message, requests: taken.length, messages: count });
          reset();
          const e = new SinkUnavailableError((err as Error).message);
          for (const w of taken) w.reject(e);
        }
      }
    } finally {
      pumping = false;
    }
  };

  return {
    stats,
    append(batch) {
      if (closed) return Promise.reject(new SinkUnavailableError('collect is stopping'));
      const bytes = size(batch);
      if (queuedBytes + bytes > maxQueuedBytes) return Promise.reject(new SinkUnavailableError('too much is waiting for Kafka'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, bytes, count: batch.reduce((n, t) => n + t.messages.length, 0), resolve, reject });
        queuedBytes += bytes;
        void pump();
      });
    },
    async close() {
      closed = true;
      while (pumping || queue.length > 0) await new Promise((r) => setTimeout(r, 10));
      await connecting?.catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      producer = null;
    },
  };
}
