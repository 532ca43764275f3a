// kill -9 collect while a load generator posts webhooks and event batches, and start it again, several times:
// every request answered 200 is in Kafka (raw topic, event topics), and after the ingest each acknowledged event is
// in the warehouse exactly once (the generator retries what got no answer, as Meta and producers do).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { postAll, type OutgoingRequest } from '../collect/replay.js';
import { signBody } from '../sources/meta/signature.js';
import { runIngest } from '../ingest/run-ingest.js';
import { queryRows } from '../warehouse/client.js';
import { Rng } from '../simulator/rng.js';
import { APP_SECRET, collectEnv, readTopic } from './helpers/collect.js';
import { sendEvent } from './helpers/events.js';
import { topicsEnv, makeTestTopics } from './helpers/kafka.js';
import { distinctAndTotal } from './helpers/truth.js';
import { waitFor, within } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';
import { freePort } from './helpers/local-server.js';

const KILLS = 4;
const EVENTS_PER_BATCH = 50;
const KEY = 'crash-test-producer-key-0123456789';
const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));

describe('collect killed with SIGKILL under load and restarted', () => {
  let t: TestWarehouse;
  let k: Awaited<ReturnType<typeof makeTestTopics>>;
  let env: NodeJS.ProcessEnv;
  let port: number;
  const log: string[] = [];
  const seed = Number(process.env.POLICYLENS_CRASH_SEED ?? Date.now() % 100_000);

  beforeAll(async () => {
    t = await openTestWarehouse();
    k = await makeTestTopics(t.config, 3);
    port = await freePort();
    env = {
      ...process.env,
      ...collectEnv(k.prefix),
      POLICYLENS_API_KEYS: `${KEY}:producer`,
      POLICYLENS_COLLECT_PORT: String(port),
      POLICYLENS_LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => t?.dispose());

  const start = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [BIN, 'collect'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => log.push(String(d)));
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        log.push(String(d));
        if (String(d).includes('"collect listening"')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`collect exited with ${code}: ${log.join('').slice(-2000)}`)));
    });
    await within(listening, 30_000, 'collect listens');
    return child;
  };

  /** Request i: a signed webhook naming wh-i, or a batch of events ev-i-0… */
  function* load(stop: () => boolean): Generator<OutgoingRequest> {
    for (let i = 0; !stop(); i++) {
      if (i % 2 === 0) {
        const body = JSON.stringify({
          object: 'page',
          entry: [
            {
              id: `page-${i % 5}`,
              time: 1,
              messaging: [{ sender: { id: `u${i}` }, recipient: { id: 'p' }, timestamp: 1, message: { mid: `wh-${i}`, text: 'caf\u00e9' } }],
            },
          ],
        });
        yield { path: '/v1/webhooks/meta', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, APP_SECRET) }, body };
      } else {
        const events = Array.from({ length: EVENTS_PER_BATCH }, (_, j) => sendEvent({ event_id: `ev-${i}-${j}`, user_id: `u${(i + j) % 97}` }));
        yield { path: '/v1/events', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(events) };
      }
    }
  }

  it(`keeps every acknowledged request across ${KILLS} kills (seed ${seed})`, async () => {
    const random = new Rng(seed, 0);
    const ackedWebhooks = new Set<string>();
    const ackedEvents = new Set<string>();
    let stopped = false;
    let child = await start();
    const posting = postAll(
      `http://127.0.0.1:${port}`,
      load(() => stopped),
      {
        concurrency: 8,
        retries: Number.POSITIVE_INFINITY,
        initialBackoffMs: 50,
        maxBackoffMs: 1_000,
        onDone: (req, outcome) => {
          if (outcome.status !== 200) return;
          const body = String(req.body);
          if (req.path === '/v1/webhooks/meta') ackedWebhooks.add(JSON.parse(body).entry[0].messaging[0].message.mid);
          else for (const e of JSON.parse(body) as { event_id: string }[]) ackedEvents.add(e.event_id);
        },
      },
    );
    const acked = () => ackedWebhooks.size + ackedEvents.size;
    const ackedAtKill: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      // Each kill lands while load flows: after this start has acknowledged something, however slow the machine.
      const before = ackedAtKill.at(-1) ?? 0;
      await waitFor(() => acked() > before, `start ${i + 1} acknowledges requests`, 60_000, 20);
      await new Promise((r) => setTimeout(r, random.below(1500)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      ackedAtKill.push(acked());
      child = await start();
    }
    await waitFor(() => acked() > ackedAtKill.at(-1)!, 'the last start acknowledges requests', 60_000, 20);
    stopped = true;
    const summary = await within(posting, 120_000, 'the load generator finishes');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    // Every request was eventually answered 200; the kills cut some off (retried), while load was flowing.
    expect(Object.keys(summary.byStatus), JSON.stringify(summary)).toEqual(['200']);
    expect(summary.retries, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(new Set(ackedAtKill).size, ackedAtKill.join(', ')).toBe(KILLS);

    // Every acknowledged webhook is on the raw topic (a retried one may be there twice: the mapping drops repeats).
    const raw = new Set((await readTopic(k.kafka, k.rawTopic)).map((m) => JSON.parse(m.value!.toString()).entry[0].messaging[0].message.mid as string));
    expect([...ackedWebhooks].filter((mid) => !raw.has(mid))).toEqual([]);
    // Every acknowledged event is on the sends topic.
    const sent = new Set((await readTopic(k.kafka, k.topics.sends)).map((m) => JSON.parse(m.value!.toString()).event_id as string));
    expect([...ackedEvents].filter((id) => !sent.has(id))).toEqual([]);

    // After the ingest, each acknowledged event is in the warehouse once.
    const config = loadConfig({
      ...process.env,
      ...t.env,
      ...topicsEnv(k),
    });
    await runIngest({ config, untilIdleSeconds: 2, metricsPort: null, log: createLogger({ test: 'collect-crash' }, 'error'), warehouse: t });
    const counts = await distinctAndTotal(t.wh);
    expect(counts).toEqual({ total: ackedEvents.size, distinct: ackedEvents.size });
    const ids = await queryRows<{ event_id: string }>(t.wh, 'SELECT event_id FROM sends');
    expect(new Set(ids.map((r) => r.event_id))).toEqual(ackedEvents);
    log.length = 0;
  }, 240_000);
});
