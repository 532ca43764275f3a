// Rows gathered per topic-partition across fetches, so inserts are large and each partition's part of a flush
// is one offset range.
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { EventFamily } from '../events/types.js';
import { LineArena } from '../warehouse/line-arena.js';
import type { BatchWriter, PreparedBlock } from '../warehouse/writer.js';
import { keyedByUser, messageSteps } from './steps.js';

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  reason: string;
  detail: string;
  offset: string;
}

export interface PartitionBuffer {
  topic: string;
  partition: number;
  family: EventFamily;
  /** First and last offset held; null when empty. */
  first: bigint | null;
  last: bigint | null;
  /** Event ids and TabSeparated lines of the valid rows held, in offset order. */
  ids: string[];
  lines: LineArena;
  deadLetters: DeadLetter[];
  /** When the oldest held message arrived, for the age limit. */
  since: number;
  /** Offsets up to here were already written by the rebuild of an announced flush: skip them. */
  skipThrough: bigint | null;
}

export type Snapshot = Omit<PartitionBuffer, 'since' | 'skipThrough'> & { first: bigint; last: bigint };

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

export class PartitionBuffers {
  private readonly byKey = new Map<string, PartitionBuffer>();

  get(topic: string, partition: number, family: EventFamily): PartitionBuffer {
    const key = partitionKey(topic, partition);
    let b = this.byKey.get(key);
    if (!b) {
      b = PartitionBuffers.detached(topic, partition, family);
      this.byKey.set(key, b);
    }
    return b;
  }

  /** A buffer outside the set, for rebuilding a range this member does not hold. */
  static detached(topic: string, partition: number, family: EventFamily): PartitionBuffer {
    return { topic, partition, family, first: null, last: null, ids: [], lines: new LineArena(), deadLetters: [], since: 0, skipThrough: null };
  }

  all(): PartitionBuffer[] {
    return [...this.byKey.values()];
  }

  nonEmpty(): PartitionBuffer[] {
    return this.all().filter((b) => b.first !== null);
  }

  /** Buffers over the row limit or older than the age limit. */
  due(now: number, maxRows: number, maxMs: number): PartitionBuffer[] {
    return this.nonEmpty().filter((b) => b.ids.length >= maxRows || now - b.since >= maxMs);
  }

  heldRows(): number {
    return this.all().reduce((n, b) => n + b.ids.length + b.deadLetters.length, 0);
  }

  /** Takes what a buffer holds and leaves it empty. */
  take(b: PartitionBuffer): Snapshot {
    const snap: Snapshot = {
      topic: b.topic,
      partition: b.partition,
      family: b.family,
      first: b.first!,
      last: b.last!,
      ids: b.ids,
      lines: b.lines,
      deadLetters: b.deadLetters,
    };
    b.first = null;
    b.last = null;
    b.ids = [];
    b.lines = new LineArena();
    b.deadLetters = [];
    return snap;
  }

  /** After a rebalance every partition is read again from its committed offset, so nothing held is kept. */
  clear(): void {
    this.byKey.clear();
  }
}

/** One block per family, its partitions' rows one after another in the order given (canonical for a flush). */
export function mergeByFamily(snaps: Snapshot[]): PreparedBlock[] {
  const blocks = new Map<EventFamily, PreparedBlock>();
  for (const s of snaps) {
    if (s.ids.length === 0) continue;
    let b = blocks.get(s.family);
    if (!b) blocks.set(s.family, (b = { family: s.family, ids: [], lines: new LineArena() }));
    for (const id of s.ids) b.ids.push(id);
    b.lines.append(s.lines);
  }
  return [...blocks.values()];
}

/**
 * Runs one message's steps (steps.ts) into the buffer, as a row (its insert line built by the writer) or a dead
 * letter; the caller sets the buffer's last offset. Returns true for a valid event not keyed by its user_id.
 */
export function holdMessage(buf: PartitionBuffer, message: KafkaMessage, writer: Pick<BatchWriter, 'add'>): boolean {
  if (buf.first === null) {
    buf.first = BigInt(message.offset);
    buf.since = Date.now();
  }
  const step = messageSteps(message, buf.family);
  if (step.kind === 'ok') {
    writer.add(buf, step.value.row);
    return !keyedByUser(message, step.value);
  }
  buf.deadLetters.push({
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
    reason: step.reason,
    detail: step.detail,
    offset: message.offset,
  });
  return false;
}
