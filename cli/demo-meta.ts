// `npm run demo -- --source meta-webhooks`: the simulated world in Meta's shapes goes in through the front door, as
// a business's would. collect runs in-process on a free port with an app secret and a producer key made up for
// this run; the signed webhooks are POSTed to it and the send log to POST /v1/events; the mapping stage then turns
// the raw topic into events for the ingest (docs/collect.md, docs/sources.md).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../common/config.js';
import { createKeyRing } from '../common/api-keys.js';
import { createLogger } from '../common/log.js';
import { postEventLog, type EventLogSummary } from '../collect/event-batches.js';
import { postAll, statusCounts, type PostAllSummary } from '../collect/replay.js';
import { startCollect } from '../collect/run-collect.js';
import { fileLines, webhookRequest } from '../collect/webhook-file.js';
import { WEBHOOK_PATH } from '../collect/webhooks.js';
import { runMapStage } from '../sources/map-stage.js';
import { sendLogPathFor, simulateMetaToFile } from '../sources/meta/simulate-to-file.js';

export interface ThroughCollect {
  webhooks: PostAllSummary;
  events: EventLogSummary;
}

const secret = () => randomBytes(24).toString('hex');

/** Simulates to files beside the demo's others, then posts them to a collect of this process; throws unless all were taken. */
async function postThroughCollect(config: Config, dir: string, sim: { events: number; seed: number; dupRatio: number }): Promise<ThroughCollect> {
  const file = join(dir, 'meta-webhooks.ndjson');
  const appSecret = secret();
  console.log(`simulating ${sim.events.toLocaleString('en-US')} events (seed ${sim.seed}) in Meta's shapes to ${file}`);
  const written = await simulateMetaToFile({ ...sim, badRatio: 0, appSecret, out: file });
  console.log(
    `${written.posts.toLocaleString('en-US')} signed webhook POSTs, ${written.sendLogLines.toLocaleString('en-US')} lines of the business's send log`,
  );

  const producerKey = randomBytes(18).toString('base64url');
  const own: Config = { ...config, collect: { ...config.collect, port: 0, metaAppSecret: appSecret, metaVerifyToken: secret() } };
  const collect = await startCollect(own, createKeyRing([{ key: producerKey, role: 'producer' }]), createLogger({ component: 'collect' }, 'warn'));
  try {
    console.log(`collect on ${collect.address}: posting the webhooks to ${WEBHOOK_PATH} and the send log to POST /v1/events…`);
    const webhooks = await postAll(
      collect.address,
      (function* () {
        for (const { line, lineNo } of fileLines(file)) yield webhookRequest(line, lineNo, WEBHOOK_PATH);
      })(),
      { concurrency: 8, retries: 8 },
    );
    const events = await postEventLog(
      collect.address,
      (function* () {
        for (const { line } of fileLines(sendLogPathFor(file))) yield line;
      })(),
      producerKey,
      { concurrency: 2, retries: 8 },
    );
    for (const [what, s] of [
      ['webhook POSTs', webhooks],
      ['POST /v1/events requests', events],
    ] as const) {
      if ((s.byStatus['200'] ?? 0) !== s.requests) throw new Error(`collect did not take every one of the ${what}: ${statusCounts(s)}`);
    }
    return { webhooks, events };
  } finally {
    await collect.close();
  }
}

/** Everything up to the ingest: posted through collect, then mapped; returns the line the demo prints about it. */
export async function metaThroughCollect(config: Config, dir: string, sim: { events: number; seed: number; dupRatio: number }): Promise<string> {
  const c = await postThroughCollect(config, dir, sim);
  console.log('mapping the raw topic to events until it has been idle for 2 s…');
  const mapped = await runMapStage({ config, log: createLogger({ component: 'map' }, 'warn'), untilIdleSeconds: 2 });
  const s = (n: number) => n.toLocaleString('en-US');
  return (
    `through collect: ${s(c.webhooks.requests)} webhook POSTs (${s(mapped.bodies)} bodies mapped to ${s(mapped.events)} events, ` +
    `${s(mapped.deadLettered)} dead-lettered) and ${s(c.events.requests)} POST /v1/events requests (${s(c.events.accepted)} events accepted, ` +
    `${s(c.events.rejected)} rejected) in ${((c.webhooks.ms + c.events.ms) / 1000).toFixed(1)} s`
  );
}
