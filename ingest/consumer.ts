// The Kafka ingest: a consumer group that gathers each partition's messages into large batches and hands them to the
// flush protocol (flush-protocol.ts), which writes them exactly once in effect. This class is the Kafka side: joining
// the group, rebuilding what an earlier owner announced, heartbeats, pausing while the warehouse is away, and when to
// flush. Design and failure cases: docs/ingest.md.
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { backoffMs, isRetriable, sleep } from '../common/retry.js';
import { topicNames } from '../events/topics.js';
import type { EventFamily } from '../events/types.js';
import type { BatchWriter } from '../warehouse/writer.js';
import { chunkForAnnouncement } from './announcement.js';
import { copartitionAssigner } from './copartition-assigner.js';
import { FlushProtocol } from './flush-protocol.js';
import { isGroupError, PARTITIONER } from './kafka.js';
import type { IngestMetrics, IngestStats } from './metrics.js';
import { holdMessage, PartitionBuffers, type Snapshot } from './partition-buffers.js';

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

/** How long the group waits for a silent member before it hands the member's partitions to others. */
export const SESSION_TIMEOUT_MS = 10_000;

export class IngestConsumer {
  readonly stats: IngestStats = { consumed: 0, written: 0, duplicates: 0, deadLettered: 0, flushes: 0, rebuilt: 0, firstHeldAt: null, lastCommittedAt: null };
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly protocol: FlushProtocol;
  private readonly buffers = new PartitionBuffers();
  private readonly topics: Record<EventFamily, string>;
  private readonly familyOf: Map<string, EventFamily>;
  private readonly dlqTopic: string;
  private readonly groupId: string;
  private generation = 0;
  private startedAt = 0; // set by start()
  private warnedMiskeyed = false;
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
  private readonly opts: IngestOptions;

  constructor(opts: IngestOptions) {
    this.opts = opts;
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
      // A member killed with -9 holds its partitions until the group gives up on it: the session bounds how long the
      // pipeline stands still after a crash (docs/ingest.md). Heartbeats go every second, also while a batch waits
      // for a flush, so a live member is never taken for dead.
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 30_000,
      partitionAssigners: [copartitionAssigner],
    });
    this.producer = opts.kafka.producer({ allowAutoTopicCreation: false, idempotent: false, createPartitioner: PARTITIONER });
    this.admin = opts.kafka.admin();
    this.protocol = new FlushProtocol({
      kafka: opts.kafka,
      writer: opts.writer,
      log: opts.log,
      metrics: opts.metrics,
      consumer: this.consumer,
      producer: this.producer,
      admin: this.admin,
      groupId: this.groupId,
      topics: this.topics,
      dlqTopic: this.dlqTopic,
      stats: this.stats,
      buffers: this.buffers,
      owns: (topic, partition) => this.assignment[topic]?.includes(partition) ?? false,
      startedAt: () => this.startedAt,
    });
    this.failed = new Promise<never>((_, reject) => (this.failure = reject));
    this.failed.catch(() => undefined);
  }

  get topicNames(): string[] {
    return Object.values(this.topics);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    await Promise.all([this.producer.connect(), this.admin.connect(), this.consumer.connect()]);
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      // A new generation re-reads every assigned partition from its committed offset, so nothing held is kept.
      const generation = ++this.generation;
      this.buffers.clear();
      this.assignment = payload.memberAssignment;
      this.opts.log.info('partitions assigned', { group: this.groupId, assignment: payload.memberAssignment });
      // Flushes an earlier owner announced but may not have finished are rebuilt before anything else is read.
      this.ready = this.lock.then(() => this.rebuildAnnounced(payload.memberAssignment, generation)).catch((err) => this.fail(err as Error));
      this.lock = this.ready;
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

  /** Rebuilds each flush announced on this member's partitions and not finished, before anything else is read. */
  private async rebuildAnnounced(assignment: Record<string, number[]>, generation: number): Promise<void> {
    for (const ranges of await this.protocol.unfinished(assignment)) {
      if (generation !== this.generation) return;
      await this.withRetries('rebuild', () => this.protocol.rebuild(ranges, () => generation === this.generation));
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await beating(this.ready, heartbeat);
    const family = this.familyOf.get(batch.topic)!;
    const buf = this.buffers.get(batch.topic, batch.partition, family);
    const lag = batch.offsetLag();
    this.opts.log.debug('batch', { topic: batch.topic, partition: batch.partition, messages: batch.messages.length, lag });
    if (this.stopping || !isRunning() || isStale()) return;
    // No await inside this loop: nothing (a flush, a seek, a rebalance) can happen half-way through a batch.
    let resolved: string | null = null;
    let lastHeld: string | null = null;
    let held = 0;
    let miskeyed = 0;
    for (const message of batch.messages) {
      resolved = message.offset;
      if (buf.skipThrough !== null && BigInt(message.offset) <= buf.skipThrough) continue; // written by a rebuild
      if (holdMessage(buf, message, this.opts.writer)) miskeyed++;
      lastHeld = message.offset;
      held++;
    }
    if (miskeyed > 0) this.noteMiskeyed(buf.topic, batch.partition, miskeyed);
    if (resolved === null) return;
    if (lastHeld !== null) buf.last = BigInt(lastHeld);
    this.stats.firstHeldAt ??= Date.now();
    resolveOffset(resolved);
    this.stats.consumed += held;
    this.opts.metrics.consumed.inc({ topic: buf.topic }, held);
    // Kafka hands out messages far faster than the warehouse takes them. Once a partition is full or the rows
    // held reach a bound, a flush of everything starts while reading goes on (parsing overlaps the engine's
    // work); past twice the bound, reading waits for the writes. This bounds memory and keeps inserts large.
    const total = this.buffers.heldRows();
    const bound = this.opts.config.ingest.maxHeldRows;
    if (!this.flushQueued && (total >= bound || buf.ids.length >= this.opts.config.ingest.batchMaxRows)) {
      this.flushQueued = true;
      const flushing = this.flushDue(true).finally(() => (this.flushQueued = false));
      if (total >= 2 * bound) await beating(flushing, heartbeat);
    } else if (total >= 2 * bound) await beating(this.lock, heartbeat);
    this.opts.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag));
    await heartbeat();
  }

  /** Counts events not keyed by user_id, and says once per process what that risks. */
  private noteMiskeyed(topic: string, partition: number, count: number): void {
    this.opts.metrics.miskeyed.inc({ topic }, count);
    if (this.warnedMiskeyed) return;
    this.warnedMiskeyed = true;
    this.opts.log.warn(
      'events whose Kafka key is not their user_id: with several ingest processes the rollups may miss a send paired with its engagements; key every event by user_id (docs/ingest.md)',
      { topic, partition, count },
    );
  }

  /**
   * Once any buffer is full or old enough (or when `all`), flushes every buffer that holds something: each
   * flush pays for two commits, an id look-up and a scan per rollup whatever its size, so fewer, larger flushes go faster.
   */
  private flushDue(all: boolean): Promise<void> {
    const { batchMaxRows, batchMaxMs } = this.opts.config.ingest;
    const due = all || this.buffers.due(Date.now(), batchMaxRows, batchMaxMs).length > 0;
    return due ? this.flush() : Promise.resolve();
  }

  /** One flush at a time: flushes are announced, written and committed in order. */
  private flush(): Promise<void> {
    const run = this.lock.then(() => this.flushNow());
    this.lock = run.catch(() => undefined);
    return run.catch((err) => this.fail(err as Error));
  }

  private async flushNow(): Promise<void> {
    const generation = this.generation;
    const snaps = this.buffers.nonEmpty().map((b) => this.buffers.take(b));
    const flushes = chunkForAnnouncement(snaps);
    for (let k = 0; k < flushes.length; k++) {
      if (generation !== this.generation) return; // re-read by the new generation from the committed offsets
      try {
        await this.withRetries('flush', () => this.protocol.write(flushes[k], () => generation === this.generation));
      } catch (err) {
        if (!isGroupError(err)) throw err;
        this.rewind(flushes.slice(k).flat(), err as Error);
        return;
      }
    }
  }

  /** Runs a warehouse step until it succeeds, pausing consumption while it fails retriably; other errors go up. */
  private async withRetries(operation: string, step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await step();
        if (this.paused && !this.stopping) {
          this.consumer.resume(this.topicNames.map((topic) => ({ topic })));
          this.paused = false;
          this.opts.log.info('warehouse reachable again; consuming resumed');
        }
        return;
      } catch (err) {
        if (isGroupError(err) || !isRetriable(err)) throw err;
        this.opts.metrics.retries.inc({ operation });
        if (!this.paused && !this.stopping) {
          this.consumer.pause(this.topicNames.map((topic) => ({ topic })));
          this.paused = true;
        }
        const waitMs = backoffMs(Math.min(attempt, 7), 500, 30_000);
        this.opts.log.warn(`${operation} failed; consuming paused, retrying`, { attempt, waitMs, error: (err as Error).message });
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
}

/**
 * Waits for work while heartbeating each second: kafkajs heartbeats only from its fetch loop, which a batch waiting
 * here holds up. A heartbeat that finds the group rebalancing throws, and kafkajs rejoins; the work goes on.
 */
async function beating(work: Promise<unknown>, heartbeat: () => Promise<void>): Promise<void> {
  const settled = work.then(
    () => true,
    () => true,
  );
  while (!(await Promise.race([settled, sleep(1_000).then(() => false)]))) await heartbeat();
}
