// `npm run demo`: simulate, ingest through the local Kafka broker (or load the file where Java is missing),
// print engagement and opt-outs by frequency and regime, then serve the API and the dashboards.
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
import { printLoadResult } from './load.js';
import { printSummary } from './summary.js';
import { startServer } from './serve.js';

const DEMO = { events: 200_000, seed: 7, badRatio: 0.001, dupRatio: 0.01 };

const hasJava = () => spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

async function viaKafka(config: Config, dir: string): Promise<ReadyWarehouse> {
  if (!config.kafka.brokersConfigured) {
    console.log('starting the local Kafka broker (first run downloads the official jars with Maven)…');
    const broker = await startBroker({ log: (m) => console.error(`  ${m}`) });
    console.log(`kafka ${broker.version} on ${broker.bootstrap}`);
  }
  console.log(`producing ${DEMO.events.toLocaleString('en-US')} simulated events (seed ${DEMO.seed}) to ${config.kafka.brokers.join(',')}`);
  await simulateToKafka(config, { ...DEMO, truthFile: join(dir, 'kafka-truth.json'), progress: true });
  console.log('ingesting until every partition has been idle for 2 s…');
  const ready = await openReadyWarehouse(config);
  try {
    const stats = await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, warehouse: ready, log: createLogger({ component: 'ingest' }, 'warn') });
    console.log(ingestSummary(stats));
    await printSummary(ready.wh, config);
  } catch (err) {
    await ready.wh.close();
    throw err;
  }
  return ready;
}

async function viaFile(config: Config, dir: string): Promise<ReadyWarehouse> {
  const file = join(dir, 'events.ndjson');
  console.log(`simulating ${DEMO.events.toLocaleString('en-US')} events (seed ${DEMO.seed}) to ${file}`);
  await simulateToFile({ ...DEMO, out: file, progress: true });
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
  const { values } = parseArgs({ args: argv, options: { 'no-serve': { type: 'boolean' } } });
  const config = loadConfig();
  const dir = join(config.dataDir, '..', 'demo');
  mkdirSync(dir, { recursive: true });
  let ready: ReadyWarehouse;
  if (config.kafka.brokersConfigured || hasJava()) ready = await viaKafka(config, dir);
  else {
    console.log('Java was not found, so the demo cannot run a local Kafka broker: loading the simulated file directly instead.');
    console.log('(Install Java 17+ and Maven, or set POLICYLENS_KAFKA_BROKERS, to run the demo through Kafka.)');
    ready = await viaFile(config, dir);
  }
  if (values['no-serve']) {
    await ready.wh.close();
    return 0;
  }
  console.log('\nserving the API and the dashboards (Ctrl-C to stop)…');
  return startServer(config, { withIngest: false, ready });
}
