// `npm run demo`: simulate, ingest through the local Kafka broker (or load the file where Java is missing),
// print engagement and opt-outs by frequency and regime, then serve the API and the dashboards. With
// `--source meta-webhooks` the same world goes in as Meta's webhooks and a send log through collect (cli/demo-meta.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { loadFile } from '../ingest/load-file.js';
import { startBroker } from '../devtools/kafka/local-broker.js';
import { ingestSummary, runIngest } from '../ingest/run-ingest.js';
import { simulateToKafka } from '../ingest/simulate-to-kafka.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse, type ReadyWarehouse } from '../warehouse/open.js';
import { metaThroughCollect } from './demo-meta.js';
import { printLoadResult } from './load.js';
import { printSummary } from './summary.js';
import { startServer } from './serve.js';
import { positiveInt, UsageError } from './usage-error.js';

const DEMO = { events: 200_000, seed: 7, badRatio: 0.001, dupRatio: 0.01 };
const SOURCES = ['simulator', 'meta-webhooks'] as const;
type Source = (typeof SOURCES)[number];
type DemoSize = typeof DEMO;

const hasJava = () => spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

async function ensureBroker(config: Config): Promise<void> {
  if (config.kafka.brokersConfigured) return;
  console.log('starting the local Kafka broker (first run downloads the official jars with Maven)…');
  const broker = await startBroker({ log: (m) => console.error(`  ${m}`) });
  console.log(`kafka ${broker.version} on ${broker.bootstrap}`);
}

/** What reached the event topics goes to the warehouse; `before` is printed first (what went through collect). */
async function ingestAndSummarise(config: Config, before?: string): Promise<ReadyWarehouse> {
  console.log('ingesting until every partition has been idle for 2 s…');
  const ready = await openReadyWarehouse(config);
  try {
    const stats = await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, warehouse: ready, log: createLogger({ component: 'ingest' }, 'warn') });
    if (before) console.log(before);
    console.log(ingestSummary(stats));
    await printSummary(ready.wh, config);
  } catch (err) {
    await ready.wh.close();
    throw err;
  }
  return ready;
}

async function viaKafka(config: Config, dir: string, demo: DemoSize): Promise<ReadyWarehouse> {
  await ensureBroker(config);
  console.log(`producing ${demo.events.toLocaleString('en-US')} simulated events (seed ${demo.seed}) to ${config.kafka.brokers.join(',')}`);
  await simulateToKafka(config, { ...demo, truthFile: join(dir, 'kafka-truth.json'), progress: true });
  return ingestAndSummarise(config);
}

async function viaMetaWebhooks(config: Config, dir: string, demo: DemoSize): Promise<ReadyWarehouse> {
  await ensureBroker(config);
  const line = await metaThroughCollect(config, dir, { events: demo.events, seed: demo.seed, dupRatio: demo.dupRatio });
  return ingestAndSummarise(config, line);
}

async function viaFile(config: Config, dir: string, demo: DemoSize): Promise<ReadyWarehouse> {
  const file = join(dir, 'events.ndjson');
  console.log(`simulating ${demo.events.toLocaleString('en-US')} events (seed ${demo.seed}) to ${file}`);
  await simulateToFile({ ...demo, out: file, progress: true });
  const ready = await openReadyWarehouse(config);
  try {
    console.log(`loading into the ${ready.wh.mode} warehouse`);
    printLoadResult(await loadFile(file, ready.writer, { batchRows: config.ingest.batchMaxRows, progress: true }));
    await printSummary(ready.wh, config);
  } catch (err) {
    await ready.wh.close();
    throw err;
  }
  return ready;
}

export async function runDemo(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'no-serve': { type: 'boolean' }, source: { type: 'string' }, events: { type: 'string' } },
  });
  const source = (values.source ?? 'simulator') as Source;
  if (!SOURCES.includes(source)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(values.source)}`);
  const demo: DemoSize = { ...DEMO, events: positiveInt('events', values.events, DEMO.events) };
  const config = loadConfig();
  const kafka = config.kafka.brokersConfigured || hasJava();
  if (source === 'meta-webhooks' && !kafka) {
    console.error('--source meta-webhooks needs a Kafka broker (collect appends to its topics), and Java was not found to run the local one.');
    console.error('Install Java 17+ and Maven, or set POLICYLENS_KAFKA_BROKERS to a running broker.');
    return 2;
  }
  const dir = join(config.dataDir, '..', 'demo');
  mkdirSync(dir, { recursive: true });
  let ready: ReadyWarehouse;
  if (source === 'meta-webhooks') ready = await viaMetaWebhooks(config, dir, demo);
  else if (kafka) ready = await viaKafka(config, dir, demo);
  else {
    console.log('Java was not found, so the demo cannot run a local Kafka broker: loading the simulated file directly instead.');
    console.log('(Install Java 17+ and Maven, or set POLICYLENS_KAFKA_BROKERS, to run the demo through Kafka.)');
    ready = await viaFile(config, dir, demo);
  }
  if (values['no-serve']) {
    await ready.wh.close();
    return 0;
  }
  console.log('\nserving the API and the dashboards (Ctrl-C to stop)…');
  return startServer(config, { withIngest: false, ready });
}
