// Reads given offset ranges of given partitions, whoever owns them in the ingest group: a throwaway group of one
// member is given every partition, seeks to the ranges and stops at their ends. Used to rebuild an announced
// flush after a crash, which may cover partitions another member now owns.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../common/log.js';
import { partitionKey } from './partition-buffers.js';

export interface TopicRange {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

export class RangeReadTimeoutError extends Error {
  readonly retriable = true;
}

/** Messages of each range, by `partitionKey`; a range the log no longer holds (retention) comes back empty. */
export async function readRanges(
  kafka: Kafka,
  admin: Admin,
  groupBase: string,
  ranges: TopicRange[],
  log: Logger,
  timeoutMs = 120_000,
): Promise<Map<string, KafkaMessage[]>> {
  const got = new Map<string, KafkaMessage[]>(ranges.map((r) => [partitionKey(r.topic, r.partition), []]));
  const want = new Map<string, TopicRange>();
  for (const r of await clampToLog(admin, ranges)) want.set(partitionKey(r.topic, r.partition), r);
  if (want.size === 0) return got;

  const groupId = rebuildGroupId(groupBase);
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100 });
  const remaining = new Set(want.keys());
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    const finished = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new RangeReadTimeoutError(`reading ${remaining.size} announced range(s) took over ${timeoutMs} ms`)), timeoutMs);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Start each wanted partition at its range; leave the others alone.
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          const idle = partitions.filter((p) => !want.has(partitionKey(topic, p)));
          if (idle.length) consumer.pause([{ topic, partitions: idle }]);
        }
        for (const r of want.values()) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.first) });
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void consumer
        .subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true })
        .then(() =>
          consumer.run({
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch }) => {
              const key = partitionKey(batch.topic, batch.partition);
              const r = want.get(key);
              if (!r || !remaining.has(key)) return;
              const into = got.get(key)!;
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (offset < r.first) continue;
                if (offset <= r.last) into.push(m);
                // Offsets may skip (compaction, transaction markers), so the range ends at or past its last.
                if (offset >= r.last) {
                  remaining.delete(key);
                  consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
                  break;
                }
              }
              if (remaining.size === 0) resolve();
            },
          }),
        )
        .catch(reject);
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch((err) => log.debug('could not delete the rebuild group', { groupId, error: (err as Error).message }));
  }
  return got;
}

/**
 * A group of its own for each read. Members that rebuild one flush together start in the same millisecond, and
 * processes in containers share a pid, so neither names a read apart: two readers in one group would split the
 * partitions between them and each wait for ranges it was never given.
 */
export function rebuildGroupId(groupBase: string): string {
  return `${groupBase}.rebuild.${randomUUID()}`;
}

/** Trims ranges to what the log still holds: retention may have removed some or all of a range. */
async function clampToLog(admin: Admin, ranges: TopicRange[]): Promise<TopicRange[]> {
  const out: TopicRange[] = [];
  for (const topic of new Set(ranges.map((r) => r.topic))) {
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const r of ranges.filter((x) => x.topic === topic)) {
      const o = offsets.find((p) => p.partition === r.partition);
      if (!o) continue;
      const low = BigInt(o.low);
      const lastInLog = BigInt(o.high) - 1n;
      const first = r.first > low ? r.first : low;
      const last = r.last < lastInLog ? r.last : lastInLog;
      if (first <= last) out.push({ ...r, first, last });
    }
  }
  return out;
}
