// GET / PUT /v1/regimes: auth, validation, and queries following a changed table (rollup and raw paths alike).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, roleMay, type Role } from '../common/api-keys.js';
import { normalizeQuery, type QueryRequest } from '../query/metrics/request.js';
import { runMetricsQuery } from '../query/metrics/query.js';
import { loadDefaultRegimes, type Regime } from '../warehouse/regimes.js';
import { ndjson } from './helpers/events.js';
import type { TestWarehouse } from './helpers/warehouse.js';
import { authAs, openTestApi, type TestApi } from './helpers/api.js';

const auth = authAs;

let api: TestApi;
let t: TestWarehouse;
let app: FastifyInstance;
const defaults = loadDefaultRegimes();

const put = (regimes: unknown, role: Role | null = 'admin') =>
  app.inject({ method: 'PUT', url: '/v1/regimes', headers: role ? auth(role) : {}, payload: { regimes } as object });

async function byRegime(req: Partial<QueryRequest> = {}): Promise<Record<string, Record<string, unknown>>> {
  const q = normalizeQuery({
    date_range: ['2022-05-01', '2022-05-31'],
    metrics: ['sends', 'delivered', 'opt_outs', 'unattributed_opt_outs'],
    dimensions: ['channel', 'regime'],
    ...req,
  });
  const [rollup, raw] = await Promise.all((['rollup', 'raw'] as const).map((source) => runMetricsQuery(t.wh, q, { source, attributionWindowHours: 72 })));
  expect(rollup.results).toEqual(raw.results);
  return Object.fromEntries(rollup.results.map((r) => [Object.values(r.dimensions).join('|'), r.metrics]));
}

beforeAll(async () => {
  api = await openTestApi();
  ({ t, app } = api);
  const common = { business_id: 'b1', user_id: 'u1', channel: 'messenger' };
  const send = (id: string, at: string, over: Record<string, unknown> = {}) => ({
    event_id: id,
    type: 'send',
    occurred_at: at,
    ...common,
    category: 'recurring_notification',
    frequency: 'weekly',
    ...over,
  });
  // Messenger changes regime on 2022-05-19 in the default table.
  const events = [
    send('s18', '2022-05-18T12:00:00Z'),
    send('s19', '2022-05-19T12:00:00Z', { user_id: 'u2' }),
    send('s20', '2022-05-20T12:00:00Z', { user_id: 'u3' }),
    send('sx', '2022-05-20T13:00:00Z', { user_id: 'u4', regime: 'named_x' }),
    { event_id: 'e19', type: 'delivered', occurred_at: '2022-05-19T12:00:01Z', ...common, user_id: 'u2', send_id: 's19' },
    { event_id: 'o19', type: 'opt_out', occurred_at: '2022-05-19T13:00:00Z', ...common, user_id: 'u2' },
    { event_id: 'o-none', type: 'opt_out', occurred_at: '2022-05-19T14:00:00Z', ...common, user_id: 'u9' },
  ];
  await api.load('regimes.ndjson', ndjson(events));
});
afterAll(async () => api?.close());

describe('GET /v1/regimes', () => {
  it('needs a key (401) and answers every role that grants "query" with the table', async () => {
    expect((await app.inject({ url: '/v1/regimes' })).statusCode).toBe(401);
    for (const role of ROLES.filter((r) => roleMay(r, 'query'))) {
      const res = await app.inject({ url: '/v1/regimes', headers: auth(role) });
      expect(res.statusCode).toBe(200);
      expect(res.json().regimes).toHaveLength(defaults.length);
    }
    const res = await app.inject({ url: '/v1/regimes', headers: auth('product') });
    expect(res.json().regimes[0]).toEqual({ channel: 'instagram', regime: '24h_plus_1', start: '2010-01-01', end: '2020-03-04', label: '24+1 window' });
  });
});

describe('PUT /v1/regimes', () => {
  it('needs a key (401) and the "regimes" permission: admin only (403 otherwise)', async () => {
    expect((await put(defaults, null)).statusCode).toBe(401);
    for (const role of ['analyst', 'product', 'researcher'] as const) {
      const res = await put(defaults, role);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await put(defaults, 'admin')).statusCode).toBe(200);
  });

  const invalid: [string, unknown, string][] = [
    [
      'overlapping ranges in a channel',
      [...defaults, { channel: 'whatsapp', regime: 'extra', start: '2024-01-01', end: '2024-02-01', label: '' }],
      'INVALID_REGIMES',
    ],
    ['an unknown channel', [{ channel: 'sms', regime: 'a', start: '2020-01-01', end: null, label: '' }], 'INVALID_REGIMES'],
    ['a bad regime name', [{ channel: 'whatsapp', regime: "x'; DROP TABLE regimes; --", start: '2020-01-01', end: null }], 'INVALID_REGIMES'],
    ['end before start', [{ channel: 'whatsapp', regime: 'a', start: '2020-01-01', end: '2019-01-01' }], 'INVALID_REGIMES'],
    ['a date that is not one', [{ channel: 'whatsapp', regime: 'a', start: 'today', end: null }], 'INVALID_REGIMES'],
    ['an empty table', [], 'BAD_REQUEST'],
    ['a missing start', [{ channel: 'whatsapp', regime: 'a' }], 'BAD_REQUEST'],
    ['an unknown field', [{ channel: 'whatsapp', regime: 'a', start: '2020-01-01', sql: '1' }], 'BAD_REQUEST'],
    // The body is checked as sent: a lone entry is not a list of one, a number is not a label.
    ['one entry where a list belongs', { channel: 'whatsapp', regime: 'a', start: '2020-01-01', end: null, label: '' }, 'BAD_REQUEST'],
    ['a label that is a number', [{ channel: 'whatsapp', regime: 'a', start: '2020-01-01', end: null, label: 5 }], 'BAD_REQUEST'],
  ];
  for (const [name, regimes, code] of invalid) {
    it(`refuses ${name} with ${code} and keeps the table`, async () => {
      const res = await put(regimes);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
      const now = await app.inject({ url: '/v1/regimes', headers: auth('admin') });
      expect(now.json().regimes).toHaveLength(defaults.length);
    });
  }

  it('names the overlap in the message', async () => {
    const res = await put([
      { channel: 'messenger', regime: 'a', start: '2020-01-01', end: '2021-01-01' },
      { channel: 'messenger', regime: 'b', start: '2020-06-01', end: null },
    ]);
    expect(res.json().error.message).toMatch(/messenger: a \[2020-01-01, 2021-01-01\) overlaps b starting 2020-06-01/);
  });
});

describe('queries follow the regime table', () => {
  it('groups by the default table first', async () => {
    expect(await byRegime()).toEqual({
      'messenger|24h_tags_otn': { sends: 1, delivered: 0, opt_outs: 0, unattributed_opt_outs: 0 },
      'messenger|named_x': { sends: 1, delivered: 0, opt_outs: 0, unattributed_opt_outs: 0 },
      'messenger|recurring_all_frequencies': { sends: 2, delivered: 1, opt_outs: 1, unattributed_opt_outs: 1 },
    });
  });

  it('regroups at once after a PUT moves a boundary and renames a regime; a regime the event named stays', async () => {
    const moved: Regime[] = defaults.map((r) => {
      if (r.channel !== 'messenger') return r;
      if (r.regime === '24h_tags_otn') return { ...r, end: '2022-05-20' };
      if (r.regime === 'recurring_all_frequencies') return { ...r, regime: 'recurring_launch', start: '2022-05-20' };
      return r;
    });
    const res = await put(moved);
    expect(res.statusCode).toBe(200);
    expect(res.json().regimes.find((r: Regime) => r.regime === 'recurring_launch')).toMatchObject({ channel: 'messenger', start: '2022-05-20' });
    expect(await byRegime()).toEqual({
      'messenger|24h_tags_otn': { sends: 2, delivered: 1, opt_outs: 1, unattributed_opt_outs: 1 },
      'messenger|named_x': { sends: 1, delivered: 0, opt_outs: 0, unattributed_opt_outs: 0 },
      'messenger|recurring_launch': { sends: 1, delivered: 0, opt_outs: 0, unattributed_opt_outs: 0 },
    });
    const filtered = await byRegime({ metrics: ['sends'], dimensions: ['time:day'], filters: [['is', 'regime', ['24h_tags_otn']]] });
    expect(Object.keys(filtered)).toEqual(['2022-05-18', '2022-05-19']);
  });

  it('calls days outside every range "unknown", and back when the table covers them again', async () => {
    const gap = defaults.filter((r) => !(r.channel === 'messenger' && r.regime === 'recurring_all_frequencies'));
    expect((await put(gap)).statusCode).toBe(200);
    expect(Object.keys(await byRegime())).toEqual(['messenger|24h_tags_otn', 'messenger|named_x', 'messenger|unknown']);
    expect((await put(defaults)).statusCode).toBe(200);
    expect(Object.keys(await byRegime())).toEqual(['messenger|24h_tags_otn', 'messenger|named_x', 'messenger|recurring_all_frequencies']);
  });
});

describe('OpenAPI', () => {
  it('documents GET and PUT /v1/regimes with schemas', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const path = doc.paths['/v1/regimes'];
    expect(path.get.responses['200'].content['application/json'].schema.properties.regimes.items.required).toEqual(['channel', 'regime', 'start']);
    expect(path.put.requestBody.content['application/json'].schema.properties.regimes.maxItems).toBeGreaterThan(0);
    expect(path.put.responses['403']).toBeDefined();
  });
});
