import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../common/config.js';
import { loadFile } from '../ingest/load-file.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { printLoadResult } from './load.js';
import { printSummary } from './summary.js';

const DEMO_EVENTS = 200_000;
const DEMO_SEED = 7;

export async function runDemo(_argv: string[] = []): Promise<number> {
  const config = loadConfig();
  const dir = join(config.dataDir, '..', 'demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'events.ndjson');
  console.log(`simulating ${DEMO_EVENTS.toLocaleString('en-US')} events (seed ${DEMO_SEED}) to ${file}`);
  await simulateToFile({ events: DEMO_EVENTS, seed: DEMO_SEED, badRatio: 0.001, dupRatio: 0.01, out: file, progress: true });
  const { wh, writer } = await openReadyWarehouse(config);
  try {
    console.log(`loading into the ${wh.mode} warehouse (${wh.mode === 'embedded' ? config.dataDir : config.clickhouse.url})`);
    printLoadResult(await loadFile(file, writer, { batchRows: config.ingest.batchMaxRows, progress: true }));
    await printSummary(wh);
  } finally {
    await wh.close();
  }
  return 0;
}
