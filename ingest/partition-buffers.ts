// Rows gathered per topic-partition across fetches, so inserts are large and each covers one offset range.
import type { IHeaders } from 'kafkajs';
import type { EventFamily, NormalizedEvent } from '../events/types.js';

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
  rows: NormalizedEvent['row'][];
  deadLetters: DeadLetter[];
  /** When the oldest held message arrived, for the age limit. */
  since: number;
  /**
   * End of a range that an earlier owner announced and may have partly written. The next batch must end
   * exactly there, so it is rebuilt identically and the warehouse drops whatever of it already landed.
   */
  mustEndAt: bigint | null;
}

export type Snapshot = Omit<PartitionBuffer, 'mustEndAt' | 'since'> & { first: bigint; last: bigint };

export class PartitionBuffers {
  private readonly byKey = new Map<string, PartitionBuffer>();

  get(topic: string, partition: number, family: EventFamily): PartitionBuffer {
    const key = `${topic}:${partition}`;
    let b = this.byKey.get(key);
    if (!b) {
      b = { topic, partition, family, first: null, last: null, rows: [], deadLetters: [], since: 0, mustEndAt: null };
      this.byKey.set(key, b);
    }
    return b;
  }

  all(): PartitionBuffer[] {
    return [...this.byKey.values()];
  }

  nonEmpty(): PartitionBuffer[] {
    return this.all().filter((b) => b.first !== null);
  }

  /** Buffers over the row limit or older than the age limit. */
  due(now: number, maxRows: number, maxMs: number): PartitionBuffer[] {
    return this.nonEmpty().filter((b) => b.rows.length >= maxRows || now - b.since >= maxMs);
  }

  heldRows(): number {
    return this.all().reduce((n, b) => n + b.rows.length + b.deadLetters.length, 0);
  }

  /** Takes what a buffer holds and leaves it empty. */
  take(b: PartitionBuffer): Snapshot {
    const snap: Snapshot = { topic: b.topic, partition: b.partition, family: b.family, first: b.first!, last: b.last!, rows: b.rows, deadLetters: b.deadLetters };
    b.first = null;
    b.last = null;
    b.rows = [];
    b.deadLetters = [];
    if (b.mustEndAt !== null && snap.last >= b.mustEndAt) b.mustEndAt = null;
    return snap;
  }

  /** After a rebalance every partition is read again from its committed offset, so nothing held is kept. */
  clear(): void {
    this.byKey.clear();
  }
}

/** Offset metadata that marks a range as announced before its write: `pending:<last offset>`. */
export const pendingMetadata = (last: bigint) => `pending:${last}`;

export function parsePendingMetadata(metadata: string | null | undefined): bigint | null {
  const m = /^pending:(\d+)$/.exec(metadata ?? '');
  return m ? BigInt(m[1]) : null;
}
