// End to end through the front door: the simulator's webhook stream POSTed, signed, to a running collect, the
// business's send log through POST /v1/events with a producer key, then the mapping stage and the ingest on the
// real broker until idle; the answers of POST /v1/query equal the truth for everything webhooks carry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { postEventLog, type EventLogSummary } from '../collect/event-batches.js';
import { postAll, type OutgoingRequest, type PostAllSummary } from '../collect/replay.js';
import { WEBHOOK_PATH } from '../collect/webhooks.js';
import type { IngestStats } from '../ingest/metrics.js';
import { runIngest } from '../ingest/run-ingest.js';
import { runMapStage, type MapStageStats } from '../sources/map-stage.js';
import { simulateMetaWebhooks } from '../sources/meta/simulated-webhooks.js';
import type { Truth } from '../simulator/index.js';
import { openTestApi, TEST_KEYS, type TestApi } from './helpers/api.js';
import { APP_SECRET, collectEnv, openTestCollect, type TestCollect } from './helpers/collect.js';
import { webhookTruthTests } from './helpers/webhook-truth.js';

const log = createLogger({ test: 'meta-end-to-end' }, 'error');

describe('Meta webhooks and a send log through collect, the mapping stage and the ingest', () => {
  let api: TestApi;
  let c: TestCollect;
  let truth: Truth;
  const webhooks: OutgoingRequest[] = [];
  const sendLog: string[] = [];
  let posted: PostAllSummary;
  let logged: EventLogSummary;
  let mapped: MapStageStats;
  let ingested: IngestStats;

  beforeAll(async () => {
    [api, c] = await Promise.all([openTestApi(), openTestCollect()]);
    const base = await c.app.listen({ port: 0, host: '127.0.0.1' });
    const sim = simulateMetaWebhooks({ events: 15_000, seed: 11, dupRatio: 0.02, appSecret: APP_SECRET });
    for (const o of sim.outputs()) {
      if (o.kind === 'webhook') webhooks.push({ path: WEBHOOK_PATH, headers: o.post.headers, body: o.post.body });
      else sendLog.push(o.line);
    }
    truth = sim.truth();
    posted = await postAll(base, webhooks, { concurrency: 8, retries: 5 });
    logged = await postEventLog(base, sendLog, TEST_KEYS.producer, { concurrency: 2, retries: 5 });
    const config = loadConfig({
      ...process.env,
      ...api.t.env,
      ...collectEnv(c.k.prefix),
      POLICYLENS_KAFKA_GROUP: c.k.groupId,
      POLICYLENS_KAFKA_PARTITIONS: '3',
    });
    mapped = await runMapStage({ config, log, untilIdleSeconds: 2 });
    ingested = await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, log, warehouse: api.t });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await api?.close();
  });

  it('takes every signed POST and every line of the send log; maps every body; ingests without a dead letter', () => {
    expect(webhooks.length).toBeGreaterThan(500);
    expect(posted.byStatus).toEqual({ '200': webhooks.length });
    expect(logged.byStatus).toEqual({ '200': logged.requests });
    expect([logged.accepted, logged.rejected]).toEqual([sendLog.length, 0]);
    expect(mapped).toMatchObject({ bodies: webhooks.length, deadLettered: 0 });
    expect(ingested.deadLettered).toBe(0);
    expect(ingested.duplicates).toBeGreaterThan(0); // Meta's retries, as the simulator repeats them
  });

  webhookTruthTests(() => ({ app: api.app, wh: api.t.wh, truth }));
});
