// The mapping stage: a Kafka process from the raw topic to the event topics. Each batch of raw messages is mapped
// (sources/meta/), its events produced keyed by user_id and its dead letters to the DLQ, all with acks from every
// replica, and only then are the raw offsets committed: a crash maps the batch again, and the events' deterministic
// ids make that harmless. The watermark state is rebuilt at start from the raw topic up to the committed offsets.
import type { Admin, Batch, IHeaders, KafkaMessage, Message, Producer } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { sleep } from '../common/retry.js';
import { RAW_HEADERS, topicNames } from '../events/topics.js';
import { familyOfType, type EventFamily } from '../events/types.js';
import { deadLetterMessage } from '../ingest/dead-letter.js';
import { waitUntilIdle } from '../ingest/idle.js';
import { createKafka, PARTITIONER, prepareProjectTopics } from '../ingest/kafka.js';
import { readRanges, type TopicRange } from '../ingest/range-reader.js';
import { MetaMapper } from './meta/map.js';
import type { MapResult } from './meta/result.js';

export interface MapStageOptions {
  config: Config;
  log?: Logger;
  /** Map the whole raw topic again (after a better mapping): the stage's group starts over from the earliest offset. */
  fromBeginning?: boolean;
  /** Exit once the raw topic has been caught up for this many seconds. */
  untilIdleSeconds?: number;
  stopSignal?: AbortSignal;
  registry?: Registry;
}

export interface MapStageStats {
  bodies: number;
  events: number;
  deadLettered: number;
  ignored: number;
  /** Raw messages read at start to rebuild the watermark state, not mapped to output. */
  rebuiltFrom: number;
}

/** The stage's consumer group: one per deployment, beside the ingest's. */
export const mapGroupId = (config: Config): string => `${config.kafka.groupId}-map`;

function header(headers: IHeaders | undefined, name: string): string | null {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? null : first.toString();
}

/** When the collector received the body: its header, else the message's own timestamp. */
function receivedAt(m: KafkaMessage): number {
  const at = Date.parse(header(m.headers, RAW_HEADERS.receivedAt) ?? '');
  return Number.isFinite(at) ? at : Number(m.timestamp);
}

/** Only Meta's webhooks are mapped; a raw message of another source is passed over (a later stage will have it). */
const isMeta = (m: KafkaMessage): boolean => (header(m.headers, RAW_HEADERS.source) ?? 'meta') === 'meta';

function createStageMetrics(registry: Registry) {
  const r = [registry];
  return {
    bodies: new Counter({ name: 'policylens_map_bodies_total', help: 'Raw webhook bodies mapped', registers: r }),
    events: new Counter({
      name: 'policylens_map_events_total',
      help: 'Contract events produced by the mapping, by topic',
      labelNames: ['topic'],
      registers: r,
    }),
    dlq: new Counter({ name: 'policylens_map_dlq_total', help: 'Raw bodies sent to the dead-letter topic, by reason', labelNames: ['reason'], registers: r }),
    ignored: new Counter({
      name: 'policylens_map_ignored_total',
      help: 'Parts of webhook bodies with no place in the contract, kept in the raw topic, by kind',
      labelNames: ['kind'],
      registers: r,
    }),
  };
}

/** Raw offsets below the group's committed ones: what was mapped before, to rebuild the state from. */
async function mappedRanges(admin: Admin, groupId: string, topic: string): Promise<TopicRange[]> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ranges: TopicRange[] = [];
  for (const p of committed?.partitions ?? []) {
    const next = BigInt(p.offset);
    if (next > 0n) ranges.push({ topic, partition: p.partition, first: 0n, last: next - 1n });
  }
  return ranges;
}

export async function runMapStage(opts: MapStageOptions): Promise<MapStageStats> {
  const { config } = opts;
  const log = opts.log ?? createLogger({ component: 'map' }, config.log.level);
  const names = topicNames(config.kafka.topicPrefix);
  const groupId = mapGroupId(config);
  const kafka = createKafka(config, log, `${config.kafka.clientId}-map`);
  const metrics = createStageMetrics(opts.registry ?? new Registry());
  const stats: MapStageStats = { bodies: 0, events: 0, deadLettered: 0, ignored: 0, rebuiltFrom: 0 };
  const mapper = new MetaMapper();
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: PARTITIONER });
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024 });
  const stop = new AbortController();
  opts.stopSignal?.addEventListener('abort', () => stop.abort(), { once: true });
  let failed: (err: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  failure.catch(() => undefined);

  try {
    await admin.connect();
    await prepareProjectTopics(admin, config);
    if (opts.fromBeginning) {
      await admin.resetOffsets({ groupId, topic: names.raw, earliest: true });
      log.info('mapping the raw topic again from its start', { group: groupId });
    } else {
      const ranges = await mappedRanges(admin, groupId, names.raw);
      if (ranges.length) {
        const read = await readRanges(kafka, admin, groupId, ranges, log, 600_000);
        for (const messages of read.values()) {
          for (const m of messages) if (m.value && isMeta(m)) mapper.map(m.value, { receivedAt: receivedAt(m) });
          stats.rebuiltFrom += messages.length;
        }
        log.info('watermark state rebuilt', { messages: stats.rebuiltFrom, threads: mapper.book.size });
      }
    }
    await producer.connect();
    await consumer.connect();
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) failed(payload.error);
    });
    /** Maps one batch and produces its events and dead letters, acknowledged by every in-sync replica. */
    const mapBatch = async (batch: Batch, isRunning: () => boolean, isStale: () => boolean): Promise<void> => {
      const out: Record<string, Message[]> = {};
      const push = (topic: string, m: Message) => {
        (out[topic] ??= []).push(m);
      };
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) throw new Error('the batch was interrupted by a rebalance or a stop');
        if (!isMeta(m)) continue;
        const result: MapResult =
          m.value === null
            ? { events: [], ignored: {}, problems: [{ reason: 'not_json', path: '$', problem: 'the message has no value' }] }
            : mapper.map(m.value, { receivedAt: receivedAt(m) });
        stats.bodies++;
        metrics.bodies.inc();
        for (const e of result.events) push(names.events[familyOfType(e.type) as EventFamily], { key: e.user_id, value: JSON.stringify(e) });
        for (const [kind, n] of Object.entries(result.ignored)) {
          metrics.ignored.inc({ kind }, n);
          stats.ignored += n;
        }
        if (result.problems.length) {
          const [first] = result.problems;
          const detail = result.problems.map((p) => `${p.path}: ${p.problem}`).join('; ');
          push(
            names.dlq,
            deadLetterMessage(
              { key: m.key, value: m.value, headers: m.headers ?? {}, reason: first.reason, detail, offset: m.offset },
              batch.topic,
              batch.partition,
            ),
          );
          metrics.dlq.inc({ reason: first.reason });
          stats.deadLettered++;
        }
      }
      const topicMessages = Object.entries(out).map(([topic, messages]) => ({ topic, messages }));
      if (topicMessages.length) await producer.sendBatch({ topicMessages, acks: -1 });
      for (const [topic, messages] of Object.entries(out)) {
        if (topic === names.dlq) continue;
        metrics.events.inc({ topic }, messages.length);
        stats.events += messages.length;
      }
    };
    let broken = false;
    await consumer.subscribe({ topics: [names.raw], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        // The book now holds what a failed batch saw but never produced; mapping that batch again with it would
        // not repeat the receipts its watermarks gave. Only a new stage, which rebuilds the book, may go on.
        if (broken) return;
        try {
          await mapBatch(batch, isRunning, isStale);
          const last = batch.messages[batch.messages.length - 1];
          if (!last) return;
          // Committed only now that every event of the batch is acknowledged.
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }]);
          resolveOffset(last.offset);
          await heartbeat();
        } catch (err) {
          broken = true;
          failed(new Error(`the mapping stage stopped; a restart rebuilds its state from the raw topic: ${(err as Error).message}`));
        }
      },
    });
    log.info('mapping stage running', { group: groupId, raw: names.raw });
    const stopped = new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const idle =
      opts.untilIdleSeconds !== undefined
        ? waitUntilIdle({ admin, groupId, topics: [names.raw], idleMs: opts.untilIdleSeconds * 1000, held: () => 0, signal: stop.signal })
        : new Promise<void>(() => undefined);
    await Promise.race([stopped, idle, failure]);
    log.info('mapping stage stopped', { ...stats });
    return stats;
  } finally {
    stop.abort();
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The stage in a long-running process (`up`): when it stops on a failure (the broker away, say), a new one starts
 * after a pause, rebuilding its state from the raw topic, until the stop signal.
 */
export async function keepMapping(opts: MapStageOptions & { log: Logger; stopSignal: AbortSignal }, pauseMs = 5_000): Promise<void> {
  while (!opts.stopSignal.aborted) {
    try {
      await runMapStage(opts);
      return;
    } catch (err) {
      opts.log.error('mapping stage failed; starting it again', { error: (err as Error).message, pauseMs });
      await sleep(pauseMs, opts.stopSignal).catch(() => undefined);
    }
  }
}
