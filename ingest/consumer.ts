// The Kafka ingest: a consumer group that gathers each partition's messages into large batches and writes them
// exactly once in effect. Design and failure cases: docs/ingest.md.
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { isRetriable, sleep } from '../common/retry.js';
import { topicNames } from '../events/topics.js';
import type { EventFamily } from '../events/types.js';
import type { BatchWriter } from '../warehouse/writer.js';
import { deadLetterMessage } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import { MAX_MESSAGE_BYTES } from './kafka.js';
import { PartitionBuffers, parsePendingMetadata, pendingMetadata, type PartitionBuffer, type Snapshot } from './partition-buffers.js';
import { parseStep, topicStep } from './steps.js';

export interface IngestOptions {
  config: Config;
  kafka: Kafka;
  writer: BatchWriter;
  log: Logger;
  metrics: IngestMetrics;
  groupId?: string;
  topics?: Record<EventFamily, string>;
  dlqTopic?: string;
}

export interface IngestStats {
  consumed: number;
  written: number;
  duplicates: number;
  deadLettered: number;
  flushes: number;
}

// Group errors after which the partition will be read again from its committed offset by whoever owns it.
const GROUP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);
const isGroupError = (err: unknown) => GROUP_ERRORS.has((err as { type?: string }).type ?? '');

export class IngestConsumer {
  readonly stats: IngestStats = { consumed: 0, written: 0, duplicates: 0, deadLettered: 0, flushes: 0 };
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly buffers = new PartitionBuffers();
  private readonly topics: Record<EventFamily, string>;
  private readonly familyOf: Map<string, EventFamily>;
  private readonly dlqTopic: string;
  private readonly groupId: string;
  private generation = 0;
  private assignment: Record<string, number[]> = {};
  private ready: Promise<void> = Promise.resolve();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private paused = false;
  private flushQueued = false;
  private failure: ((err: Error) => void) | null = null;
  /** Settles when the consumer stops because of an error it cannot get past. */
  readonly failed: Promise<never>;

  constructor(private readonly opts: IngestOptions) {
    const names = topicNames(opts.config.kafka.topicPrefix);
    this.topics = opts.topics ?? names.events;
    this.familyOf = new Map(Object.entries(this.topics).map(([family, topic]) => [topic, family as EventFamily]));
    this.dlqTopic = opts.dlqTopic ?? names.dlq;
    this.groupId = opts.groupId ?? opts.config.kafka.groupId;
    this.consumer = opts.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      // Small fetches keep what kafkajs decodes ahead of us bounded; the broker still returns a whole batch
      // larger than this (a 2 MB poison message arrives), so the limit costs nothing but memory.
      maxBytesPerPartition: 1024 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
    });
    this.producer = opts.kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
    this.admin = opts.kafka.admin();
    this.failed = new Promise<never>((_, reject) => (this.failure = reject));
    this.failed.catch(() => undefined);
  }

  get topicNames(): string[] {
    return Object.values(this.topics);
  }

  async start(): Promise<void> {
    await Promise.all([this.producer.connect(), this.admin.connect(), this.consumer.connect()]);
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      // A new generation re-reads every assigned partition from its committed offset, so nothing held is kept.
      this.generation++;
      this.buffers.clear();
      this.assignment = payload.memberAssignment;
      this.ready = this.loadAnnouncedRanges(payload.memberAssignment).catch((err) => this.fail(err as Error));
      this.opts.log.info('partitions assigned', { group: this.groupId, assignment: payload.memberAssignment });
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
    await this.consumer.subscribe({ topics: this.topicNames, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.handleBatch(p) });
    this.timer = setInterval(() => void this.flushDue(false), 200);
  }

  /** How many partitions this member was given at the last rebalance. */
  assignedPartitions(): number {
    return Object.values(this.assignment).reduce((n, ps) => n + ps.length, 0);
  }

  /** Rows and dead letters held in memory, not yet written. */
  held(): number {
    return this.buffers.heldRows();
  }

  /**
   * Stops fetching, writes what is held, commits and leaves the group. With `flush: false` what is held is
   * abandoned uncommitted (as a crash would), and whoever owns the partitions next reads it again.
   */
  async stop({ flush = true }: { flush?: boolean } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.consumer.pause(this.topicNames.map((topic) => ({ topic })));
    if (flush) await this.flushDue(true);
    else await this.lock;
    await this.consumer.disconnect();
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }

  private fail(err: Error): void {
    this.opts.log.error('ingest stopped by an error it cannot retry', { error: err.message });
    this.failure?.(err);
  }

  /** Reads the ranges an earlier owner announced but may not have finished, so they are rebuilt exactly. */
  private async loadAnnouncedRanges(assignment: Record<string, number[]>): Promise<void> {
    const offsets = await this.admin.fetchOffsets({ groupId: this.groupId, topics: Object.keys(assignment) });
    for (const { topic, partitions } of offsets) {
      const family = this.familyOf.get(topic);
      if (!family) continue;
      for (const p of partitions) {
        if (!assignment[topic]?.includes(p.partition)) continue;
        const end = parsePendingMetadata(p.metadata);
        if (end !== null && end >= BigInt(p.offset)) {
          this.buffers.get(topic, p.partition, family).mustEndAt = end;
          this.opts.log.info('rebuilding an announced range', { topic, partition: p.partition, from: p.offset, to: String(end) });
        }
      }
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.ready;
    const generation = this.generation;
    const family = this.familyOf.get(batch.topic)!;
    const buf = this.buffers.get(batch.topic, batch.partition, family);
    const now = Date.now();
    this.opts.log.debug('batch', { topic: batch.topic, partition: batch.partition, messages: batch.messages.length, lag: batch.offsetLag() });
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale() || generation !== this.generation) return;
      const offset = BigInt(message.offset);
      if (buf.mustEndAt !== null && offset > buf.mustEndAt) {
        if (buf.first === null) buf.mustEndAt = null; // the announced range no longer exists (retention); nothing to rebuild
        else {
          buf.mustEndAt = buf.last; // the log holds nothing more of the range (offsets may skip): it is complete
          await this.flush([buf]);
        }
        if (generation !== this.generation) return;
      }
      this.hold(buf, message, offset, now);
      resolveOffset(message.offset);
      if (buf.mustEndAt !== null && offset >= buf.mustEndAt) await this.flush([buf]);
      else if (buf.rows.length >= this.opts.config.ingest.batchMaxRows) await this.flushDue(false);
    }
    // Kafka hands out messages far faster than the warehouse takes them. Past a bound on what is held, a flush
    // of everything starts while reading goes on (parsing overlaps the engine's work); past twice the bound,
    // reading waits for the writes. This bounds memory and keeps inserts large.
    const held = this.buffers.heldRows();
    const bound = this.opts.config.ingest.maxHeldRows;
    if (held >= bound && !this.flushQueued) {
      this.flushQueued = true;
      const flushing = this.flushDue(true).finally(() => (this.flushQueued = false));
      if (held >= 2 * bound) await flushing;
    } else if (held >= 2 * bound) await this.lock;
    this.opts.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    await heartbeat();
  }

  private hold(buf: PartitionBuffer, message: KafkaMessage, offset: bigint, now: number): void {
    if (buf.first === null) {
      buf.first = offset;
      buf.since = Date.now();
    }
    buf.last = offset;
    this.stats.consumed++;
    this.opts.metrics.consumed.inc({ topic: buf.topic });
    const value = message.value;
    const parsed = value === null ? ({ kind: 'dlq', reason: 'not_json', detail: '$: the message has no value' } as const) : parseStep(value, now);
    const step = parsed.kind === 'ok' ? topicStep(parsed.value, buf.family) : parsed;
    if (step.kind === 'ok') buf.rows.push(step.value.row);
    else {
      buf.deadLetters.push({ key: message.key, value, headers: message.headers ?? {}, reason: step.reason, detail: step.detail, offset: message.offset });
    }
  }

  /**
   * Once any buffer is full or old enough (or when `all`), flushes every buffer that holds something: each
   * flush pays for two commits and two id round trips whatever its size, so fewer, larger flushes go faster.
   */
  private flushDue(all: boolean): Promise<void> {
    const { batchMaxRows, batchMaxMs } = this.opts.config.ingest;
    const due = all || this.buffers.due(Date.now(), batchMaxRows, batchMaxMs).length > 0;
    return due ? this.flush(this.buffers.nonEmpty()) : Promise.resolve();
  }

  /** One flush at a time: ranges are announced, written and committed in order. */
  private flush(bufs: PartitionBuffer[]): Promise<void> {
    // A partition still short of its announced end must not be flushed: a shorter batch would carry another
    // token, and what the interrupted attempt wrote would be written again. It is flushed when the end arrives.
    const ready = (b: PartitionBuffer) => b.first !== null && (b.mustEndAt === null || b.last! >= b.mustEndAt);
    const run = this.lock.then(() => this.flushNow(bufs.filter(ready)));
    this.lock = run.catch(() => undefined);
    return run.catch((err) => this.fail(err as Error));
  }

  private async flushNow(bufs: PartitionBuffer[]): Promise<void> {
    if (bufs.length === 0) return;
    const generation = this.generation;
    const snaps = bufs.map((b) => this.buffers.take(b));
    for (let attempt = 1; ; attempt++) {
      if (generation !== this.generation) return; // re-read by the new generation from the committed offsets
      try {
        await this.writeSnapshots(snaps);
        if (this.paused && !this.stopping) {
          this.consumer.resume(this.topicNames.map((topic) => ({ topic })));
          this.paused = false;
          this.opts.log.info('warehouse reachable again; consuming resumed');
        }
        return;
      } catch (err) {
        if (isGroupError(err)) {
          this.rewind(snaps, err as Error);
          return;
        }
        if (!isRetriable(err)) throw err;
        this.opts.metrics.retries.inc({ operation: 'flush' });
        if (!this.paused && !this.stopping) {
          this.consumer.pause(this.topicNames.map((topic) => ({ topic })));
          this.paused = true;
        }
        const waitMs = Math.round(Math.random() * Math.min(30_000, 250 * 2 ** Math.min(attempt, 7)));
        this.opts.log.warn('flush failed; consuming paused, retrying', { attempt, waitMs, error: (err as Error).message });
        await sleep(waitMs);
      }
    }
  }

  /** Abandons snapshots whose commit the group refused: they are read again from the first offset. */
  private rewind(snaps: Snapshot[], err: Error): void {
    this.opts.log.warn('group changed during a flush; the batch will be read again', { error: err.message });
    for (const s of snaps) {
      this.buffers.take(this.buffers.get(s.topic, s.partition, s.family));
      try {
        this.consumer.seek({ topic: s.topic, partition: s.partition, offset: String(s.first) });
      } catch {
        // not assigned any more: its new owner starts from the committed offset anyway
      }
    }
  }

  private async writeSnapshots(snaps: Snapshot[]): Promise<void> {
    const started = performance.now();
    // 1. Announce each range, so an owner after a crash rebuilds exactly this batch.
    await this.consumer.commitOffsets(snaps.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.first), metadata: pendingMetadata(s.last) })));
    // 2. Set bad messages aside with their original bytes before their offsets are committed.
    const deadLetters = snaps.flatMap((s) => s.deadLetters.map((d) => deadLetterMessage(d, s.topic, s.partition)));
    if (deadLetters.length) await this.producer.send({ topic: this.dlqTopic, acks: -1, messages: deadLetters });
    // 3. Write; a block already written by an interrupted attempt is dropped by its token.
    const blocks = snaps.filter((s) => s.rows.length > 0).map((s) => ({ family: s.family, rows: s.rows }) as Parameters<BatchWriter['writeBlocks']>[0][number]);
    const results = blocks.length ? await this.opts.writer.writeBlocks(blocks) : [];
    // 4. Commit past the range.
    await this.consumer.commitOffsets(snaps.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.last + 1n), metadata: null })));

    const m = this.opts.metrics;
    m.insertSeconds.observe((performance.now() - started) / 1000);
    let i = 0;
    for (const s of snaps) {
      for (const d of s.deadLetters) m.dlq.inc({ reason: d.reason });
      this.stats.deadLettered += s.deadLetters.length;
      if (s.rows.length === 0) continue;
      const r = results[i++];
      m.batchRows.observe({ topic: s.topic }, s.rows.length);
      m.written.inc({ topic: s.topic }, r.written);
      m.duplicates.inc({ topic: s.topic }, r.duplicates);
      this.stats.written += r.written;
      this.stats.duplicates += r.duplicates;
    }
    this.stats.flushes++;
    this.opts.log.debug('flushed', { partitions: snaps.length, rows: snaps.reduce((n, s) => n + s.rows.length, 0), ms: Math.round(performance.now() - started) });
  }
}
