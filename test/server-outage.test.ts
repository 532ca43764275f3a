// The ClickHouse server goes away mid-ingest and comes back: the consumer pauses, retries with backoff, resumes,
// and writes every event exactly once, in the raw tables and the rollups. Server mode only: the test stops a real
// server of its own (the run's shared server stays up for the other tests).
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestConsumer } from '../ingest/consumer.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { produceLines } from '../ingest/produce.js';
import { queryRows } from '../warehouse/client.js';
import { brokers, makeTestTopics, testConsumer, type TestTopics } from './helpers/kafka.js';
import { startTestServer, type TestServer } from './helpers/local-server.js';
import { plainStream } from './helpers/stream.js';
import { distinctAndTotal, expectRollupsToMatchRaw } from './helpers/truth.js';
import { waitFor, waitForCount } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

describe('the ClickHouse server stopped and started again during ingest', () => {
  const N = 60_000;
  let server: TestServer;
  let t: TestWarehouse;
  let k: TestTopics & { kafka: Kafka };
  let consumer: IngestConsumer;
  const metrics = createIngestMetrics();

  beforeAll(async () => {
    server = await startTestServer('outage');
    t = await openTestWarehouse({
      POLICYLENS_CLICKHOUSE_URL: server.url,
      POLICYLENS_KAFKA_BROKERS: brokers(),
      POLICYLENS_BATCH_MAX_ROWS: '5000',
      POLICYLENS_BATCH_MAX_MS: '200',
    });
    k = await makeTestTopics(t.config, 3);
  });
  afterAll(async () => {
    await consumer?.stop();
    await t?.dispose().catch(() => undefined);
    await server?.dispose();
  });

  const written = async () => Number((await queryRows<{ n: string }>(t.wh, 'SELECT count() AS n FROM event_ids'))[0].n);

  it('pauses while the server is down, then writes every event once', async () => {
    consumer = testConsumer(t, k, { name: 'outage', metrics });
    await consumer.start();
    // The stream keeps arriving while the server is down.
    const producing = (async () => {
      for (let i = 0; i < 6; i++) {
        await produceLines(k.kafka, plainStream(N / 6, `outage${i}`), { topics: k.topics });
        await new Promise((r) => setTimeout(r, 700));
      }
    })();
    await waitFor(async () => (await written()) > 0, 'a first flush before the outage', 60_000);
    await server.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    await server.start();
    await producing;
    await waitForCount(written, N, 'every event written after the outage', 120_000, 500);
    const text = await metrics.registry.getSingleMetricAsString('policylens_ingest_retries_total');
    const retries = Number(/operation="(?:flush|rebuild)"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(retries, text).toBeGreaterThan(0);
    const { total, distinct } = await distinctAndTotal(t.wh);
    expect([total, distinct]).toEqual([N, N]);
    await expectRollupsToMatchRaw(t.wh);
  });
});
