// A question asked again over another date range is answered from its kept day sums (query/metrics/day-partials.ts).
// Every such answer must equal, to the last digit, the one a query of its own gives: an app with the cache off
// over the same warehouse answers each request beside it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing, ROLES } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { fromScaled, toScaled } from '../query/metrics/day-partials.js';
import { authAs, TEST_KEYS, useTestApi } from './helpers/api.js';

const api = useTestApi();
let off: FastifyInstance;

beforeAll(async () => {
  await api.loadSimulated({ events: 40_000, seed: 31, from: '2022-09-01', to: '2023-09-30' });
  const config = { ...api.t.config, answerCache: { ...api.t.config.answerCache, entries: 0 } };
  off = await buildApp({ config, wh: api.t.wh, keys: createKeyRing(ROLES.map((role) => ({ key: TEST_KEYS[role], role }))), rateLimitPerMinute: 100_000 });
});
afterAll(async () => off?.close());

const ask = async (app: FastifyInstance, body: object) => {
  const res = await app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: body });
  expect(res.statusCode, res.body).toBe(200);
  const { results, meta } = res.json();
  const { took_ms: _, ...rest } = meta;
  return { results, meta: rest };
};

const answeredFromDaySums = async () => {
  const text = (await api.app.inject({ url: '/metrics' })).body;
  return Number(/^policylens_api_day_sums_answers_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
};

const MONEY_AND_RISK = ['sends', 'read_rate', 'opt_outs_per_1k', 'spam_risk_per_1k', 'revenue_per_1k', 'net_revenue_per_1k', 'cost_usd', 'revenue_usd'];
const QUESTIONS: object[] = [
  { metrics: MONEY_AND_RISK, dimensions: [] },
  { metrics: MONEY_AND_RISK, dimensions: ['frequency', 'regime'] },
  { metrics: ['sends', 'delivery_rate', 'click_rate', 'blocks_per_1k'], dimensions: ['channel', 'category'] },
  { metrics: ['sends', 'conversion_rate', 'revenue_per_1k'], dimensions: ['business_id'], filters: [['is', 'channel', ['messenger', 'whatsapp']]] },
  { metrics: ['sends', 'opt_outs_per_1k', 'unattributed_opt_outs'], dimensions: ['time:month', 'channel'] },
  { metrics: ['sends', 'read_rate'], dimensions: ['time:week'], order_by: [['time:week', 'desc']], pagination: { limit: 7, offset: 3 } },
  { metrics: ['sends', 'revenue_usd'], dimensions: ['time:month'], include: { time_labels: true } },
  { metrics: ['sends', 'spam_reports_per_1k'], dimensions: ['frequency'], filters: [['is_not', 'frequency', [null]]], order_by: [['frequency', 'desc']] },
];
// The first range of each question is answered by its own query; the others from its day sums.
const RANGES = [
  ['2022-09-01', '2023-09-30'],
  ['2022-10-15', '2023-02-11'],
  ['2023-03-01', '2023-03-01'],
  ['2021-01-01', '2022-08-31'], // before the first event: no group
  ['2023-06-17', '2024-12-31'],
];

describe('answers from kept day sums', () => {
  it('equal the answer of a query of their own, for every question and range', async () => {
    const before = await answeredFromDaySums();
    let compared = 0;
    for (const q of QUESTIONS) {
      for (const date_range of RANGES) {
        const body = { ...q, date_range };
        expect({ body, ...(await ask(api.app, body)) }).toEqual({ body, ...(await ask(off, body)) });
        compared++;
      }
    }
    expect(compared).toBe(QUESTIONS.length * RANGES.length);
    expect(await answeredFromDaySums()).toBe(before + QUESTIONS.length * (RANGES.length - 1));
  });

  it('are read again after a write', async () => {
    const body = { metrics: ['sends', 'cost_usd'], dimensions: ['channel'], date_range: ['2023-01-01', '2023-01-31'] };
    await ask(api.app, { ...body, date_range: ['2023-02-01', '2023-02-28'] });
    await ask(api.app, body);
    await ask(api.app, { ...body, date_range: ['2023-01-01', '2023-01-30'] });
    const first = await ask(api.app, body);
    await api.load(
      'late.ndjson',
      `${JSON.stringify({ event_id: 'day-sums-late', type: 'send', occurred_at: '2023-01-15T10:00:00Z', business_id: 'b1', user_id: 'u1', channel: 'messenger', category: 'response', cost_usd: 0.25 })}\n`,
    );
    const again = await ask(api.app, { ...body, date_range: ['2023-01-01', '2023-01-31'] });
    expect(again).toEqual(await ask(off, body));
    const sends = (a: typeof first) => a.results.reduce((n: number, r: { metrics: { sends: number } }) => n + r.metrics.sends, 0);
    expect(sends(again)).toBe(sends(first) + 1);
  });
});

describe('decimal day sums', () => {
  it('add exactly and read back as the same number', () => {
    for (const text of ['0', '12.5', '-3.000001', '123456789012.123456789012', '0.000000000001']) {
      expect(Number(fromScaled(toScaled(text)))).toBe(Number(text));
    }
    expect(fromScaled(toScaled('0.1') + toScaled('0.2'))).toBe('0.300000000000');
    expect(() => toScaled('1.0000000000001')).toThrow('more than 12 decimals');
  });
});
