import { beforeAll, describe, expect, it } from 'vitest';
import { roleMay, type Role } from '../common/api-keys.js';
import {
  clusteredWilson,
  DAYS_PER_MONTH,
  designEffect,
  frontierOf,
  frontierPoint,
  survivalDays,
  wilson,
  type FrontierSums,
} from '../query/analyses/frontier.js';
import { queryRows } from '../warehouse/client.js';
import type { Truth } from '../simulator/index.js';
import { engagementEvent, ndjson, sendEvent, subscriptionEvent } from './helpers/events.js';
import { TEST_KEYS, authAs, useTestApi } from './helpers/api.js';
import { MIN, DAY, iso } from './helpers/time.js';

// ---------- pure maths ----------

describe('frontier maths (pure)', () => {
  it('sums survival over the horizon in closed form', () => {
    for (const [h, days] of [
      [0.004, 90],
      [0.0003, 730],
      [0.5, 10],
    ]) {
      let loop = 0;
      for (let t = 0; t < days; t++) loop += Math.exp(-h * t);
      expect(survivalDays(h, days)).toBeCloseTo(loop, 10);
    }
    expect(survivalDays(0, 90)).toBe(90);
  });

  it('computes every frontier quantity of a hand example', () => {
    // 1,000 weekly sends, 4 opt-outs + 1 block, 2 spam reports, $300 revenue, $50 cost, 900 intervals of 7 days.
    const s: FrontierSums = {
      sends: 1000,
      subscribers: 40,
      opt_outs: 4,
      blocks: 1,
      spam_reports: 2,
      revenue_usd: 300,
      cost_usd: 50,
      gap_n: 900,
      gap_days: 6300,
    };
    const p = frontierPoint(s, 90);
    const h = 0.005 / 7;
    let days = 0;
    for (let t = 0; t < 90; t++) days += Math.exp(-h * t);
    expect(p.mean_send_interval_days).toBe(7);
    expect(p.sends_per_subscriber_month).toBeCloseTo(30.4375 / 7, 12);
    expect(p.opt_outs_per_send).toBe(0.004);
    expect(p.blocks_per_send).toBe(0.001);
    expect(p.leaves_per_send).toBe(0.005);
    expect(p.spam_reports_per_1k_sends).toBe(2);
    expect(p.hazard_per_subscriber_day).toBeCloseTo(h, 15);
    expect(p.survival_at_horizon).toBeCloseTo(Math.exp(-h * 90), 12);
    expect(p.net_revenue_per_send).toBe(0.25);
    expect(p.daily_net_revenue_per_subscriber).toBeCloseTo(0.25 / 7, 12);
    expect(p.expected_net_revenue_per_subscriber).toBeCloseTo((0.25 / 7) * days, 10);
    expect(p.spam_reports_per_1k_subscribers).toBeCloseTo((1000 * 0.002 * days) / 7, 10);
    expect(frontierPoint({ ...s, sends: 0, gap_n: 0, gap_days: 0 }, 90)).toEqual(Object.fromEntries(Object.keys(p).map((k) => [k, null])));
  });

  it('gives the textbook Wilson intervals and a design effect for clustered counts', () => {
    const [lo, hi] = wilson(5, 10)!;
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
    expect(wilson(0, 10)![0]).toBe(0);
    expect(wilson(0, 10)![1]).toBeCloseTo(3.8415 / 13.8415, 4);
    expect(wilson(0, 0)).toBeNull();
    // Equal rates in every cluster: no inflation. All events in one cluster of four: inflated.
    expect(designEffect([1, 1, 1, 1], [100, 100, 100, 100])).toBe(1);
    const deff = designEffect([4, 0, 0, 0], [100, 100, 100, 100]);
    // p = 0.01, Σ(y − p n)² = 9 + 3·1 = 12, robust = 4/3 · 12 / 400², binomial = 0.01·0.99/400
    expect(deff).toBeCloseTo(((4 / 3) * 12) / 160000 / ((0.01 * 0.99) / 400), 10);
    const wide = clusteredWilson([4, 0, 0, 0], [100, 100, 100, 100])!;
    const narrow = wilson(4, 400)!;
    expect(wide[0]).toBeLessThan(narrow[0]);
    expect(wide[1]).toBeGreaterThan(narrow[1]);
  });

  it('builds intervals that hold the estimate, deterministically', () => {
    const rows: FrontierSums[] = Array.from({ length: 30 }, (_, i) => ({
      sends: 200 + 10 * i,
      subscribers: 5,
      opt_outs: i % 3,
      blocks: i % 2,
      spam_reports: i % 5 === 0 ? 1 : 0,
      revenue_usd: 50 + 7 * (i % 4),
      cost_usd: 2,
      gap_n: 190 + 10 * i,
      gap_days: (190 + 10 * i) * (1.1 + (i % 3) * 0.05),
    }));
    const a = frontierOf(rows, 90);
    expect(frontierOf(rows, 90)).toEqual(a);
    for (const [k, ci] of Object.entries(a.ci95)) {
      const est = a.point[k as keyof typeof a.point]!;
      expect(ci, k).not.toBeNull();
      expect(ci![0], k).toBeLessThanOrEqual(est + 1e-12);
      expect(ci![1], k).toBeGreaterThanOrEqual(est - 1e-12);
    }
  });
});

// ---------- the endpoint ----------

const auth = (role: Role = 'product') => authAs(role);

const api = useTestApi();
const { load } = api;

const T = Date.parse('2021-03-02T09:00:00Z');

type Freq = { frequency: string; [k: string]: unknown };
const est = (f: Freq, k: string) => (f[k] as { estimate: number | null }).estimate;

describe('GET /v1/frequency-frontier on hand-made subscribers (March 2021)', () => {
  beforeAll(async () => {
    const events: Record<string, unknown>[] = [];
    const send = (user: string, at: number, over: Record<string, unknown> = {}) => {
      const e = sendEvent({ business_id: 'bf', user_id: user, occurred_at: iso(at), cost_usd: 0, ...over });
      events.push(e);
      return e;
    };
    const sub = (type: string, user: string, at: number, business = 'bf') =>
      events.push(subscriptionEvent(type, { business_id: business, user_id: user, occurred_at: iso(at) }));
    // u1, weekly: four sends a week apart; $10 converted on the second; opts out 30 min after the fourth.
    const weekly = [0, 1, 2, 3].map((k) => send('u1', T + k * 7 * DAY, { frequency: 'weekly' }));
    events.push(
      engagementEvent(weekly[1].event_id as string, 'converted', {
        business_id: 'bf',
        user_id: 'u1',
        revenue_usd: 10,
        occurred_at: iso(T + 7 * DAY + 5 * MIN),
      }),
    );
    sub('opt_out', 'u1', T + 21 * DAY + 30 * MIN);
    // u2, daily at $0.01: ten sends a day apart (and one before the window); a spam report after the fourth;
    // an opt-out that follows a (non-recurring) response, so it is not the daily stream's.
    send('u2', T - 3 * DAY, { cost_usd: 0.01 });
    for (let k = 0; k < 10; k++) send('u2', T + k * DAY, { cost_usd: 0.01 });
    sub('spam_report', 'u2', T + 3 * DAY + 10 * MIN);
    send('u2', T + 9.5 * DAY, { category: 'response', frequency: null, topic: null });
    sub('opt_out', 'u2', T + 9.5 * DAY + 60 * MIN);
    // u3 at another business, daily at $0.01: a 5-day lapse (longer than 3 periods) is not a send interval;
    // a block 200 h after the last send is outside the 72 h attribution window.
    for (const d of [0, 1, 2, 7, 8]) send('u3', T + d * DAY, { business_id: 'bg', cost_usd: 0.01 });
    sub('block', 'u3', T + 8 * DAY + 200 * 3_600_000, 'bg');
    await load('frontier-hand.ndjson', ndjson(events));
  });

  it('computes the quantities per frequency from the definitions', async () => {
    const res = await api.app.inject({ url: '/v1/frequency-frontier?from=2021-03-01&to=2021-03-31&channel=messenger&horizon_days=30', headers: auth() });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: '2021-03-01', to: '2021-03-31', channel: 'messenger', horizon_days: 30, attribution_window_hours: 72 });
    const [daily, weekly, monthly] = body.frequencies as Freq[];
    expect(weekly).toMatchObject({
      frequency: 'weekly',
      businesses: 1,
      subscribers: 1,
      sends: 4,
      opt_outs: 1,
      blocks: 0,
      spam_reports: 0,
      revenue_usd: 10,
      cost_usd: 0,
    });
    const hW = 0.25 / 7;
    expect(est(weekly, 'mean_send_interval_days')).toBeCloseTo(7, 12);
    expect(est(weekly, 'sends_per_subscriber_month')).toBeCloseTo(DAYS_PER_MONTH / 7, 10);
    expect(est(weekly, 'leaves_per_send')).toBe(0.25);
    expect(est(weekly, 'hazard_per_subscriber_day')).toBeCloseTo(hW, 12);
    expect(est(weekly, 'survival_at_horizon')).toBeCloseTo(Math.exp(-hW * 30), 12);
    expect(est(weekly, 'net_revenue_per_send')).toBeCloseTo(2.5, 12);
    expect(est(weekly, 'expected_net_revenue_per_subscriber')).toBeCloseTo((2.5 / 7) * survivalDays(hW, 30), 10);

    expect(daily).toMatchObject({
      frequency: 'daily',
      businesses: 2,
      subscribers: 2,
      sends: 15,
      opt_outs: 0,
      blocks: 0,
      spam_reports: 1,
      revenue_usd: 0,
      cost_usd: 0.15,
    });
    expect(est(daily, 'mean_send_interval_days')).toBeCloseTo(1, 12); // 9 + 3 one-day intervals; the 5-day lapse is left out
    expect(est(daily, 'hazard_per_subscriber_day')).toBe(0);
    expect(est(daily, 'survival_at_horizon')).toBe(1);
    expect(est(daily, 'spam_reports_per_1k_sends')).toBeCloseTo(1000 / 15, 10);
    expect(est(daily, 'net_revenue_per_send')).toBeCloseTo(-0.01, 12);
    expect(est(daily, 'expected_net_revenue_per_subscriber')).toBeCloseTo(-0.3, 10);
    expect(est(daily, 'spam_reports_per_1k_subscribers')).toBeCloseTo((1000 / 15) * 30, 8);
    // zero events still get an interval with a positive upper end
    const hz = daily.hazard_per_subscriber_day as { ci95: [number, number] };
    expect(hz.ci95[0]).toBe(0);
    expect(hz.ci95[1]).toBeGreaterThan(0);

    expect(monthly).toMatchObject({ frequency: 'monthly', sends: 0, businesses: 0 });
    expect(monthly.hazard_per_subscriber_day).toEqual({ estimate: null, ci95: null });
  });

  it('is deterministic and honours the window and channel', async () => {
    const url = '/v1/frequency-frontier?from=2021-03-01&to=2021-03-31';
    const a = await api.app.inject({ url, headers: auth() });
    const b = await api.app.inject({ url, headers: auth('admin') });
    expect(a.body).toBe(b.body);
    const late = (await api.app.inject({ url: '/v1/frequency-frontier?from=2021-03-05&to=2021-03-31', headers: auth() })).json();
    expect(late.frequencies[1]).toMatchObject({ frequency: 'weekly', sends: 3 });
    const wa = (await api.app.inject({ url: '/v1/frequency-frontier?from=2021-03-01&to=2021-03-31&channel=whatsapp', headers: auth() })).json();
    expect(wa.frequencies.map((f: Freq) => f.sends)).toEqual([0, 0, 0]);
  });
});

describe('GET /v1/frequency-frontier: access and input safety', () => {
  const ok = '/v1/frequency-frontier?from=2021-03-01&to=2021-03-31';
  it('needs a key; every role with "query" may (all but producer)', async () => {
    const none = await api.app.inject({ url: ok });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect((await api.app.inject({ url: ok, headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    for (const role of Object.keys(TEST_KEYS) as Role[])
      expect((await api.app.inject({ url: ok, headers: auth(role) })).statusCode, role).toBe(roleMay(role, 'query') ? 200 : 403);
  });

  it('answers every injection attempt and bad value with a 400 in the error shape', async () => {
    const before = await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM sends');
    const attacks = ["2021-01-01' OR '1'='1", "messenger'); DROP TABLE sends; --", '2021-01-01 UNION SELECT 1', '1e3', '-1', '{"$gt":""}', 'a'.repeat(3000)];
    const cases: [string, string][] = [];
    for (const a of attacks) {
      const v = encodeURIComponent(a);
      cases.push(
        [`from=${v}&to=2021-03-31`, 'BAD_REQUEST'],
        [`from=2021-03-01&to=${v}`, 'BAD_REQUEST'],
        [`${ok.split('?')[1]}&channel=${v}`, 'BAD_REQUEST'],
        [`${ok.split('?')[1]}&horizon_days=${v}`, 'BAD_REQUEST'],
      );
    }
    cases.push(
      ['to=2021-03-31', 'BAD_REQUEST'],
      [`${ok.split('?')[1]}&horizon_days=731`, 'BAD_REQUEST'],
      [`${ok.split('?')[1]}&horizon_days=0`, 'BAD_REQUEST'],
      [`${ok.split('?')[1]}&horizon_days=1.5`, 'BAD_REQUEST'],
      [`${ok.split('?')[1]}&channel=messenger&channel=whatsapp`, 'BAD_REQUEST'],
      [`${ok.split('?')[1]}&frequency=daily`, 'BAD_REQUEST'],
      ['from=2021-04-01&to=2021-03-01', 'INVALID_DATE_RANGE'],
      ['from=2021-02-29&to=2021-03-01', 'INVALID_DATE_RANGE'],
      ['from=2010-01-01&to=2020-01-02', 'DATE_RANGE_TOO_LONG'],
    );
    for (const [qs, code] of cases) {
      const res = await api.app.inject({ url: `/v1/frequency-frontier?${qs}`, headers: auth() });
      expect(res.statusCode, qs).toBe(400);
      expect(res.json(), qs).toEqual({ error: { code, message: expect.any(String) } });
    }
    // exactly ten years is allowed
    expect((await api.app.inject({ url: '/v1/frequency-frontier?from=2010-01-01&to=2020-01-01', headers: auth() })).statusCode).toBe(200);
    expect(await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM sends')).toEqual(before);
  });
});

// ---------- against the simulator's ground truth ----------

describe('GET /v1/frequency-frontier against the simulator truth (200k events, 2022-05 .. 2023-01, seed 42)', () => {
  let truth: Truth;
  beforeAll(async () => {
    truth = await api.loadSimulated({ events: 200_000, seed: 42, from: '2022-05-01', to: '2023-01-31' });
  });

  it('counts exactly what the simulator wrote and covers the true rates with its intervals', async () => {
    const started = Date.now();
    const res = await api.app.inject({ url: '/v1/frequency-frontier?from=2022-05-01&to=2023-01-31&horizon_days=90', headers: auth() });
    const ms = Date.now() - started;
    expect(res.statusCode).toBe(200);
    const freqs = res.json().frequencies as Freq[];
    const checks: { what: string; truth: number; est: number; ci: [number, number] }[] = [];
    for (const f of freqs) {
      const cells = truth.cells.filter((c) => c.category === 'recurring_notification' && c.frequency === f.frequency);
      const sum = (g: (c: (typeof cells)[number]) => number) => cells.reduce((a, c) => a + g(c), 0);
      const n = sum((c) => c.realized.sends);
      // Exact: the pipeline's attribution recovers the simulator's counts.
      expect(f.sends, f.frequency).toBe(n);
      expect(f.opt_outs, f.frequency).toBe(sum((c) => c.realized.opt_out));
      expect(f.blocks, f.frequency).toBe(sum((c) => c.realized.block));
      expect(f.spam_reports, f.frequency).toBe(sum((c) => c.realized.spam_report));
      expect(f.revenue_usd as number, f.frequency).toBeCloseTo(
        sum((c) => c.realized.revenue_usd),
        6,
      );
      expect(f.cost_usd as number, f.frequency).toBeCloseTo(
        sum((c) => c.realized.cost_usd),
        6,
      );
      // Expected values from the truth's parameters, weighted by the realised sends of each cell.
      const rate = (g: (c: (typeof cells)[number]) => number) => sum((c) => c.realized.sends * g(c)) / n;
      const sched = truth.parameters.frequencySchedule[f.frequency as 'daily'];
      const gap = (sched.periodDays * (1 + truth.parameters.world.cadenceJitter)) / 2;
      const leave = rate((c) => c.rates.opt_out_rate + c.rates.block_rate);
      const expected: Record<string, number> = {
        opt_outs_per_send: rate((c) => c.rates.opt_out_rate),
        blocks_per_send: rate((c) => c.rates.block_rate),
        leaves_per_send: leave,
        spam_reports_per_1k_sends: 1000 * rate((c) => c.rates.spam_report_rate),
        hazard_per_subscriber_day: leave / gap,
        survival_at_horizon: Math.exp((-leave / gap) * 90),
        sends_per_subscriber_month: DAYS_PER_MONTH / gap,
        net_revenue_per_send: rate(
          (c) => c.rates.delivery_rate * c.rates.conversion_rate * c.rates.revenue_per_conversion_usd - c.realized.cost_usd / c.realized.sends,
        ),
      };
      for (const [k, v] of Object.entries(expected)) {
        const e = f[k] as { estimate: number; ci95: [number, number] };
        checks.push({ what: `${f.frequency}.${k}`, truth: v, est: e.estimate, ci: e.ci95 });
      }
    }
    const inside = checks.filter((c) => c.truth >= c.ci[0] && c.truth <= c.ci[1]);
    console.log(
      `frontier (200k-event warehouse, all channels) in ${ms} ms\n` +
        checks
          .map((c) => `${c.what}: est ${c.est.toPrecision(4)} [${c.ci[0].toPrecision(4)}, ${c.ci[1].toPrecision(4)}] truth ${c.truth.toPrecision(4)}`)
          .join('\n'),
    );
    // 24 intervals at 95%: most must hold the truth.
    expect(inside.length).toBeGreaterThanOrEqual(Math.floor(checks.length * 0.8));
    // The send cadence is measured tightly: within 2% of period × mean jitter.
    for (const c of checks.filter((x) => x.what.endsWith('sends_per_subscriber_month'))) expect(Math.abs(c.est / c.truth - 1), c.what).toBeLessThan(0.02);
    // The frontier's shape: daily loses subscribers fastest and reports the most spam per subscriber.
    const [daily, weekly, monthly] = freqs;
    expect(est(daily, 'hazard_per_subscriber_day')!).toBeGreaterThan(est(weekly, 'hazard_per_subscriber_day')!);
    expect(est(weekly, 'hazard_per_subscriber_day')!).toBeGreaterThan(est(monthly, 'hazard_per_subscriber_day')!);
    expect(est(daily, 'sends_per_subscriber_month')!).toBeGreaterThan(est(weekly, 'sends_per_subscriber_month')!);
  });
});
