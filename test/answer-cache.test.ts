// Answers are reused until the warehouse changes: a repeated request is a hit, and every write (events loaded, a
// regime table replaced, rows written by another process) makes the next identical request compute its answer again.
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { AnswerCache, CACHE_HEADER } from '../query/api/answer-cache.js';
import { buildApp } from '../query/api/app.js';
import { createKeyRing, ROLES } from '../common/api-keys.js';
import type { Warehouse } from '../warehouse/client.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { loadDefaultRegimes, type Regime } from '../warehouse/regimes.js';
import { readEngineVersion, VersionReader } from '../warehouse/version.js';
import { authAs, TEST_KEYS, useTestApi } from './helpers/api.js';
import { ndjson, sendEvent } from './helpers/events.js';
import { testMode } from './helpers/warehouse.js';

const api = useTestApi();
const question = { metrics: ['sends'], dimensions: ['regime'], date_range: ['2022-06-01', '2022-06-30'] };

const ask = async (app: FastifyInstance, body: object = question) => {
  const res = await app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: body });
  expect(res.statusCode, res.body).toBe(200);
  const { results } = res.json() as { results: { dimensions: { regime: string }; metrics: { sends: number } }[] };
  return { cache: res.headers[CACHE_HEADER], results: results.map((r) => [r.dimensions.regime, r.metrics.sends]) };
};

const sends = (n: number, over: Record<string, unknown> = {}) => ndjson(Array.from({ length: n }, () => sendEvent(over)));

describe('the answer cache', () => {
  it('answers a repeated request from the cache, with the same body', async () => {
    await api.load('first.ndjson', sends(3));
    const first = await ask(api.app);
    const again = await ask(api.app);
    expect(first.cache).toBe('miss');
    expect(again).toEqual({ ...first, cache: 'hit' });
  });

  it('computes the answer again after a write, so that it includes the new rows', async () => {
    const before = await ask(api.app);
    await api.load('more.ndjson', sends(2));
    const after = await ask(api.app);
    expect(after.cache).toBe('miss');
    expect(after.results[0][1]).toBe((before.results[0][1] as number) + 2);
    expect((await ask(api.app)).cache).toBe('hit');
  });

  it('computes the answer again after PUT /v1/regimes, which changes what a regime is', async () => {
    const before = await ask(api.app);
    expect(before.results.map((r) => r[0])).not.toContain('test_regime');
    const covers = (r: Regime) => r.channel === 'messenger' && r.start <= '2022-06-01' && (r.end === null || r.end > '2022-06-01');
    const regimes = loadDefaultRegimes().map((r) => (covers(r) ? { ...r, regime: 'test_regime' } : r));
    const put = await api.app.inject({ method: 'PUT', url: '/v1/regimes', headers: authAs('admin'), payload: { regimes } });
    expect(put.statusCode, put.body).toBe(200);
    const after = await ask(api.app);
    expect(after.cache).toBe('miss');
    expect(after.results.map((r) => r[0])).toContain('test_regime');
  });

  it('shares one entry between requests that mean the same (key order, defaults spelled out, filter values in another order)', async () => {
    const filtered = { ...question, filters: [['is', 'channel', ['messenger', 'instagram']]] };
    expect((await ask(api.app, filtered)).cache).toBe('miss');
    const same = {
      limit: 1000,
      order_by: [],
      filters: [['is', 'channel', ['instagram', 'messenger']]],
      date_range: question.date_range,
      dimensions: question.dimensions,
      metrics: question.metrics,
    };
    expect((await ask(api.app, same)).cache).toBe('hit');
    expect((await ask(api.app, { ...filtered, limit: 5 })).cache).toBe('miss');
  });

  it('reuses answers of the analysis routes too, keyed by the checked query string', async () => {
    const get = (url: string) => api.app.inject({ url, headers: authAs('analyst') });
    const first = await get('/v1/retention?channel=messenger');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers[CACHE_HEADER]).toBe('miss');
    const same = await get('/v1/retention?censor=end_of_data&channel=messenger&by=frequency');
    expect(same.headers[CACHE_HEADER]).toBe('hit');
    expect(same.json()).toEqual(first.json());
  });

  it('counts hits and misses by route on /metrics', async () => {
    const text = (await api.app.inject({ url: '/metrics' })).body;
    const value = (name: string, route: string) => Number(new RegExp(`^${name}\\{route="${route}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(value('policylens_api_cache_hits_total', '/v1/query')).toBeGreaterThanOrEqual(4);
    expect(value('policylens_api_cache_misses_total', '/v1/query')).toBeGreaterThanOrEqual(5);
    expect(value('policylens_api_cache_hits_total', '/v1/retention')).toBe(1);
    expect(text).toMatch(/^policylens_api_cache_entries [1-9]\d*$/m);
    expect(text).toMatch(/^policylens_api_cache_bytes [1-9]\d*$/m);
  });

  // Registered only where it can run (no skipped test in the other mode): a server or cluster, where other processes write.
  if (testMode() !== 'embedded')
    it('sees rows another process wrote', async () => {
      const before = await ask(api.app);
      const other = await openReadyWarehouse(loadConfig({ ...process.env, ...api.t.env }));
      try {
        await other.writer.write('sends', [
          {
            ...(sendEvent() as object),
            occurred_at: Date.parse('2022-06-02T00:00:00Z'),
            regime: null,
            frequency: 'daily',
            topic: null,
            campaign_id: null,
          } as never,
        ]);
      } finally {
        await other.wh.close();
      }
      const after = await ask(api.app);
      expect(after.cache).toBe('miss');
      expect(after.results.reduce((n, r) => n + (r[1] as number), 0)).toBe(before.results.reduce((n, r) => n + (r[1] as number), 0) + 1);
    });
});

describe('the warehouse version', () => {
  it('read from the engine, stays put without writes and moves with a load and with PUT /v1/regimes', async () => {
    const wh = api.t.wh;
    const first = await readEngineVersion(wh);
    expect(await readEngineVersion(wh)).toBe(first);
    await api.load('version.ndjson', sends(1));
    const loaded = await readEngineVersion(wh);
    expect(loaded).not.toBe(first);
    const regimes = loadDefaultRegimes().map((r) => (r.channel === 'whatsapp' ? { ...r, label: `${r.label} (relabelled)` } : r));
    expect((await api.app.inject({ method: 'PUT', url: '/v1/regimes', headers: authAs('admin'), payload: { regimes } })).statusCode).toBe(200);
    expect(await readEngineVersion(wh)).not.toBe(loaded);
  });

  if (testMode() === 'embedded')
    it('counted in the process on the embedded engine: moves with every write, and is never equal while one runs', async () => {
      const wh = api.t.wh;
      const version = wh.localVersion!;
      const before = version();
      expect(version()).toBe(before);
      const writing = wh.client.command({ query: 'OPTIMIZE TABLE regimes FINAL' });
      const during = [version(), version()];
      await writing;
      expect(during[0]).not.toBe(during[1]);
      expect(during).not.toContain(before);
      expect(version()).not.toBe(before);
      // An export's file is not the warehouse.
      const after = version();
      await wh.client.command({ query: `INSERT INTO FUNCTION file('${api.t.dir}/x.csv', 'CSV') SELECT 1` });
      expect(version()).toBe(after);
    });
});

describe('the answer cache turned off', () => {
  it('computes every answer', async () => {
    // A second app over the same warehouse (the embedded engine opens one data directory per process).
    const config = { ...api.t.config, answerCache: { ...api.t.config.answerCache, entries: 0 } };
    const keys = createKeyRing(ROLES.map((role) => ({ key: TEST_KEYS[role], role })));
    const off = await buildApp({ config, wh: api.t.wh, keys, rateLimitPerMinute: 100_000 });
    try {
      expect((await ask(off)).cache).toBe('miss');
      expect((await ask(off)).cache).toBe('miss');
      expect((await off.inject({ url: '/metrics' })).body).toMatch(/^policylens_api_cache_misses_total\{route="\/v1\/query"\} 2$/m);
    } finally {
      await off.close();
    }
  });
});

describe('AnswerCache bounds and versions', () => {
  const noWarehouse = null as unknown as Warehouse;
  const cacheWith = (version: () => string, entries: number, maxBytes: number) =>
    new AnswerCache(noWarehouse, { entries, maxBytes }, new Registry(), new VersionReader(noWarehouse, async () => version()));
  const settle = () => new Promise((r) => setTimeout(r, 10));

  it('drops the least recently used answer beyond its entries and bytes', async () => {
    const cache = cacheWith(() => 'v', 2, 1_000);
    const get = async (k: string, body = k) => (await cache.answer('/r', k, async () => body)).hit;
    expect([await get('a'), await get('b')]).toEqual([false, false]);
    await settle();
    expect(await get('a')).toBe(true); // a is now the most recent: c pushes b out
    await get('c');
    await settle();
    expect([await get('a'), await get('b')]).toEqual([true, false]);
    await settle();
    expect(await get('big', 'x'.repeat(1_001))).toBe(false);
    await settle();
    expect(await get('big')).toBe(false); // larger than the whole cache: never kept
  });

  it('keeps no answer whose version moved while it was computed', async () => {
    let version = 1;
    const cache = cacheWith(() => `v${version}`, 10, 1_000);
    const first = await cache.answer('/r', 'k', async () => {
      version++;
      return 'computed during a write';
    });
    expect(first.hit).toBe(false);
    await settle();
    expect((await cache.answer('/r', 'k', async () => 'fresh')).body).toBe('fresh');
  });

  it('runs one computation for identical requests at the same time', async () => {
    const cache = cacheWith(() => 'v', 10, 1_000);
    let runs = 0;
    const compute = async () => {
      runs++;
      await settle();
      return 'answer';
    };
    const answers = await Promise.all(Array.from({ length: 5 }, () => cache.answer('/r', 'same', compute)));
    expect(runs).toBe(1);
    expect(answers.filter((a) => a.hit)).toHaveLength(4);
  });
});

describe('VersionReader', () => {
  it('never hands a caller a read that began before it asked, and shares the next read among those who wait', async () => {
    const started: (() => void)[] = [];
    let n = 0;
    const reader = new VersionReader(null as unknown as Warehouse, () => {
      const mine = ++n;
      return new Promise<string>((resolve) => started.push(() => resolve(`v${mine}`)));
    });
    const a = reader.current();
    const b = reader.current(); // arrives while the first read runs
    const c = reader.current();
    expect(n).toBe(1);
    started[0]();
    expect(await a).toBe('v1');
    await new Promise((r) => setTimeout(r, 0));
    expect(n).toBe(2);
    started[1]();
    expect([await b, await c]).toEqual(['v2', 'v2']);
  });
});
