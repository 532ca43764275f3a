// Tells when a consumer group has caught up with every partition and stayed so, for --until-idle.
import type { Admin } from 'kafkajs';
import { isRetriable, sleep } from '../common/retry.js';

export interface Lag {
  total: number;
  byPartition: { topic: string; partition: number; lag: number }[];
}

/** Messages between the group's committed offsets and the high watermarks. */
export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<Lag> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const byPartition: Lag['byPartition'] = [];
  for (const topic of topics) {
    const highs = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const h of highs) {
      const c = Number(mine.find((p) => p.partition === h.partition)?.offset ?? -1);
      const low = Number(h.low);
      const from = c < 0 ? low : c; // nothing committed yet: everything retained is still to read
      byPartition.push({ topic, partition: h.partition, lag: Math.max(0, Number(h.high) - from) });
    }
  }
  return { total: byPartition.reduce((n, p) => n + p.lag, 0), byPartition };
}

export interface IdleWatch {
  admin: Admin;
  groupId: string;
  topics: string[];
  idleMs: number;
  /** Rows held in memory; the group is idle only when this is zero too. */
  held: () => number;
  signal?: AbortSignal;
  pollMs?: number;
}

/** Resolves once lag and held rows have been zero for idleMs without a break. */
export async function waitUntilIdle(w: IdleWatch): Promise<void> {
  let idleSince: number | null = null;
  while (!w.signal?.aborted) {
    let lag: Lag;
    try {
      lag = await groupLag(w.admin, w.groupId, w.topics);
    } catch (err) {
      // A broker that moved a leader, or a topic created a moment ago, says so with a retriable error: not idle yet.
      if (!isRetriable(err)) throw err;
      idleSince = null;
      await sleep(w.pollMs ?? 500, w.signal);
      continue;
    }
    const idle = lag.total === 0 && w.held() === 0;
    if (!idle) idleSince = null;
    else if (idleSince === null) idleSince = Date.now();
    else if (Date.now() - idleSince >= w.idleMs) return;
    await sleep(w.pollMs ?? 500, w.signal);
  }
}
