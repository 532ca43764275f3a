// Simulated events produced to Kafka arrive in the warehouse with counts equal to the truth file.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { runIngest } from '../ingest/run-ingest.js';
import { simulateToKafka } from '../ingest/simulate-to-kafka.js';
import type { Truth } from '../simulator/index.js';
import { makeTestTopics, topicsEnv } from './helpers/kafka.js';
import { expectWarehouseToMatchTruth } from './helpers/truth.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

describe('simulate --kafka, then ingest --until-idle', () => {
  let t: TestWarehouse;
  let truth: Truth;
  let stats: Awaited<ReturnType<typeof runIngest>>;

  beforeAll(async () => {
    t = await openTestWarehouse();
    const k = await makeTestTopics(t.config, 6);
    const config = loadConfig({
      ...process.env,
      ...t.env,
      ...topicsEnv(k),
    });
    const log = createLogger({ test: 'e2e' }, 'error');
    truth = await simulateToKafka(config, { events: 100_000, seed: 5, badRatio: 0.005, dupRatio: 0.01, truthFile: join(t.dir, 'truth.json'), log });
    stats = await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, log, warehouse: t });
  });
  afterAll(async () => t?.dispose());

  it('consumes every message once and sets the bad ones aside', () => {
    expect(stats.consumed).toBe(truth.counts.lines);
    expect(stats.written).toBe(truth.counts.valid);
    expect(stats.duplicates).toBe(truth.counts.duplicates);
    expect(stats.deadLettered).toBe(truth.counts.bad);
  });

  it('holds counts and money equal to the truth file, in raw tables and rollups', async () => {
    await expectWarehouseToMatchTruth(t.wh, truth);
  });
});
