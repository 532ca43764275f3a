// replay-webhooks posts a file of signed webhook requests to collect: every line arrives byte for byte, and 5xx or
// broken connections are retried.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { postAll } from '../collect/replay.js';
import { signBody } from '../sources/meta/signature.js';
import { APP_SECRET, openTestCollect, type TestCollect } from './helpers/collect.js';

let c: TestCollect;
let base: string;
beforeAll(async () => {
  c = await openTestCollect();
  base = await c.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => c?.close());

describe('replay-webhooks', () => {
  it('posts every line of the file, the body byte for byte with its signature header', async () => {
    // Each body holds an escaped é, as Meta writes it, and a raw one (two UTF-8 bytes): both must arrive unchanged.
    const bodies = Array.from({ length: 25 }, (_, i) =>
      JSON.stringify({ object: 'page', entry: [{ id: `replay-page`, messaging: [{ message: { mid: `replay-${i}`, text: 'caf\\u00e9 \u00e9' } }] }] }).replace(
        '\\\\u',
        '\\u',
      ),
    );
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'webhooks.ndjson');
    writeFileSync(
      file,
      `${bodies.map((body) => JSON.stringify({ headers: { 'X-Hub-Signature-256': signBody(body, APP_SECRET), 'Content-Type': 'application/json' }, body })).join('\n')}\n`,
    );
    expect(await main(['replay-webhooks', file, '--url', base, '--concurrency', '4'])).toBe(0);
    const got = (await c.read(c.k.rawTopic)).filter((m) => m.value!.includes('replay-page')).map((m) => m.value!.toString());
    expect(got.sort()).toEqual([...bodies].sort());
  });

  it('fails (exit 1) when a request is refused, and names its line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'bad.ndjson');
    writeFileSync(file, `${JSON.stringify({ headers: { 'x-hub-signature-256': 'sha256=00' }, body: '{"object":"page"}' })}\n`);
    expect(await main(['replay-webhooks', file, '--url', base])).toBe(1);
  });

  it('retries 503s and broken connections with backoff until an answer', async () => {
    let calls = 0;
    const flaky = createServer((req, res) => {
      calls++;
      if (calls % 3 === 1) return req.socket.destroy();
      if (calls % 3 === 2) return res.writeHead(503, { 'retry-after': '1' }).end();
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const { port } = flaky.address() as { port: number };
    try {
      const summary = await postAll(`http://127.0.0.1:${port}`, [{ path: '/x', headers: {}, body: 'a' }], { concurrency: 1, retries: 5, initialBackoffMs: 5 });
      expect(summary.byStatus).toEqual({ '200': 1 });
      expect(summary.retries).toBe(2);
      const gaveUp = await postAll(`http://127.0.0.1:${port}`, [{ path: '/x', headers: {}, body: 'a' }], { concurrency: 1, retries: 0 });
      expect(gaveUp.retries).toBe(0);
      expect(gaveUp.byStatus).toEqual({ '0': 1 });
    } finally {
      flaky.close();
    }
  });
});
