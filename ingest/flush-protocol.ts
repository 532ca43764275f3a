// The flush protocol: how the rows a consumer holds reach the warehouse exactly once in effect, and how a flush that a
// crash cut short is rebuilt by whoever owns its partitions next. The consumer decides when to flush, retries while
// the warehouse is away and follows the group; this module is the flush itself. Why each step: docs/ingest.md.
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../common/log.js';
import type { EventFamily } from '../events/types.js';
import type { BatchWriter, WriteResult } from '../warehouse/writer.js';
import { announcement, canonicalOrder, parseAnnouncement, type AnnouncedRange } from './announcement.js';
import { deadLetterMessage } from './dead-letter.js';
import { isGroupError } from './kafka.js';
import type { IngestMetrics, IngestStats } from './metrics.js';
import { holdMessage, mergeByFamily, PartitionBuffers, partitionKey, type Snapshot } from './partition-buffers.js';
import { readRanges } from './range-reader.js';

export interface FlushProtocolOptions {
  kafka: Kafka;
  consumer: Consumer;
  producer: Producer;
  admin: Admin;
  groupId: string;
  topics: Record<EventFamily, string>;
  dlqTopic: string;
  writer: BatchWriter;
  log: Logger;
  metrics: IngestMetrics;
  stats: IngestStats;
  /** The consumer's buffers: a rebuild marks in them the offsets it has written. */
  buffers: PartitionBuffers;
  /** Whether this member owns a partition now. */
  owns: (topic: string, partition: number) => boolean;
  /** When the consumer started (epoch ms). */
  startedAt: () => number;
}

/** False once the group has moved to a new generation, which reads everything again from the committed offsets. */
export type StillCurrent = () => boolean;

export class FlushProtocol {
  private readonly o: FlushProtocolOptions;
  private readonly familyOf: Map<string, EventFamily>;

  constructor(o: FlushProtocolOptions) {
    this.o = o;
    this.familyOf = new Map(Object.entries(o.topics).map(([family, topic]) => [topic, family as EventFamily]));
  }

  /** Writes one flush, whose announcement fits in commit metadata (`chunkForAnnouncement`). */
  async write(snaps: Snapshot[], current: StillCurrent): Promise<void> {
    if (!current()) return;
    const started = performance.now();
    // 1. Announce the whole flush on each of its partitions, so an owner after a crash rebuilds exactly this.
    const metadata = announcement(snaps);
    await this.o.consumer.commitOffsets(snaps.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.first), metadata })));
    // 2-3. Set bad messages aside and write; a block already written by an interrupted attempt is dropped by its token.
    const results = await this.setAsideAndWrite(snaps);
    // 4. Commit past the ranges.
    await this.o.consumer.commitOffsets(snaps.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.last + 1n), metadata: null })));
    this.o.metrics.insertSeconds.observe((performance.now() - started) / 1000);
    this.record(snaps, results);
    const { stats, log } = this.o;
    if (stats.flushes === 0) {
      // How long a (re)started process stood still before its first write: the figure a crash costs (docs/ingest.md).
      log.info('first flush committed', { msSinceStart: Date.now() - this.o.startedAt(), processUptimeMs: Math.round(process.uptime() * 1000) });
    }
    stats.flushes++;
    stats.lastCommittedAt = Date.now();
    log.debug('flushed', { partitions: snaps.length, rows: snaps.reduce((n, s) => n + s.ids.length, 0), ms: Math.round(performance.now() - started) });
  }

  /** After a crash: the flushes announced on these partitions and not committed past, each to be rebuilt whole. */
  async unfinished(assignment: Record<string, number[]>): Promise<AnnouncedRange[][]> {
    const offsets = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: Object.keys(assignment) });
    const flushes = new Map<string, AnnouncedRange[]>();
    for (const { topic, partitions } of offsets) {
      const family = this.familyOf.get(topic);
      if (!family) continue;
      for (const p of partitions) {
        if (!assignment[topic]?.includes(p.partition) || !p.metadata) continue;
        const ranges = parseAnnouncement(p.metadata, { family, partition: p.partition, committed: BigInt(p.offset) });
        if (!ranges) continue;
        const mine = ranges.find((r) => r.family === family && r.partition === p.partition);
        if (!mine) throw new Error(`the flush announced on ${topic}[${p.partition}] does not include that partition: ${p.metadata.slice(0, 200)}`);
        // Only a range still ahead of the committed offset is unfinished; one flush may be named by many partitions.
        if (BigInt(p.offset) <= mine.last) {
          flushes.set(announcement(ranges), ranges); // the older one-partition form, too, names a flush this way
        }
      }
    }
    return [...flushes.values()];
  }

  /**
   * Reads every range of an announced flush (some may belong to other members now), rebuilds its blocks exactly
   * as the interrupted attempt built them, writes them (the warehouse drops whatever had landed), and moves this
   * member's partitions past their ranges.
   */
  async rebuild(announced: AnnouncedRange[], current: StillCurrent): Promise<void> {
    const { consumer, log } = this.o;
    const ranges = canonicalOrder(announced).map((r) => ({ ...r, topic: this.o.topics[r.family] }));
    log.info('rebuilding an announced flush', { ranges: ranges.map((r) => `${r.topic}[${r.partition}] ${r.first}-${r.last}`) });
    const read = await readRanges(this.o.kafka, this.o.admin, this.o.groupId, ranges, log);
    const snaps: Snapshot[] = ranges.map((r) => {
      const buf = PartitionBuffers.detached(r.topic, r.partition, r.family);
      for (const message of read.get(partitionKey(r.topic, r.partition)) ?? []) holdMessage(buf, message, this.o.writer);
      return { ...this.o.buffers.take(buf), first: r.first, last: r.last };
    });
    const results = await this.setAsideAndWrite(snaps);
    const own = snaps.filter((s) => this.o.owns(s.topic, s.partition));
    if (!current()) return;
    try {
      await consumer.commitOffsets(own.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.last + 1n), metadata: null })));
    } catch (err) {
      if (isGroupError(err)) return; // the next generation finds the announcement again and rebuilds it again
      throw err;
    }
    for (const s of own) {
      this.o.buffers.get(s.topic, s.partition, s.family).skipThrough = s.last;
      consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.last + 1n) });
    }
    this.record(snaps, results);
    this.o.stats.rebuilt++;
    this.o.metrics.rebuilt.inc();
    log.info('announced flush rebuilt', {
      rows: snaps.reduce((n, s) => n + s.ids.length, 0),
      written: [...results.values()].reduce((n, r) => n + r.written, 0),
    });
  }

  /** Dead letters first, with their original bytes, then one insert per family for all partitions together. */
  private async setAsideAndWrite(snaps: Snapshot[]): Promise<Map<EventFamily, WriteResult>> {
    const deadLetters = snaps.flatMap((s) => s.deadLetters.map((d) => deadLetterMessage(d, s.topic, s.partition)));
    if (deadLetters.length) await this.o.producer.send({ topic: this.o.dlqTopic, acks: -1, messages: deadLetters });
    const blocks = mergeByFamily(snaps);
    const results = blocks.length ? await this.o.writer.writePrepared(blocks) : [];
    return new Map(blocks.map((b, i) => [b.family, results[i]]));
  }

  private record(snaps: Snapshot[], results: Map<EventFamily, WriteResult>): void {
    const { metrics: m, stats } = this.o;
    for (const s of snaps) {
      for (const d of s.deadLetters) m.dlq.inc({ reason: d.reason });
      stats.deadLettered += s.deadLetters.length;
    }
    for (const [family, r] of results) {
      const topic = this.o.topics[family];
      m.batchRows.observe({ topic }, r.written + r.duplicates);
      m.written.inc({ topic }, r.written);
      m.duplicates.inc({ topic }, r.duplicates);
      stats.written += r.written;
      stats.duplicates += r.duplicates;
    }
  }
}
