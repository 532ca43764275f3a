// npm run bench:query — latency of the API's answers on N simulated events (default 10M), each beside the time
// of the same answer from raw tables. The loaded warehouse is kept in .policylens/bench-query-N for reruns.
// Usage: npm run bench:query -- [events=10000000] [runs=30]
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
const dir = resolve(`.policylens/bench-query-${events}`);
const config = loadConfig({ ...process.env, POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });

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
