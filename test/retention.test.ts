import { beforeAll, describe, expect, it } from 'vitest';
import { roleMay, type Role } from '../common/api-keys.js';
import { kaplanMeier, survivalAt, Z95, type KmStep } from '../query/analyses/kaplan-meier.js';
import { queryRows } from '../warehouse/client.js';
import type { Truth } from '../simulator/index.js';
import { ndjson, sendEvent, subscriptionEvent } from './helpers/events.js';
import { TEST_KEYS, authAs, useTestApi } from './helpers/api.js';
import { DAY, iso } from './helpers/time.js';

// ---------- pure Kaplan–Meier ----------

/** Freireich et al. (1963) 6-MP arm, remission weeks; + marks censoring (Klein & Moeschberger, Table 4.1A). */
const SIX_MP = '6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+'.split(' ');

function countsOf(tokens: string[]) {
  const m = new Map<number, { events: number; censored: number }>();
  for (const tok of tokens) {
    const t = Number(tok.replace('+', ''));
    const c = m.get(t) ?? { events: 0, censored: 0 };
    if (tok.endsWith('+')) c.censored++;
    else c.events++;
    m.set(t, c);
  }
  return [...m].map(([time, c]) => ({ time, ...c }));
}

describe('Kaplan–Meier with Greenwood variance (pure)', () => {
  const km = kaplanMeier(countsOf(SIX_MP));
  const at = (t: number) => km.steps.find((s) => s.time === t)!;

  it('reproduces the textbook 6-MP table: survival and Greenwood standard errors', () => {
    // Klein & Moeschberger Table 4.1A (also Collett): S(t) and SE at each death time.
    const table: [number, number, number, number, number][] = [
      // time, at risk, deaths, S, SE
      [6, 21, 3, 0.8571, 0.0764],
      [7, 17, 1, 0.8067, 0.0869],
      [10, 15, 1, 0.7529, 0.0963],
      [13, 12, 1, 0.6902, 0.1068],
      [16, 11, 1, 0.6275, 0.1141],
      [22, 7, 1, 0.5378, 0.1282],
      [23, 6, 1, 0.4482, 0.1346],
    ];
    for (const [t, n, d, s, se] of table) {
      expect(at(t).at_risk).toBe(n);
      expect(at(t).events).toBe(d);
      expect(at(t).survival).toBeCloseTo(s, 4);
      expect(at(t).std_err).toBeCloseTo(se, 4);
    }
    expect(km.subjects).toBe(21);
    expect(km.events).toBe(9);
    expect(km.censored).toBe(12);
    expect(km.median).toBe(23);
    expect(at(35).survival).toBeCloseTo(0.4482, 4); // censorings do not move S
  });

  it('matches hand-computed exact values, both interval kinds', () => {
    // At t = 6: S = 18/21, Σ d/(n(n−d)) = 3/(21·18).
    const s6 = 18 / 21;
    const g6 = 3 / (21 * 18);
    expect(at(6).survival).toBe(s6);
    expect(at(6).std_err).toBeCloseTo(s6 * Math.sqrt(g6), 12);
    const sigma = Math.sqrt(g6) / Math.abs(Math.log(s6));
    expect(at(6).ci95[0]).toBeCloseTo(s6 ** Math.exp(Z95 * sigma), 12);
    expect(at(6).ci95[1]).toBeCloseTo(s6 ** Math.exp(-Z95 * sigma), 12);
    expect(at(6).ci95[0]).toBeCloseTo(0.6197, 3); // R: survfit(conf.type = "log-log")
    expect(at(6).ci95[1]).toBeCloseTo(0.9516, 3);
    // At t = 13: S = 18/21 · 16/17 · 14/15 · 11/12.
    const s13 = (18 / 21) * (16 / 17) * (14 / 15) * (11 / 12);
    const g13 = 3 / (21 * 18) + 1 / (17 * 16) + 1 / (15 * 14) + 1 / (12 * 11);
    const plain = kaplanMeier(countsOf(SIX_MP), { interval: 'plain' }).steps.find((s) => s.time === 13)!;
    expect(plain.survival).toBeCloseTo(s13, 12);
    expect(plain.ci95[0]).toBeCloseTo(s13 - Z95 * s13 * Math.sqrt(g13), 12);
    expect(plain.ci95[1]).toBeCloseTo(s13 + Z95 * s13 * Math.sqrt(g13), 12);
  });

  it('handles ties, a small hand example, total failure and the median interval', () => {
    // 1 event, 2 censored, 3 two events, 4 censored: S(1) = 4/5, S(3) = 4/5 · 1/3.
    const small = kaplanMeier([
      { time: 3, events: 2, censored: 0 },
      { time: 1, events: 1, censored: 0 },
      { time: 4, events: 0, censored: 1 },
      { time: 2, events: 0, censored: 1 },
    ]);
    expect(small.steps.map((s) => [s.time, s.at_risk, s.events, s.censored])).toEqual([
      [1, 5, 1, 0],
      [2, 4, 0, 1],
      [3, 3, 2, 0],
      [4, 1, 0, 1],
    ]);
    const s3 = 0.8 / 3;
    expect(small.steps[2].survival).toBeCloseTo(s3, 12);
    expect(small.steps[2].std_err).toBeCloseTo(s3 * Math.sqrt(1 / 20 + 2 / 3), 12);
    expect(small.median).toBe(3);

    // Events and censorings at the same time: the censored are still at risk for those events.
    const tie = kaplanMeier([
      { time: 5, events: 1, censored: 1 },
      { time: 6, events: 1, censored: 0 },
    ]);
    expect(tie.steps[0]).toMatchObject({ at_risk: 3, survival: 2 / 3 });
    expect(tie.steps[1]).toMatchObject({ at_risk: 1, survival: 0, std_err: 0, ci95: [0, 0] });

    const none = kaplanMeier([{ time: 10, events: 0, censored: 4 }]);
    expect(none.steps[0]).toMatchObject({ survival: 1, ci95: [1, 1] });
    expect(none.median).toBeNull();
    expect(none.median_ci95).toEqual([null, null]);

    // Median interval: the lower band reaches 0.5 no later than the curve, the upper band no earlier.
    const [lo, hi] = kaplanMeier(countsOf(SIX_MP)).median_ci95;
    expect(lo).not.toBeNull();
    expect(lo!).toBeLessThanOrEqual(23);
    expect(hi).toBeNull(); // the upper band never reaches 0.5 in this small sample
    expect(survivalAt(kaplanMeier(countsOf(SIX_MP)).steps, 12)!.time).toBe(11);
    expect(survivalAt(kaplanMeier(countsOf(SIX_MP)).steps, 5)).toBeNull();
  });

  it('rejects malformed rows', () => {
    expect(() => kaplanMeier([{ time: Number.NaN, events: 1, censored: 0 }])).toThrow(/bad row/);
    expect(() => kaplanMeier([{ time: 1, events: -1, censored: 0 }])).toThrow(/bad row/);
  });
});

// ---------- the endpoint ----------

const auth = (role: Role = 'analyst') => authAs(role);

const api = useTestApi();
const { load } = api;

const T0 = Date.parse('2021-03-01T00:00:00Z');

describe('GET /v1/retention on a hand-made cohort (loaded first, so it sets the end of the data)', () => {
  beforeAll(async () => {
    const optIn = (user: string, frequency: string, at = T0, business = 'bk') =>
      subscriptionEvent('opt_in', { business_id: business, user_id: user, frequency, occurred_at: iso(at) });
    const ev = (type: string, user: string, at: number, business = 'bk') =>
      subscriptionEvent(type, { business_id: business, user_id: user, occurred_at: iso(at) });
    const send = (user: string, at: number, business = 'bk') => sendEvent({ business_id: business, user_id: user, occurred_at: iso(at), frequency: 'daily' });
    await load(
      'km.ndjson',
      ndjson([
        // daily: A opts out on day 2, B blocks on day 5, C and D never leave; A's later re-opt-in is ignored.
        optIn('A', 'daily'),
        ev('opt_out', 'A', T0 + 2.5 * DAY),
        optIn('A', 'weekly', T0 + 6 * DAY),
        optIn('B', 'daily'),
        send('B', T0 + 5 * DAY),
        ev('block', 'B', T0 + 5.1 * DAY),
        optIn('C', 'daily'),
        send('C', T0 + 3 * DAY),
        optIn('D', 'daily'),
        // weekly: E opted out before opting in (ignored) and reports spam after (not an event).
        ev('opt_out', 'E', T0 - DAY),
        optIn('E', 'weekly', T0 + 2 * DAY),
        ev('spam_report', 'E', T0 + 4 * DAY),
        // the same user on another business is another subject, on whatsapp another channel
        optIn('A', 'monthly', T0, 'bz'),
        subscriptionEvent('opt_in', { business_id: 'bk', user_id: 'A', channel: 'whatsapp', frequency: 'monthly', occurred_at: iso(T0) }),
        // the last event in the warehouse: day 10 after T0
        send('Z', T0 + 10 * DAY + 3_600_000, 'bq'),
      ]),
    );
  });

  it('returns KM steps per frequency, censored at the end of the data', async () => {
    const res = await api.app.inject({ url: '/v1/retention?by=frequency&channel=messenger', headers: auth() });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      by: 'frequency',
      channel: 'messenger',
      censoring: 'end_of_data',
      interval: 'log-log',
      end_of_data: iso(T0 + 10 * DAY + 3_600_000),
    });
    const daily = body.groups.find((g: { group: string }) => g.group === 'daily');
    expect(daily).toMatchObject({ subjects: 4, events: 2, censored: 2, median_days: 5 });
    expect(daily.steps.map((s: KmStep & { day: number }) => [s.day, s.at_risk, s.events, s.censored, s.survival])).toEqual([
      [2, 4, 1, 0, 0.75],
      [5, 3, 1, 0, 0.5],
      [10, 2, 0, 2, 0.5],
    ]);
    const g = 1 / (4 * 3) + 1 / (3 * 2);
    expect(daily.steps[1].std_err).toBeCloseTo(0.5 * Math.sqrt(g), 12);
    const weekly = body.groups.find((x: { group: string }) => x.group === 'weekly');
    expect(weekly.steps).toEqual([{ day: 8, at_risk: 1, events: 0, censored: 1, survival: 1, std_err: 0, ci95: [1, 1] }]);
    expect(weekly.median_days).toBeNull();
    const monthly = body.groups.find((x: { group: string }) => x.group === 'monthly');
    expect(monthly.subjects).toBe(1); // bz/A on messenger; the whatsapp subject is filtered out
  });

  it('groups by channel or regime, and censors at the last send + the attribution window on request', async () => {
    const byChannel = (await api.app.inject({ url: '/v1/retention?by=channel', headers: auth() })).json();
    expect(byChannel.groups.map((g: { group: string; subjects: number }) => [g.group, g.subjects])).toEqual([
      ['messenger', 6],
      ['whatsapp', 1],
    ]);
    const byRegime = (await api.app.inject({ url: '/v1/retention?by=regime&channel=messenger', headers: auth() })).json();
    expect(byRegime.groups.map((g: { group: string }) => g.group)).toEqual(['24h_tags_otn']);

    const last = (await api.app.inject({ url: '/v1/retention?censor=last_send&channel=messenger', headers: auth() })).json();
    const daily = last.groups.find((g: { group: string }) => g.group === 'daily');
    // C: last send day 3 + 72 h → censored day 6; D: no send → censored at the opt-in + 72 h (day 3);
    // A left 2.5 days after opting in, inside those 72 h, so it still counts.
    expect(daily.steps.map((s: { day: number; at_risk: number; events: number; censored: number }) => [s.day, s.at_risk, s.events, s.censored])).toEqual([
      [2, 4, 1, 0],
      [3, 3, 0, 1],
      [5, 2, 1, 0],
      [6, 1, 0, 1],
    ]);
  });

  it('cuts the returned steps at max_days but keeps the median of the whole curve', async () => {
    const body = (await api.app.inject({ url: '/v1/retention?channel=messenger&max_days=4', headers: auth() })).json();
    const daily = body.groups.find((g: { group: string }) => g.group === 'daily');
    expect(daily.steps.map((s: { day: number }) => s.day)).toEqual([2]);
    expect(daily.median_days).toBe(5);
  });

  it('filters the cohort by opt-in date', async () => {
    const body = (await api.app.inject({ url: '/v1/retention?from=2021-03-02&to=2021-03-31', headers: auth() })).json();
    expect(body.groups.map((g: { group: string; subjects: number }) => [g.group, g.subjects])).toEqual([['weekly', 1]]);
    expect(body).toMatchObject({ from: '2021-03-02', to: '2021-03-31' });
  });
});

describe('GET /v1/retention: access and input safety', () => {
  it('needs a key; every role with "query" may (all but producer)', async () => {
    const none = await api.app.inject({ url: '/v1/retention' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    const wrong = await api.app.inject({ url: '/v1/retention', headers: { authorization: 'Bearer not-a-key-0123456789' } });
    expect(wrong.statusCode).toBe(401);
    for (const role of Object.keys(TEST_KEYS) as Role[])
      expect((await api.app.inject({ url: '/v1/retention', headers: auth(role) })).statusCode, role).toBe(roleMay(role, 'query') ? 200 : 403);
  });

  it('answers every injection attempt and bad value with a 400 in the error shape', async () => {
    const before = await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM subscriptions');
    const attacks = ["frequency' OR 1=1 --", 'frequency; DROP TABLE subscriptions', "x') UNION SELECT 1 --", 'FREQUENCY', '../../etc/passwd', 'a'.repeat(5000)];
    const cases: [string, string][] = [];
    for (const a of attacks) {
      const v = encodeURIComponent(a);
      cases.push(
        [`by=${v}`, ''],
        [`channel=${v}`, 'BAD_REQUEST'],
        [`from=${v}&to=2022-01-01`, 'BAD_REQUEST'],
        [`from=2021-01-01&to=${v}`, 'BAD_REQUEST'],
        [`censor=${v}`, 'BAD_REQUEST'],
      );
    }
    cases.push(
      ['by=topic', 'UNKNOWN_DIMENSION'],
      ['by=frequency&by=channel', 'BAD_REQUEST'],
      ['extra=1', 'BAD_REQUEST'],
      ['from=2021-01-01', 'INVALID_DATE_RANGE'],
      ['from=2021-02-30&to=2021-03-01', 'INVALID_DATE_RANGE'],
      ['from=2021-03-01&to=2021-02-01', 'INVALID_DATE_RANGE'],
      ['from=2010-01-01&to=2026-01-01', 'DATE_RANGE_TOO_LONG'],
      ['max_days=-1', 'BAD_REQUEST'],
      ['max_days=3661', 'BAD_REQUEST'],
    );
    for (const [qs, code] of cases) {
      const res = await api.app.inject({ url: `/v1/retention?${qs}`, headers: auth() });
      expect(res.statusCode, qs).toBe(400);
      const body = res.json();
      expect(body, qs).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      if (code) expect(body.error.code, qs).toBe(code);
      else expect(['BAD_REQUEST', 'UNKNOWN_DIMENSION'], qs).toContain(body.error.code);
    }
    expect(await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM subscriptions')).toEqual(before);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api.app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/v1/retention'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'by',
      'censor',
      'channel',
      'from',
      'max_days',
      'to',
    ]);
  });
});

// ---------- against the simulator's ground truth ----------

/**
 * The survival the simulator implies for a Messenger or Instagram recurring subscriber of one frequency,
 * from the truth file: the recurring stream (first send after U(0.1, 1) periods, then every
 * period × U(1, jitter)) with the per-send opt-out + block probability of the realised cells, plus
 * the subscriber's other streams (sessions with responses, message tags, one-time notifications)
 * as constant hazards.
 */
function truthSurvival(truth: Truth, channel: 'messenger' | 'instagram', frequency: 'daily' | 'weekly' | 'monthly', days: number): number {
  const w = truth.parameters.world;
  const weighted = (category: string, freq: string | null) => {
    const cells = truth.cells.filter((c) => c.category === category && c.frequency === freq && c.channel === channel && c.realized.sends > 0);
    const n = cells.reduce((a, c) => a + c.realized.sends, 0);
    return cells.reduce((a, c) => a + c.realized.sends * (c.rates.opt_out_rate + c.rates.block_rate), 0) / n;
  };
  const period = truth.parameters.frequencySchedule[frequency].periodDays;
  const meanGap = (period * (1 + w.cadenceJitter)) / 2;
  const firstSend = period * 0.55;
  const sendsBy = days < firstSend ? 0 : Math.floor((days - firstSend) / meanGap) + 1;
  const sessionsPerDay = 1 / w.sessionGapDays.subscription;
  const other =
    sessionsPerDay * (1 + w.extraResponsesMean) * weighted('response', null) +
    (1 / w.tagGapDaysAfter2020) * weighted('message_tag', null) +
    sessionsPerDay * w.oneTimeNotificationProbability * weighted('one_time_notification', null);
  return (1 - weighted('recurring_notification', frequency)) ** sendsBy * Math.exp(-other * days);
}

describe('GET /v1/retention against the simulator truth (200k events, 2022-05 .. 2023-01, seed 42)', () => {
  let truth: Truth;
  beforeAll(async () => {
    truth = await api.loadSimulated({ events: 200_000, seed: 42, from: '2022-05-01', to: '2023-01-31' });
  });

  it('has KM survival consistent with the truth hazard per channel and frequency', async () => {
    const checks: { cell: string; day: number; km: number; lo: number; hi: number; z: number; truth: number }[] = [];
    const s90: Record<string, number> = {};
    for (const channel of ['messenger', 'instagram'] as const) {
      const started = Date.now();
      const res = await api.app.inject({ url: `/v1/retention?by=frequency&from=2022-05-01&to=2023-01-31&channel=${channel}`, headers: auth() });
      console.log(`retention (${channel}, 200k-event warehouse) in ${Date.now() - started} ms`);
      expect(res.statusCode).toBe(200);
      const groups = res.json().groups as { group: string; subjects: number; steps: (KmStep & { day: number })[] }[];
      for (const f of ['daily', 'weekly', 'monthly'] as const) {
        const g = groups.find((x) => x.group === f)!;
        expect(g.subjects).toBeGreaterThan(30);
        for (const day of [30, 60, 90]) {
          const st = [...g.steps].reverse().find((s) => s.day <= day)!;
          const truthS = truthSurvival(truth, channel, f, day);
          // Greenwood SE, floored by the binomial SE at the truth (Greenwood is 0 before the first event).
          const se = Math.max(st.std_err, Math.sqrt((truthS * (1 - truthS)) / st.at_risk));
          checks.push({ cell: `${channel}/${f}`, day, km: st.survival, lo: st.ci95[0], hi: st.ci95[1], z: (st.survival - truthS) / se, truth: truthS });
          if (day === 90) s90[`${channel}/${f}`] = st.survival;
        }
      }
    }
    console.log(
      checks
        .map((c) => `${c.cell}@${c.day}: km ${c.km.toFixed(3)} [${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}] truth ${c.truth.toFixed(3)} z ${c.z.toFixed(2)}`)
        .join('\n'),
    );
    // Every point within 3 standard errors of the truth, and most inside their 95% band.
    for (const c of checks) expect(Math.abs(c.z), `${c.cell}@${c.day}`).toBeLessThan(3);
    const inside = checks.filter((c) => c.truth >= c.lo && c.truth <= c.hi).length;
    expect(inside).toBeGreaterThanOrEqual(Math.ceil(checks.length * 0.6));
    // daily subscribers leave much faster than weekly ones, as the truth says
    for (const ch of ['messenger', 'instagram']) expect(s90[`${ch}/daily`]).toBeLessThan(s90[`${ch}/weekly`]);
  });
});
