// A dead letter keeps the original bytes and key; headers say why and where it came from.
import type { Message } from 'kafkajs';
import type { DeadLetter } from './partition-buffers.js';

export const DLQ_HEADERS = {
  reason: 'policylens-reason',
  error: 'policylens-error',
  topic: 'policylens-source-topic',
  partition: 'policylens-source-partition',
  offset: 'policylens-source-offset',
  failedAt: 'policylens-failed-at',
} as const;

export function deadLetterMessage(d: DeadLetter, topic: string, partition: number): Message {
  return {
    key: d.key,
    value: d.value,
    headers: {
      ...d.headers,
      [DLQ_HEADERS.reason]: d.reason,
      [DLQ_HEADERS.error]: d.detail.slice(0, 1024),
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: d.offset,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    },
  };
}
