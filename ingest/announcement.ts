// What a flush writes, announced in the offset-commit metadata of every partition it covers before the write
// starts. A flush merges many partitions into one insert per family, so whoever finds an announcement after a
// crash must rebuild the whole flush, every partition of it, to give the warehouse identical blocks to drop.
import { EVENT_FAMILIES, type EventFamily } from '../events/types.js';

export interface AnnouncedRange {
  family: EventFamily;
  partition: number;
  /** First and last offset of the range, both included. */
  first: bigint;
  last: bigint;
}

const LETTERS: Record<EventFamily, string> = { sends: 's', engagements: 'e', subscriptions: 'u' };
const FAMILIES = Object.fromEntries(Object.entries(LETTERS).map(([f, l]) => [l, f as EventFamily])) as Record<string, EventFamily>;

// Kafka refuses commit metadata over offset.metadata.max.bytes (4096 by default): stay well under it.
export const MAX_ANNOUNCEMENT_CHARS = 3000;
const PREFIX = 'flush:';

/** Ranges in the one order both a flush and its rebuild use: by family, then partition. */
export function canonicalOrder<T extends { family: EventFamily; partition: number }>(ranges: T[]): T[] {
  return [...ranges].sort((a, b) => EVENT_FAMILIES.indexOf(a.family) - EVENT_FAMILIES.indexOf(b.family) || a.partition - b.partition);
}

const entry = (r: AnnouncedRange) => `${LETTERS[r.family]}${r.partition}@${r.first}-${r.last}`;

/** `flush:s0@10-99,e3@0-5`: every range of one flush, in canonical order. */
export function announcement(ranges: AnnouncedRange[]): string {
  return PREFIX + canonicalOrder(ranges).map(entry).join(',');
}

/** Splits ranges (in canonical order) into flushes whose announcements fit in commit metadata. */
export function chunkForAnnouncement<T extends AnnouncedRange>(ranges: T[]): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let size = PREFIX.length;
  for (const r of canonicalOrder(ranges)) {
    const add = entry(r).length + 1;
    if (chunk.length > 0 && size + add > MAX_ANNOUNCEMENT_CHARS) {
      chunks.push(chunk);
      chunk = [];
      size = PREFIX.length;
    }
    chunk.push(r);
    size += add;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * The ranges a partition's commit metadata announces, or null when it announces nothing. The older form
 * `pending:<last>` announced one partition alone, from its committed offset.
 */
export function parseAnnouncement(
  metadata: string | null | undefined,
  own: { family: EventFamily; partition: number; committed: bigint },
): AnnouncedRange[] | null {
  if (!metadata) return null;
  const legacy = /^pending:(\d+)$/.exec(metadata);
  if (legacy) return [{ family: own.family, partition: own.partition, first: own.committed, last: BigInt(legacy[1]) }];
  if (!metadata.startsWith(PREFIX)) return null;
  const ranges: AnnouncedRange[] = [];
  for (const part of metadata.slice(PREFIX.length).split(',')) {
    const m = /^([seu])(\d+)@(\d+)-(\d+)$/.exec(part);
    if (!m) throw new Error(`unreadable flush announcement in commit metadata: ${JSON.stringify(metadata.slice(0, 200))}`);
    ranges.push({ family: FAMILIES[m[1]], partition: Number(m[2]), first: BigInt(m[3]), last: BigInt(m[4]) });
  }
  return ranges;
}
