// POST /v1/query conveniences on simulated data over HTTP: relative date ranges ("all", "30d", …), comparisons with the
// previous period or year, pagination and zero-filled time buckets, each checked against separate plain queries.
import { describe, expect, it } from 'vitest';
import { intervalKey } from '../query/metrics/catalog.js';
import { comparisonPeriod, RELATIVE_RANGES, resolveRelativeRange, type Extent } from '../query/metrics/date-range.js';
import { warehouseExtent } from '../query/metrics/extent.js';
import { MAX_GROUPS } from '../query/metrics/request.js';
import { differenceInterval } from '../query/metrics/stats.js';
import { queryRows } from '../warehouse/client.js';
import { authAs, useTestApi } from './helpers/api.js';

type Dims = Record<string, string | null>;
type Metrics = Record<string, number | null | [number, number]>;
interface Row {
  dimensions: Dims;
  metrics: Metrics;
  comparison?: { dimensions: Dims; metrics: Metrics; change: Metrics };
}
interface Answer {
  results: Row[];
  meta: {
    date_range: [string, string];
    total_rows: number;
    rows: number;
    truncated: boolean;
    comparison?: { date_range: [string, string] };
    time_labels?: string[];
  };
}

const api = useTestApi();
const FROM = '2023-01-01';
const TO = '2025-01-01';
const METRICS = ['sends', 'read_rate', 'opt_outs_per_1k', 'revenue_per_1k', 'cost_usd'];

async function ask(body: object): Promise<Answer> {
  const res = await api.app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: body });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
  return res.json();
}
const askError = async (body: object) =>
  (await api.app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: body })).json().error?.code;
const key = (d: Dims) => JSON.stringify(d);

let loaded: Promise<Extent> | undefined;
/** Loads the simulation once and reads its extent straight from the raw tables, not through the code under test. */
function world(): Promise<Extent> {
  loaded ??= (async () => {
    await api.loadSimulated({ events: 40_000, seed: 11, from: FROM, to: TO });
    const [r] = await queryRows<{ first: string; last: string }>(
      api.t.wh,
      `SELECT toString(min(d)) AS first, toString(max(d)) AS last FROM (
         SELECT toDate(occurred_at) AS d FROM sends
         UNION ALL SELECT toDate(occurred_at) FROM subscriptions WHERE type IN ('opt_out', 'block', 'spam_report'))`,
    );
    return r;
  })();
  return loaded;
}

describe('relative date ranges', () => {
  // First, before the simulation is loaded.
  it('ends every range today on an empty warehouse', async () => {
    expect(loaded).toBeUndefined();
    expect(await warehouseExtent(api.t.wh)).toBeNull();
    const today = new Date().toISOString().slice(0, 10);
    const got = await ask({ metrics: ['sends'], date_range: '30d' });
    expect(got.meta.date_range).toEqual(resolveRelativeRange('30d', null, today));
    expect(got.meta.date_range[1]).toBe(today);
    expect(got.results).toEqual([{ dimensions: {}, metrics: { sends: 0 } }]);
  });

  it('resolve to the documented days, ending on the last event day', () => {
    const extent = { first: '2021-06-10', last: '2024-03-15' };
    const want: Record<string, [string, string]> = {
      all: ['2021-06-10', '2024-03-15'],
      '7d': ['2024-03-09', '2024-03-15'],
      '30d': ['2024-02-15', '2024-03-15'],
      month: ['2024-03-01', '2024-03-15'],
      '6mo': ['2023-10-01', '2024-03-15'],
      '12mo': ['2023-04-01', '2024-03-15'],
      year: ['2024-01-01', '2024-03-15'],
    };
    for (const range of RELATIVE_RANGES) expect([range, resolveRelativeRange(range, extent)]).toEqual([range, want[range]]);
    // An empty warehouse: every range ends today.
    expect(resolveRelativeRange('all', null, '2026-12-07')).toEqual(['2026-12-07', '2026-12-07']);
    expect(resolveRelativeRange('7d', null, '2026-12-07')).toEqual(['2026-12-01', '2026-12-07']);
  });

  it('"all" answers exactly what the explicit full range answers, and every send', async () => {
    const extent = await world();
    const dims = { metrics: METRICS, dimensions: ['channel', 'regime', 'time:month'], limit: 10_000 };
    const all = await ask({ ...dims, date_range: 'all' });
    const explicit = await ask({ ...dims, date_range: [extent.first, extent.last] });
    expect(all.meta.date_range).toEqual([extent.first, extent.last]);
    expect(all.results).toEqual(explicit.results);
    const [{ n }] = await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM sends');
    expect((await ask({ metrics: ['sends'], date_range: 'all' })).results[0].metrics.sends).toBe(Number(n));
  });

  it('each relative range answers over the days it resolves to', async () => {
    const extent = await world();
    for (const range of RELATIVE_RANGES) {
      const got = await ask({ metrics: ['sends', 'read_rate'], dimensions: ['channel'], date_range: range });
      const days = resolveRelativeRange(range, extent);
      expect([range, got.meta.date_range]).toEqual([range, days]);
      expect(got.results).toEqual((await ask({ metrics: ['sends', 'read_rate'], dimensions: ['channel'], date_range: days })).results);
    }
  });

  it('takes ranges longer than ten years (the cap is on groups, not days)', async () => {
    expect((await ask({ metrics: ['sends'], date_range: ['1990-01-01', '2030-12-31'] })).meta.date_range).toEqual(['1990-01-01', '2030-12-31']);
  });
});

describe('comparisons', () => {
  /** Checks every row's comparison against a separate query over the other period, and the change against the difference. */
  async function expectSameAsSeparate(body: Record<string, unknown>, mode: 'previous_period' | 'year_over_year', period: [string, string]) {
    const compared = await ask({ ...body, include: { ...(body.include as object), comparisons: { mode } } });
    const plain = await ask(body);
    expect(compared.meta.comparison?.date_range).toEqual(period);
    // The page itself is unchanged by the comparison.
    expect(compared.results.map(({ comparison, ...r }) => r)).toEqual(plain.results);
    const separate = await ask({ ...body, date_range: period, limit: undefined, pagination: { limit: 10_000 }, order_by: undefined });
    const other = new Map(separate.results.map((r) => [key(r.dimensions), r.metrics]));
    let matched = 0;
    for (const row of compared.results) {
      const c = row.comparison!;
      const want = other.get(key(c.dimensions));
      if (want) matched++;
      expect(c.metrics).toEqual(want ?? expect.objectContaining({ sends: 0 }));
      for (const m of body.metrics as string[]) {
        const [a, b] = [row.metrics[m], c.metrics[m]];
        expect(c.change[m]).toBe(typeof a === 'number' && typeof b === 'number' ? a - b : null);
        if (!(intervalKey(m) in row.metrics)) {
          expect(c.change).not.toHaveProperty(intervalKey(m));
          continue;
        }
        const [ca, cb] = [row.metrics[intervalKey(m)], c.metrics[intervalKey(m)]] as ([number, number] | null)[];
        const ci = c.change[intervalKey(m)] as [number, number] | null;
        if (ca && cb && typeof a === 'number' && typeof b === 'number') {
          expect(ci).toEqual(differenceInterval(a, ca, b, cb));
          expect(ci![0]).toBeLessThanOrEqual(a - b);
          expect(ci![1]).toBeGreaterThanOrEqual(a - b);
        } else expect(ci).toBeNull();
      }
    }
    expect(matched).toBeGreaterThan(0);
    return compared;
  }

  it('previous_period: the same number of days just before, by channel and category', async () => {
    await world();
    const body = { metrics: METRICS, dimensions: ['channel', 'category'], date_range: ['2024-01-01', '2024-03-31'] };
    expect(comparisonPeriod('previous_period', '2024-01-01', '2024-03-31')).toMatchObject({ from: '2023-10-02', to: '2023-12-31' });
    await expectSameAsSeparate(body, 'previous_period', ['2023-10-02', '2023-12-31']);
  });

  it('year_over_year: the same calendar days a year before, by business (the page-only path) with a limit', async () => {
    await world();
    const body = { metrics: METRICS, dimensions: ['business_id'], date_range: ['2024-02-29', '2024-09-30'], order_by: [['sends', 'desc']], limit: 15 };
    await expectSameAsSeparate(body, 'year_over_year', ['2023-02-28', '2023-09-30']);
  });

  it('by day: each day beside the day the period shift maps it to', async () => {
    await world();
    const body = { metrics: ['sends', 'read_rate'], dimensions: ['time:day', 'channel'], date_range: ['2024-05-01', '2024-05-10'], limit: 10_000 };
    const compared = await expectSameAsSeparate(body, 'previous_period', ['2024-04-21', '2024-04-30']);
    for (const r of compared.results) {
      const shifted = new Date(Date.parse(`${r.dimensions['time:day']}T00:00:00Z`) - 10 * 86_400_000).toISOString().slice(0, 10);
      expect(r.comparison!.dimensions).toEqual({ ...r.dimensions, 'time:day': shifted });
    }
  });

  it('a year_over_year range longer than a year (the periods overlap, read by two queries)', async () => {
    await world();
    const body = { metrics: METRICS, dimensions: ['regime'], date_range: ['2023-06-01', '2024-12-31'] };
    await expectSameAsSeparate(body, 'year_over_year', ['2022-06-01', '2023-12-31']);
  });

  it('without dimensions, also when the other period has no sends', async () => {
    const extent = await world();
    const body = { metrics: METRICS, date_range: [extent.first, '2023-03-31'] };
    const compared = await expectSameAsSeparate(body, 'year_over_year', [`${Number(extent.first.slice(0, 4)) - 1}${extent.first.slice(4)}`, '2022-03-31']);
    expect(compared.results).toHaveLength(1);
    expect(compared.results[0].comparison!.metrics).toMatchObject({ sends: 0, read_rate: null, read_rate_ci95: null });
    expect(compared.results[0].comparison!.change.read_rate).toBeNull();
    const totals = await expectSameAsSeparate({ metrics: METRICS, date_range: ['2024-07-01', '2024-09-30'] }, 'previous_period', ['2024-03-31', '2024-06-30']);
    expect(totals.results[0].comparison!.metrics.sends).toBeGreaterThan(0);
  });

  it('with zero-filled weeks and a page', async () => {
    await world();
    const body = {
      metrics: ['sends', 'opt_outs_per_1k'],
      dimensions: ['channel', 'time:week'],
      date_range: ['2024-10-01', '2025-01-31'],
      include: { time_labels: true },
      pagination: { limit: 20, offset: 10 },
    };
    const compared = await expectSameAsSeparate(body, 'previous_period', ['2024-05-31', '2024-09-30']);
    expect(compared.results).toHaveLength(20);
    // The range's first week starts before it: its first day in the range, moved back, picks the other week.
    const first = compared.results.find((r) => r.dimensions['time:week'] === '2024-09-30');
    expect(first?.comparison?.dimensions['time:week']).toBe('2024-05-27');
  });

  it('refuses a period that would start before 1970', async () => {
    expect(await askError({ metrics: ['sends'], date_range: ['1970-01-01', '1970-01-31'], include: { comparisons: { mode: 'previous_period' } } })).toBe(
      'INVALID_DATE_RANGE',
    );
  });
});

describe('pagination', () => {
  async function pages(body: Record<string, unknown>, size: number): Promise<{ whole: Answer; concatenated: Row[]; count: number }> {
    const whole = await ask({ ...body, pagination: { limit: 10_000 } });
    const concatenated: Row[] = [];
    let count = 0;
    for (let offset = 0; ; offset += size) {
      const page = await ask({ ...body, pagination: { limit: size, offset } });
      count++;
      expect(page.meta.total_rows).toBe(whole.meta.total_rows);
      concatenated.push(...page.results);
      expect(page.meta.truncated).toBe(offset + page.results.length < whole.meta.total_rows);
      if (!page.meta.truncated) break;
    }
    return { whole, concatenated, count };
  }

  it('pages concatenate to the whole answer, ordered by a metric with ties', async () => {
    await world();
    const body = {
      metrics: ['sends', 'opt_outs'],
      dimensions: ['business_id', 'time:month'],
      date_range: ['2024-01-01', '2024-06-30'],
      order_by: [['opt_outs', 'desc']],
    };
    const { whole, concatenated, count } = await pages(body, 37);
    expect(whole.results.length).toBeGreaterThan(100);
    expect(count).toBe(Math.ceil(whole.results.length / 37));
    expect(concatenated).toEqual(whole.results);
  });

  it('a page past the end is empty and still counts the groups', async () => {
    await world();
    const body = { metrics: ['sends'], dimensions: ['channel'], date_range: ['2024-01-01', '2024-06-30'] };
    const past = await ask({ ...body, pagination: { offset: 1000 } });
    expect(past.results).toEqual([]);
    expect(past.meta).toMatchObject({ total_rows: (await ask(body)).results.length, truncated: false });
  });

  it('takes limit or pagination.limit, not both', async () => {
    expect(await askError({ metrics: ['sends'], date_range: ['2024-01-01', '2024-01-31'], limit: 5, pagination: { limit: 5 } })).toBe('BAD_REQUEST');
    expect(await askError({ metrics: ['sends'], date_range: ['2024-01-01', '2024-01-31'], pagination: { offset: -1 } })).toBe('BAD_REQUEST');
    expect(await askError({ metrics: ['sends'], date_range: ['2024-01-01', '2024-01-31'], pagination: { offset: '5' } })).toBe('BAD_REQUEST');
  });

  it('pages of a zero-filled answer concatenate too', async () => {
    const extent = await world();
    const body = {
      metrics: ['sends', 'read_rate'],
      dimensions: ['channel', 'time:day'],
      date_range: [`${extent.last.slice(0, 8)}01`, '2025-01-20'],
      include: { time_labels: true },
      order_by: [['read_rate', 'asc']],
    };
    const { whole, concatenated } = await pages(body, 25);
    expect(concatenated).toEqual(whole.results);
  });
});

describe('time labels', () => {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const daysOf = (from: string, to: string) => {
    const out: string[] = [];
    for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) out.push(day(ms));
    return out;
  };

  it('gives every day of the range for every channel, zeros and nulls where nothing was sent', async () => {
    const extent = await world();
    // Ten days of data and ten after the last event day.
    const from = day(Date.parse(`${extent.last}T00:00:00Z`) - 9 * 86_400_000);
    const to = day(Date.parse(`${extent.last}T00:00:00Z`) + 10 * 86_400_000);
    const body = { metrics: ['sends', 'cost_usd', 'read_rate'], dimensions: ['channel', 'time:day'], date_range: [from, to] };
    const plain = await ask(body);
    const filled = await ask({ ...body, include: { time_labels: true } });
    const days = daysOf(from, to);
    const channels = [...new Set(plain.results.map((r) => r.dimensions.channel))].sort();
    expect(filled.meta.time_labels).toEqual(days);
    expect(filled.results.map((r) => `${r.dimensions.channel} ${r.dimensions['time:day']}`)).toEqual(channels.flatMap((c) => days.map((d) => `${c} ${d}`)));
    const byKey = new Map(plain.results.map((r) => [key(r.dimensions), r.metrics]));
    for (const r of filled.results) {
      expect(r.metrics).toEqual(byKey.get(key(r.dimensions)) ?? { sends: 0, cost_usd: 0, read_rate: null, read_rate_ci95: null });
    }
    expect(filled.results.length).toBeGreaterThan(plain.results.length);
  });

  it('gives every Monday for weeks and every first of the month for months', async () => {
    await world();
    const weeks = await ask({ metrics: ['sends'], dimensions: ['time:week'], date_range: ['2024-12-04', '2025-02-10'], include: { time_labels: true } });
    const mondays = weeks.results.map((r) => r.dimensions['time:week']!);
    expect(mondays[0]).toBe('2024-12-02');
    expect(mondays.at(-1)).toBe('2025-02-10');
    expect(mondays.length).toBe(11);
    for (const m of mondays) expect(new Date(`${m}T00:00:00Z`).getUTCDay()).toBe(1);
    const months = await ask({ metrics: ['sends'], dimensions: ['time:month'], date_range: ['2024-11-15', '2025-03-01'], include: { time_labels: true } });
    expect(months.results.map((r) => r.dimensions['time:month'])).toEqual(['2024-11-01', '2024-12-01', '2025-01-01', '2025-02-01', '2025-03-01']);
    expect(months.results.at(-1)!.metrics.sends).toBe(0);
  });

  it('needs a time dimension, and refuses more groups than the cap', async () => {
    expect(await askError({ metrics: ['sends'], date_range: ['2024-01-01', '2024-01-31'], include: { time_labels: true } })).toBe('BAD_REQUEST');
    await world();
    const huge = { metrics: ['sends'], dimensions: ['business_id', 'time:day'], date_range: ['1970-01-01', '2149-06-05'], include: { time_labels: true } };
    // About 65,000 days times the businesses is far over the cap.
    const businesses = (await ask({ metrics: ['sends'], dimensions: ['business_id'], date_range: 'all' })).results.length;
    expect(businesses * 65_000).toBeGreaterThan(MAX_GROUPS);
    expect(await askError(huge)).toBe('RESULT_TOO_LARGE');
  });
});
