// POST /v1/events: a business's own events, as a JSON array, NDJSON or gzip, each checked by the ingest's parse
// step; the valid ones are in their family's topic, keyed by user_id, before the answer.
import { gzipSync } from 'node:zlib';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authAs } from './helpers/api.js';
import { openTestCollect, type TestCollect } from './helpers/collect.js';
import { engagementEvent, sendEvent, subscriptionEvent } from './helpers/events.js';

let c: TestCollect;
beforeAll(async () => {
  c = await openTestCollect();
});
afterAll(async () => c?.close());

const post = (payload: string | Buffer, headers: Record<string, string> = {}, role: Parameters<typeof authAs>[0] | null = 'producer') =>
  c.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json', ...(role ? authAs(role) : {}), ...headers },
    payload,
  });

/** Messages of the event topics whose value names `tag`, as [topic family, key, event]. */
async function produced(tag: string): Promise<[string, string | null, Record<string, unknown>][]> {
  const out: [string, string | null, Record<string, unknown>][] = [];
  for (const [family, topic] of Object.entries(c.k.topics)) {
    for (const m of await c.read(topic)) {
      const v = m.value!.toString();
      if (v.includes(tag)) out.push([family, m.key?.toString() ?? null, JSON.parse(v)]);
    }
  }
  return out;
}

const batchOf = (tag: string) => {
  const send = sendEvent({ event_id: `${tag}-s`, user_id: `${tag}-user` });
  return [
    send,
    engagementEvent(`${tag}-s`, 'read', { event_id: `${tag}-e`, user_id: `${tag}-user` }),
    subscriptionEvent('opt_out', { event_id: `${tag}-u`, user_id: `${tag}-user` }),
  ];
};

describe('POST /v1/events', () => {
  it('takes a JSON array: each event on its family’s topic, keyed by user_id, before the answer', async () => {
    const events = batchOf('arr');
    const res = await post(JSON.stringify(events));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ accepted: 3, rejected: [] });
    const got = await produced('arr-');
    expect(got.map(([family, key, e]) => [family, key, e.event_id]).sort()).toEqual([
      ['engagements', 'arr-user', 'arr-e'],
      ['sends', 'arr-user', 'arr-s'],
      ['subscriptions', 'arr-user', 'arr-u'],
    ]);
    expect(got.find(([f]) => f === 'sends')![2]).toEqual(events[0]);
  });

  it('takes NDJSON, blank lines and CRLF allowed, whatever the content type', async () => {
    const body = `${batchOf('nd')
      .map((e) => JSON.stringify(e))
      .join('\r\n')}\n\n`;
    const res = await post(body, { 'content-type': 'application/x-ndjson' });
    expect(res.json()).toEqual({ accepted: 3, rejected: [] });
    expect(await produced('nd-')).toHaveLength(3);
  });

  it('takes gzip (Content-Encoding) and refuses other encodings with 415', async () => {
    const body = gzipSync(JSON.stringify(batchOf('gz')));
    const res = await post(body, { 'content-encoding': 'gzip' });
    expect(res.json()).toEqual({ accepted: 3, rejected: [] });
    expect(await produced('gz-')).toHaveLength(3);
    const br = await post(JSON.stringify(batchOf('br')), { 'content-encoding': 'br' });
    expect(br.statusCode).toBe(415);
    expect(br.json().error.code).toBe('UNSUPPORTED_ENCODING');
    const notGzip = await post('not gzip', { 'content-encoding': 'gzip' });
    expect(notGzip.statusCode).toBe(400);
  });

  it('answers a mix of good and bad events with the index and reason of each bad one, and produces the good ones', async () => {
    const good = batchOf('mix');
    const lines = [
      JSON.stringify(good[0]),
      '{"event_id": "mix-broken"',
      JSON.stringify({ ...sendEvent({ event_id: 'mix-nobiz' }), business_id: undefined }),
      JSON.stringify(good[1]),
      JSON.stringify({ event_id: 'mix-type', type: 'teleported' }),
      JSON.stringify({ ...sendEvent({ event_id: 'mix-big' }), topic: 'x'.repeat(70_000) }),
      JSON.stringify(good[2]),
    ];
    const res = await post(lines.join('\n'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r: { index: number; reason: string }) => [r.index, r.reason])).toEqual([
      [1, 'not_json'],
      [2, 'contract'],
      [4, 'unknown_type'],
      [5, 'too_large'],
    ]);
    expect(body.rejected[1].detail).toContain('business_id');
    expect((await produced('mix-')).map(([, , e]) => e.event_id).sort()).toEqual(['mix-e', 'mix-s', 'mix-u']);
    const text = (await c.app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/policylens_collect_events_total\{outcome="rejected"\} [1-9]/);
  });

  it('refuses more than 10,000 events (413 TOO_MANY_EVENTS) and more than 5 MB (413 BODY_TOO_LARGE), producing nothing', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ event_id: `over-${i}` }));
    const res = await post(JSON.stringify(many));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('TOO_MANY_EVENTS');
    const exactly = Array.from({ length: 10_000 }, (_, i) => ({ event_id: `limit-${i}` }));
    const ok = await post(JSON.stringify(exactly));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().rejected).toHaveLength(10_000);

    const big = `[${JSON.stringify(sendEvent({ event_id: 'over-big', topic: 'y'.repeat(1000) }))}${',{}'.repeat(2_700_000)}]`;
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    const tooBig = await post(big);
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('BODY_TOO_LARGE');
    // Small once compressed, too large once not.
    const bomb = await post(gzipSync(big), { 'content-encoding': 'gzip' });
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json().error.code).toBe('BODY_TOO_LARGE');
    expect(await produced('over-')).toHaveLength(0);
  });

  it('refuses a body that is neither a JSON array nor NDJSON lines with 400', async () => {
    for (const body of ['[{"event_id": 1}', '\xff']) expect((await post(Buffer.from(body, 'latin1'))).statusCode).toBe(400);
  });

  it('needs a key (401) whose role has the ingest permission (403 otherwise)', async () => {
    const body = JSON.stringify(batchOf('auth'));
    for (const headers of [{}, { authorization: 'Bearer not-a-key-at-all-000000' }] as Record<string, string>[]) {
      const res = await post(body, headers, null);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    for (const role of ['analyst', 'product', 'researcher'] as const) {
      const res = await post(body, {}, role);
      expect(res.statusCode, role).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect(await produced('auth-')).toHaveLength(0);
    expect((await post(body, {}, 'admin')).statusCode).toBe(200);
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED past POLICYLENS_COLLECT_RATE_LIMIT per key, counting each key on its own', async () => {
    const limited = await openTestCollect({ POLICYLENS_COLLECT_RATE_LIMIT: '2' });
    try {
      const as = (role: 'producer' | 'admin') => limited.app.inject({ method: 'POST', url: '/v1/events', headers: authAs(role), payload: '[]' });
      for (let i = 0; i < 2; i++) expect((await as('producer')).statusCode).toBe(200);
      const over = await as('producer');
      expect(over.statusCode).toBe(429);
      expect(over.json().error.code).toBe('RATE_LIMITED');
      expect((await as('admin')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('GET /openapi.json', () => {
  it('validates against the OpenAPI 3.1 schema and lists every route of collect', async () => {
    const doc = (await c.app.inject({ url: '/openapi.json' })).json();
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/v1/events', '/v1/webhooks/meta']);
    expect(Object.keys(doc.paths['/v1/webhooks/meta']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/v1/events'].post.responses['413']).toBeDefined();
  });
});
