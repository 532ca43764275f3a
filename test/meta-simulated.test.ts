// The simulated world in Meta's shapes, mapped in-process and loaded with the business's send log: the API's
// answers and the warehouse hold the truth for everything webhooks carry (docs/sources.md, "The simulator in Meta's
// shapes"). test/meta-end-to-end.test.ts checks the same truth through collect, Kafka and the mapping stage.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFile } from '../ingest/load-file.js';
import { MetaMapper } from '../sources/meta/map.js';
import { SIGNATURE_HEADER, verifySignature } from '../sources/meta/signature.js';
import { simulateMetaWebhooks } from '../sources/meta/simulated-webhooks.js';
import type { Truth } from '../simulator/index.js';
import { openTestApi, type TestApi } from './helpers/api.js';
import { webhookTruthTests } from './helpers/webhook-truth.js';

const SECRET = 'test-app-secret';

describe('the simulated world through Meta webhooks', () => {
  let api: TestApi;
  let truth: Truth;
  let posts = 0;
  let problems = 0;
  let loaded: Awaited<ReturnType<typeof loadFile>>;

  beforeAll(async () => {
    api = await openTestApi();
    const file = join(api.t.dir, 'mapped.ndjson');
    const out = createWriteStream(file);
    const sim = simulateMetaWebhooks({ events: 40_000, seed: 7, dupRatio: 0.02, appSecret: SECRET });
    const mapper = new MetaMapper();
    const receivedAt = Date.now();
    for (const o of sim.outputs()) {
      let text: string;
      if (o.kind === 'sendlog') text = `${o.line}\n`;
      else {
        posts++;
        if (!verifySignature(Buffer.from(o.post.body), o.post.headers[SIGNATURE_HEADER], SECRET)) throw new Error('a simulated POST is not signed');
        const r = mapper.map(o.post.body, { receivedAt });
        problems += r.problems.length;
        text = r.events.map((e) => `${JSON.stringify(e)}\n`).join('');
      }
      if (text && !out.write(text)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    truth = sim.truth();
    loaded = await loadFile(file, api.t.writer, { batchRows: 20_000 });
  });
  afterAll(async () => api?.close());

  it('maps every POST without a problem, and loads every mapped event (retries dropped as duplicates)', () => {
    expect(posts).toBeGreaterThan(1000);
    expect(problems).toBe(0);
    expect(loaded.rejected).toBe(0);
    expect(loaded.duplicates).toBeGreaterThan(0);
  });

  webhookTruthTests(() => ({ app: api.app, wh: api.t.wh, truth }));
});
