/**
 * Proves that kafkajs (the project's client) really works against the local
 * single-node KRaft broker of the chosen Kafka version: topics, keyed
 * produce, consumer groups with eachBatch and manual commits, resume from
 * committed offsets, rebalance on leave, and a 2 MB message end to end.
 *
 *   node bin/run-ts.js devtools/kafka/check-kafkajs.ts                 # fresh broker, default version
 *   POLICYLENS_KAFKA_VERSION=3.9.2 node bin/run-ts.js devtools/kafka/check-kafkajs.ts
 *   node bin/run-ts.js devtools/kafka/check-kafkajs.ts --use-running   # against the broker already up
 *   node bin/run-ts.js devtools/kafka/check-kafkajs.ts --prop offsets.topic.replication.factor=3   # experiment
 *
 * By default it starts a broker on a throw-away data dir
 * (.policylens/kafka/check-data-<version>), so the first-ever creation of
 * __consumer_offsets is exercised too (that is where kafkajs issue 1752 hung),
 * and stops it at the end. Exits non-zero on any failure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type LogEntry, type Producer } from 'kafkajs';
import { brokerStatus, startBroker, stopBroker, type BrokerStatus } from './local-broker.js';

const PARTITIONS = 6;
const MESSAGE_COUNT = 10_000;
const KEY_COUNT = 500;
const BIG_BYTES = 2 * 1024 * 1024;
const FETCH_LIMIT = 10 * 1024 * 1024;
const STEP_TIMEOUT_MS = 60_000;

const kafkajsVersion = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
const runId = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
const topic = `check-events-${runId}`;
const bigTopic = `check-big-${runId}`;
const dlqTopic = `check-big-dlq-${runId}`;

interface Ctx {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  consumers: Consumer[];
}

interface Received {
  seq: number;
  key: string;
  partition: number;
  offset: string;
}

// ---------------------------------------------------------------- helpers

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Consumers get short fetch waits so "nothing arrived" is proven in seconds, not 5 s polls. */
function newConsumer(ctx: Ctx, groupId: string, extra: Partial<Parameters<Kafka['consumer']>[0]> = {}): Consumer {
  const consumer = ctx.kafka.consumer({ groupId, maxWaitTimeInMs: 250, heartbeatInterval: 500, ...extra });
  ctx.consumers.push(consumer);
  return consumer;
}

async function disconnect(ctx: Ctx, consumer: Consumer): Promise<void> {
  await consumer.disconnect();
  ctx.consumers = ctx.consumers.filter((c) => c !== consumer);
}

function decode(value: Buffer | null): { seq: number } {
  return JSON.parse(value?.toString() ?? 'null') as { seq: number };
}

/** Runs an eachBatch consumer that commits each batch itself (autoCommit off), like the pipeline's ingest does. */
async function runCommittingConsumer(consumer: Consumer, sink: Received[]): Promise<void> {
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) return;
        sink.push({ seq: decode(message.value).seq, key: message.key?.toString() ?? '', partition: batch.partition, offset: message.offset });
        resolveOffset(message.offset);
      }
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      await heartbeat();
    },
  });
}

async function produceSeq(ctx: Ctx, from: number, count: number): Promise<void> {
  const chunk = 1000;
  for (let start = from; start < from + count; start += chunk) {
    const messages = [];
    for (let seq = start; seq < Math.min(start + chunk, from + count); seq++) {
      messages.push({ key: `user-${seq % KEY_COUNT}`, value: JSON.stringify({ seq }) });
    }
    await ctx.producer.send({ topic, messages });
  }
}

// ---------------------------------------------------------------- checks

async function checkCreateTopic(ctx: Ctx): Promise<string> {
  const created = await ctx.admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: PARTITIONS, replicationFactor: 1 },
      { topic: bigTopic, numPartitions: 1, replicationFactor: 1 },
      { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  assert(created, 'createTopics returned false (topics already existed?)');
  const meta = await ctx.admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = meta.topics[0]?.partitions ?? [];
  assert(partitions.length === PARTITIONS, `expected ${PARTITIONS} partitions, metadata says ${partitions.length}`);
  assert(
    partitions.every((p) => p.leader === 1),
    'not every partition has node 1 as leader',
  );
  return `created ${topic} with ${PARTITIONS} partitions (leaders on node 1), plus ${bigTopic} and ${dlqTopic}`;
}

async function checkProduce(ctx: Ctx): Promise<string> {
  const started = Date.now();
  await produceSeq(ctx, 0, MESSAGE_COUNT);
  const offsets = await ctx.admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  assert(total === MESSAGE_COUNT, `high watermarks add up to ${total}, expected ${MESSAGE_COUNT}`);
  const empty = offsets.filter((p) => p.high === '0').map((p) => p.partition);
  assert(empty.length === 0, `keys did not spread: partitions ${empty.join(',')} are empty`);
  const spread = offsets
    .sort((a, b) => a.partition - b.partition)
    .map((p) => p.high)
    .join('/');
  return `produced ${MESSAGE_COUNT} keyed messages (${KEY_COUNT} keys) in ${Date.now() - started} ms, per-partition counts ${spread}`;
}

async function checkConsumeAndCommit(ctx: Ctx, groupId: string): Promise<string> {
  const received: Received[] = [];
  const consumer = newConsumer(ctx, groupId);
  await consumer.connect();
  const started = Date.now();
  await runCommittingConsumer(consumer, received);
  await waitFor(`${MESSAGE_COUNT} messages`, () => received.length >= MESSAGE_COUNT);
  await sleep(500); // let any stray duplicate show up before judging
  await disconnect(ctx, consumer);
  const elapsed = Date.now() - started;

  const seqs = new Set(received.map((r) => r.seq));
  assert(received.length === MESSAGE_COUNT, `received ${received.length} messages, expected exactly ${MESSAGE_COUNT}`);
  assert(seqs.size === MESSAGE_COUNT, `only ${seqs.size} distinct messages among ${received.length}`);
  assertKeyOrder(received);

  const committed = (await ctx.admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [];
  const high = await ctx.admin.fetchTopicOffsets(topic);
  assert(committed.length === PARTITIONS, `offsets fetched for ${committed.length} partitions, expected ${PARTITIONS}`);
  for (const p of committed) {
    const h = high.find((x) => x.partition === p.partition)?.high;
    assert(p.offset === h, `partition ${p.partition}: committed ${p.offset}, high watermark ${h}`);
  }
  return `consumed all ${MESSAGE_COUNT} with eachBatch in ${elapsed} ms (no duplicates, per-key order kept, each key on one partition); committed offsets equal the high watermarks on all ${PARTITIONS} partitions`;
}

function assertKeyOrder(received: Received[]): void {
  const byKey = new Map<string, Received[]>();
  for (const r of received) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const [key, list] of byKey) {
    assert(new Set(list.map((r) => r.partition)).size === 1, `key ${key} landed on more than one partition`);
    for (let i = 1; i < list.length; i++) {
      assert(list[i - 1]!.seq < list[i]!.seq, `key ${key}: seq ${list[i]!.seq} arrived after ${list[i - 1]!.seq}`);
    }
  }
}

async function checkResume(ctx: Ctx, groupId: string): Promise<string> {
  const received: Received[] = [];
  const consumer = newConsumer(ctx, groupId);
  let fetchesAfterJoin = 0;
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.FETCH, () => joined && fetchesAfterJoin++);
  await consumer.connect();
  // fromBeginning: true on purpose: only the committed offsets can keep it from re-reading everything.
  await runCommittingConsumer(consumer, received);
  await waitFor('the restarted consumer to join and fetch a few times', () => fetchesAfterJoin >= 4);
  const reread = received.length;
  assert(reread === 0, `restarted consumer re-read ${reread} already-committed messages`);

  const extra = 12;
  await produceSeq(ctx, MESSAGE_COUNT, extra);
  await waitFor(`${extra} new messages`, () => received.length >= extra);
  await sleep(500);
  await disconnect(ctx, consumer);
  assert(received.length === extra, `expected exactly ${extra} new messages after restart, got ${received.length}`);
  assert(
    received.every((r) => r.seq >= MESSAGE_COUNT),
    'restarted consumer received an old message',
  );
  return `restarted consumer in the same group (fromBeginning: true) read 0 old messages over ${fetchesAfterJoin} fetches, then exactly the ${extra} newly produced ones`;
}

interface Member {
  consumer: Consumer;
  partitions: number[];
  /** seq -> partition it was read from */
  got: Map<number, number>;
}

async function startMember(ctx: Ctx, groupId: string): Promise<Member> {
  const consumer = newConsumer(ctx, groupId);
  const member: Member = { consumer, partitions: [], got: new Map() };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) member.got.set(decode(message.value).seq, batch.partition);
    },
  });
  return member;
}

function hasAll(members: Member[], from: number, count: number): boolean {
  for (let seq = from; seq < from + count; seq++) if (!members.some((m) => m.got.has(seq))) return false;
  return true;
}

function seqsIn(member: Member, from: number, count: number): number[] {
  return [...member.got.keys()].filter((seq) => seq >= from && seq < from + count);
}

async function checkRebalance(ctx: Ctx, groupId: string): Promise<string> {
  const a = await startMember(ctx, groupId);
  const b = await startMember(ctx, groupId);
  const split = () => a.partitions.length > 0 && b.partitions.length > 0 && disjointCover(a.partitions, b.partitions);
  await waitFor('two members to share the 6 partitions', split);
  const splitText = `A=[${a.partitions.join(',')}] B=[${b.partitions.join(',')}]`;

  // Fresh messages after the split, so both members must serve their own partitions.
  const count = 120;
  const phase1 = MESSAGE_COUNT + 1000;
  await produceSeq(ctx, phase1, count);
  await waitFor(`the two members to read the ${count} messages produced after the split`, () => hasAll([a, b], phase1, count));
  const fromA = seqsIn(a, phase1, count);
  const fromB = seqsIn(b, phase1, count);
  assert(fromA.length > 0 && fromB.length > 0, `one member read nothing after the split (A ${fromA.length}, B ${fromB.length})`);
  assert(
    fromA.every((s) => a.partitions.includes(a.got.get(s)!)),
    'A read from a partition it was not assigned',
  );
  assert(
    fromB.every((s) => b.partitions.includes(b.got.get(s)!)),
    'B read from a partition it was not assigned',
  );

  await disconnect(ctx, b.consumer);
  await waitFor('A to take over all 6 partitions after B left', () => a.partitions.length === PARTITIONS);
  const phase2 = phase1 + count;
  await produceSeq(ctx, phase2, count);
  await waitFor(`A to read the ${count} messages produced after B left`, () => hasAll([a], phase2, count));
  const partitionsServed = new Set(seqsIn(a, phase2, count).map((s) => a.got.get(s))).size;
  await disconnect(ctx, a.consumer);
  return (
    `two members split the partitions ${splitText} and read ${fromA.length}+${fromB.length} of ${count} new messages each from its own partitions; ` +
    `after B disconnected A was reassigned all ${PARTITIONS} and read the next ${count} from ${partitionsServed} partitions`
  );
}

/** Both members' latest assignments (each updated on its own GROUP_JOIN) partition 0..5 exactly once. */
function disjointCover(x: number[], y: number[]): boolean {
  const all = [...x, ...y];
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS && all.every((p) => p >= 0 && p < PARTITIONS);
}

/** The pipeline's poison-message path: a 2 MB message must be produced, consumed and re-produced to a dead-letter topic. */
async function checkBigMessage(ctx: Ctx): Promise<string> {
  const payload = randomBytes(BIG_BYTES);
  const digest = sha256(payload);
  await ctx.producer.send({
    topic: bigTopic,
    messages: [
      { key: 'poison', value: payload },
      { key: 'after', value: 'small' },
    ],
  });

  const seen: { key: string; size: number; digest: string }[] = [];
  const consumer = newConsumer(ctx, `check-big-${runId}`, { maxBytesPerPartition: FETCH_LIMIT, maxBytes: 2 * FETCH_LIMIT });
  await consumer.connect();
  await consumer.subscribe({ topic: bigTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value ?? Buffer.alloc(0);
      seen.push({ key: message.key?.toString() ?? '', size: value.length, digest: sha256(value) });
      if (value.length > 1024 * 1024) {
        await ctx.producer.send({ topic: dlqTopic, messages: [{ key: message.key, value, headers: { reason: 'too-large' } }] });
      }
    },
  });
  await waitFor('the 2 MB message and the one after it', () => seen.length >= 2);
  await disconnect(ctx, consumer);
  assert(seen[0]?.key === 'poison' && seen[0].size === BIG_BYTES && seen[0].digest === digest, `2 MB message came back wrong: ${JSON.stringify(seen[0])}`);
  assert(seen[1]?.key === 'after', 'the message after the 2 MB one was not consumed');

  const dead = await readOne(ctx, dlqTopic);
  assert(dead.length === BIG_BYTES && sha256(dead) === digest, 'dead-lettered copy differs from the original');
  return `a ${BIG_BYTES / 1024 / 1024} MB message was produced, consumed intact (sha256 match) with maxBytesPerPartition=${FETCH_LIMIT / 1024 / 1024} MB, the next message followed it, and re-producing it to a dead-letter topic and reading it back worked`;
}

async function readOne(ctx: Ctx, fromTopic: string): Promise<Buffer> {
  let value: Buffer | null = null;
  const consumer = newConsumer(ctx, `check-dlq-${runId}`, { maxBytesPerPartition: FETCH_LIMIT, maxBytes: 2 * FETCH_LIMIT });
  await consumer.connect();
  await consumer.subscribe({ topic: fromTopic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void (value = message.value) });
  await waitFor(`a message on ${fromTopic}`, () => value !== null);
  await disconnect(ctx, consumer);
  return value as unknown as Buffer;
}

// ---------------------------------------------------------------- main

/**
 * kafkajs logs expected noise at ERROR level (rebalances, the first
 * GroupCoordinator lookup while __consumer_offsets is created), so keep its
 * log in memory and print it only when a check fails.
 */
const kafkajsLog: string[] = [];

function bufferedLogCreator() {
  return ({ namespace, level, label, log }: LogEntry) => {
    const { message, ...rest } = log;
    kafkajsLog.push(`${label} [${namespace}] ${message} ${JSON.stringify(rest)}`);
    if (kafkajsLog.length > 200) kafkajsLog.shift();
    void level;
  };
}

/** `--prop key=value` (repeatable) overrides a broker setting, to reproduce failures. */
function propArgs(): Record<string, string> {
  const props: Record<string, string> = {};
  process.argv.forEach((arg, i) => {
    const next = process.argv[i + 1];
    if (arg !== '--prop' || !next?.includes('=')) return;
    const at = next.indexOf('=');
    props[next.slice(0, at)] = next.slice(at + 1);
  });
  return props;
}

/** Set once this script started the broker, so every exit path stops it again. */
let ownedBroker = false;

async function prepareBroker(useRunning: boolean): Promise<{ status: BrokerStatus; owned: boolean }> {
  if (useRunning) {
    const status = await brokerStatus();
    if (!status.answering) throw new Error('--use-running given, but no local broker answers (start it with startBroker)');
    return { status, owned: false };
  }
  const running = await brokerStatus();
  if (running.running) {
    throw new Error(`a local broker is already running (pid ${running.pid}, ${running.version}); stop it or pass --use-running`);
  }
  const version = process.env.POLICYLENS_KAFKA_VERSION ?? 'default';
  const dataDir = join(running.dataDir, '..', `check-data-${version}`);
  rmSync(dataDir, { recursive: true, force: true }); // fresh cluster: exercise first-time __consumer_offsets creation
  const started = Date.now();
  ownedBroker = true;
  const extraProperties = propArgs();
  if (Object.keys(extraProperties).length) console.log(`  broker: extra properties ${JSON.stringify(extraProperties)}`);
  const status = await startBroker({ dataDir, extraProperties, log: (m) => console.log(`  broker: ${m}`) });
  console.log(`  broker: up in ${((Date.now() - started) / 1000).toFixed(1)} s (incl. jar check + format)`);
  return { status, owned: true };
}

async function main(): Promise<number> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const useRunning = process.argv.includes('--use-running');
  const { status, owned } = await prepareBroker(useRunning);
  console.log(`kafkajs ${kafkajsVersion} vs Apache Kafka ${status.version} (KRaft single node) on ${status.bootstrap}`);

  const kafka = new Kafka({
    clientId: 'policylens-check',
    brokers: [status.bootstrap],
    logLevel: logLevel.INFO,
    logCreator: bufferedLogCreator,
  });
  const ctx: Ctx = {
    kafka,
    admin: kafka.admin(),
    producer: kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }),
    consumers: [],
  };
  const groupId = `check-group-${runId}`;
  const checks: [string, () => Promise<string>][] = [
    ['create topic', () => checkCreateTopic(ctx)],
    ['produce 10k keyed', () => checkProduce(ctx)],
    ['consume + commit (eachBatch)', () => checkConsumeAndCommit(ctx, groupId)],
    ['resume from committed offsets', () => checkResume(ctx, groupId)],
    ['rebalance on leave', () => checkRebalance(ctx, `check-rebalance-${runId}`)],
    ['2 MB message + dead-letter', () => checkBigMessage(ctx)],
  ];

  let passed = 0;
  let failed = 0;
  try {
    await ctx.admin.connect();
    await ctx.producer.connect();
    for (const [name, check] of checks) {
      const started = Date.now();
      try {
        const detail = await check();
        passed++;
        console.log(`PASS ${name} (${Date.now() - started} ms): ${detail}`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${name} (${Date.now() - started} ms): ${(err as Error).message}`);
        console.log(`  last kafkajs log lines:\n    ${kafkajsLog.slice(-40).join('\n    ')}`);
        break; // later checks build on earlier ones
      }
    }
  } finally {
    await cleanup(ctx, owned);
  }
  const skipped = checks.length - passed - failed;
  console.log(`${failed ? 'FAILED' : 'OK'}: kafkajs ${kafkajsVersion} against Kafka ${status.version}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed ? 1 : 0;
}

async function cleanup(ctx: Ctx, owned: boolean): Promise<void> {
  for (const consumer of ctx.consumers) await consumer.disconnect().catch(() => {});
  if (!owned) await ctx.admin.deleteTopics({ topics: [topic, bigTopic, dlqTopic] }).catch(() => {});
  await ctx.producer.disconnect().catch(() => {});
  await ctx.admin.disconnect().catch(() => {});
  if (owned) {
    const stop = await stopBroker();
    console.log(`  broker: stopped (pid ${stop.pid}${stop.killed ? ', had to SIGKILL' : ''})`);
  }
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    // Set-up errors (no Java, broker already up, ...) carry their own advice; the stack adds nothing.
    console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    if (ownedBroker) await stopBroker().catch(() => {});
    process.exit(1);
  },
);
