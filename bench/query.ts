// npm run bench:query — latency of the API's answers on N simulated events (default 10M), each beside the time
// of the same answer from raw tables. The loaded warehouse is kept in .policylens/bench-query-N for reruns.
// Usage: npm run bench:query -- [events=10000000] [runs=30] [comparisons]
// With "comparisons", only the /v1/query answer is timed: plain, with each include.comparisons mode, with a relative
// date range ("12mo") and with zero-filled weeks; the result goes to results/query-comparisons-N.json.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../common/config.js';
import { loadFile } from '../ingest/load-file.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { normalizeQuery, type QueryRequest } from '../query/metrics/request.js';
import { runMetricsQuery } from '../query/metrics/query.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse } from '../warehouse/open.js';

const events = Number(process.argv[2] ?? 10_000_000);
const runs = Number(process.argv[3] ?? 30);
const mode = process.argv[4] ?? 'all';
if (mode !== 'all' && mode !== 'comparisons') throw new Error(`unknown mode ${mode}: use "comparisons" or nothing`);
const dir = resolve(`.policylens/bench-query-${events}`);
// The answer cache is off: these runs time computing an answer, and they repeat the same requests.
const config = loadConfig({ ...process.env, POLICYLENS_ANSWER_CACHE_ENTRIES: '0', POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 2; i++) await fn(); // warm caches and the JIT
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { p50: +percentile(ms, 50).toFixed(1), p95: +percentile(ms, 95).toFixed(1) };
}

if (!existsSync(join(dir, 'loaded'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'events.ndjson');
  console.error(`simulating and loading ${events} events into ${dir} (once)…`);
  await simulateToFile({ events, seed: 7, out: file, progress: true });
  const ready = await openReadyWarehouse(config);
  const r = await loadFile(file, ready.writer, { batchRows: config.ingest.batchMaxRows, progress: true });
  await ready.wh.close();
  rmSync(file);
  writeFileSync(join(dir, 'loaded'), JSON.stringify(r));
}

const ready = await openReadyWarehouse(config);
const key = 'bench-admin-key-0123456789';
const app = await buildApp({ config, wh: ready.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 1_000_000 });
const get = (url: string) =>
  app.inject({ url, headers: { authorization: `Bearer ${key}` } }).then((r) => {
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  });
const target: QueryRequest = {
  metrics: ['sends', 'delivery_rate', 'read_rate', 'click_rate', 'conversion_rate', 'net_revenue_per_1k', 'opt_outs_per_1k', 'spam_risk_per_1k'],
  dimensions: ['frequency', 'regime'],
  date_range: ['2024-01-01', '2024-12-31'],
};
const post = (body: QueryRequest) =>
  app.inject({ method: 'POST', url: '/v1/query', payload: body, headers: { authorization: `Bearer ${key}` } }).then((r) => {
    if (r.statusCode !== 200) throw new Error(`/v1/query: ${r.statusCode} ${r.body.slice(0, 300)}`);
  });
const windowHours = 72;
if (mode === 'comparisons') {
  // Interleaved, so that the plain query and each comparison meet the same load on a shared machine.
  const bodies = {
    plain: target,
    previous_period: { ...target, include: { comparisons: { mode: 'previous_period' } } },
    year_over_year: { ...target, include: { comparisons: { mode: 'year_over_year' } } },
  } satisfies Record<string, QueryRequest>;
  const names = Object.keys(bodies) as (keyof typeof bodies)[];
  const ms = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof bodies, number[]>;
  for (let i = 0; i < runs + 2; i++) {
    for (const n of names) {
      const t = performance.now();
      await post(bodies[n]);
      if (i >= 2) ms[n].push(performance.now() - t);
    }
  }
  const stats = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(1), p95: +percentile(xs, 95).toFixed(1) });
  const ratios = (n: keyof typeof bodies) => ms[n].map((x, i) => x / ms.plain[i]);
  const weekly = { ...target, dimensions: ['frequency', 'regime', 'time:week'] };
  const out = {
    date: new Date().toISOString(),
    events,
    runs,
    load_average_before: loadavg().map((x) => +x.toFixed(2)),
    query_12_months_frequency_x_regime: stats(ms.plain),
    with_previous_period: stats(ms.previous_period),
    with_year_over_year: stats(ms.year_over_year),
    previous_period_over_plain: {
      p50_ratio: +percentile(ratios('previous_period'), 50).toFixed(2),
      p95_over_p95: +(percentile(ms.previous_period, 95) / percentile(ms.plain, 95)).toFixed(2),
    },
    year_over_year_over_plain: {
      p50_ratio: +percentile(ratios('year_over_year'), 50).toFixed(2),
      p95_over_p95: +(percentile(ms.year_over_year, 95) / percentile(ms.plain, 95)).toFixed(2),
    },
    relative_12mo: await time(() => post({ ...target, date_range: '12mo' })),
    weekly: await time(() => post(weekly)),
    weekly_zero_filled_with_previous_period: await time(() => post({ ...weekly, include: { time_labels: true, comparisons: { mode: 'previous_period' } } })),
    load_average_after: loadavg().map((x) => +x.toFixed(2)),
  };
  console.log(JSON.stringify(out, null, 2));
  writeFileSync(new URL(`./results/query-comparisons-${events}.json`, import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
  await app.close();
  await ready.wh.close();
  process.exit(0);
}
const result = {
  date: new Date().toISOString(),
  events,
  runs,
  query_12_months_frequency_x_regime: await time(() => post(target)),
  same_from_raw_tables: await time(() => runMetricsQuery(ready.wh, normalizeQuery(target), { source: 'raw', attributionWindowHours: windowHours })),
  frontier: await time(() => get('/v1/frequency-frontier?from=2024-01-01&to=2024-12-31&channel=messenger&horizon_days=90')),
  retention: await time(() => get('/v1/retention?by=frequency&channel=messenger')),
  policy_impact: await time(() => get('/v1/policy-impact?metric=opt_outs_per_1k&treated=whatsapp&control=messenger&change=2022-02-01&window_days=90')),
  note: 'frontier, retention and policy-impact always read the raw tables, so their raw-table time is their time (ratio 1)',
};
const ratio = result.same_from_raw_tables.p95 / result.query_12_months_frequency_x_regime.p95;
console.log(JSON.stringify({ ...result, raw_over_rollup_p95: +ratio.toFixed(1) }, null, 2));
writeFileSync(
  new URL(`./results/query-${events}.json`, import.meta.url),
  `${JSON.stringify({ ...result, raw_over_rollup_p95: +ratio.toFixed(1) }, null, 2)}\n`,
);
await app.close();
await ready.wh.close();
