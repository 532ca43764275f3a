// npm run bench:ingest — N simulated events Kafka → warehouse, end to end, beside (a) the kafkajs consume-only
// rate on the same topics and (b) the engine's own ingest of the same events from an NDJSON file.
// "End to end" is the ingest's own time, from the first message held to the last flush committed; the whole
// process (start-up, loading the engine, the idle second before it stops) is reported beside it.
// With --server, the same stream also goes into a local ClickHouse server (devtools/clickhouse, a fresh one per run,
// at its default settings) with 1 and then 2 ingest processes in one group; each process's peak RSS and the
// server's are reported beside the embedded figures.
// With --cluster N, the same again into a fresh local cluster of N servers (the warehouse sharded over them,
// docs/operations.md) with 1 and then 2 ingest processes; each server's peak RSS is reported.
// With --ingest-heap-mb=N the server runs are repeated with the ingest processes' V8 heap capped at N MB
// (NODE_OPTIONS=--max-old-space-size=N), the lever for their memory.
// Usage: npm run bench:ingest -- [events=1000000] [--server [--ingest-heap-mb=N]] [--cluster N]   (starts the local broker unless POLICYLENS_KAFKA_BROKERS is set)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { allTopics, topicNames } from '../events/topics.js';
import { createKafka } from '../ingest/kafka.js';
import { startBroker } from '../devtools/kafka/local-broker.js';
import { simulateToKafka } from '../ingest/simulate-to-kafka.js';
import { parseStep } from '../ingest/steps.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { startTestServer } from '../test/helpers/local-server.js';
import { engineFileRate } from './engine-file-rate.js';

const args = process.argv.slice(2);
const withServer = args.includes('--server');
const clusterAt = args.indexOf('--cluster');
const shards = clusterAt >= 0 ? Number(args[clusterAt + 1]) : 0;
if (clusterAt >= 0 && !(Number.isInteger(shards) && shards >= 2)) throw new Error(`--cluster takes a number of servers, 2 or more; got ${args[clusterAt + 1]}`);
const events = Number(args.find((a, i) => !a.startsWith('--') && i !== clusterAt + 1) ?? 1_000_000);
const heapMb = args.find((a) => a.startsWith('--ingest-heap-mb='))?.split('=')[1];
const SIM = { events, seed: 7, badRatio: 0, dupRatio: 0 };
const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));
const log = createLogger({ component: 'bench' }, 'warn');

/**
 * Reads every message of the topics with a do-nothing eachBatch: the ceiling kafkajs sets. With `validate`, each
 * message is also parsed and checked against the contract: the ceiling without the warehouse.
 */
async function consumeOnly(config: Config, total: number, validate = false): Promise<number> {
  const kafka = createKafka(config, log);
  const consumer = kafka.consumer({
    groupId: `${config.kafka.groupId}-consume-${validate ? 'validate' : 'only'}`,
    maxBytesPerPartition: 10 << 20,
    maxBytes: 50 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.values(topicNames(config.kafka.topicPrefix).events), fromBeginning: true });
  let seen = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (!started) started = performance.now();
        if (validate)
          for (const m of batch.messages)
            if (parseStep(m.value!, Number(m.timestamp)).kind !== 'ok') throw new Error('an invalid event in the benchmark stream');
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return total / seconds;
}

interface IngestRun {
  /** Whole processes, start to exit, less the idle second each waits before stopping. */
  seconds: number;
  /** The pipeline alone: the first message held by any process to the last flush committed by any. */
  pipelineSeconds: number;
  /** Each process's closing log line (counts, max_rss_mb). */
  stats: Record<string, number>[];
}

/** Runs `policylens ingest --until-idle 1` as `n` processes of one group and reads their closing log lines. */
async function ingestProcesses(env: NodeJS.ProcessEnv, n = 1): Promise<IngestRun> {
  const started = performance.now();
  const runs = Array.from({ length: n }, async () => {
    const child = spawn(process.execPath, [BIN, 'ingest', '--until-idle', '1', '--no-metrics'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`ingest exited ${code}:\n${stderr.slice(-2000)}`);
    return stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'ingest stopped');
  });
  const stats = await Promise.all(runs);
  const seconds = (performance.now() - started) / 1000 - 1;
  const first = Math.min(...stats.filter((s) => s.firstHeldAt).map((s) => s.firstHeldAt));
  const last = Math.max(...stats.filter((s) => s.lastCommittedAt).map((s) => s.lastCommittedAt));
  return { seconds, pipelineSeconds: (last - first) / 1000, stats };
}

/**
 * The stream into a fresh local server (or a cluster of `servers`) with `n` ingest processes: rates, each
 * process's and each server's peak RSS.
 */
async function serverRun(env: NodeJS.ProcessEnv, n: number, heap?: string, servers = 1): Promise<Record<string, unknown>> {
  const server = await startTestServer(`bench-${n}`, servers);
  try {
    const runEnv: NodeJS.ProcessEnv = {
      ...env,
      POLICYLENS_CLICKHOUSE_URL: server.url,
      POLICYLENS_KAFKA_GROUP: `${env.POLICYLENS_KAFKA_GROUP}-server-${servers}-${n}-${heap ?? 'default'}`,
    };
    if (server.cluster) Object.assign(runEnv, { POLICYLENS_CLICKHOUSE_CLUSTER: server.cluster, POLICYLENS_CLICKHOUSE_NODES: server.urls.join(',') });
    if (heap) runEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --max-old-space-size=${heap}`.trim();
    const run = await ingestProcesses(runEnv, n);
    const written = run.stats.reduce((a, s) => a + s.written, 0);
    if (written !== events) throw new Error(`${n} process(es) wrote ${written} of ${events} events`);
    return {
      servers,
      processes: n,
      ingest_heap_cap_mb: heap ? Number(heap) : null,
      end_to_end_per_s: Math.round(events / run.pipelineSeconds),
      end_to_end_seconds: +run.pipelineSeconds.toFixed(2),
      whole_process_seconds: +(run.seconds + 1).toFixed(2),
      ingest_peak_rss_mb: run.stats.map((s) => s.max_rss_mb),
      server_peak_rss_mb: servers === 1 ? server.peakRssMb() : server.urls.map((_, i) => server.peakRssMb(i + 1)),
      written,
    };
  } finally {
    await server.dispose();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'policylens-bench-ingest-'));
const prefix = `bench${Date.now()}`;
try {
  const env = {
    ...process.env,
    POLICYLENS_DATA_DIR: join(dir, 'data'),
    POLICYLENS_TOPIC_PREFIX: prefix,
    POLICYLENS_KAFKA_GROUP: `${prefix}-ingest`,
    POLICYLENS_CLICKHOUSE_URL: '',
  };
  if (!process.env.POLICYLENS_KAFKA_BROKERS) await startBroker();
  const config = loadConfig(env);
  const t = performance.now();
  await simulateToKafka(config, { ...SIM, truthFile: join(dir, 'truth.json'), log });
  const produceRate = events / ((performance.now() - t) / 1000);

  const consumeRate = await consumeOnly(config, events);
  const validateRate = await consumeOnly(config, events, true);
  const ingest = await ingestProcesses(env);
  const endToEnd = events / ingest.pipelineSeconds;
  const wholeProcess = events / ingest.seconds;

  const file = join(dir, 'events.ndjson');
  await simulateToFile({ ...SIM, out: file });
  const { wh } = await openReadyWarehouse(config);
  const engine = await engineFileRate(wh, file);
  await wh.close();

  const result = {
    date: new Date().toISOString(),
    events,
    produce_per_s: Math.round(produceRate),
    consume_only_per_s: Math.round(consumeRate),
    consume_and_validate_per_s: Math.round(validateRate),
    end_to_end_per_s: Math.round(endToEnd),
    end_to_end_seconds: +ingest.pipelineSeconds.toFixed(2),
    whole_process_per_s: Math.round(wholeProcess),
    whole_process_seconds: +(ingest.seconds + 1).toFixed(2),
    end_to_end_vs_consume_only: +(endToEnd / consumeRate).toFixed(3),
    end_to_end_vs_consume_and_validate: +(endToEnd / validateRate).toFixed(3),
    engine_file_insert_per_s: Math.round(engine.rate),
    end_to_end_vs_engine_file: +(endToEnd / engine.rate).toFixed(3),
    ingest_peak_rss_mb: ingest.stats[0].max_rss_mb,
    written: ingest.stats[0].written,
    flushes: ingest.stats[0].flushes,
    targets: { end_to_end_per_s: 100_000, vs_consume_only: 0.7, peak_rss_mb: 600, server_mode_ingest_peak_rss_mb: 250 },
    server: withServer
      ? [await serverRun(env, 1), await serverRun(env, 2), ...(heapMb ? [await serverRun(env, 1, heapMb), await serverRun(env, 2, heapMb)] : [])]
      : undefined,
    cluster: shards ? [await serverRun(env, 1, undefined, shards), await serverRun(env, 2, undefined, shards)] : undefined,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL(`./results/ingest-${withServer ? 'server-' : ''}${shards ? `cluster${shards}-` : ''}${events}.json`, import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  await deleteBenchTopics(loadConfig({ ...process.env, POLICYLENS_TOPIC_PREFIX: prefix }));
}

/** Each run makes its own topics (about 250 MB for 1M events); they go when it ends. */
async function deleteBenchTopics(config: Config): Promise<void> {
  const admin = createKafka(config, log).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: allTopics(topicNames(config.kafka.topicPrefix)) });
  } catch (err) {
    console.error(`could not delete the benchmark's topics: ${(err as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}
