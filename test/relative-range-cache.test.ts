// A relative date_range ("all", "30d") needs the warehouse's extent. It is kept per warehouse version like the
// answers: a repeated request reads no extent, and a write that moves the last day moves the range with it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing, ROLES } from '../common/api-keys.js';
import { CACHE_HEADER } from '../query/api/answer-cache.js';
import { buildApp } from '../query/api/app.js';
import type { Warehouse } from '../warehouse/client.js';
import { authAs, TEST_KEYS, useTestApi } from './helpers/api.js';
import { ndjson, sendEvent } from './helpers/events.js';

const api = useTestApi();
let app: FastifyInstance;
let extentReads = 0;

beforeAll(async () => {
  // The same warehouse, through a client that counts the extent's query.
  const client = new Proxy(api.t.wh.client, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return (params: { query: string }) => {
        if (params.query.includes('minOrNull(day)')) extentReads++;
        return target.query(params as never);
      };
    },
  });
  const wh: Warehouse = { ...api.t.wh, client };
  app = await buildApp({ config: api.t.config, wh, keys: createKeyRing(ROLES.map((role) => ({ key: TEST_KEYS[role], role }))), rateLimitPerMinute: 100_000 });
  await api.load('first.ndjson', ndjson([sendEvent({ occurred_at: '2024-03-01T10:00:00Z' }), sendEvent({ occurred_at: '2024-03-05T10:00:00Z' })]));
});
afterAll(async () => app?.close());

const ask = async (date_range: string) => {
  const res = await app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: { metrics: ['sends'], date_range } });
  expect(res.statusCode, res.body).toBe(200);
  return { cache: res.headers[CACHE_HEADER], range: res.json().meta.date_range as string[], sends: res.json().results[0].metrics.sends as number };
};

describe('a relative date range under the answer cache', () => {
  it('reads the extent once per warehouse version', async () => {
    const first = await ask('all');
    expect(first).toEqual({ cache: 'miss', range: ['2024-03-01', '2024-03-05'], sends: 2 });
    const reads = extentReads;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(await ask('all')).toEqual({ ...first, cache: 'hit' });
    expect((await ask('7d')).range).toEqual(['2024-02-28', '2024-03-05']);
    expect(extentReads).toBe(reads);
  });

  it('moves with a write that moves the last day', async () => {
    await api.load('later.ndjson', ndjson([sendEvent({ occurred_at: '2024-04-10T10:00:00Z' })]));
    expect(await ask('all')).toEqual({ cache: 'miss', range: ['2024-03-01', '2024-04-10'], sends: 3 });
  });
});
