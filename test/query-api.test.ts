// POST /v1/query over HTTP (inject): auth, the answer's shape, validation, limits, injection attempts in every
// parameter, and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, roleMay, type Role } from '../common/api-keys.js';
import { METRIC_NAMES } from '../query/metrics/catalog.js';
import { MAX_LIMIT } from '../query/metrics/request.js';
import { queryRows } from '../warehouse/client.js';
import { ndjson } from './helpers/events.js';
import type { TestWarehouse } from './helpers/warehouse.js';
import { authAs, openTestApi, type TestApi } from './helpers/api.js';

const auth = authAs;
const NASTY_TOPIC = `deals' OR 1=1 --\\'); DROP TABLE sends; --`;

let api: TestApi;
let t: TestWarehouse;
let app: FastifyInstance;

const base = { metrics: ['sends', 'read_rate', 'opt_outs_per_1k'], date_range: ['2022-06-01', '2022-06-30'] };
const post = (body: unknown, role: Role | null = 'analyst', headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/query', headers: { ...(role ? auth(role) : {}), ...headers }, payload: body as object });

beforeAll(async () => {
  api = await openTestApi();
  ({ t, app } = api);
  const common = { business_id: 'b1', user_id: 'u1', channel: 'messenger' };
  const events = [
    {
      event_id: 's1',
      type: 'send',
      occurred_at: '2022-06-01T10:00:00Z',
      ...common,
      category: 'recurring_notification',
      frequency: 'daily',
      topic: NASTY_TOPIC,
      cost_usd: 0.01,
    },
    {
      event_id: 's2',
      type: 'send',
      occurred_at: '2022-06-02T10:00:00Z',
      ...common,
      category: 'recurring_notification',
      frequency: 'weekly',
      topic: 'deals',
      cost_usd: 0.01,
    },
    { event_id: 's3', type: 'send', occurred_at: '2022-06-03T10:00:00Z', ...common, channel: 'whatsapp', category: 'marketing_template', cost_usd: 0.05 },
    { event_id: 'e1', type: 'delivered', occurred_at: '2022-06-01T10:00:01Z', ...common, send_id: 's1' },
    { event_id: 'e2', type: 'read', occurred_at: '2022-06-01T10:01:00Z', ...common, send_id: 's1' },
    { event_id: 'e3', type: 'delivered', occurred_at: '2022-06-02T10:00:01Z', ...common, send_id: 's2' },
    { event_id: 'o1', type: 'opt_out', occurred_at: '2022-06-02T11:00:00Z', ...common },
  ];
  await api.load('api.ndjson', ndjson(events));
});
afterAll(async () => api?.close());

describe('auth', () => {
  it('answers 401 without a key or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-a-key-at-all-000' }, { authorization: 'Basic abc' }];
    for (const headers of attempts) {
      const res = await post(base, null, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('answers 200 to every role that grants "query", 403 to the others', async () => {
    for (const role of ROLES) expect((await post(base, role)).statusCode).toBe(roleMay(role, 'query') ? 200 : 403);
  });
});

describe('the answer', () => {
  it('has results with dimensions and metrics, every rate and per-1k metric with its _ci95, and meta', async () => {
    const res = await post({ ...base, dimensions: ['frequency'], metrics: ['sends', 'delivered', 'read_rate', 'opt_outs_per_1k', 'revenue_per_1k'] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.results).toEqual([
      {
        dimensions: { frequency: 'daily' },
        metrics: {
          sends: 1,
          delivered: 1,
          read_rate: 1,
          read_rate_ci95: [expect.closeTo(0.2065, 3), 1],
          opt_outs_per_1k: 0,
          opt_outs_per_1k_ci95: [0, expect.closeTo(3688.9, 0)],
          revenue_per_1k: 0,
          revenue_per_1k_ci95: null,
        },
      },
      {
        dimensions: { frequency: 'weekly' },
        metrics: expect.objectContaining({ sends: 1, delivered: 1, read_rate: 0, opt_outs_per_1k: 1000 }),
      },
      { dimensions: { frequency: null }, metrics: expect.objectContaining({ sends: 1, delivered: 0, read_rate: null, read_rate_ci95: null }) },
    ]);
    expect(body.meta).toMatchObject({
      source: 'rollup',
      date_range: ['2022-06-01', '2022-06-30'],
      dimensions: ['frequency'],
      rows: 3,
      total_rows: 3,
      truncated: false,
      attribution_window_hours: 72,
      confidence: 0.95,
    });
    expect(body.meta.tables).toContain('send_metrics_daily_coarse');
  });

  it('orders by a metric or dimension and says when the limit cut rows', async () => {
    const res = await post({ ...base, metrics: ['cost_usd'], dimensions: ['channel', 'time:day'], order_by: [['cost_usd', 'desc']], limit: 2 });
    const body = res.json();
    expect(body.results.map((r: { dimensions: Record<string, string> }) => r.dimensions)).toEqual([
      { channel: 'whatsapp', 'time:day': '2022-06-03' },
      { channel: 'messenger', 'time:day': '2022-06-01' },
    ]);
    expect(body.meta).toMatchObject({ rows: 2, total_rows: 3, truncated: true });
    const byDay = await post({ ...base, metrics: ['sends'], dimensions: ['time:day'], order_by: [['time:day', 'desc']] });
    expect(byDay.json().results.map((r: { dimensions: Record<string, string> }) => r.dimensions['time:day'])).toEqual([
      '2022-06-03',
      '2022-06-02',
      '2022-06-01',
    ]);
  });

  it('answers one row of zeros for an empty range without dimensions', async () => {
    const res = await post({ metrics: ['sends', 'delivery_rate'], date_range: ['2010-01-01', '2010-01-31'] });
    expect(res.json().results).toEqual([{ dimensions: {}, metrics: { sends: 0, delivery_rate: null, delivery_rate_ci95: null } }]);
  });

  it('accepts every metric and dimension of the catalog at once', async () => {
    const res = await post({
      metrics: [...METRIC_NAMES],
      dimensions: ['channel', 'category', 'frequency', 'regime', 'business_id', 'time:month'],
      date_range: ['2022-01-01', '2022-12-31'],
    });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().results[0].metrics)).toEqual(expect.arrayContaining([...METRIC_NAMES, 'spam_risk_per_1k_ci95', 'conversion_rate_ci95']));
  });
});

describe('validation and limits', () => {
  const cases: [string, unknown, string][] = [
    ['unknown metric', { ...base, metrics: ['sends', 'visitors'] }, 'UNKNOWN_METRIC'],
    ['an interval is not a metric', { ...base, metrics: ['read_rate_ci95'] }, 'UNKNOWN_METRIC'],
    ['unknown dimension', { ...base, dimensions: ['country'] }, 'UNKNOWN_DIMENSION'],
    ['unknown filter dimension', { ...base, filters: [['is', 'country', ['x']]] }, 'UNKNOWN_DIMENSION'],
    ['filter on a time dimension', { ...base, filters: [['is', 'time:day', ['2022-06-01']]] }, 'BAD_REQUEST'],
    ['two time dimensions', { ...base, dimensions: ['time:day', 'time:week'] }, 'BAD_REQUEST'],
    ['unknown filter operator', { ...base, filters: [['contains', 'channel', ['x']]] }, 'BAD_REQUEST'],
    ['empty filter values', { ...base, filters: [['is', 'channel', []]] }, 'BAD_REQUEST'],
    ['too many filter values', { ...base, filters: [['is', 'business_id', Array.from({ length: 1001 }, (_, i) => `b${i}`)]] }, 'BAD_REQUEST'],
    ['order_by a metric not asked for', { ...base, order_by: [['delivered', 'desc']] }, 'BAD_REQUEST'],
    ['order_by direction', { ...base, order_by: [['sends', 'down']] }, 'BAD_REQUEST'],
    ['no metrics', { ...base, metrics: [] }, 'BAD_REQUEST'],
    ['no date_range', { metrics: ['sends'] }, 'BAD_REQUEST'],
    ['one date', { ...base, date_range: ['2022-06-01'] }, 'BAD_REQUEST'],
    ['not a date', { ...base, date_range: ['2022-06-01', 'yesterday'] }, 'INVALID_DATE_RANGE'],
    ['no such day', { ...base, date_range: ['2023-02-29', '2023-03-01'] }, 'INVALID_DATE_RANGE'],
    ['from after to', { ...base, date_range: ['2022-07-01', '2022-06-01'] }, 'INVALID_DATE_RANGE'],
    ['beyond the Date type', { ...base, date_range: ['1969-12-31', '2022-06-01'] }, 'INVALID_DATE_RANGE'],
    ['a relative range that is not one', { ...base, date_range: 'yesterday' }, 'INVALID_DATE_RANGE'],
    ['a relative range in another case', { ...base, date_range: '30D' }, 'INVALID_DATE_RANGE'],
    ['an unknown comparison mode', { ...base, include: { comparisons: { mode: 'last_week' } } }, 'BAD_REQUEST'],
    ['comparisons as a bare mode', { ...base, include: { comparisons: 'previous_period' } }, 'BAD_REQUEST'],
    ['time_labels as text', { ...base, dimensions: ['time:day'], include: { time_labels: 'true' } }, 'BAD_REQUEST'],
    ['limit too large', { ...base, limit: MAX_LIMIT + 1 }, 'BAD_REQUEST'],
    ['limit zero', { ...base, limit: 0 }, 'BAD_REQUEST'],
    // A JSON body is checked as sent: no coercion of a text to a number or of a bare name to a list.
    ['limit as a numeral in quotes', { ...base, limit: '5' }, 'BAD_REQUEST'],
    ['metrics as a bare name', { ...base, metrics: 'sends' }, 'BAD_REQUEST'],
    ['a filter value as a bare name', { ...base, filters: [['is', 'channel', 'messenger']] }, 'BAD_REQUEST'],
    ['limit as a boolean', { ...base, limit: true }, 'BAD_REQUEST'],
    ['unknown field', { ...base, page: 2 }, 'BAD_REQUEST'],
    ['unknown pagination field', { ...base, pagination: { page: 2 } }, 'BAD_REQUEST'],
    ['a forced source is not part of the API', { ...base, source: 'raw' }, 'BAD_REQUEST'],
  ];
  for (const [name, body, code] of cases) {
    it(`${name} -> ${code}`, async () => {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code, message: expect.any(String) } });
    });
  }

  it('accepts more than ten years (no cap on days) and limit 10,000', async () => {
    expect((await post({ ...base, date_range: ['2010-01-01', '2030-01-03'], limit: MAX_LIMIT })).statusCode).toBe(200);
  });

  it('refuses a body over 64 KiB with 413 and a body that is not JSON with 400', async () => {
    const big = await post({ ...base, filters: [['is', 'business_id', Array.from({ length: 900 }, () => 'x'.repeat(80))]] });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const notJson = await app.inject({
      method: 'POST',
      url: '/v1/query',
      headers: { ...auth('analyst'), 'content-type': 'application/json' },
      payload: '{"metrics":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('BAD_REQUEST');
  });
});

describe('injection attempts', () => {
  const sqlish = ['sends; DROP TABLE sends', 'channel) UNION ALL SELECT 1 --', "channel' --", '1=1', 'sum(sends)', 'time:day)', '`channel`', 'day'];
  const attempts: [string, unknown][] = [
    ...sqlish.map((s): [string, unknown] => [`metric ${s}`, { ...base, metrics: [s] }]),
    ...sqlish.map((s): [string, unknown] => [`dimension ${s}`, { ...base, dimensions: [s] }]),
    ...sqlish.map((s): [string, unknown] => [`filter dimension ${s}`, { ...base, filters: [['is', s, ['x']]] }]),
    ...sqlish.map((s): [string, unknown] => [`filter operator ${s}`, { ...base, filters: [[s, 'channel', ['x']]] }]),
    ...sqlish.map((s): [string, unknown] => [`order_by ${s}`, { ...base, order_by: [[s, 'asc']] }]),
    ...sqlish.map((s): [string, unknown] => [`order_by direction ${s}`, { ...base, order_by: [['sends', s]] }]),
    ["date ' OR '1'='1", { ...base, date_range: ["2022-06-01' OR '1'='1", '2022-06-30'] }],
    ['date with a statement', { ...base, date_range: ['2022-06-01', "2022-06-30'); DROP TABLE sends; --"] }],
    ['date as an expression', { ...base, date_range: ['today()', '2022-06-30'] }],
    ['date as a number', { ...base, date_range: [20220601, '2022-06-30'] }],
    ['limit as text', { ...base, limit: '10; DROP TABLE sends' }],
    ['limit as an expression', { ...base, limit: '1+1' }],
    ['a nested object where a name belongs', { ...base, dimensions: [{ toString: 'channel' }] }],
  ];
  for (const [name, body] of attempts) {
    it(`${name} -> 400 in the error shape`, async () => {
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      const json = res.json();
      expect(json).toEqual({
        error: { code: expect.stringMatching(/^(BAD_REQUEST|UNKNOWN_METRIC|UNKNOWN_DIMENSION|INVALID_DATE_RANGE)$/), message: expect.any(String) },
      });
      expect(json.error.message).not.toMatch(/DB::Exception|Code: \d+|SYNTAX_ERROR|clickhouse/i);
    });
  }

  it('treats filter values as data: a value full of SQL matches only itself', async () => {
    const hit = await post({ ...base, metrics: ['sends'], dimensions: ['topic'], filters: [['is', 'topic', [NASTY_TOPIC]]] });
    expect(hit.statusCode).toBe(200);
    expect(hit.json().results).toEqual([{ dimensions: { topic: NASTY_TOPIC }, metrics: { sends: 1 } }]);
    for (const value of ["' OR 1=1 --", "x') OR ('1'='1", '\\', "'; DROP TABLE sends; --", '{from:Date}', "\\'; SELECT 1"]) {
      const res = await post({
        ...base,
        metrics: ['sends'],
        filters: [
          ['is', 'business_id', [value]],
          ['is_not', 'channel', [value]],
        ],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().results).toEqual([{ dimensions: {}, metrics: { sends: 0 } }]);
    }
  });

  it('leaves the tables as they were', async () => {
    const [{ n }] = await queryRows<{ n: string }>(t.wh, 'SELECT count() AS n FROM sends');
    expect(Number(n)).toBe(3);
  });
});

describe('OpenAPI', () => {
  it('documents POST /v1/query with request and response schemas and the bearer requirement', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const op = doc.paths['/v1/query'].post;
    const body = op.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['metrics', 'date_range']);
    expect(Object.keys(body.properties)).toEqual(['metrics', 'dimensions', 'date_range', 'filters', 'order_by', 'limit', 'pagination', 'include']);
    expect(body.properties.date_range.anyOf[1].enum).toEqual(['all', '7d', '30d', 'month', '6mo', '12mo', 'year']);
    expect(body.properties.include.properties.comparisons.properties.mode.enum).toEqual(['previous_period', 'year_over_year']);
    expect(body.properties.limit.maximum).toBe(MAX_LIMIT);
    const ok = op.responses['200'].content['application/json'].schema;
    expect(Object.keys(ok.properties)).toEqual(['results', 'meta']);
    for (const status of ['400', '401', '403', '413', '429', '500', '503']) {
      expect(op.responses[status].content['application/json'].schema.properties.error).toBeDefined();
    }
    expect(op.tags).toEqual(['query']);
    expect(doc.security).toEqual([{ bearer: [] }]);
  });
});
